// Running keyed aggregate (key_by + aggregate without a window): for every input row it
// updates its key's accumulators (count, sum, min, max, avg) and emits the key's updated row
// (key columns, then one column per aggregate). Argument expressions are evaluated once per
// batch, column-at-a-time, and key hashes once per batch (network::HashKeys); the per-row work
// is one keyed state Get + Put and the accumulator updates.
// State: one ValueState "<operator name>.acc" in the task's keyed state backend (heap or
// RocksDB, checkpointed with the task), holding the key's accumulators encoded as bytes
// (per accumulator: count, i, d as 8-byte memcpy'd fields, then s length-prefixed).
// InitializeState binds it to the task's backend; without it (operator unit tests) the
// operator creates its own heap backend over all key groups on first use. Task thread only.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/expr/expr.h"
#include "taskmanager/operators/operator.h"
#include "taskmanager/state/keyed_state_backend.h"

namespace sluice::taskmanager {

enum class AggregateFunction { kCount, kCountStar, kSum, kMin, kMax, kAvg };

absl::StatusOr<AggregateFunction> ParseAggregateFunction(absl::string_view name, bool has_argument);

// One accumulator slot; which fields are used depends on the function and argument type.
struct Accumulator {
  int64_t count = 0;  // rows seen with a non-null argument (all rows for count(*))
  int64_t i = 0;      // int sums, int/timestamp/bool min/max
  double d = 0;       // float sums, avg sums, float min/max
  std::string s;      // string min/max
};

class AggregateOperator : public Operator {
 public:
  static absl::StatusOr<std::unique_ptr<Operator>> Create(const proto::OperatorSpec& spec);
  absl::Status Open(const OperatorContext& ctx) override;
  absl::Status InitializeState(StateInitContext& ctx) override;
  absl::Status ProcessBatch(int input, types::RecordBatch& batch, Collector& out) override;

  // Keys with accumulators (tests).
  absl::StatusOr<int64_t> NumKeys();

 private:
  struct Call {
    AggregateFunction function;
    std::unique_ptr<expr::CompiledExpr> argument;  // null for count(*)
    types::TypeId argument_type = types::TypeId::kInt64;
    types::Column values{types::TypeId::kInt64};   // scratch: the evaluated argument
  };

  explicit AggregateOperator(types::SchemaPtr output) : output_(output), batch_(output) {}
  absl::Status BindState(state::KeyedStateBackend* backend);
  void EncodeKey(const types::RecordBatch& batch, size_t row, std::string* key) const;
  void EncodeAccumulators(std::string* out) const;
  bool DecodeAccumulators(absl::string_view in);
  void Update(Call& call, size_t row, Accumulator& acc) const;
  void AppendResult(const Call& call, const Accumulator& acc, types::Column& out) const;

  types::SchemaPtr output_;
  std::string name_;
  std::vector<int> key_indexes_;
  std::vector<Call> calls_;
  int max_parallelism_ = network::kDefaultMaxParallelism;
  std::unique_ptr<state::KeyedStateBackend> own_backend_;  // when InitializeState never ran
  state::KeyedStateBackend* backend_ = nullptr;
  state::ValueState* acc_state_ = nullptr;
  std::vector<Accumulator> accs_;  // the current key's accumulators, reused
  std::vector<int32_t> hashes_;    // key hash per row of the current batch
  std::string key_scratch_;
  std::string value_scratch_;
  types::RecordBatch batch_;  // output, reused
};

}  // namespace sluice::taskmanager
