// Lexer of the expression language: splits expression text into tokens (identifiers, quoted
// identifiers, numbers, strings, operators), each with its character offset for error messages.
// Used only by the parser (parser.h). Stateless functions; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sluice::expr {

enum class TokenKind {
  kIdent,        // amount, AND, lower (keywords are identifiers; see Token::Is)
  kQuotedIdent,  // "odd name" or `odd name` (text is the unescaped name)
  kInt,          // 42 (text as written)
  kFloat,        // 1.5, 2e3, .5
  kString,       // 'it''s' (text is the unescaped value)
  kOp,           // = == != <> < <= > >= + - * / % || ( ) ,
  kEnd,          // end of the expression
};

struct Token {
  TokenKind kind;
  std::string text;
  int offset = 0;  // 0-based character offset of the first character in the expression
  int end = 0;     // offset one past the last character

  // True for an unquoted identifier equal to `keyword` ignoring ASCII case.
  bool Is(absl::string_view keyword) const;
  bool IsOp(absl::string_view op) const { return kind == TokenKind::kOp && text == op; }
};

struct LexError {
  std::string message;
  int offset = 0;
};

// Splits `text` into tokens, always ending with a kEnd token. On a lexical error (unterminated
// string, unexpected character, malformed number) fills `error` and returns false.
bool Tokenize(absl::string_view text, std::vector<Token>* tokens, LexError* error);

}  // namespace sluice::expr
