// AggregateCalls: the aggregate functions of a keyed aggregate, shared by the running
// aggregate (aggregate_operator.h) and the windowed one (window_operator.h). Each call is
// computed incrementally in an Accumulator (no list of records is kept): count, sum, min,
// max and avg in fixed fields; first/last keep one value and its event time; count_distinct
// keeps the set of distinct values (the only one whose state grows with its input).
// Argument expressions are evaluated once per batch, column at a time (Evaluate), then rows
// are added one by one (Update). Accumulators merge (session windows) and encode to bytes
// for the state backends: count/sum/min/max/avg as 3 x 8 bytes + a length-prefixed string,
// first/last add their 8-byte event time, count_distinct its length-prefixed values.
// Task thread only.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/expr/expr.h"
#include "common/types/record_batch.h"
#include "proto/jobgraph.pb.h"

namespace sluice::taskmanager {

enum class AggregateFunction {
  kCount, kCountStar, kSum, kMin, kMax, kAvg, kFirst, kLast, kCountDistinct
};

// "count" with an argument is kCount (non-null values), without kCountStar.
absl::StatusOr<AggregateFunction> ParseAggregateFunction(absl::string_view name, bool has_argument);

// One accumulator slot; which fields are used depends on the function and argument type.
struct Accumulator {
  int64_t count = 0;  // rows seen with a non-null argument (all rows for count(*))
  int64_t i = 0;      // int sums, int/timestamp/bool min/max/first/last
  double d = 0;       // float sums, avg sums, float min/max/first/last
  std::string s;      // string min/max/first/last
  int64_t t = 0;      // first/last: event time of the value kept
  absl::flat_hash_set<std::string> distinct;  // count_distinct: the values, encoded
};

class AggregateCalls {
 public:
  // Compiles `agg.calls()` over `input`. `time_column` (-1: none) orders first/last by event
  // time (ties and no time column: arrival order). InvalidArgument naming `op_name` and the
  // call for an unknown function or an argument that does not compile.
  static absl::StatusOr<AggregateCalls> Create(const std::string& op_name,
                                               const proto::AggregateSpec& agg,
                                               const types::Schema& input, int time_column);

  size_t size() const { return calls_.size(); }
  void Reset(std::vector<Accumulator>& accs) const;
  // Evaluates the arguments over `batch` (before Update on its rows).
  absl::Status Evaluate(const types::RecordBatch& batch);
  // Adds row `row` of the evaluated batch.
  void Update(size_t row, std::vector<Accumulator>& accs) const;
  // Adds everything `from` holds to `into` (two windows merging).
  void Merge(const std::vector<Accumulator>& from, std::vector<Accumulator>& into) const;
  // Appends each call's result to out.mutable_column(first_column + c).
  void AppendResults(const std::vector<Accumulator>& accs, types::RecordBatch& out,
                     size_t first_column) const;
  void Encode(const std::vector<Accumulator>& accs, std::string* out) const;
  // False when `in` is not an encoding of this operator's accumulators.
  bool Decode(absl::string_view in, std::vector<Accumulator>& accs) const;

 private:
  struct Call {
    AggregateFunction function;
    std::shared_ptr<expr::CompiledExpr> argument;  // null for count(*)
    types::TypeId argument_type = types::TypeId::kInt64;
    std::shared_ptr<types::Column> values;         // scratch: the evaluated argument
  };

  std::vector<Call> calls_;
  int time_column_ = -1;
  const types::Column* times_ = nullptr;  // the time column of the batch being added
};

// Appends a type-tagged encoding of `col[row]` to `out` (distinct values and keys).
void EncodeValue(const types::Column& col, size_t row, std::string* out);

}  // namespace sluice::taskmanager
