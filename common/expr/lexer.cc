#include "common/expr/lexer.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace sluice::expr {

bool Token::Is(absl::string_view keyword) const {
  return kind == TokenKind::kIdent && absl::EqualsIgnoreCase(text, keyword);
}

namespace {

bool IsIdentStart(char c) { return absl::ascii_isalpha(c) || c == '_'; }
bool IsIdentChar(char c) { return absl::ascii_isalnum(c) || c == '_'; }

// Reads a quoted run starting at text[*pos] == quote, where a doubled quote stands for one.
bool ReadQuoted(absl::string_view text, size_t* pos, char quote, std::string* out) {
  size_t i = *pos + 1;
  while (i < text.size()) {
    if (text[i] == quote) {
      if (i + 1 < text.size() && text[i + 1] == quote) {
        out->push_back(quote);
        i += 2;
        continue;
      }
      *pos = i + 1;
      return true;
    }
    out->push_back(text[i++]);
  }
  return false;
}

}  // namespace

bool Tokenize(absl::string_view text, std::vector<Token>* tokens, LexError* error) {
  tokens->clear();
  size_t i = 0;
  auto fail = [&](std::string message, size_t at) {
    error->message = std::move(message);
    error->offset = static_cast<int>(at);
    return false;
  };
  while (true) {
    while (i < text.size() && absl::ascii_isspace(static_cast<unsigned char>(text[i]))) ++i;
    Token tok;
    tok.offset = static_cast<int>(i);
    if (i >= text.size()) {
      tok.kind = TokenKind::kEnd;
      tok.end = tok.offset;
      tokens->push_back(std::move(tok));
      return true;
    }
    char c = text[i];
    if (IsIdentStart(c)) {
      size_t start = i;
      while (i < text.size() && IsIdentChar(text[i])) ++i;
      // A qualified name "step.column" (a CEP condition naming an earlier step's event) is
      // one identifier: the column "step.column".
      while (i + 1 < text.size() && text[i] == '.' && IsIdentStart(text[i + 1])) {
        ++i;
        while (i < text.size() && IsIdentChar(text[i])) ++i;
      }
      tok.kind = TokenKind::kIdent;
      tok.text = std::string(text.substr(start, i - start));
    } else if (absl::ascii_isdigit(c) || (c == '.' && i + 1 < text.size() &&
                                         absl::ascii_isdigit(text[i + 1]))) {
      size_t start = i;
      bool is_float = false;
      while (i < text.size() && absl::ascii_isdigit(text[i])) ++i;
      if (i < text.size() && text[i] == '.') {
        is_float = true;
        ++i;
        while (i < text.size() && absl::ascii_isdigit(text[i])) ++i;
      }
      if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
        size_t e = i + 1;
        if (e < text.size() && (text[e] == '+' || text[e] == '-')) ++e;
        if (e < text.size() && absl::ascii_isdigit(text[e])) {
          is_float = true;
          i = e;
          while (i < text.size() && absl::ascii_isdigit(text[i])) ++i;
        }
      }
      if (i < text.size() && (IsIdentChar(text[i]) || text[i] == '.')) {
        size_t bad_end = i;
        while (bad_end < text.size() && (IsIdentChar(text[bad_end]) || text[bad_end] == '.')) {
          ++bad_end;
        }
        return fail(absl::StrCat("invalid number '", text.substr(start, bad_end - start), "'"),
                    start);
      }
      tok.kind = is_float ? TokenKind::kFloat : TokenKind::kInt;
      tok.text = std::string(text.substr(start, i - start));
    } else if (c == '\'') {
      tok.kind = TokenKind::kString;
      if (!ReadQuoted(text, &i, '\'', &tok.text)) {
        return fail("unterminated string literal (missing closing ')", tok.offset);
      }
    } else if (c == '"' || c == '`') {
      tok.kind = TokenKind::kQuotedIdent;
      if (!ReadQuoted(text, &i, c, &tok.text)) {
        return fail(absl::StrCat("unterminated quoted column name (missing closing ",
                                 absl::string_view(&c, 1), ")"),
                    tok.offset);
      }
      if (tok.text.empty()) return fail("empty quoted column name", tok.offset);
    } else {
      static constexpr absl::string_view kTwoChar[] = {"==", "!=", "<>", "<=", ">=", "||"};
      tok.kind = TokenKind::kOp;
      absl::string_view rest = text.substr(i);
      for (absl::string_view op : kTwoChar) {
        if (absl::StartsWith(rest, op)) {
          tok.text = std::string(op);
          break;
        }
      }
      if (tok.text.empty()) {
        if (absl::string_view("=<>+-*/%(),").find(c) == absl::string_view::npos) {
          if (c == '|') return fail("unexpected character '|' (did you mean '||'?)", i);
          if (c == '&') return fail("unexpected character '&' (use 'and')", i);
          if (c == '!') return fail("unexpected character '!' (use 'not' or '!=')", i);
          if (c == ';') return fail("unexpected character ';'", i);
          unsigned char u = static_cast<unsigned char>(c);
          size_t len = (u & 0xE0) == 0xC0 ? 2 : (u & 0xF0) == 0xE0 ? 3 : (u & 0xF8) == 0xF0 ? 4 : 1;
          std::string shown(text.substr(i, len));  // one whole UTF-8 character
          return fail(absl::StrCat("unexpected character '", shown, "'"), i);
        }
        tok.text = std::string(1, c);
      }
      i += tok.text.size();
    }
    tok.end = static_cast<int>(i);
    tokens->push_back(std::move(tok));
  }
}

}  // namespace sluice::expr
