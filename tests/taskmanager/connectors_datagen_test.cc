// Datagen source: deterministic rows per global index whatever the parallelism and batching,
// count split across subtasks, field kinds, rate limiting on an injected clock, spec errors.
#include <map>
#include <set>

#include "common/types/timestamp.h"
#include "gtest/gtest.h"
#include "taskmanager/connectors/datagen_source.h"

namespace sluice::taskmanager::connectors {
namespace {

class CollectBatches : public Collector {
 public:
  absl::Status Collect(types::RecordBatch& batch) override {
    batches.push_back(batch);
    return absl::OkStatus();
  }
  std::vector<types::RecordBatch> batches;
};

proto::OperatorSpec Spec(int64_t count, uint64_t seed = 7, double rows_per_second = 0) {
  proto::OperatorSpec spec;
  spec.set_name("gen");
  auto* d = spec.mutable_datagen_source();
  d->set_count(count);
  d->set_seed(seed);
  d->set_rows_per_second(rows_per_second);
  (*d->mutable_fields())["id"].set_kind("sequence");
  *spec.mutable_output_schema() = types::Schema({{"id", types::TypeId::kInt64},
                                                 {"n", types::TypeId::kInt64},
                                                 {"x", types::TypeId::kFloat64},
                                                 {"s", types::TypeId::kString},
                                                 {"b", types::TypeId::kBool},
                                                 {"raw", types::TypeId::kBytes},
                                                 {"ts", types::TypeId::kTimestamp}})
                                      .ToProto();
  return spec;
}

OperatorContext Context(int subtask, int parallelism, const Clock* clock = nullptr) {
  OperatorContext ctx;
  ctx.subtask = subtask;
  ctx.parallelism = parallelism;
  ctx.clock = clock;
  return ctx;
}

// Rows of one subtask run to the end, keyed by the `id` column (= global row index).
std::map<int64_t, std::string> RunSubtask(const proto::OperatorSpec& spec, int subtask,
                                          int parallelism, int* polls = nullptr) {
  auto source = DatagenSource::Create(spec);
  EXPECT_TRUE(source.ok()) << source.status();
  EXPECT_TRUE((*source)->Open(Context(subtask, parallelism)).ok());
  CollectBatches out;
  int n = 0;
  while (true) {
    auto poll = (*source)->PollNext(out);
    EXPECT_TRUE(poll.ok());
    ++n;
    if (!poll.ok() || *poll == SourcePoll::kEnd || n > 100000) break;
  }
  if (polls != nullptr) *polls = n;
  std::map<int64_t, std::string> rows;
  for (const auto& b : out.batches) {
    for (size_t i = 0; i < b.num_rows(); ++i) {
      EXPECT_TRUE(rows.emplace(b.column(0).Int(i), b.RowToString(i)).second);
    }
  }
  return rows;
}

std::map<int64_t, std::string> RunAll(const proto::OperatorSpec& spec, int parallelism) {
  std::map<int64_t, std::string> all;
  for (int s = 0; s < parallelism; ++s) {
    for (auto& [g, row] : RunSubtask(spec, s, parallelism)) {
      EXPECT_TRUE(all.emplace(g, row).second) << "row " << g << " produced twice";
    }
  }
  return all;
}

TEST(ConnectorsDatagenTest, SameRowsForAnyParallelism) {
  auto one = RunAll(Spec(5000), 1);
  ASSERT_EQ(one.size(), 5000u);
  EXPECT_EQ(one.begin()->first, 0);
  EXPECT_EQ(one.rbegin()->first, 4999);
  for (int p = 2; p <= 5; ++p) EXPECT_EQ(RunAll(Spec(5000), p), one) << "parallelism " << p;
  EXPECT_NE(RunAll(Spec(5000, /*seed=*/8), 1), one);
  EXPECT_EQ(RunAll(Spec(5000, /*seed=*/7), 1), one);
}

TEST(ConnectorsDatagenTest, CountIsSplitByGlobalIndexModuloParallelism) {
  std::vector<std::vector<int64_t>> ids(3);
  for (int s = 0; s < 3; ++s) {
    for (auto& [g, row] : RunSubtask(Spec(10), s, 3)) ids[s].push_back(g);
  }
  EXPECT_EQ(ids[0], (std::vector<int64_t>{0, 3, 6, 9}));
  EXPECT_EQ(ids[1], (std::vector<int64_t>{1, 4, 7}));
  EXPECT_EQ(ids[2], (std::vector<int64_t>{2, 5, 8}));
  int polls = 0;
  EXPECT_TRUE(RunSubtask(Spec(0), 0, 1, &polls).empty());
  EXPECT_EQ(polls, 1);
  EXPECT_TRUE(RunSubtask(Spec(2), 2, 3).empty());  // more subtasks than rows
}

TEST(ConnectorsDatagenTest, DefaultsAndKinds) {
  proto::OperatorSpec spec = Spec(2000);
  auto& fields = *spec.mutable_datagen_source()->mutable_fields();
  fields["n"].set_kind("random");
  fields["n"].set_min(-5);
  fields["n"].set_has_min(true);
  fields["n"].set_max(5);
  fields["n"].set_has_max(true);
  fields["s"].set_kind("choice");
  fields["s"].add_values("NL");
  fields["s"].add_values("DE");
  fields["b"].set_kind("sequence");
  fields["raw"].set_kind("random");
  fields["raw"].set_max(3);
  fields["raw"].set_has_max(true);
  auto source = DatagenSource::Create(spec);
  ASSERT_TRUE(source.ok()) << source.status();
  ASSERT_TRUE((*source)->Open(Context(0, 1)).ok());
  CollectBatches out;
  while (*(*source)->PollNext(out) != SourcePoll::kEnd) {
  }
  std::map<std::string, int> countries;
  std::map<int64_t, int> ns;
  int64_t g = 0;
  for (const auto& b : out.batches) {
    for (size_t i = 0; i < b.num_rows(); ++i, ++g) {
      EXPECT_EQ(b.column(0).Int(i), g);
      ns[b.column(1).Int(i)]++;
      double x = b.column(2).Double(i);
      EXPECT_TRUE(x >= 0 && x < 1000) << x;
      countries[std::string(b.column(3).Str(i))]++;
      EXPECT_EQ(b.column(4).Int(i), g % 2);
      EXPECT_EQ(b.column(5).Str(i).size(), 3u);
      // Timestamps default to one millisecond per row from 2026-01-01T00:00:00Z.
      EXPECT_EQ(b.column(6).Int(i), (DatagenSource::kEpochMillis + g) * 1000);
    }
  }
  EXPECT_EQ(g, 2000);
  EXPECT_EQ(ns.size(), 11u);  // every value of [-5, 5]
  EXPECT_EQ(ns.begin()->first, -5);
  EXPECT_EQ(ns.rbegin()->first, 5);
  EXPECT_EQ(countries.size(), 2u);
  EXPECT_GT(countries["NL"], 900);
  EXPECT_EQ(types::FormatTimestamp(out.batches[0].column(6).Int(0)), "2026-01-01T00:00:00.000000Z");
}

TEST(ConnectorsDatagenTest, DefaultStringsAreEightLetters) {
  auto source = DatagenSource::Create(Spec(100));
  ASSERT_TRUE(source.ok());
  ASSERT_TRUE((*source)->Open(Context(0, 1)).ok());
  CollectBatches out;
  ASSERT_EQ(*(*source)->PollNext(out), SourcePoll::kEnd);
  const types::Column& s = out.batches[0].column(3);
  std::set<std::string> distinct;
  for (size_t i = 0; i < s.size(); ++i) {
    ASSERT_EQ(s.Str(i).size(), 8u);
    for (char c : s.Str(i)) ASSERT_TRUE(c >= 'a' && c <= 'z') << s.Str(i);
    distinct.emplace(s.Str(i));
  }
  EXPECT_EQ(distinct.size(), 100u);
}

TEST(ConnectorsDatagenTest, SequenceWithMaxWraps) {
  proto::OperatorSpec spec = Spec(7);
  auto& id = (*spec.mutable_datagen_source()->mutable_fields())["n"];
  id.set_kind("sequence");
  id.set_min(10);
  id.set_has_min(true);
  id.set_max(12);
  id.set_has_max(true);
  std::vector<int64_t> ns;
  auto source = DatagenSource::Create(spec);
  ASSERT_TRUE(source.ok());
  ASSERT_TRUE((*source)->Open(Context(0, 1)).ok());
  CollectBatches out;
  ASSERT_EQ(*(*source)->PollNext(out), SourcePoll::kEnd);
  for (size_t i = 0; i < out.batches[0].num_rows(); ++i)
    ns.push_back(out.batches[0].column(1).Int(i));
  EXPECT_EQ(ns, (std::vector<int64_t>{10, 11, 12, 10, 11, 12, 10}));
}

TEST(ConnectorsDatagenTest, RateLimitIsATokenBucketOnTheInjectedClock) {
  ManualClock clock;
  // 2000 rows/s over 2 subtasks: 1 row/ms for this one; batches of ~100 ms of rows.
  auto source = DatagenSource::Create(Spec(-1, 7, 2000));
  ASSERT_TRUE(source.ok());
  ASSERT_TRUE((*source)->Open(Context(1, 2, &clock)).ok());
  CollectBatches out;
  EXPECT_EQ(*(*source)->PollNext(out), SourcePoll::kMore);  // the initial bucket
  EXPECT_EQ((*source)->rows_emitted(), 100);
  EXPECT_EQ(*(*source)->PollNext(out), SourcePoll::kIdle);
  EXPECT_EQ((*source)->idle_wait_ms(), 100);
  clock.Advance(60);
  EXPECT_EQ(*(*source)->PollNext(out), SourcePoll::kIdle);
  EXPECT_EQ((*source)->idle_wait_ms(), 40);
  clock.Advance(40);
  EXPECT_EQ(*(*source)->PollNext(out), SourcePoll::kMore);
  EXPECT_EQ((*source)->rows_emitted(), 200);
  // Over ten simulated seconds the subtask emits ~1000 rows per second, never more.
  for (int ms = 0; ms < 10'000; ms += 7) {
    clock.Advance(7);
    while (*(*source)->PollNext(out) == SourcePoll::kMore) {
    }
  }
  EXPECT_LE((*source)->rows_emitted(), 200 + 10'000 + 100);
  EXPECT_GE((*source)->rows_emitted(), 200 + 10'000 - 100);
  // The rows are still those of subtask 1 of 2, in order.
  int64_t next = 1;
  for (const auto& b : out.batches) {
    for (size_t i = 0; i < b.num_rows(); ++i, next += 2) ASSERT_EQ(b.column(0).Int(i), next);
  }
}

TEST(ConnectorsDatagenTest, SpecErrorsNameTheColumn) {
  proto::OperatorSpec spec = Spec(1);
  (*spec.mutable_datagen_source()->mutable_fields())["nope"].set_kind("random");
  EXPECT_EQ(DatagenSource::Create(spec).status().message(),
            "datagen source 'gen': fields: no column 'nope' (columns: id, n, x, s, b, raw, ts)");
  spec = Spec(1);
  (*spec.mutable_datagen_source()->mutable_fields())["n"].set_kind("gaussian");
  EXPECT_EQ(DatagenSource::Create(spec).status().message(),
            "datagen source 'gen': column 'n': unknown kind 'gaussian' (expected sequence, "
            "random or choice)");
  spec = Spec(1);
  auto& n = (*spec.mutable_datagen_source()->mutable_fields())["n"];
  n.set_kind("choice");
  n.add_values("1");
  n.add_values("two");
  EXPECT_EQ(DatagenSource::Create(spec).status().message(),
            "datagen source 'gen': column 'n': choice value 'two' is not a int64");
  spec = Spec(1);
  auto& x = (*spec.mutable_datagen_source()->mutable_fields())["x"];
  x.set_kind("random");
  x.set_min(5);
  x.set_has_min(true);
  x.set_max(1);
  x.set_has_max(true);
  EXPECT_EQ(DatagenSource::Create(spec).status().message(),
            "datagen source 'gen': column 'x': random max is below min");
}

}  // namespace
}  // namespace sluice::taskmanager::connectors
