// The window operator against a brute-force reference: random out-of-order event streams
// (seeded) with late events, fed in random batches with watermarks in between, through
// tumble, slide and session windows, with and without allowed lateness. The reference keeps
// the full list of events of every window (no incremental aggregation) and simulates the
// event-time semantics record by record; every emitted row (firings and late re-firings)
// must match, as a multiset, as must the count of dropped late records. Also: the watermark
// generator (bounded delay, idleness on an injected clock) and first/last/count_distinct.
#include <algorithm>
#include <climits>
#include <map>
#include <random>
#include <set>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "taskmanager/operators/watermark_generator.h"
#include "taskmanager/operators/window_operator.h"
#include "tests/taskmanager/operator_test_util.h"

namespace sluice::taskmanager {
namespace {

using types::RecordBatch;
using types::TypeId;

using VectorCollector = ::sluice::taskmanager::testing::RowCollector;

const types::Schema kInput({{"user", TypeId::kInt64}, {"v", TypeId::kInt64},
                            {"ts", TypeId::kTimestamp}});
const types::Schema kOutput({{"user", TypeId::kInt64}, {"window_start", TypeId::kTimestamp},
                             {"window_end", TypeId::kTimestamp}, {"n", TypeId::kInt64},
                             {"s", TypeId::kInt64}, {"lo", TypeId::kInt64}, {"hi", TypeId::kInt64},
                             {"mean", TypeId::kFloat64}, {"f", TypeId::kInt64},
                             {"l", TypeId::kInt64}, {"d", TypeId::kInt64}});

struct WindowParams {
  std::string kind;  // tumble | slide | session
  int64_t size = 0;  // µs (session: gap)
  int64_t slide = 0;
  int64_t lateness = 0;
};

proto::OperatorSpec WindowSpec(const WindowParams& p) {
  proto::OperatorSpec spec;
  spec.set_name("per_user");
  auto* agg = spec.mutable_aggregate();
  agg->add_key_columns("user");
  for (auto [name, fn, arg] : std::vector<std::tuple<const char*, const char*, const char*>>{
           {"n", "count", ""}, {"s", "sum", "v"}, {"lo", "min", "v"}, {"hi", "max", "v"},
           {"mean", "avg", "v"}, {"f", "first", "v"}, {"l", "last", "v"},
           {"d", "count_distinct", "v"}}) {
    auto* c = agg->add_calls();
    c->set_name(name);
    c->set_function(fn);
    c->set_argument(arg);
  }
  auto* w = agg->mutable_window();
  w->set_kind(p.kind);
  w->set_size_us(p.size);
  w->set_slide_us(p.kind == "slide" ? p.slide : p.size);
  w->set_gap_us(p.size);
  w->set_allowed_lateness_us(p.lateness);
  w->set_time_column("ts");
  *spec.mutable_input_schema() = kInput.ToProto();
  *spec.mutable_output_schema() = kOutput.ToProto();
  return spec;
}

struct Event {
  int64_t user, v, ts;
  int64_t arrival;
};

// The reference: each window's events, kept whole.
class Reference {
 public:
  explicit Reference(WindowParams p) : p_(std::move(p)) {}

  void OnEvent(const Event& e) {
    if (p_.kind == "session") return OnSessionEvent(e);
    const int64_t slide = p_.kind == "slide" ? p_.slide : p_.size;
    bool added = false;
    int64_t start = e.ts - (((e.ts % slide) + slide) % slide);
    for (; start > e.ts - p_.size; start -= slide) {
      Key k{e.user, start, start + p_.size};
      if (Cleanup(k) <= wm_) continue;
      added = true;
      windows_[k].push_back(e);
      if (k.end - 1 <= wm_) Emit(k);
    }
    if (!added) late.push_back(e);
  }

  void OnWatermark(int64_t w) {
    if (w <= wm_) return;
    const int64_t old = wm_;
    wm_ = w;
    for (auto& [k, events] : windows_) {
      if (k.end - 1 > old && k.end - 1 <= w) Emit(k);
    }
    for (auto it = windows_.begin(); it != windows_.end();) {
      it = Cleanup(it->first) <= w ? windows_.erase(it) : std::next(it);
    }
  }

  std::vector<std::string> rows;
  std::vector<Event> late;  // records no window took

 private:
  struct Key {
    int64_t user, start, end;
    bool operator<(const Key& o) const {
      return std::tie(user, start, end) < std::tie(o.user, o.start, o.end);
    }
  };

  int64_t Cleanup(const Key& k) const { return k.end - 1 + p_.lateness; }

  void OnSessionEvent(const Event& e) {
    Key k{e.user, e.ts, e.ts + p_.size};
    if (Cleanup(k) <= wm_) {
      late.push_back(e);
      return;
    }
    std::vector<Event> events = {e};
    for (auto it = windows_.begin(); it != windows_.end();) {
      const Key& o = it->first;
      if (o.user == e.user && o.start <= k.end && o.end >= k.start) {
        k.start = std::min(k.start, o.start);
        k.end = std::max(k.end, o.end);
        events.insert(events.end(), it->second.begin(), it->second.end());
        it = windows_.erase(it);
      } else {
        ++it;
      }
    }
    windows_[k] = std::move(events);
    if (k.end - 1 <= wm_) Emit(k);
  }

  void Emit(const Key& k) {
    const std::vector<Event>& events = windows_[k];
    RecordBatch b(std::make_shared<const types::Schema>(kOutput));
    int64_t sum = 0, lo = INT64_MAX, hi = INT64_MIN;
    std::set<int64_t> distinct;
    const Event* first = nullptr;
    const Event* last = nullptr;
    for (const Event& e : events) {
      sum += e.v;
      lo = std::min(lo, e.v);
      hi = std::max(hi, e.v);
      distinct.insert(e.v);
      if (first == nullptr || e.ts < first->ts) first = &e;
      if (last == nullptr || e.ts > last->ts) last = &e;
    }
    const int64_t n = static_cast<int64_t>(events.size());
    int c = 0;
    for (int64_t v : {k.user, k.start, k.end, n, sum, lo, hi}) b.mutable_column(c++).AppendInt(v);
    b.mutable_column(c++).AppendDouble(static_cast<double>(sum) / static_cast<double>(n));
    b.mutable_column(c++).AppendInt(first->v);
    b.mutable_column(c++).AppendInt(last->v);
    b.mutable_column(c++).AppendInt(static_cast<int64_t>(distinct.size()));
    b.SetNumRows(1);
    rows.push_back(b.RowToString(0));
  }

  WindowParams p_;
  int64_t wm_ = INT64_MIN;
  std::map<Key, std::vector<Event>> windows_;
};

// A stream of `n` events over `users` keys: time moves forward ~1 s per event, each event up
// to `max_delay` early (out of order but on time), 3 % clearly late (far behind) and 3 %
// moderately late (behind the watermark, maybe within the lateness). Timestamps are unique
// (first/last are then well defined).
std::vector<Event> RandomEvents(uint64_t seed, int n, int users, int64_t max_delay) {
  std::mt19937_64 rng(seed);
  std::vector<Event> events;
  std::set<int64_t> used;
  int64_t now = 1'800'000'000'000'000;  // 2027-01-15, µs
  for (int i = 0; i < n; ++i) {
    now += std::uniform_int_distribution<int64_t>(0, 2'000'000)(rng);
    int64_t ts = now - std::uniform_int_distribution<int64_t>(0, max_delay)(rng);
    const int roll = std::uniform_int_distribution<int>(0, 99)(rng);
    if (roll < 3) ts = now - std::uniform_int_distribution<int64_t>(60, 600)(rng) * 1'000'000;
    else if (roll < 6) ts = now - max_delay - std::uniform_int_distribution<int64_t>(0, 40)(rng) * 1'000'000;
    while (!used.insert(ts).second) ++ts;
    events.push_back(Event{std::uniform_int_distribution<int64_t>(0, users - 1)(rng),
                           std::uniform_int_distribution<int64_t>(0, 20)(rng), ts, i});
  }
  return events;
}

RecordBatch BatchOf(const std::vector<Event>& events, size_t begin, size_t end) {
  RecordBatch b(std::make_shared<const types::Schema>(kInput));
  for (size_t i = begin; i < end; ++i) {
    b.mutable_column(0).AppendInt(events[i].user);
    b.mutable_column(1).AppendInt(events[i].v);
    b.mutable_column(2).AppendInt(events[i].ts);
  }
  b.SetNumRows(end - begin);
  return b;
}

class WindowDifferentialTest : public ::testing::TestWithParam<WindowParams> {};

// One seeded stream through the window; late records dropped and counted, or sent to a late
// output.
void CheckAgainstReference(const WindowParams& p, uint64_t seed, bool late_output) {
  SCOPED_TRACE(absl::StrCat("seed ", seed, late_output ? ", late output" : ""));
  constexpr int64_t kMaxDelay = 5'000'000;  // 5 s
  const std::vector<Event> events = RandomEvents(seed, 3000, 7, kMaxDelay);
  proto::OperatorSpec spec = WindowSpec(p);
  if (late_output) spec.mutable_aggregate()->mutable_window()->set_late_output("late");
  auto op = WindowOperator::Create(spec);
  ASSERT_TRUE(op.ok()) << op.status();
  VectorCollector late;
  absl::flat_hash_map<std::string, Collector*> side_outputs = {{"late", &late}};
  OperatorContext ctx;
  ctx.side_outputs = &side_outputs;
  ASSERT_TRUE((*op)->Open(ctx).ok());
  Reference ref(p);
  VectorCollector out;
  std::mt19937_64 rng(seed * 7919);
  int64_t max_ts = INT64_MIN;
  for (size_t i = 0; i < events.size();) {
    const size_t end = std::min(events.size(), i + std::uniform_int_distribution<size_t>(1, 40)(rng));
    RecordBatch batch = BatchOf(events, i, end);
    ASSERT_TRUE((*op)->ProcessBatch(0, batch, out).ok());
    for (size_t k = i; k < end; ++k) {
      ref.OnEvent(events[k]);
      max_ts = std::max(max_ts, events[k].ts);
    }
    i = end;
    if (std::uniform_int_distribution<int>(0, 1)(rng) == 0) {
      const int64_t wm = max_ts - kMaxDelay - 1;
      ASSERT_TRUE((*op)->ProcessWatermark(wm, out).ok());
      ref.OnWatermark(wm);
    }
  }
  ASSERT_TRUE((*op)->ProcessWatermark(INT64_MAX, out).ok());
  ref.OnWatermark(INT64_MAX);
  std::vector<std::string> got = out.rows, want = ref.rows;
  std::sort(got.begin(), got.end());
  std::sort(want.begin(), want.end());
  EXPECT_EQ(got.size(), want.size());
  EXPECT_EQ(got, want);
  ASSERT_FALSE(ref.late.empty());  // the stream had late records...
  if (late_output) {
    EXPECT_EQ((*op)->late_records_dropped(), 0);
    const RecordBatch want_late = BatchOf(ref.late, 0, ref.late.size());
    ASSERT_EQ(late.rows.size(), ref.late.size());
    for (size_t i = 0; i < ref.late.size(); ++i) {
      EXPECT_EQ(late.rows[i], want_late.RowToString(i));  // in arrival order
    }
  } else {
    EXPECT_EQ((*op)->late_records_dropped(), static_cast<int64_t>(ref.late.size()));
    EXPECT_TRUE(late.rows.empty());
  }
  // ...and every window's state is gone at the end of event time.
  auto* window_op = static_cast<WindowOperator*>(op->get());
  absl::StatusOr<int64_t> left = window_op->NumWindows();
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(*left, 0);
}

TEST_P(WindowDifferentialTest, MatchesBruteForceOnRandomOutOfOrderStreams) {
  for (uint64_t seed : {1, 2, 3}) {
    for (bool late_output : {false, true}) CheckAgainstReference(GetParam(), seed, late_output);
  }
}

TEST(WindowOperatorTest, ALateOutputNobodyReadsIsAnErrorAtOpen) {
  proto::OperatorSpec spec = WindowSpec({"tumble", 10, 0, 0});
  spec.mutable_aggregate()->mutable_window()->set_late_output("late");
  auto op = WindowOperator::Create(spec);
  ASSERT_TRUE(op.ok()) << op.status();
  OperatorContext ctx;
  absl::Status s = (*op)->Open(ctx);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), "operator 'per_user': no edge reads its side output 'late'");
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, WindowDifferentialTest,
    ::testing::Values(WindowParams{"tumble", 60'000'000, 0, 0},
                      WindowParams{"tumble", 60'000'000, 0, 20'000'000},
                      WindowParams{"slide", 60'000'000, 20'000'000, 0},
                      WindowParams{"slide", 45'000'000, 10'000'000, 30'000'000},
                      WindowParams{"session", 8'000'000, 0, 0},
                      WindowParams{"session", 8'000'000, 0, 15'000'000}),
    [](const ::testing::TestParamInfo<WindowParams>& info) {
      return absl::StrCat(info.param.kind, info.param.lateness > 0 ? "_lateness" : "");
    });

TEST(WindowOperatorTest, TumbleEmitsOneRowPerKeyAndWindowWhenTheWatermarkPasses) {
  auto op = WindowOperator::Create(WindowSpec({"tumble", 10, 0, 0}));
  ASSERT_TRUE(op.ok()) << op.status();
  VectorCollector out;
  std::vector<Event> events = {{1, 5, 3, 0}, {1, 7, 12, 1}, {2, 1, 9, 2}, {1, 2, 8, 3}};
  RecordBatch batch = BatchOf(events, 0, events.size());
  ASSERT_TRUE((*op)->ProcessBatch(0, batch, out).ok());
  EXPECT_TRUE(out.rows.empty());
  ASSERT_TRUE((*op)->ProcessWatermark(8, out).ok());  // window [0, 10) fires at 9
  EXPECT_TRUE(out.rows.empty());
  ASSERT_TRUE((*op)->ProcessWatermark(9, out).ok());
  ASSERT_EQ(out.rows.size(), 2u);
  std::sort(out.rows.begin(), out.rows.end());
  EXPECT_EQ(out.rows[0],
            "user=1, window_start=1970-01-01T00:00:00.000000Z, "
            "window_end=1970-01-01T00:00:00.000010Z, n=2, s=7, lo=2, hi=5, mean=3.5, f=5, l=2, d=2");
  // A record for the fired window is late (no lateness): dropped and counted.
  RecordBatch late = BatchOf({{1, 9, 4, 4}}, 0, 1);
  ASSERT_TRUE((*op)->ProcessBatch(0, late, out).ok());
  EXPECT_EQ((*op)->late_records_dropped(), 1);
  EXPECT_EQ(out.rows.size(), 2u);
}

TEST(WindowOperatorTest, RecordsWithoutATimeAreDroppedAndCounted) {
  auto op = WindowOperator::Create(WindowSpec({"tumble", 10, 0, 0}));
  ASSERT_TRUE(op.ok()) << op.status();
  VectorCollector out;
  RecordBatch batch = BatchOf({{1, 5, 3, 0}, {2, 7, 4, 1}}, 0, 2);
  RecordBatch with_null(std::make_shared<const types::Schema>(kInput));
  with_null.mutable_column(0).AppendInt(1);
  with_null.mutable_column(1).AppendInt(9);
  with_null.mutable_column(2).AppendNull();
  with_null.SetNumRows(1);
  ASSERT_TRUE((*op)->ProcessBatch(0, with_null, out).ok());
  ASSERT_TRUE((*op)->ProcessBatch(0, batch, out).ok());
  ASSERT_TRUE((*op)->ProcessWatermark(INT64_MAX, out).ok());
  EXPECT_EQ((*op)->late_records_dropped(), 1);
  EXPECT_EQ(out.rows.size(), 2u);  // the other records are counted as usual
}

TEST(WindowOperatorTest, BadSpecsAreClearErrors) {
  proto::OperatorSpec spec = WindowSpec({"tumble", 10, 0, 0});
  spec.mutable_aggregate()->mutable_window()->set_time_column("v");
  EXPECT_EQ(std::string(WindowOperator::Create(spec).status().message()),
            "operator 'per_user': window time column 'v' is not a timestamp column of "
            "(user int64, v int64, ts timestamp)");
  spec = WindowSpec({"hop", 10, 0, 0});
  EXPECT_EQ(std::string(WindowOperator::Create(spec).status().message()),
            "operator 'per_user': unknown window kind 'hop' (expected tumble, slide or session)");
  spec = WindowSpec({"slide", 10, 0, 0});
  EXPECT_EQ(std::string(WindowOperator::Create(spec).status().message()),
            "operator 'per_user': window size, slide and gap must be positive");
}

TEST(WatermarkGeneratorTest, TrailsTheLargestTimestampByTheDelayAndGoesIdle) {
  ManualClock clock;
  proto::WatermarkSpec spec;
  spec.set_column("ts");
  spec.set_max_delay_us(100);
  spec.set_idle_timeout_ms(30'000);
  auto gen = WatermarkGenerator::Create(spec, kInput, &clock);
  ASSERT_TRUE(gen.ok()) << gen.status();
  EXPECT_EQ(gen->Poll(), std::nullopt);  // no record yet
  EXPECT_EQ(gen->OnBatch(BatchOf({{1, 1, 1000, 0}, {1, 1, 900, 1}}, 0, 2)), std::nullopt);
  EXPECT_EQ(gen->Poll(), (WatermarkEvent{899, false}));
  EXPECT_EQ(gen->OnBatch(BatchOf({{1, 1, 950, 0}}, 0, 1)), std::nullopt);
  EXPECT_EQ(gen->Poll(), std::nullopt);  // never backwards, nothing new
  clock.Advance(29'999);
  EXPECT_EQ(gen->Poll(), std::nullopt);
  clock.Advance(1);
  EXPECT_EQ(gen->Poll(), (WatermarkEvent{899, true}));
  EXPECT_EQ(gen->Poll(), std::nullopt);  // said once
  // A batch makes it active again, announced before the batch; then the new watermark.
  EXPECT_EQ(gen->OnBatch(BatchOf({{1, 1, 2000, 0}}, 0, 1)), (WatermarkEvent{899, false}));
  EXPECT_EQ(gen->Poll(), (WatermarkEvent{1899, false}));

  spec.set_column("v");
  EXPECT_EQ(std::string(WatermarkGenerator::Create(spec, kInput, &clock).status().message()),
            "watermark column 'v' is not a timestamp column of (user int64, v int64, ts timestamp)");
}

// Per-split (Kafka partition) watermarks: the minimum over the splits that are not idle; a
// split without records holds the watermark back until it goes idle; never backwards.
TEST(SplitWatermarkGeneratorTest, IsTheMinimumOverActiveSplits) {
  ManualClock clock;
  proto::WatermarkSpec spec;
  spec.set_column("ts");
  spec.set_max_delay_us(100);
  spec.set_idle_timeout_ms(10'000);
  auto gen = SplitWatermarkGenerator::Create(spec, kInput, &clock);
  ASSERT_TRUE(gen.ok()) << gen.status();
  gen->SetSplits(3);
  EXPECT_EQ(gen->OnBatch(0, BatchOf({{1, 1, 5000, 0}}, 0, 1)), std::nullopt);
  EXPECT_EQ(gen->OnBatch(1, BatchOf({{1, 1, 3000, 0}}, 0, 1)), std::nullopt);
  EXPECT_EQ(gen->Poll(), std::nullopt);  // split 2 has no record yet: held back
  clock.Advance(5'000);
  EXPECT_EQ(gen->OnBatch(0, BatchOf({{1, 1, 6000, 0}}, 0, 1)), std::nullopt);
  EXPECT_EQ(gen->OnBatch(1, BatchOf({{1, 1, 3500, 0}}, 0, 1)), std::nullopt);
  clock.Advance(5'000);  // split 2 idle now
  EXPECT_EQ(gen->Poll(), (WatermarkEvent{3399, false}));  // min(5899, 3399)
  EXPECT_EQ(gen->OnBatch(1, BatchOf({{1, 1, 9000, 0}}, 0, 1)), std::nullopt);
  EXPECT_EQ(gen->Poll(), (WatermarkEvent{5899, false}));  // split 0 is the slowest now
  // A late split delivering older records does not move it back.
  EXPECT_EQ(gen->OnBatch(2, BatchOf({{1, 1, 1000, 0}}, 0, 1)), std::nullopt);
  EXPECT_EQ(gen->Poll(), std::nullopt);
  // Every split idle: the subtask is idle; a batch of any split makes it active again.
  clock.Advance(10'000);
  EXPECT_EQ(gen->Poll(), (WatermarkEvent{5899, true}));
  EXPECT_EQ(gen->Poll(), std::nullopt);
  EXPECT_EQ(gen->OnBatch(2, BatchOf({{1, 1, 7000, 0}}, 0, 1)), (WatermarkEvent{5899, false}));
  EXPECT_EQ(gen->Poll(), (WatermarkEvent{6899, false}));  // only split 2 is active
  EXPECT_EQ(gen->splits(), 3);
}

// A source subtask without splits (more subtasks than partitions) is idle at once, without an
// idle_timeout, so it does not hold back the watermark downstream; its first split's batch
// makes it active.
TEST(SplitWatermarkGeneratorTest, NoSplitsIsIdle) {
  ManualClock clock;
  proto::WatermarkSpec spec;
  spec.set_column("ts");
  auto gen = SplitWatermarkGenerator::Create(spec, kInput, &clock);
  ASSERT_TRUE(gen.ok()) << gen.status();
  gen->SetSplits(0);
  EXPECT_EQ(gen->Poll(), (WatermarkEvent{INT64_MIN, true}));
  EXPECT_EQ(gen->OnBatch(0, BatchOf({{1, 1, 5000, 0}}, 0, 1)), (WatermarkEvent{INT64_MIN, false}));
  EXPECT_EQ(gen->Poll(), (WatermarkEvent{4999, false}));
}

}  // namespace
}  // namespace sluice::taskmanager
