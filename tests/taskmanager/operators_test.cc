// Chain operators on hand-built batches: filter, select and the running keyed aggregate,
// checked row by row against values computed in the test.
#include <unistd.h>

#include <filesystem>
#include <map>
#include <random>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "taskmanager/network/key_groups.h"
#include "taskmanager/operators/aggregate_operator.h"
#include "taskmanager/operators/operator.h"
#include "taskmanager/state/keyed_state_backend.h"

namespace sluice::taskmanager {
namespace {

using types::RecordBatch;
using types::TypeId;

// Collects copies of every batch it receives.
class VectorCollector : public Collector {
 public:
  absl::Status Collect(RecordBatch& batch) override {
    RecordBatch copy(batch.schema());
    for (size_t r = 0; r < batch.num_rows(); ++r) copy.AppendRow(batch, r);
    batches.push_back(std::move(copy));
    return absl::OkStatus();
  }
  std::vector<std::string> Rows() const {
    std::vector<std::string> rows;
    for (const auto& b : batches) {
      for (size_t r = 0; r < b.num_rows(); ++r) rows.push_back(b.RowToString(r));
    }
    return rows;
  }
  std::vector<RecordBatch> batches;
};

proto::Schema ProtoSchema(const types::Schema& s) { return s.ToProto(); }

const types::Schema kInput({{"card", TypeId::kInt64}, {"amount", TypeId::kFloat64},
                            {"country", TypeId::kString}});

RecordBatch Txns(const std::vector<std::tuple<int64_t, std::optional<double>, std::string>>& rows) {
  RecordBatch b(std::make_shared<const types::Schema>(kInput));
  for (const auto& [card, amount, country] : rows) {
    b.mutable_column(0).AppendInt(card);
    if (amount) b.mutable_column(1).AppendDouble(*amount); else b.mutable_column(1).AppendNull();
    b.mutable_column(2).AppendString(country);
  }
  b.SetNumRows(rows.size());
  return b;
}

proto::OperatorSpec AggregateSpec(const types::Schema& output) {
  proto::OperatorSpec spec;
  spec.set_name("per_card");
  auto* agg = spec.mutable_aggregate();
  agg->add_key_columns("card");
  auto add = [&](const char* name, const char* fn, const char* arg) {
    auto* c = agg->add_calls();
    c->set_name(name);
    c->set_function(fn);
    c->set_argument(arg);
  };
  add("n", "count", "");
  add("total", "sum", "amount");
  add("low", "min", "amount");
  add("high_country", "max", "country");
  add("mean", "avg", "amount");
  *spec.mutable_input_schema() = ProtoSchema(kInput);
  *spec.mutable_output_schema() = ProtoSchema(output);
  return spec;
}

const types::Schema kAggOutput({{"card", TypeId::kInt64}, {"n", TypeId::kInt64},
                                {"total", TypeId::kFloat64}, {"low", TypeId::kFloat64},
                                {"high_country", TypeId::kString}, {"mean", TypeId::kFloat64}});

TEST(OperatorsTest, FilterKeepsMatchingRowsInPlace) {
  proto::OperatorSpec spec;
  spec.set_name("big");
  spec.mutable_filter()->set_predicate("amount > 10 and country <> 'NL'");
  *spec.mutable_input_schema() = ProtoSchema(kInput);
  *spec.mutable_output_schema() = ProtoSchema(kInput);
  auto op = CreateOperator(spec);
  ASSERT_TRUE(op.ok()) << op.status();
  RecordBatch batch = Txns({{1, 5.0, "DE"}, {2, 20.0, "NL"}, {3, 30.0, "DE"}, {4, std::nullopt, "FR"}});
  VectorCollector out;
  ASSERT_TRUE((*op)->ProcessBatch(0, batch, out).ok());
  EXPECT_EQ(out.Rows(), std::vector<std::string>{"card=3, amount=30, country=DE"});
}

TEST(OperatorsTest, SelectComputesColumns) {
  proto::OperatorSpec spec;
  spec.set_name("proj");
  auto add = [&](const char* name, const char* e) {
    auto* c = spec.mutable_select()->add_columns();
    c->set_name(name);
    c->set_expr(e);
  };
  add("card", "card");
  add("double_amount", "amount * 2");
  add("tag", "lower(country) || '-' || cast(card as string)");
  *spec.mutable_input_schema() = ProtoSchema(kInput);
  *spec.mutable_output_schema() = ProtoSchema(types::Schema(
      {{"card", TypeId::kInt64}, {"double_amount", TypeId::kFloat64}, {"tag", TypeId::kString}}));
  auto op = CreateOperator(spec);
  ASSERT_TRUE(op.ok()) << op.status();
  RecordBatch batch = Txns({{7, 1.5, "NL"}, {8, std::nullopt, "DE"}});
  VectorCollector out;
  ASSERT_TRUE((*op)->ProcessBatch(0, batch, out).ok());
  EXPECT_EQ(out.Rows(), (std::vector<std::string>{"card=7, double_amount=3, tag=nl-7",
                                                  "card=8, double_amount=null, tag=de-8"}));
}

TEST(OperatorsTest, RunningAggregateEmitsEachKeysUpdatedRowAndIgnoresNulls) {
  auto op = CreateOperator(AggregateSpec(kAggOutput));
  ASSERT_TRUE(op.ok()) << op.status();
  VectorCollector out;
  RecordBatch first = Txns({{1, std::nullopt, "DE"}, {2, 4.0, "NL"}, {1, 3.0, "FR"}});
  RecordBatch second = Txns({{1, 1.0, "AT"}, {2, 6.0, "BE"}});
  ASSERT_TRUE((*op)->ProcessBatch(0, first, out).ok());
  ASSERT_TRUE((*op)->ProcessBatch(0, second, out).ok());
  EXPECT_EQ(out.Rows(), (std::vector<std::string>{
      "card=1, n=1, total=null, low=null, high_country=DE, mean=null",
      "card=2, n=1, total=4, low=4, high_country=NL, mean=4",
      "card=1, n=2, total=3, low=3, high_country=FR, mean=3",
      "card=1, n=3, total=4, low=1, high_country=FR, mean=2",
      "card=2, n=2, total=10, low=4, high_country=NL, mean=5"}));
}

// Random batches: the last row emitted per key equals a brute-force aggregate.
TEST(OperatorsTest, RunningAggregateMatchesBruteForceOnRandomBatches) {
  auto op = CreateOperator(AggregateSpec(kAggOutput));
  ASSERT_TRUE(op.ok()) << op.status();
  std::mt19937_64 rng(5);
  struct Ref { int64_t n = 0, non_null = 0; double total = 0, low = 1e300; std::string high; };
  std::map<int64_t, Ref> ref;
  VectorCollector out;
  const char* countries[] = {"NL", "DE", "FR", "BE", "AT"};
  for (int b = 0; b < 20; ++b) {
    std::vector<std::tuple<int64_t, std::optional<double>, std::string>> rows;
    for (int i = 0; i < 500; ++i) {
      int64_t card = rng() % 37;
      std::optional<double> amount;
      if (rng() % 10 != 0) amount = static_cast<double>(rng() % 1000);
      std::string country = countries[rng() % 5];
      rows.emplace_back(card, amount, country);
      Ref& r = ref[card];
      ++r.n;
      if (r.high.empty() || country > r.high) r.high = country;
      if (amount) {
        ++r.non_null;
        r.total += *amount;
        r.low = std::min(r.low, *amount);
      }
    }
    RecordBatch batch = Txns(rows);
    ASSERT_TRUE((*op)->ProcessBatch(0, batch, out).ok());
  }
  std::map<int64_t, std::string> last;
  for (const auto& b : out.batches) {
    for (size_t r = 0; r < b.num_rows(); ++r) last[b.column(0).Int(r)] = b.RowToString(r);
  }
  ASSERT_EQ(last.size(), ref.size());
  for (const auto& [card, r] : ref) {
    RecordBatch expected(std::make_shared<const types::Schema>(kAggOutput));
    expected.mutable_column(0).AppendInt(card);
    expected.mutable_column(1).AppendInt(r.n);
    expected.mutable_column(2).AppendDouble(r.total);
    expected.mutable_column(3).AppendDouble(r.low);
    expected.mutable_column(4).AppendString(r.high);
    expected.mutable_column(5).AppendDouble(r.total / r.non_null);
    expected.SetNumRows(1);
    EXPECT_EQ(last[card], expected.RowToString(0));
  }
}

// The aggregate keeps its accumulators in the task's keyed state backend: a snapshot taken
// between two batches, restored into a new operator (the whole key group range, or split
// over two subtasks by key group), continues exactly like an uninterrupted operator.
class AggregateStateTest : public ::testing::TestWithParam<state::BackendKind> {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           absl::StrCat("aggregate_state_", getpid(), "_", static_cast<int>(GetParam()));
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override {
    backends_.clear();
    std::filesystem::remove_all(dir_);
  }
  state::KeyedStateBackend* Backend(network::KeyGroupRange range) {
    state::BackendOptions o;
    o.kind = GetParam();
    o.key_groups = range;
    o.local_dir = (dir_ / absl::StrCat("local-", backends_.size())).string();
    backends_.push_back(std::move(state::CreateKeyedStateBackend(o)).value());
    return backends_.back().get();
  }
  std::unique_ptr<Operator> Open(state::KeyedStateBackend* backend) {
    auto op = std::move(CreateOperator(AggregateSpec(kAggOutput))).value();
    OperatorContext ctx;
    ctx.max_parallelism = 128;
    EXPECT_TRUE(op->Open(ctx).ok());
    StateInitContext init;
    init.keyed_backend = [backend]() -> absl::StatusOr<state::KeyedStateBackend*> {
      return backend;
    };
    EXPECT_TRUE(op->InitializeState(init).ok());
    return op;
  }
  std::filesystem::path dir_;
  std::vector<std::unique_ptr<state::KeyedStateBackend>> backends_;
};

std::vector<std::tuple<int64_t, std::optional<double>, std::string>> RandomRows(uint64_t seed,
                                                                                 int n) {
  std::mt19937_64 rng(seed);
  const char* countries[] = {"NL", "DE", "FR", "BE", "AT"};
  std::vector<std::tuple<int64_t, std::optional<double>, std::string>> rows;
  for (int i = 0; i < n; ++i) {
    std::optional<double> amount;
    if (rng() % 10 != 0) amount = static_cast<double>(rng() % 1000);
    rows.emplace_back(static_cast<int64_t>(rng() % 97), amount, countries[rng() % 5]);
  }
  return rows;
}

TEST_P(AggregateStateTest, ContinuesFromASnapshotLikeAnUninterruptedRun) {
  RecordBatch first = Txns(RandomRows(1, 2000));
  RecordBatch second = Txns(RandomRows(2, 2000));
  // Reference: the operator's own state, never interrupted.
  auto reference = std::move(CreateOperator(AggregateSpec(kAggOutput))).value();
  VectorCollector ref_out;
  ASSERT_TRUE(reference->ProcessBatch(0, first, ref_out).ok());
  ref_out.batches.clear();
  ASSERT_TRUE(reference->ProcessBatch(0, second, ref_out).ok());

  state::KeyedStateBackend* b = Backend({0, 127});
  auto op = Open(b);
  VectorCollector ignored;
  ASSERT_TRUE(op->ProcessBatch(0, first, ignored).ok());
  EXPECT_EQ(*static_cast<AggregateOperator*>(op.get())->NumKeys(), 97);
  state::SnapshotTarget t;
  t.checkpoint_id = 1;
  t.job_dir = (dir_ / "job").string();
  t.exclusive_subdir = "chk-1";
  t.file_prefix = "v2-s0";
  auto handle = (*b->Snapshot(t))->Run();
  ASSERT_TRUE(handle.ok()) << handle.status();

  // Same parallelism: one restored operator sees the second batch.
  state::KeyedStateBackend* restored = Backend({0, 127});
  ASSERT_TRUE(restored->Restore(t.job_dir, {*handle}).ok());
  auto op2 = Open(restored);
  VectorCollector out;
  ASSERT_TRUE(op2->ProcessBatch(0, second, out).ok());
  EXPECT_EQ(out.Rows(), ref_out.Rows());

  // Rescaled to 2: each row goes to the subtask owning its key group, as the HASH
  // partitioner would send it; the union of their outputs is the reference's.
  std::vector<std::unique_ptr<Operator>> subtasks;
  std::vector<RecordBatch> parts;
  for (int i = 0; i < 2; ++i) {
    state::KeyedStateBackend* half =
        Backend(network::KeyGroupRangeForOperatorIndex(128, 2, i));
    ASSERT_TRUE(half->Restore(t.job_dir, {*handle}).ok());
    subtasks.push_back(Open(half));
    parts.emplace_back(second.schema());
  }
  std::map<int64_t, std::string> last_ref, last_split;
  for (size_t r = 0; r < second.num_rows(); ++r) {
    const int kg = network::KeyGroupForKeyHash(network::HashKey(second, r, {0}), 128);
    parts[network::OperatorIndexForKeyGroup(128, 2, kg)].AppendRow(second, r);
  }
  for (int i = 0; i < 2; ++i) {
    VectorCollector part_out;
    ASSERT_TRUE(subtasks[i]->ProcessBatch(0, parts[i], part_out).ok());
    for (const auto& batch : part_out.batches) {
      for (size_t r = 0; r < batch.num_rows(); ++r) {
        last_split[batch.column(0).Int(r)] = batch.RowToString(r);
      }
    }
  }
  for (const auto& batch : ref_out.batches) {
    for (size_t r = 0; r < batch.num_rows(); ++r) last_ref[batch.column(0).Int(r)] = batch.RowToString(r);
  }
  EXPECT_EQ(last_split, last_ref);
}

INSTANTIATE_TEST_SUITE_P(Backends, AggregateStateTest,
                         ::testing::Values(state::BackendKind::kHeap, state::BackendKind::kRocksDb),
                         [](const auto& info) {
                           return info.param == state::BackendKind::kHeap ? "Heap" : "RocksDb";
                         });

TEST(OperatorsTest, BadSpecsAreClearErrors) {
  proto::OperatorSpec spec = AggregateSpec(kAggOutput);
  spec.mutable_aggregate()->mutable_calls(1)->set_function("median");
  auto op = CreateOperator(spec);
  ASSERT_FALSE(op.ok());
  EXPECT_NE(op.status().message().find("unknown aggregate function 'median'"), absl::string_view::npos);

  proto::OperatorSpec filter;
  filter.set_name("f");
  filter.mutable_filter()->set_predicate("amount + 1");
  *filter.mutable_input_schema() = ProtoSchema(kInput);
  auto f = CreateOperator(filter);
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.status().message().find("boolean"), absl::string_view::npos) << f.status();
}

}  // namespace
}  // namespace sluice::taskmanager
