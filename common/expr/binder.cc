#include "common/expr/binder.h"

#include "common/suggest.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "common/types/timestamp.h"

namespace sluice::expr {

using types::TypeId;

namespace {

bool IsNumeric(TypeId t) { return t == TypeId::kInt64 || t == TypeId::kFloat64; }

bool IsLiteral(const Ast& a) {
  switch (a.kind) {
    case Ast::Kind::kNull:
    case Ast::Kind::kBool:
    case Ast::Kind::kInt:
    case Ast::Kind::kFloat:
    case Ast::Kind::kString:
    case Ast::Kind::kTimestamp: return true;
    default: return false;
  }
}

bool IsStringConstant(const Bound& b) {
  const Value* k = b.node->constant();
  return k != nullptr && !k->is_null && k->type == TypeId::kString;
}

bool Castable(TypeId from, TypeId to) {
  if (from == to || to == TypeId::kString) return true;
  if (to == TypeId::kBytes) return from == TypeId::kString;
  if (from == TypeId::kBytes) return false;
  switch (to) {
    case TypeId::kInt64: return true;
    case TypeId::kFloat64: return from != TypeId::kTimestamp;
    case TypeId::kBool: return from != TypeId::kTimestamp;
    case TypeId::kTimestamp: return from == TypeId::kInt64 || from == TypeId::kString;
    default: return false;
  }
}

enum class Fn {
  kLower, kUpper, kLength, kTrim, kLtrim, kRtrim, kSubstr, kConcat, kStartsWith, kEndsWith,
  kContains, kReplace, kCoalesce, kAbs, kRound, kFloor, kCeil, kGreatest, kLeast, kIf, kNullif,
};

struct FnInfo {
  absl::string_view name;
  Fn fn;
  int min_args;
  int max_args;  // -1: any number
};

constexpr FnInfo kFunctions[] = {
    {"lower", Fn::kLower, 1, 1},
    {"upper", Fn::kUpper, 1, 1},
    {"length", Fn::kLength, 1, 1},
    {"char_length", Fn::kLength, 1, 1},
    {"trim", Fn::kTrim, 1, 1},
    {"ltrim", Fn::kLtrim, 1, 1},
    {"rtrim", Fn::kRtrim, 1, 1},
    {"substr", Fn::kSubstr, 2, 3},
    {"substring", Fn::kSubstr, 2, 3},
    {"concat", Fn::kConcat, 1, -1},
    {"starts_with", Fn::kStartsWith, 2, 2},
    {"ends_with", Fn::kEndsWith, 2, 2},
    {"contains", Fn::kContains, 2, 2},
    {"replace", Fn::kReplace, 3, 3},
    {"coalesce", Fn::kCoalesce, 1, -1},
    {"abs", Fn::kAbs, 1, 1},
    {"round", Fn::kRound, 1, 2},
    {"floor", Fn::kFloor, 1, 1},
    {"ceil", Fn::kCeil, 1, 1},
    {"ceiling", Fn::kCeil, 1, 1},
    {"greatest", Fn::kGreatest, 1, -1},
    {"least", Fn::kLeast, 1, -1},
    {"if", Fn::kIf, 3, 3},
    {"nullif", Fn::kNullif, 2, 2},
};

}  // namespace

std::string SuggestName(absl::string_view name, const std::vector<std::string>& candidates) {
  return ClosestMatch(name, candidates);
}

std::vector<std::string> Binder::FunctionNames() {
  std::vector<std::string> names;
  for (const FnInfo& f : kFunctions) names.emplace_back(f.name);
  names.emplace_back("cast");
  return names;
}

absl::Status Binder::Error(int offset, std::string message) {
  error_offset_ = offset;
  return absl::InvalidArgumentError(std::move(message));
}

absl::Status Binder::TypeError(int offset, std::string message) {
  return Error(offset, absl::StrCat("type error: ", message));
}

absl::string_view Binder::Source(const Ast& a) const {
  return text_.substr(a.begin, a.end - a.begin);
}

std::string Binder::Describe(const Bound& b) const {
  if (b.ast == nullptr) return std::string(types::TypeName(b.type()));
  if (b.untyped_null && b.ast->kind == Ast::Kind::kNull) return "null";
  absl::string_view type = b.untyped_null ? "null" : types::TypeName(b.type());
  if (IsLiteral(*b.ast)) return absl::StrCat(type, " ", Source(*b.ast));
  return absl::StrCat(type, " '", Source(*b.ast), "'");
}

Bound Binder::Typed(NodePtr node, const Ast& ast, const std::vector<NodePtr>& children) {
  return Bound{FoldConstants(std::move(node), children), false, &ast};
}

absl::StatusOr<Bound> Binder::Coerce(Bound b, TypeId t) {
  if (b.untyped_null) return Bound{MakeConst(Value::Null(t)), false, b.ast};
  if (b.type() == t) return b;
  if (b.type() == TypeId::kInt64 && t == TypeId::kFloat64) {
    return Typed(MakeCast(b.node, t), *b.ast, {b.node});
  }
  if (IsStringConstant(b) && t == TypeId::kTimestamp) {
    absl::StatusOr<int64_t> micros = types::ParseTimestamp(b.node->constant()->s);
    if (!micros.ok()) {
      return TypeError(b.ast->begin, absl::StrCat(micros.status().message(),
                                                  " (compared with a timestamp)"));
    }
    return Bound{MakeConst(Value::Int(TypeId::kTimestamp, *micros)), false, b.ast};
  }
  return TypeError(b.ast->begin, absl::StrCat("cannot convert ", Describe(b), " to ",
                                              types::TypeName(t)));
}

absl::Status Binder::Unify(std::vector<Bound*> items, bool for_comparison, absl::string_view what,
                           int offset, bool* typed) {
  auto mismatch = [&](const Bound& a, const Bound& b) {
    if (what.empty()) {
      return TypeError(offset, absl::StrCat("cannot compare ", Describe(a), " with ",
                                            Describe(b)));
    }
    return TypeError(offset,
                     absl::StrCat(what, " must have one type, got ", Describe(a), " and ",
                                  Describe(b)));
  };
  auto compatible = [&](const Bound& a, const Bound& b) {
    if (a.type() == b.type()) return true;
    if (IsNumeric(a.type()) && IsNumeric(b.type())) return true;
    if (!for_comparison) return false;
    return (a.type() == TypeId::kTimestamp && IsStringConstant(b)) ||
           (b.type() == TypeId::kTimestamp && IsStringConstant(a));
  };
  const Bound* first = nullptr;
  bool all_numeric = true, any_float = false, any_timestamp = false;
  for (Bound* b : items) {
    if (b->untyped_null) continue;
    if (first == nullptr) first = b;
    if (!compatible(*first, *b)) return mismatch(*first, *b);
    all_numeric &= IsNumeric(b->type());
    any_float |= b->type() == TypeId::kFloat64;
    any_timestamp |= b->type() == TypeId::kTimestamp;
  }
  *typed = first != nullptr;
  if (first == nullptr) return absl::OkStatus();
  TypeId target = all_numeric ? (any_float ? TypeId::kFloat64 : TypeId::kInt64)
                  : any_timestamp && for_comparison ? TypeId::kTimestamp
                                                    : first->type();
  const Bound* witness = nullptr;  // an item of the target type, for messages
  for (Bound* b : items) {
    if (!b->untyped_null && b->type() == target) {
      witness = b;
      break;
    }
  }
  for (Bound* b : items) {
    if (!b->untyped_null && b->type() != target && !compatible(*witness, *b)) {
      return mismatch(*witness, *b);
    }
  }
  for (Bound* b : items) {
    ASSIGN_OR_RETURN(*b, Coerce(*b, target));
  }
  return absl::OkStatus();
}

absl::StatusOr<Bound> Binder::ExpectBool(Bound b, absl::string_view context) {
  if (b.untyped_null) return Coerce(b, TypeId::kBool);
  if (b.type() != TypeId::kBool) {
    return TypeError(b.ast->begin, absl::StrCat(context, ", got ", Describe(b)));
  }
  return b;
}

absl::StatusOr<Bound> Binder::ExpectString(Bound b, absl::string_view context, bool allow_bytes) {
  if (b.untyped_null) return Coerce(b, TypeId::kString);
  if (b.type() != TypeId::kString && !(allow_bytes && b.type() == TypeId::kBytes)) {
    return TypeError(b.ast->begin, absl::StrCat(context, ", got ", Describe(b)));
  }
  return b;
}

absl::StatusOr<Bound> Binder::ExpectNumber(Bound b, absl::string_view context) {
  if (b.untyped_null) return b;
  if (!IsNumeric(b.type())) {
    return TypeError(b.ast->begin, absl::StrCat(context, ", got ", Describe(b)));
  }
  return b;
}

absl::StatusOr<Bound> Binder::ExpectInt(Bound b, absl::string_view context) {
  if (b.untyped_null) return Coerce(b, TypeId::kInt64);
  if (b.type() != TypeId::kInt64) {
    return TypeError(b.ast->begin, absl::StrCat(context, ", got ", Describe(b)));
  }
  return b;
}

absl::StatusOr<Bound> Binder::Bind(const Ast& ast) {
  switch (ast.kind) {
    case Ast::Kind::kNull: return Bound{MakeConst(Value::Null(TypeId::kBool)), true, &ast};
    case Ast::Kind::kBool:
      return Bound{MakeConst(Value::Int(TypeId::kBool, ast.int_value)), false, &ast};
    case Ast::Kind::kInt:
      return Bound{MakeConst(Value::Int(TypeId::kInt64, ast.int_value)), false, &ast};
    case Ast::Kind::kFloat: return Bound{MakeConst(Value::Double(ast.float_value)), false, &ast};
    case Ast::Kind::kString:
      return Bound{MakeConst(Value::String(TypeId::kString, ast.text)), false, &ast};
    case Ast::Kind::kTimestamp:
      return Bound{MakeConst(Value::Int(TypeId::kTimestamp, ast.int_value)), false, &ast};
    case Ast::Kind::kColumn: return BindColumn(ast);
    case Ast::Kind::kUnary: return BindUnary(ast);
    case Ast::Kind::kBinary: return BindBinary(ast);
    case Ast::Kind::kIsNull: {
      ASSIGN_OR_RETURN(Bound x, Bind(*ast.args[0]));
      if (x.untyped_null) {
        return Bound{MakeConst(Value::Int(TypeId::kBool, ast.negated ? 0 : 1)), false, &ast};
      }
      return Typed(MakeIsNull(x.node, ast.negated), ast, {x.node});
    }
    case Ast::Kind::kBetween: {
      ASSIGN_OR_RETURN(Bound x, Bind(*ast.args[0]));
      ASSIGN_OR_RETURN(Bound low, Bind(*ast.args[1]));
      ASSIGN_OR_RETURN(Bound high, Bind(*ast.args[2]));
      ASSIGN_OR_RETURN(Bound ge, BindCompare(ast, ">=", x, low));
      ASSIGN_OR_RETURN(Bound le, BindCompare(ast, "<=", x, high));
      Bound both = Typed(MakeAnd(ge.node, le.node), ast, {ge.node, le.node});
      if (!ast.negated) return both;
      return Typed(MakeNot(both.node), ast, {both.node});
    }
    case Ast::Kind::kIn: return BindIn(ast);
    case Ast::Kind::kLike: return BindLike(ast);
    case Ast::Kind::kCase: return BindCase(ast);
    case Ast::Kind::kCall: return BindCall(ast);
    case Ast::Kind::kCast: return BindCast(ast);
  }
  return Error(ast.begin, "unsupported expression");
}

absl::StatusOr<Bound> Binder::BindColumn(const Ast& ast) {
  std::optional<int> index = schema_.IndexOf(ast.text);
  if (index.has_value()) {
    columns_.insert(*index);
    return Bound{MakeColumn(*index, schema_.field(*index).type), false, &ast};
  }
  std::vector<std::string> names;
  for (const types::Field& f : schema_.fields()) names.push_back(f.name);
  std::string message = absl::StrCat("unknown column '", ast.text, "'");
  std::string suggestion = SuggestName(ast.text, names);
  if (text_[ast.begin] == '"') {  // probably meant as a string
    absl::StrAppend(&message, " (double quotes name a column; write strings in single quotes: '",
                    ast.text, "')");
  } else if (!suggestion.empty()) {
    absl::StrAppend(&message, " (did you mean '", suggestion, "'?)");
  } else if (names.empty()) {
    absl::StrAppend(&message, " (the input has no columns)");
  } else if (names.size() <= 30) {
    absl::StrAppend(&message, " (columns: ", absl::StrJoin(names, ", "), ")");
  }
  return Error(ast.begin, std::move(message));
}

absl::StatusOr<Bound> Binder::BindUnary(const Ast& ast) {
  ASSIGN_OR_RETURN(Bound x, Bind(*ast.args[0]));
  if (ast.text == "not") {
    ASSIGN_OR_RETURN(x, ExpectBool(std::move(x), "'not' needs a bool operand"));
    return Typed(MakeNot(x.node), ast, {x.node});
  }
  if (x.untyped_null) return Bound{x.node, true, &ast};
  if (!IsNumeric(x.type())) {
    return TypeError(ast.op_offset, absl::StrCat("cannot negate ", Describe(x),
                                                 " (unary minus needs int64 or float64)"));
  }
  return Typed(MakeNegate(x.node), ast, {x.node});
}

absl::StatusOr<Bound> Binder::BindBinary(const Ast& ast) {
  ASSIGN_OR_RETURN(Bound l, Bind(*ast.args[0]));
  ASSIGN_OR_RETURN(Bound r, Bind(*ast.args[1]));
  const std::string& op = ast.text;
  if (op == "and" || op == "or") return BindLogic(ast, op == "and", std::move(l), std::move(r));
  if (op == "||") return BindConcat(ast, {std::move(l), std::move(r)});
  if (op == "+" || op == "-" || op == "*" || op == "/" || op == "%") {
    return BindArith(ast, std::move(l), std::move(r));
  }
  return BindCompare(ast, op, std::move(l), std::move(r));
}

absl::StatusOr<Bound> Binder::BindArith(const Ast& ast, Bound l, Bound r) {
  const std::string& op = ast.text;
  if (l.untyped_null && r.untyped_null) return Bound{l.node, true, &ast};
  // A null operand takes the other side's type (int64 next to a timestamp).
  if (l.untyped_null || r.untyped_null) {
    Bound& typed = l.untyped_null ? r : l;
    Bound& null = l.untyped_null ? l : r;
    TypeId t = typed.type() == TypeId::kTimestamp ? TypeId::kInt64 : typed.type();
    if (IsNumeric(t)) {
      ASSIGN_OR_RETURN(null, Coerce(null, t));
    }
  }
  const TypeId lt = l.type(), rt = r.type();
  ArithOp aop = op == "+" ? ArithOp::kAdd
                : op == "-" ? ArithOp::kSub
                : op == "*" ? ArithOp::kMul
                : op == "/" ? ArithOp::kDiv
                            : ArithOp::kMod;
  if (!l.untyped_null && !r.untyped_null) {
    if (IsNumeric(lt) && IsNumeric(rt)) {
      TypeId t = lt == TypeId::kFloat64 || rt == TypeId::kFloat64 ? TypeId::kFloat64
                                                                   : TypeId::kInt64;
      ASSIGN_OR_RETURN(l, Coerce(std::move(l), t));
      ASSIGN_OR_RETURN(r, Coerce(std::move(r), t));
      return Typed(MakeArith(aop, l.node, r.node, t), ast, {l.node, r.node});
    }
    if (lt == TypeId::kTimestamp && rt == TypeId::kTimestamp && aop == ArithOp::kSub) {
      return Typed(MakeArith(aop, l.node, r.node, TypeId::kInt64), ast, {l.node, r.node});
    }
    if (lt == TypeId::kTimestamp && rt == TypeId::kInt64 &&
        (aop == ArithOp::kAdd || aop == ArithOp::kSub)) {
      return Typed(MakeArith(aop, l.node, r.node, TypeId::kTimestamp), ast, {l.node, r.node});
    }
    if (lt == TypeId::kInt64 && rt == TypeId::kTimestamp && aop == ArithOp::kAdd) {
      return Typed(MakeArith(aop, l.node, r.node, TypeId::kTimestamp), ast, {l.node, r.node});
    }
  }
  std::string message = absl::StrCat("cannot apply '", op, "' to ", Describe(l), " and ",
                                     Describe(r));
  if (op == "+" && (lt == TypeId::kString || rt == TypeId::kString)) {
    absl::StrAppend(&message, " (use || or concat() to join strings)");
  } else if (lt == TypeId::kTimestamp || rt == TypeId::kTimestamp) {
    absl::StrAppend(&message,
                    " (timestamp - timestamp gives int64 microseconds; timestamp + or - int64 "
                    "microseconds gives a timestamp)");
  }
  return TypeError(ast.op_offset, std::move(message));
}

absl::StatusOr<Bound> Binder::BindCompare(const Ast& ast, absl::string_view op, Bound l, Bound r) {
  bool typed;
  RETURN_IF_ERROR(Unify({&l, &r}, /*for_comparison=*/true, "", ast.op_offset, &typed));
  if (!typed) return Bound{MakeConst(Value::Null(TypeId::kBool)), false, &ast};
  CmpOp cop = op == "=" ? CmpOp::kEq
              : op == "<>" ? CmpOp::kNe
              : op == "<" ? CmpOp::kLt
              : op == "<=" ? CmpOp::kLe
              : op == ">" ? CmpOp::kGt
                          : CmpOp::kGe;
  return Typed(MakeCompare(cop, l.node, r.node), ast, {l.node, r.node});
}

absl::StatusOr<Bound> Binder::BindLogic(const Ast& ast, bool is_and, Bound l, Bound r) {
  absl::string_view context = is_and ? "'and' needs bool operands" : "'or' needs bool operands";
  ASSIGN_OR_RETURN(l, ExpectBool(std::move(l), context));
  ASSIGN_OR_RETURN(r, ExpectBool(std::move(r), context));
  NodePtr node = is_and ? MakeAnd(l.node, r.node) : MakeOr(l.node, r.node);
  return Typed(std::move(node), ast, {l.node, r.node});
}

absl::StatusOr<Bound> Binder::BindConcat(const Ast& ast, std::vector<Bound> args) {
  std::vector<NodePtr> nodes;
  for (Bound& a : args) {
    if (a.untyped_null) {
      nodes.push_back(MakeConst(Value::Null(TypeId::kString)));
    } else if (a.type() == TypeId::kString) {
      nodes.push_back(a.node);
    } else {
      // Values join as their text (cast(x as string)).
      nodes.push_back(FoldConstants(MakeCast(a.node, TypeId::kString), {a.node}));
    }
  }
  return Typed(MakeConcat(nodes), ast, nodes);
}

absl::StatusOr<Bound> Binder::BindIn(const Ast& ast) {
  std::vector<Bound> bound;
  for (const auto& a : ast.args) {
    ASSIGN_OR_RETURN(Bound b, Bind(*a));
    bound.push_back(std::move(b));
  }
  std::vector<Bound*> ptrs;
  for (Bound& b : bound) ptrs.push_back(&b);
  bool typed;
  RETURN_IF_ERROR(Unify(ptrs, /*for_comparison=*/true, "", ast.op_offset, &typed));
  if (!typed) return Bound{MakeConst(Value::Null(TypeId::kBool)), false, &ast};
  const Bound& x = bound[0];
  bool all_constant = true;
  for (size_t i = 1; i < bound.size(); ++i) all_constant &= bound[i].node->constant() != nullptr;
  Bound result;
  if (all_constant) {
    std::vector<Value> items;
    bool has_null = false;
    for (size_t i = 1; i < bound.size(); ++i) {
      const Value& v = *bound[i].node->constant();
      if (v.is_null) {
        has_null = true;
      } else {
        items.push_back(v);
      }
    }
    result = Typed(MakeInSet(x.node, std::move(items), has_null), ast, {x.node});
  } else {
    // x = a or x = b or ...: the same three-valued result as SQL's in.
    for (size_t i = 1; i < bound.size(); ++i) {
      Bound eq = Typed(MakeCompare(CmpOp::kEq, x.node, bound[i].node), ast,
                       {x.node, bound[i].node});
      result = i == 1 ? eq : Typed(MakeOr(result.node, eq.node), ast, {result.node, eq.node});
    }
  }
  if (!ast.negated) return result;
  return Typed(MakeNot(result.node), ast, {result.node});
}

absl::StatusOr<Bound> Binder::BindLike(const Ast& ast) {
  ASSIGN_OR_RETURN(Bound x, Bind(*ast.args[0]));
  ASSIGN_OR_RETURN(Bound pattern, Bind(*ast.args[1]));
  if (x.untyped_null || pattern.untyped_null) {
    return Bound{MakeConst(Value::Null(TypeId::kBool)), false, &ast};
  }
  ASSIGN_OR_RETURN(x, ExpectString(std::move(x), "'like' needs a string to match", true));
  if (pattern.type() != x.type() && pattern.type() != TypeId::kString) {
    return TypeError(pattern.ast->begin,
                     absl::StrCat("the pattern of 'like' must be a string, got ",
                                  Describe(pattern)));
  }
  Bound result = Typed(MakeLike(x.node, pattern.node), ast, {x.node, pattern.node});
  if (!ast.negated) return result;
  return Typed(MakeNot(result.node), ast, {result.node});
}

absl::StatusOr<Bound> Binder::BindCase(const Ast& ast) {
  size_t i = 0;
  Bound operand;
  if (ast.has_operand) {
    ASSIGN_OR_RETURN(operand, Bind(*ast.args[0]));
    i = 1;
  }
  size_t pairs_end = ast.args.size() - (ast.has_else ? 1 : 0);
  std::vector<Bound> conditions, values;
  for (; i + 1 < pairs_end; i += 2) {
    ASSIGN_OR_RETURN(Bound cond, Bind(*ast.args[i]));
    if (ast.has_operand) {
      ASSIGN_OR_RETURN(cond, BindCompare(*ast.args[i], "=", operand, std::move(cond)));
    } else {
      ASSIGN_OR_RETURN(cond, ExpectBool(std::move(cond), "'case when' needs a bool condition"));
    }
    ASSIGN_OR_RETURN(Bound value, Bind(*ast.args[i + 1]));
    conditions.push_back(std::move(cond));
    values.push_back(std::move(value));
  }
  Bound otherwise{MakeConst(Value::Null(TypeId::kBool)), true, &ast};
  if (ast.has_else) {
    ASSIGN_OR_RETURN(otherwise, Bind(*ast.args.back()));
  }
  return BindChoice(ast, std::move(conditions), std::move(values), std::move(otherwise),
                    "the branches of 'case'");
}

absl::StatusOr<Bound> Binder::BindChoice(const Ast& ast, std::vector<Bound> conditions,
                                         std::vector<Bound> values, Bound otherwise,
                                         absl::string_view what) {
  std::vector<Bound*> ptrs;
  for (Bound& v : values) ptrs.push_back(&v);
  ptrs.push_back(&otherwise);
  bool typed;
  RETURN_IF_ERROR(Unify(ptrs, /*for_comparison=*/false, what, ast.op_offset, &typed));
  if (!typed) return Bound{otherwise.node, true, &ast};
  // Branches whose condition is a constant false or null can never be taken; a constant true
  // condition ends the case.
  std::vector<NodePtr> conds, vals, children;
  NodePtr last = otherwise.node;
  for (size_t k = 0; k < conditions.size(); ++k) {
    const Value* c = conditions[k].node->constant();
    if (c != nullptr && (c->is_null || c->i == 0)) continue;
    if (c != nullptr) {
      last = values[k].node;
      break;
    }
    conds.push_back(conditions[k].node);
    vals.push_back(values[k].node);
  }
  if (conds.empty()) return Bound{last, false, &ast};
  children = conds;
  children.insert(children.end(), vals.begin(), vals.end());
  children.push_back(last);
  return Typed(MakeCase(std::move(conds), std::move(vals), last), ast, children);
}

absl::StatusOr<Bound> Binder::BindCast(const Ast& ast) {
  ASSIGN_OR_RETURN(Bound x, Bind(*ast.args[0]));
  TypeId to = ast.cast_type;
  if (x.untyped_null) return Bound{MakeConst(Value::Null(to)), false, &ast};
  if (x.type() == to) return Bound{x.node, false, &ast};
  if (!Castable(x.type(), to)) {
    return TypeError(ast.begin, absl::StrCat("cannot cast ", Describe(x), " to ",
                                             types::TypeName(to)));
  }
  return Typed(MakeCast(x.node, to), ast, {x.node});
}

absl::StatusOr<Bound> Binder::BindCall(const Ast& ast) {
  std::string name = absl::AsciiStrToLower(ast.text);
  const FnInfo* info = nullptr;
  for (const FnInfo& f : kFunctions) {
    if (f.name == name) info = &f;
  }
  if (info == nullptr) {
    std::string message = absl::StrCat("unknown function '", ast.text, "'");
    std::string suggestion = SuggestName(name, FunctionNames());
    if (!suggestion.empty()) absl::StrAppend(&message, " (did you mean '", suggestion, "'?)");
    return Error(ast.op_offset, std::move(message));
  }
  const int n = static_cast<int>(ast.args.size());
  if (n < info->min_args || (info->max_args >= 0 && n > info->max_args)) {
    std::string takes =
        info->max_args < 0 ? absl::StrCat("at least ", info->min_args)
        : info->min_args == info->max_args
            ? absl::StrCat(info->min_args)
            : absl::StrCat(info->min_args, " or ", info->max_args);
    bool plural = info->min_args != 1 || info->max_args == 2 || info->max_args == 3;
    return Error(ast.op_offset, absl::StrCat("function '", name, "' takes ", takes,
                                             plural ? " arguments" : " argument", ", got ", n));
  }
  std::vector<Bound> args;
  for (const auto& a : ast.args) {
    ASSIGN_OR_RETURN(Bound b, Bind(*a));
    args.push_back(std::move(b));
  }
  auto nodes = [&args]() {
    std::vector<NodePtr> out;
    for (const Bound& b : args) out.push_back(b.node);
    return out;
  };
  const std::string needs_string = absl::StrCat(name, "() needs a string argument");
  const std::string needs_number = absl::StrCat(name, "() needs an int64 or float64 argument");
  switch (info->fn) {
    case Fn::kLower:
    case Fn::kUpper:
    case Fn::kTrim:
    case Fn::kLtrim:
    case Fn::kRtrim: {
      ASSIGN_OR_RETURN(args[0], ExpectString(std::move(args[0]), needs_string, false));
      StrFn f = info->fn == Fn::kLower   ? StrFn::kLower
                : info->fn == Fn::kUpper ? StrFn::kUpper
                : info->fn == Fn::kTrim  ? StrFn::kTrim
                : info->fn == Fn::kLtrim ? StrFn::kLtrim
                                         : StrFn::kRtrim;
      return Typed(MakeStringFn(f, args[0].node), ast, nodes());
    }
    case Fn::kLength: {
      ASSIGN_OR_RETURN(args[0], ExpectString(std::move(args[0]), needs_string, true));
      return Typed(MakeLength(args[0].node), ast, nodes());
    }
    case Fn::kSubstr: {
      ASSIGN_OR_RETURN(args[0], ExpectString(std::move(args[0]), needs_string, true));
      for (size_t i = 1; i < args.size(); ++i) {
        ASSIGN_OR_RETURN(args[i], ExpectInt(std::move(args[i]),
                                            i == 1 ? "the start of substr() must be an int64"
                                                   : "the length of substr() must be an int64"));
      }
      NodePtr length = args.size() > 2 ? args[2].node : nullptr;
      return Typed(MakeSubstr(args[0].node, args[1].node, length), ast, nodes());
    }
    case Fn::kConcat: return BindConcat(ast, std::move(args));
    case Fn::kStartsWith:
    case Fn::kEndsWith:
    case Fn::kContains: {
      for (Bound& a : args) {
        ASSIGN_OR_RETURN(a, ExpectString(std::move(a), needs_string, true));
      }
      if (args[0].type() != args[1].type()) {
        return TypeError(args[1].ast->begin,
                         absl::StrCat(name, "() needs two strings, got ", Describe(args[0]),
                                      " and ", Describe(args[1])));
      }
      StrPredFn f = info->fn == Fn::kStartsWith ? StrPredFn::kStartsWith
                    : info->fn == Fn::kEndsWith ? StrPredFn::kEndsWith
                                                : StrPredFn::kContains;
      return Typed(MakeStringPredicate(f, args[0].node, args[1].node), ast, nodes());
    }
    case Fn::kReplace: {
      for (Bound& a : args) {
        ASSIGN_OR_RETURN(a, ExpectString(std::move(a), needs_string, false));
      }
      return Typed(MakeReplace(args[0].node, args[1].node, args[2].node), ast, nodes());
    }
    case Fn::kCoalesce:
    case Fn::kGreatest:
    case Fn::kLeast: {
      std::vector<Bound*> ptrs;
      for (Bound& a : args) ptrs.push_back(&a);
      bool typed;
      RETURN_IF_ERROR(Unify(ptrs, /*for_comparison=*/false,
                            absl::StrCat("the arguments of ", name, "()"), ast.op_offset, &typed));
      if (!typed) return Bound{args[0].node, true, &ast};
      if (info->fn == Fn::kCoalesce) {
        // Arguments after the first that can never be null are never looked past.
        std::vector<NodePtr> kept;
        for (const Bound& a : args) {
          const Value* k = a.node->constant();
          if (k != nullptr && k->is_null) continue;
          kept.push_back(a.node);
          if (k != nullptr) break;
        }
        if (kept.empty()) return Bound{args[0].node, false, &ast};
        if (kept.size() == 1) return Bound{kept[0], false, &ast};
        return Typed(MakeCoalesce(kept), ast, kept);
      }
      return Typed(MakeGreatest(nodes(), info->fn == Fn::kGreatest), ast, nodes());
    }
    case Fn::kAbs:
    case Fn::kFloor:
    case Fn::kCeil:
    case Fn::kRound: {
      ASSIGN_OR_RETURN(args[0], ExpectNumber(std::move(args[0]), needs_number));
      if (args[0].untyped_null) return Bound{args[0].node, true, &ast};
      if (info->fn == Fn::kRound) {
        NodePtr digits;
        if (args.size() > 1) {
          ASSIGN_OR_RETURN(args[1], ExpectInt(std::move(args[1]),
                                              "the digits of round() must be an int64"));
          digits = args[1].node;
        }
        return Typed(MakeRound(args[0].node, digits), ast, nodes());
      }
      if (info->fn != Fn::kAbs && args[0].type() == TypeId::kInt64) {
        return Bound{args[0].node, false, &ast};  // floor/ceil of an integer is itself
      }
      MathFn f = info->fn == Fn::kAbs ? MathFn::kAbs
                 : info->fn == Fn::kFloor ? MathFn::kFloor
                                          : MathFn::kCeil;
      return Typed(MakeMath(f, args[0].node), ast, nodes());
    }
    case Fn::kIf: {
      ASSIGN_OR_RETURN(Bound cond, ExpectBool(std::move(args[0]), "if() needs a bool condition"));
      return BindChoice(ast, {std::move(cond)}, {std::move(args[1])}, std::move(args[2]),
                        "the values of if()");
    }
    case Fn::kNullif: {
      // nullif(a, b) = case when a = b then null else a end
      Bound a = args[0];
      ASSIGN_OR_RETURN(Bound eq, BindCompare(ast, "=", args[0], args[1]));
      if (a.untyped_null) return Bound{a.node, true, &ast};
      Bound null{MakeConst(Value::Null(a.type())), false, &ast};
      return BindChoice(ast, {std::move(eq)}, {std::move(null)}, std::move(a),
                        "the arguments of nullif()");
    }
  }
  return Error(ast.op_offset, "unsupported function");
}

}  // namespace sluice::expr
