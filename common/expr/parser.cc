#include "common/expr/parser.h"

#include <limits>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/expr/lexer.h"
#include "common/status_macros.h"
#include "common/types/timestamp.h"

namespace sluice::expr {
namespace {

using AstPtr = std::unique_ptr<Ast>;

// Words that cannot name a column unless quoted ("end", `end`).
constexpr absl::string_view kReserved[] = {"and",  "or",   "not",  "is",   "null", "true",
                                           "false", "between", "in", "like", "case", "when",
                                           "then", "else", "end",  "as"};

constexpr absl::string_view kAggregates[] = {"count", "sum", "min", "max", "avg"};

bool IsReserved(const Token& t) {
  for (absl::string_view k : kReserved) {
    if (t.Is(k)) return true;
  }
  return false;
}

class Parser {
 public:
  Parser(std::vector<Token> tokens, int* error_offset)
      : tokens_(std::move(tokens)), error_offset_(error_offset) {}

  absl::StatusOr<AstPtr> ParseAll() {
    if (Peek().kind == TokenKind::kEnd) return Error("empty expression", 0);
    absl::StatusOr<AstPtr> e = ParseOr();
    if (!e.ok()) return e;
    if (Peek().kind != TokenKind::kEnd) {
      return Error(absl::StrCat("unexpected ", Describe(Peek()),
                                " after a complete expression (missing operator or 'and'?)"),
                   Peek().offset);
    }
    return e;
  }

 private:
  const Token& Peek(size_t ahead = 0) const {
    size_t i = std::min(pos_ + ahead, tokens_.size() - 1);
    return tokens_[i];
  }
  const Token& Next() {
    const Token& t = tokens_[pos_];
    if (pos_ + 1 < tokens_.size()) ++pos_;
    return t;
  }
  // Offset one past the previously consumed token.
  int PrevEnd() const { return pos_ == 0 ? 0 : tokens_[pos_ - 1].end; }

  absl::Status Error(std::string message, int offset) {
    *error_offset_ = offset;
    return absl::InvalidArgumentError(std::move(message));
  }

  static std::string Describe(const Token& t) {
    switch (t.kind) {
      case TokenKind::kEnd: return "end of expression";
      case TokenKind::kString: return absl::StrCat("string '", t.text, "'");
      case TokenKind::kQuotedIdent: return absl::StrCat("column \"", t.text, "\"");
      default: return absl::StrCat("'", t.text, "'");
    }
  }

  absl::Status Expected(absl::string_view what) {
    const Token& t = Peek();
    if (t.kind == TokenKind::kEnd) {
      return Error(absl::StrCat("expected ", what, " at end of expression"), t.offset);
    }
    return Error(absl::StrCat("expected ", what, " but found ", Describe(t)), t.offset);
  }

  absl::Status ExpectOp(absl::string_view op) {
    if (!Peek().IsOp(op)) return Expected(absl::StrCat("'", op, "'"));
    Next();
    return absl::OkStatus();
  }
  absl::Status ExpectKeyword(absl::string_view kw) {
    if (!Peek().Is(kw)) return Expected(absl::StrCat("'", kw, "'"));
    Next();
    return absl::OkStatus();
  }

  static AstPtr Make(Ast::Kind kind, int begin, int end, int op_offset) {
    auto a = std::make_unique<Ast>();
    a->kind = kind;
    a->begin = begin;
    a->end = end;
    a->op_offset = op_offset;
    return a;
  }

  static AstPtr MakeBinary(std::string op, int op_offset, AstPtr l, AstPtr r) {
    AstPtr a = Make(Ast::Kind::kBinary, l->begin, r->end, op_offset);
    a->text = std::move(op);
    a->args.push_back(std::move(l));
    a->args.push_back(std::move(r));
    return a;
  }

  absl::StatusOr<AstPtr> ParseOr() {
    absl::StatusOr<AstPtr> left = ParseAnd();
    if (!left.ok()) return left;
    AstPtr l = *std::move(left);
    while (Peek().Is("or")) {
      int op = Next().offset;
      absl::StatusOr<AstPtr> right = ParseAnd();
      if (!right.ok()) return right;
      l = MakeBinary("or", op, std::move(l), *std::move(right));
    }
    return l;
  }

  absl::StatusOr<AstPtr> ParseAnd() {
    absl::StatusOr<AstPtr> left = ParseNot();
    if (!left.ok()) return left;
    AstPtr l = *std::move(left);
    while (Peek().Is("and")) {
      int op = Next().offset;
      absl::StatusOr<AstPtr> right = ParseNot();
      if (!right.ok()) return right;
      l = MakeBinary("and", op, std::move(l), *std::move(right));
    }
    return l;
  }

  absl::StatusOr<AstPtr> ParseNot() {
    if (Peek().Is("not")) {
      int op = Next().offset;
      absl::StatusOr<AstPtr> operand = ParseNot();
      if (!operand.ok()) return operand;
      AstPtr a = Make(Ast::Kind::kUnary, op, (*operand)->end, op);
      a->text = "not";
      a->args.push_back(*std::move(operand));
      return a;
    }
    return ParsePredicate();
  }

  static const char* ComparisonOp(const Token& t) {
    if (t.kind != TokenKind::kOp) return nullptr;
    if (t.text == "=" || t.text == "==") return "=";
    if (t.text == "<>" || t.text == "!=") return "<>";
    if (t.text == "<") return "<";
    if (t.text == "<=") return "<=";
    if (t.text == ">") return ">";
    if (t.text == ">=") return ">=";
    return nullptr;
  }

  absl::StatusOr<AstPtr> ParsePredicate() {
    absl::StatusOr<AstPtr> left = ParseAdditive();
    if (!left.ok()) return left;
    AstPtr l = *std::move(left);
    while (true) {
      const Token& t = Peek();
      if (const char* op = ComparisonOp(t)) {
        int at = Next().offset;
        absl::StatusOr<AstPtr> right = ParseAdditive();
        if (!right.ok()) return right;
        l = MakeBinary(op, at, std::move(l), *std::move(right));
        continue;
      }
      if (t.Is("is")) {
        int at = Next().offset;
        bool negated = false;
        if (Peek().Is("not")) {
          Next();
          negated = true;
        }
        if (!Peek().Is("null")) {
          return Expected(negated ? "'null' after 'is not'" : "'null' or 'not null' after 'is'");
        }
        Next();
        AstPtr a = Make(Ast::Kind::kIsNull, l->begin, PrevEnd(), at);
        a->negated = negated;
        a->args.push_back(std::move(l));
        l = std::move(a);
        continue;
      }
      bool negated = false;
      if (t.Is("not") && (Peek(1).Is("between") || Peek(1).Is("in") || Peek(1).Is("like"))) {
        Next();
        negated = true;
      }
      const Token& kw = Peek();
      if (kw.Is("between")) {
        int at = Next().offset;
        absl::StatusOr<AstPtr> low = ParseAdditive();
        if (!low.ok()) return low;
        if (!Peek().Is("and")) return Expected("'and' of 'between ... and ...'");
        Next();
        absl::StatusOr<AstPtr> high = ParseAdditive();
        if (!high.ok()) return high;
        AstPtr a = Make(Ast::Kind::kBetween, l->begin, (*high)->end, at);
        a->negated = negated;
        a->args.push_back(std::move(l));
        a->args.push_back(*std::move(low));
        a->args.push_back(*std::move(high));
        l = std::move(a);
        continue;
      }
      if (kw.Is("in")) {
        int at = Next().offset;
        if (!Peek().IsOp("(")) return Expected("'(' after 'in'");
        Next();
        AstPtr a = Make(Ast::Kind::kIn, l->begin, 0, at);
        a->negated = negated;
        a->args.push_back(std::move(l));
        while (true) {
          absl::StatusOr<AstPtr> item = ParseOr();
          if (!item.ok()) return item;
          a->args.push_back(*std::move(item));
          if (Peek().IsOp(",")) {
            Next();
            continue;
          }
          if (!Peek().IsOp(")")) return Expected("',' or ')' in the 'in' list");
          Next();
          break;
        }
        a->end = PrevEnd();
        l = std::move(a);
        continue;
      }
      if (kw.Is("like")) {
        int at = Next().offset;
        absl::StatusOr<AstPtr> pattern = ParseAdditive();
        if (!pattern.ok()) return pattern;
        AstPtr a = Make(Ast::Kind::kLike, l->begin, (*pattern)->end, at);
        a->negated = negated;
        a->args.push_back(std::move(l));
        a->args.push_back(*std::move(pattern));
        l = std::move(a);
        continue;
      }
      return l;
    }
  }

  absl::StatusOr<AstPtr> ParseAdditive() {
    absl::StatusOr<AstPtr> left = ParseMultiplicative();
    if (!left.ok()) return left;
    AstPtr l = *std::move(left);
    while (Peek().IsOp("+") || Peek().IsOp("-") || Peek().IsOp("||")) {
      const Token& op = Next();
      std::string text = op.text;
      int at = op.offset;
      absl::StatusOr<AstPtr> right = ParseMultiplicative();
      if (!right.ok()) return right;
      l = MakeBinary(std::move(text), at, std::move(l), *std::move(right));
    }
    return l;
  }

  absl::StatusOr<AstPtr> ParseMultiplicative() {
    absl::StatusOr<AstPtr> left = ParseUnary();
    if (!left.ok()) return left;
    AstPtr l = *std::move(left);
    while (Peek().IsOp("*") || Peek().IsOp("/") || Peek().IsOp("%")) {
      const Token& op = Next();
      std::string text = op.text;
      int at = op.offset;
      absl::StatusOr<AstPtr> right = ParseUnary();
      if (!right.ok()) return right;
      l = MakeBinary(std::move(text), at, std::move(l), *std::move(right));
    }
    return l;
  }

  absl::StatusOr<AstPtr> ParseUnary() {
    if (Peek().IsOp("-")) {
      int at = Next().offset;
      // -9223372036854775808 is the one int64 literal whose magnitude does not fit in int64.
      if (Peek().kind == TokenKind::kInt && Peek().text == "9223372036854775808") {
        const Token& lit = Next();
        AstPtr a = Make(Ast::Kind::kInt, at, lit.end, at);
        a->int_value = std::numeric_limits<int64_t>::min();
        return a;
      }
      absl::StatusOr<AstPtr> operand = ParseUnary();
      if (!operand.ok()) return operand;
      AstPtr a = Make(Ast::Kind::kUnary, at, (*operand)->end, at);
      a->text = "-";
      a->args.push_back(*std::move(operand));
      return a;
    }
    return ParsePrimary();
  }

  absl::StatusOr<AstPtr> ParsePrimary() {
    const Token& t = Peek();
    switch (t.kind) {
      case TokenKind::kEnd: return Expected("an expression");
      case TokenKind::kInt: {
        Next();
        AstPtr a = Make(Ast::Kind::kInt, t.offset, t.end, t.offset);
        if (!absl::SimpleAtoi(t.text, &a->int_value)) {
          return Error(absl::StrCat("integer ", t.text, " is out of range for int64 (write ",
                                    t.text, ".0 for a float64)"),
                       t.offset);
        }
        return a;
      }
      case TokenKind::kFloat: {
        Next();
        AstPtr a = Make(Ast::Kind::kFloat, t.offset, t.end, t.offset);
        if (!absl::SimpleAtod(t.text, &a->float_value)) {
          return Error(absl::StrCat("invalid number '", t.text, "'"), t.offset);
        }
        return a;
      }
      case TokenKind::kString: {
        Next();
        AstPtr a = Make(Ast::Kind::kString, t.offset, t.end, t.offset);
        a->text = t.text;
        return a;
      }
      case TokenKind::kQuotedIdent: {
        Next();
        AstPtr a = Make(Ast::Kind::kColumn, t.offset, t.end, t.offset);
        a->text = t.text;
        return a;
      }
      case TokenKind::kOp: {
        if (t.IsOp("(")) {
          int begin = Next().offset;
          absl::StatusOr<AstPtr> inner = ParseOr();
          if (!inner.ok()) return inner;
          RETURN_IF_ERROR(ExpectOp(")"));
          (*inner)->begin = begin;
          (*inner)->end = PrevEnd();
          return inner;
        }
        return Expected("an expression");
      }
      case TokenKind::kIdent: break;
    }
    // Identifiers: keywords, literals, function calls, column names.
    if (t.Is("null") || t.Is("true") || t.Is("false")) {
      Next();
      AstPtr a = Make(t.Is("null") ? Ast::Kind::kNull : Ast::Kind::kBool, t.offset, t.end,
                      t.offset);
      a->int_value = t.Is("true") ? 1 : 0;
      return a;
    }
    if (t.Is("case")) return ParseCase();
    if (t.Is("cast") && Peek(1).IsOp("(")) return ParseCast();
    if (t.Is("timestamp") && Peek(1).kind == TokenKind::kString) {
      int begin = Next().offset;
      const Token& lit = Next();
      absl::StatusOr<int64_t> micros = types::ParseTimestamp(lit.text);
      if (!micros.ok()) {
        return Error(absl::StrCat("invalid timestamp literal: ", micros.status().message()),
                     lit.offset);
      }
      AstPtr a = Make(Ast::Kind::kTimestamp, begin, lit.end, begin);
      a->int_value = *micros;
      return a;
    }
    if (IsReserved(t)) return Expected("an expression");
    if (Peek(1).IsOp("(")) return ParseCall();
    Next();
    AstPtr a = Make(Ast::Kind::kColumn, t.offset, t.end, t.offset);
    a->text = t.text;
    return a;
  }

  absl::StatusOr<AstPtr> ParseCall() {
    const Token& name = Next();
    Next();  // (
    std::string lower = absl::AsciiStrToLower(name.text);
    for (absl::string_view agg : kAggregates) {
      if (lower == agg) {
        return Error(absl::StrCat("'", name.text,
                                  "' is an aggregate function: use it in an 'aggregate' "
                                  "section, not inside an expression"),
                     name.offset);
      }
    }
    AstPtr a = Make(Ast::Kind::kCall, name.offset, 0, name.offset);
    a->text = name.text;
    if (Peek().IsOp(")")) {
      Next();
    } else {
      while (true) {
        absl::StatusOr<AstPtr> arg = ParseOr();
        if (!arg.ok()) return arg;
        a->args.push_back(*std::move(arg));
        if (Peek().IsOp(",")) {
          Next();
          continue;
        }
        if (!Peek().IsOp(")")) {
          return Expected(absl::StrCat("',' or ')' in the arguments of ", name.text, "()"));
        }
        Next();
        break;
      }
    }
    a->end = PrevEnd();
    return a;
  }

  absl::StatusOr<AstPtr> ParseCast() {
    int begin = Next().offset;  // cast
    Next();                     // (
    absl::StatusOr<AstPtr> operand = ParseOr();
    if (!operand.ok()) return operand;
    if (!Peek().Is("as")) return Expected("'as' in cast(x as type)");
    Next();
    const Token& type = Peek();
    if (type.kind != TokenKind::kIdent) return Expected("a type name after 'as'");
    absl::StatusOr<types::TypeId> id = types::ParseTypeName(type.text);
    if (!id.ok()) return Error(std::string(id.status().message()), type.offset);
    Next();
    RETURN_IF_ERROR(ExpectOp(")"));
    AstPtr a = Make(Ast::Kind::kCast, begin, PrevEnd(), begin);
    a->cast_type = *id;
    a->args.push_back(*std::move(operand));
    return a;
  }

  absl::StatusOr<AstPtr> ParseCase() {
    int begin = Next().offset;  // case
    AstPtr a = Make(Ast::Kind::kCase, begin, 0, begin);
    if (!Peek().Is("when")) {
      absl::StatusOr<AstPtr> operand = ParseOr();
      if (!operand.ok()) return operand;
      a->has_operand = true;
      a->args.push_back(*std::move(operand));
    }
    if (!Peek().Is("when")) return Expected("'when' after 'case'");
    while (Peek().Is("when")) {
      Next();
      absl::StatusOr<AstPtr> cond = ParseOr();
      if (!cond.ok()) return cond;
      RETURN_IF_ERROR(ExpectKeyword("then"));
      absl::StatusOr<AstPtr> value = ParseOr();
      if (!value.ok()) return value;
      a->args.push_back(*std::move(cond));
      a->args.push_back(*std::move(value));
    }
    if (Peek().Is("else")) {
      Next();
      absl::StatusOr<AstPtr> value = ParseOr();
      if (!value.ok()) return value;
      a->has_else = true;
      a->args.push_back(*std::move(value));
    }
    if (!Peek().Is("end")) return Expected("'when', 'else' or 'end' in 'case'");
    Next();
    a->end = PrevEnd();
    return a;
  }

  std::vector<Token> tokens_;
  size_t pos_ = 0;
  int* error_offset_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Ast>> Parse(absl::string_view text, int* error_offset) {
  std::vector<Token> tokens;
  LexError lex_error;
  if (!Tokenize(text, &tokens, &lex_error)) {
    *error_offset = lex_error.offset;
    return absl::InvalidArgumentError(lex_error.message);
  }
  Parser parser(std::move(tokens), error_offset);
  return parser.ParseAll();
}

}  // namespace sluice::expr
