// The expression language of job specs (filter predicates, select columns, aggregate
// arguments): columns, literals, + - * / %, comparisons, and/or/not, is [not] null, string
// functions, `case when`. An expression is parsed and type-checked once against the input
// schema into a CompiledExpr, a tree over column indexes that evaluates a whole RecordBatch
// column-at-a-time (one virtual call per node per batch, none per record).
// Compile is thread-safe; a CompiledExpr is immutable and may be evaluated from any thread.
//
// The language in short (SQL-like; keywords and function names case-insensitive, column names
// case-sensitive, "double" or `back` quotes for odd column names; `a.b` names the column
// "a.b", as CEP conditions name an earlier step's columns):
//   literals   42  1.5  2e3  'it''s'  true  false  null  timestamp '2026-11-28T12:00:00Z'
//   operators  + - * / % (int / int truncates; / or % by 0 is null), unary -, || (concat),
//              = == != <> < <= > >=, and or not (three-valued), is [not] null,
//              [not] between a and b, [not] in (a, b, ...), [not] like 'p%_' (\ escapes)
//   case       case when c then v ... [else e] end, case x when v then r ... [else e] end
//   functions  lower upper length trim ltrim rtrim substr concat starts_with ends_with
//              contains replace coalesce abs round floor ceil greatest least if nullif,
//              cast(x as int64|float64|string|bool|timestamp|bytes)
//   precedence or < and < not < comparison/is/in/between/like < || + - < * / % < unary -
// int64 mixes with float64 as float64; timestamp - timestamp is int64 microseconds and
// timestamp +/- int64 microseconds a timestamp. The parser, binder (type checks) and nodes
// (evaluation) live in parser.h, binder.h and nodes.h.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
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

  // Introspection for planners (e.g. a select that only renames, a filter that is always true).
  // Index of the input column when the expression is just a column reference, else -1.
  virtual int column_index() const { return -1; }
  // True when the expression reads no column (it was folded into one constant value).
  virtual bool is_constant() const { return false; }
  // Indexes of the input columns the expression reads, ascending.
  virtual std::vector<int> referenced_columns() const { return {}; }

 protected:
  // Called by EvaluatePredicate once the type is known to be BOOL; resizes `keep` to the
  // batch's rows. The default evaluates into a BOOL column and keeps the true rows;
  // implementations override it to write the bytes directly.
  virtual absl::Status EvaluateKeep(const types::RecordBatch& batch,
                                    std::vector<uint8_t>* keep) const;
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

// The function names Compile accepts (lower case; names are case-insensitive), for docs and
// "did you mean" lists.
std::vector<std::string> FunctionNames();

}  // namespace sluice::expr
