// Evaluation nodes of compiled expressions: a tree over column indexes whose nodes each
// evaluate a whole RecordBatch into a types::Column (one virtual call per node per batch, tight
// loops inside, no per-record virtual call or heap allocation on numeric paths). Built by the
// binder (binder.h) after type checking; every node is immutable after construction, so one
// tree may be evaluated from several threads at once, each with its own EvalScratch.
//
// The factory functions below trust their callers (the binder): operand types are already
// unified (both sides of a comparison or arithmetic have the same storage type, etc.).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/types/record_batch.h"
#include "common/types/schema.h"

namespace sluice::expr {

// One scalar value of a known type (constants, folded subtrees).
struct Value {
  types::TypeId type = types::TypeId::kBool;
  bool is_null = true;
  int64_t i = 0;  // BOOL, INT64, TIMESTAMP
  double d = 0;   // FLOAT64
  std::string s;  // STRING, BYTES

  static Value Null(types::TypeId t) { return Value{t, true, 0, 0, {}}; }
  static Value Int(types::TypeId t, int64_t v) { return Value{t, false, v, 0, {}}; }
  static Value Double(double v) { return Value{types::TypeId::kFloat64, false, 0, v, {}}; }
  static Value String(types::TypeId t, std::string v) {
    return Value{t, false, 0, 0, std::move(v)};
  }
};

// Row `row` of `column` as a Value.
Value ValueAt(const types::Column& column, size_t row);
// Appends `v` (same type as `column`) `count` times.
void AppendValue(const Value& v, size_t count, types::Column* column);

// Per-Evaluate scratch columns for intermediate results. Not thread-safe: one per call.
class EvalScratch {
 public:
  types::Column* NewColumn(types::TypeId type);

 private:
  std::vector<std::unique_ptr<types::Column>> columns_;
};

class Node {
 public:
  explicit Node(types::TypeId type) : type_(type) {}
  virtual ~Node() = default;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  types::TypeId type() const { return type_; }
  // Writes one value per row of `batch` into `out`, whose type is type(); `out` is cleared first.
  virtual void Eval(const types::RecordBatch& batch, EvalScratch* scratch,
                    types::Column* out) const = 0;
  // The values as a column that stays valid while `batch` and `scratch` live: the batch's own
  // column for a column reference (no copy), otherwise a scratch column.
  virtual const types::Column& EvalRef(const types::RecordBatch& batch,
                                       EvalScratch* scratch) const;
  // For BOOL nodes: keep[r] = 1 where the value is true, 0 where false or null (keep has
  // batch.num_rows() bytes). The default evaluates the column; comparisons and and/or write
  // the bytes directly.
  virtual void EvalPredicate(const types::RecordBatch& batch, EvalScratch* scratch,
                             uint8_t* keep) const;
  // The value of a constant node, nullptr for every other node.
  virtual const Value* constant() const { return nullptr; }
  // The batch column index of a column reference node, -1 for every other node.
  virtual int column_index() const { return -1; }

 private:
  types::TypeId type_;
};

using NodePtr = std::shared_ptr<const Node>;

enum class ArithOp { kAdd, kSub, kMul, kDiv, kMod };
enum class CmpOp { kEq, kNe, kLt, kLe, kGt, kGe };
enum class StrFn { kLower, kUpper, kTrim, kLtrim, kRtrim };
enum class StrPredFn { kStartsWith, kEndsWith, kContains };
enum class MathFn { kAbs, kFloor, kCeil };

NodePtr MakeConst(Value v);
NodePtr MakeColumn(int index, types::TypeId type);
// cast(child as to). String to number/bool/timestamp failures give null; float to int
// truncates toward zero (NaN and out of range give null).
NodePtr MakeCast(NodePtr child, types::TypeId to);
// Both operands have the same storage (int-stored or FLOAT64); `result` is the output type
// (e.g. TIMESTAMP for timestamp + int64). Integer arithmetic wraps; / and % by zero give null.
NodePtr MakeArith(ArithOp op, NodePtr l, NodePtr r, types::TypeId result);
NodePtr MakeNegate(NodePtr child);
// Both operands have the same type. Result BOOL.
NodePtr MakeCompare(CmpOp op, NodePtr l, NodePtr r);
NodePtr MakeNot(NodePtr child);
// SQL three-valued logic.
NodePtr MakeAnd(NodePtr l, NodePtr r);
NodePtr MakeOr(NodePtr l, NodePtr r);
NodePtr MakeIsNull(NodePtr child, bool negated);
// x in (constant items...): `items` are non-null values of x's type; `list_has_null` makes a
// miss null instead of false.
NodePtr MakeInSet(NodePtr child, std::vector<Value> items, bool list_has_null);
// x like pattern (STRING or BYTES): % any run, _ one character (UTF-8 code point), backslash
// escapes the next pattern character.
NodePtr MakeLike(NodePtr child, NodePtr pattern);
// First value whose condition is true, else `otherwise` (which may be a null constant).
NodePtr MakeCase(std::vector<NodePtr> conditions, std::vector<NodePtr> values,
                 NodePtr otherwise);
NodePtr MakeCoalesce(std::vector<NodePtr> args);
// Null if any argument is null.
NodePtr MakeGreatest(std::vector<NodePtr> args, bool greatest);
NodePtr MakeStringFn(StrFn fn, NodePtr s);
NodePtr MakeLength(NodePtr s);  // UTF-8 characters for STRING, bytes for BYTES
NodePtr MakeStringPredicate(StrPredFn fn, NodePtr s, NodePtr arg);
// 1-based start (0 acts as 1, negative counts from the end), optional length (may be null).
NodePtr MakeSubstr(NodePtr s, NodePtr start, NodePtr length);
NodePtr MakeReplace(NodePtr s, NodePtr from, NodePtr to);
// All arguments STRING (or all BYTES); null if any is null.
NodePtr MakeConcat(std::vector<NodePtr> args);
NodePtr MakeMath(MathFn fn, NodePtr x);
// Round half away from zero to `digits` decimal places (digits may be null = 0).
NodePtr MakeRound(NodePtr x, NodePtr digits);

// If every child is a constant, evaluates `node` once and returns a constant node with the
// result; otherwise returns `node`.
NodePtr FoldConstants(NodePtr node, const std::vector<NodePtr>& children);

// SQL LIKE on one value (exposed for tests).
bool LikeMatch(absl::string_view s, absl::string_view pattern);

}  // namespace sluice::expr
