// Running keyed aggregate (key_by + aggregate without a window): for every input row it
// updates its key's accumulators (count, sum, min, max, avg) and emits the key's updated row
// (key columns, then one column per aggregate). Argument expressions are evaluated once per
// batch, column-at-a-time; the per-row work is one hash lookup and the accumulator updates.
// State lives in a heap hash map for now (the state backends of the checkpoint issue replace
// it). Task thread only.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "common/expr/expr.h"
#include "taskmanager/operators/operator.h"

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
  absl::Status ProcessBatch(int input, types::RecordBatch& batch, Collector& out) override;

  size_t num_keys() const { return state_.size(); }

 private:
  struct Call {
    AggregateFunction function;
    std::unique_ptr<expr::CompiledExpr> argument;  // null for count(*)
    types::TypeId argument_type = types::TypeId::kInt64;
    types::Column values{types::TypeId::kInt64};   // scratch: the evaluated argument
  };

  explicit AggregateOperator(types::SchemaPtr output) : output_(output), batch_(output) {}
  void EncodeKey(const types::RecordBatch& batch, size_t row, std::string* key) const;
  void Update(Call& call, size_t row, Accumulator& acc) const;
  void AppendResult(const Call& call, const Accumulator& acc, types::Column& out) const;

  types::SchemaPtr output_;
  std::vector<int> key_indexes_;
  std::vector<Call> calls_;
  absl::flat_hash_map<std::string, std::vector<Accumulator>> state_;
  std::string key_scratch_;
  types::RecordBatch batch_;  // output, reused
};

}  // namespace sluice::taskmanager
