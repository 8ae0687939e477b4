// Binder of the expression language: resolves column names to indexes of a Schema, type-checks
// the syntax tree of parser.h, applies implicit conversions (int64 -> float64 in mixed
// arithmetic and comparisons, string literals compared with timestamps, values joined by ||),
// folds constant subtrees and produces the evaluation tree of nodes.h. Used by Compile
// (expr.h); one Binder per compilation, single-threaded.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/expr/nodes.h"
#include "common/expr/parser.h"
#include "common/types/schema.h"

namespace sluice::expr {

// A bound (typed) subexpression.
struct Bound {
  NodePtr node;
  // The literal null, or an expression of nothing but nulls: its type comes from where it is
  // used (node is then a BOOL null constant).
  bool untyped_null = false;
  const Ast* ast = nullptr;
  types::TypeId type() const { return node->type(); }
};

class Binder {
 public:
  // `text` is the expression source (for messages); `schema` must outlive the Binder.
  Binder(absl::string_view text, const types::Schema& schema) : text_(text), schema_(schema) {}

  // Binds `ast`; an untyped null result is returned as is (see Bound::untyped_null). On error
  // returns InvalidArgument and error_offset() is the byte offset the message refers to.
  absl::StatusOr<Bound> Bind(const Ast& ast);

  int error_offset() const { return error_offset_; }
  // Columns read by the bound expressions so far, ascending.
  const std::set<int>& referenced_columns() const { return columns_; }

  // The names of the functions the language knows, lower case (for documentation and tests).
  static std::vector<std::string> FunctionNames();

 private:
  struct FunctionDef;

  absl::Status Error(int offset, std::string message);
  absl::Status TypeError(int offset, std::string message);
  // "int64 'amount'", "string 'NL'", "int64 5", "null".
  std::string Describe(const Bound& b) const;
  absl::string_view Source(const Ast& a) const;

  absl::StatusOr<Bound> BindColumn(const Ast& ast);
  absl::StatusOr<Bound> BindUnary(const Ast& ast);
  absl::StatusOr<Bound> BindBinary(const Ast& ast);
  absl::StatusOr<Bound> BindArith(const Ast& ast, Bound l, Bound r);
  absl::StatusOr<Bound> BindCompare(const Ast& ast, absl::string_view op, Bound l, Bound r);
  absl::StatusOr<Bound> BindLogic(const Ast& ast, bool is_and, Bound l, Bound r);
  absl::StatusOr<Bound> BindConcat(const Ast& ast, std::vector<Bound> args);
  absl::StatusOr<Bound> BindIn(const Ast& ast);
  absl::StatusOr<Bound> BindLike(const Ast& ast);
  absl::StatusOr<Bound> BindCase(const Ast& ast);
  absl::StatusOr<Bound> BindCast(const Ast& ast);
  absl::StatusOr<Bound> BindCall(const Ast& ast);
  absl::StatusOr<Bound> BindChoice(const Ast& ast, std::vector<Bound> conditions,
                                   std::vector<Bound> values, Bound otherwise,
                                   absl::string_view what);

  // Common type of `items` for comparison (numbers promote to float64; a string constant
  // compared with a timestamp becomes a timestamp) and converts every item to it. Items that
  // are all untyped nulls stay so; returns false in *typed then.
  absl::Status Unify(std::vector<Bound*> items, bool for_comparison, absl::string_view what,
                     int offset, bool* typed);
  // Converts `b` to type `t` (a cast, a typed null, or a parsed timestamp constant).
  absl::StatusOr<Bound> Coerce(Bound b, types::TypeId t);
  // `b` must be BOOL (an untyped null becomes a BOOL null).
  absl::StatusOr<Bound> ExpectBool(Bound b, absl::string_view context);
  absl::StatusOr<Bound> ExpectString(Bound b, absl::string_view fn, bool allow_bytes);
  absl::StatusOr<Bound> ExpectNumber(Bound b, absl::string_view fn);
  absl::StatusOr<Bound> ExpectInt(Bound b, absl::string_view fn);
  Bound Typed(NodePtr node, const Ast& ast, const std::vector<NodePtr>& children);

  absl::string_view text_;
  const types::Schema& schema_;
  int error_offset_ = 0;
  std::set<int> columns_;
};

// The closest of `candidates` to `name` by edit distance (case-insensitive), if close enough
// to be a likely typo; empty otherwise.
std::string SuggestName(absl::string_view name, const std::vector<std::string>& candidates);

}  // namespace sluice::expr
