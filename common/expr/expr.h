// The expression language of job specs (filter predicates, select columns, aggregate
// arguments): columns, literals, + - * / %, comparisons, and/or/not, is [not] null, string
// functions, `case when`. An expression is parsed and type-checked once against the input
// schema into a CompiledExpr, a tree over column indexes that evaluates a whole RecordBatch
// column-at-a-time (one virtual call per node per batch, none per record).
// Compile is thread-safe; a CompiledExpr is immutable and may be evaluated from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/types/record_batch.h"
#include "common/types/schema.h"

namespace sluice::expr {

class CompiledExpr {
 public:
  virtual ~CompiledExpr() = default;
  virtual types::TypeId result_type() const = 0;
  // Evaluates every row of `batch` into `out`, which is cleared first and must have type
  // result_type(). Nulls propagate (SQL semantics); integer division or modulo by zero and
  // string functions on null give null.
  virtual absl::Status Evaluate(const types::RecordBatch& batch, types::Column* out) const = 0;
  // For BOOL expressions: keep[r] = 1 where the value is true, 0 where false or null.
  absl::Status EvaluatePredicate(const types::RecordBatch& batch, std::vector<uint8_t>* keep) const;
};

struct CompileError {
  int offset = 0;  // 0-based character offset in the expression text where the error is
};

// Parses and type-checks `text` against `schema`. Errors are InvalidArgument with a message a
// user can act on ("unknown column 'amout' (did you mean 'amount'?)"); `error` (optional)
// receives the position so callers can point at the YAML line and column.
absl::StatusOr<std::unique_ptr<CompiledExpr>> Compile(absl::string_view text,
                                                      const types::Schema& schema,
                                                      CompileError* error = nullptr);

}  // namespace sluice::expr
