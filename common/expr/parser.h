// Parser of the expression language: turns expression text into an untyped syntax tree (Ast)
// with source offsets, by recursive descent over the tokens of lexer.h. Type checking and
// column resolution happen afterwards in the binder (binder.h). Stateless; thread-safe.
//
// Precedence, lowest first: or < and < not < comparison / is / in / between / like
// < || + - < * / % < unary minus.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/types/schema.h"

namespace sluice::expr {

struct Ast {
  enum class Kind {
    kNull,       // null
    kBool,       // true / false (int_value 1 / 0)
    kInt,        // int_value
    kFloat,      // float_value
    kString,     // text
    kTimestamp,  // timestamp '...' (int_value: micros)
    kColumn,     // text: column name
    kUnary,      // text: "-" or "not"; args[0]
    kBinary,     // text: "+" "-" "*" "/" "%" "||" "=" "<>" "<" "<=" ">" ">=" "and" "or"
    kIsNull,     // args[0] is [not] null
    kBetween,    // args[0] [not] between args[1] and args[2]
    kIn,         // args[0] [not] in (args[1], ...)
    kLike,       // args[0] [not] like args[1]
    kCase,       // case [operand] when c then v ... [else e] end: see has_operand / has_else
    kCall,       // text: function name as written; args
    kCast,       // cast(args[0] as cast_type)
  };

  Kind kind;
  int begin = 0;      // source range [begin, end) of the whole expression, parentheses included
  int end = 0;
  int op_offset = 0;  // where its operator, keyword or function name starts
  std::string text;
  int64_t int_value = 0;
  double float_value = 0;
  bool negated = false;      // is not null, not between, not in, not like
  bool has_operand = false;  // kCase: args[0] is the operand of `case x when v then ...`
  bool has_else = false;     // kCase: the last arg is the else value
  types::TypeId cast_type = types::TypeId::kString;
  std::vector<std::unique_ptr<Ast>> args;
};

// Parses a whole expression. On error returns InvalidArgument and sets *error_offset to the
// byte offset the message refers to.
absl::StatusOr<std::unique_ptr<Ast>> Parse(absl::string_view text, int* error_offset);

}  // namespace sluice::expr
