#include "common/types/format_values.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/types/timestamp.h"

namespace sluice::types {
namespace {

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kSecondsPerDay = 86'400;

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* year, unsigned* month, unsigned* day) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *day = doy - (153 * mp + 2) / 5 + 1;
  *month = mp < 10 ? mp + 3 : mp - 9;
  *year = static_cast<int64_t>(yoe) + era * 400 + (*month <= 2);
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned DaysInMonth(int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// Reads `n` digits at `p`; false if any is not a digit.
bool Digits(const char* p, int n, unsigned* out) {
  unsigned v = 0;
  for (int i = 0; i < n; ++i) {
    unsigned d = static_cast<unsigned char>(p[i]) - '0';
    if (d > 9) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

// "YYYY-MM-DD[Tt ]HH:MM:SS[.f+][Zz|+HH:MM|-HH:MM]" (no zone = UTC). False for any other
// shape (including leap seconds), which the slow path then judges.
bool ParseRfc3339Fast(absl::string_view s, int64_t* micros) {
  if (s.size() < 19) return false;
  const char* p = s.data();
  unsigned year, month, day, hour, minute, second;
  if (!Digits(p, 4, &year) || p[4] != '-' || !Digits(p + 5, 2, &month) || p[7] != '-' ||
      !Digits(p + 8, 2, &day) || (p[10] != 'T' && p[10] != 't' && p[10] != ' ') ||
      !Digits(p + 11, 2, &hour) || p[13] != ':' || !Digits(p + 14, 2, &minute) || p[16] != ':' ||
      !Digits(p + 17, 2, &second)) {
    return false;
  }
  if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month) || hour > 23 ||
      minute > 59 || second > 59) {
    return false;
  }
  size_t i = 19;
  int64_t frac = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    size_t start = i;
    int64_t scale = 100000;
    while (i < s.size() && absl::ascii_isdigit(static_cast<unsigned char>(s[i]))) {
      frac += (s[i] - '0') * scale;
      scale /= 10;
      ++i;
    }
    if (i == start) return false;
  }
  int64_t offset_seconds = 0;
  if (i < s.size()) {
    if (s[i] == 'Z' || s[i] == 'z') {
      ++i;
    } else if (s[i] == '+' || s[i] == '-') {
      unsigned oh, om;
      if (s.size() - i < 6 || !Digits(p + i + 1, 2, &oh) || p[i + 3] != ':' ||
          !Digits(p + i + 4, 2, &om) || oh > 23 || om > 59) {
        return false;
      }
      offset_seconds = static_cast<int64_t>(oh * 3600 + om * 60) * (s[i] == '-' ? -1 : 1);
      i += 6;
    } else {
      return false;
    }
  }
  if (i != s.size()) return false;
  int64_t seconds = DaysFromCivil(year, month, day) * kSecondsPerDay + hour * 3600 + minute * 60 +
                    second - offset_seconds;
  *micros = seconds * kMicrosPerSecond + frac;
  return true;
}

void Append2(unsigned v, char* p) {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
}

bool ParseInt64(absl::string_view text, int64_t* out) {
  const char* begin = text.data();
  const char* end = begin + text.size();
  if (begin != end && *begin == '+') ++begin;
  if (begin == end) return false;
  auto [ptr, ec] = std::from_chars(begin, end, *out);
  return ec == std::errc() && ptr == end;
}

bool ParseDouble(absl::string_view text, double* out) {
  const char* begin = text.data();
  const char* end = begin + text.size();
  if (begin != end && *begin == '+') ++begin;
  if (begin == end) return false;
  auto [ptr, ec] = std::from_chars(begin, end, *out);
  return ec == std::errc() && ptr == end;
}

bool LooksLikeInteger(absl::string_view text) {
  size_t i = (!text.empty() && (text[0] == '-' || text[0] == '+')) ? 1 : 0;
  if (i == text.size()) return false;
  for (; i < text.size(); ++i) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(text[i]))) return false;
  }
  return true;
}

}  // namespace

absl::string_view TimestampUnitName(TimestampUnit unit) {
  switch (unit) {
    case TimestampUnit::kSeconds:
      return "s";
    case TimestampUnit::kMillis:
      return "ms";
    case TimestampUnit::kMicros:
      return "us";
  }
  return "ms";
}

int64_t MicrosPerUnit(TimestampUnit unit) {
  switch (unit) {
    case TimestampUnit::kSeconds:
      return kMicrosPerSecond;
    case TimestampUnit::kMillis:
      return 1000;
    case TimestampUnit::kMicros:
      return 1;
  }
  return 1000;
}

bool EpochToMicros(int64_t value, TimestampUnit unit, int64_t* micros) {
  return !__builtin_mul_overflow(value, MicrosPerUnit(unit), micros);
}

bool ParseRfc3339(absl::string_view text, int64_t* micros) {
  if (ParseRfc3339Fast(text, micros)) return true;
  absl::StatusOr<int64_t> parsed = ParseTimestamp(text);
  if (!parsed.ok()) return false;
  *micros = *parsed;
  return true;
}

void AppendRfc3339(int64_t micros, std::string* out) {
  int64_t seconds = micros / kMicrosPerSecond;
  int64_t frac = micros % kMicrosPerSecond;
  if (frac < 0) {
    frac += kMicrosPerSecond;
    --seconds;
  }
  int64_t days = seconds / kSecondsPerDay;
  int64_t sod = seconds % kSecondsPerDay;
  if (sod < 0) {
    sod += kSecondsPerDay;
    --days;
  }
  int64_t year;
  unsigned month, day;
  CivilFromDays(days, &year, &month, &day);
  if (year < 0 || year > 9999) {
    AppendTimestamp(micros, out);
    return;
  }
  char buf[27];  // YYYY-MM-DDTHH:MM:SS.ffffffZ
  Append2(static_cast<unsigned>(year / 100), buf);
  Append2(static_cast<unsigned>(year % 100), buf + 2);
  buf[4] = '-';
  Append2(month, buf + 5);
  buf[7] = '-';
  Append2(day, buf + 8);
  buf[10] = 'T';
  Append2(static_cast<unsigned>(sod / 3600), buf + 11);
  buf[13] = ':';
  Append2(static_cast<unsigned>(sod / 60 % 60), buf + 14);
  buf[16] = ':';
  Append2(static_cast<unsigned>(sod % 60), buf + 17);
  buf[19] = '.';
  unsigned f = static_cast<unsigned>(frac);
  for (int i = 25; i >= 20; --i) {
    buf[i] = static_cast<char>('0' + f % 10);
    f /= 10;
  }
  buf[26] = 'Z';
  out->append(buf, sizeof(buf));
}

void AppendInt64(int64_t v, std::string* out) {
  char buf[24];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, ptr - buf);
}

void AppendDouble(double v, std::string* out) {
  char buf[32];
  // Large values in exponent notation: shortest plain text of 1.7e20 is a 21-digit integer,
  // which JSON readers take for an (overflowing) integer.
  auto [ptr, ec] = std::fabs(v) >= 1e16
                       ? std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific)
                       : std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, ptr - buf);
}

bool AppendParsedText(TypeId type, absl::string_view text, TimestampUnit unit, Column* column) {
  switch (type) {
    case TypeId::kBool: {
      if (text == "1" || absl::EqualsIgnoreCase(text, "true")) {
        column->AppendInt(1);
      } else if (text == "0" || absl::EqualsIgnoreCase(text, "false")) {
        column->AppendInt(0);
      } else {
        return false;
      }
      return true;
    }
    case TypeId::kInt64: {
      int64_t v;
      if (!ParseInt64(absl::StripAsciiWhitespace(text), &v)) return false;
      column->AppendInt(v);
      return true;
    }
    case TypeId::kFloat64: {
      double v;
      if (!ParseDouble(absl::StripAsciiWhitespace(text), &v)) return false;
      column->AppendDouble(v);
      return true;
    }
    case TypeId::kTimestamp: {
      absl::string_view t = absl::StripAsciiWhitespace(text);
      int64_t micros;
      if (LooksLikeInteger(t)) {
        int64_t v;
        if (!ParseInt64(t, &v) || !EpochToMicros(v, unit, &micros)) return false;
      } else if (!ParseRfc3339(t, &micros)) {
        return false;
      }
      column->AppendInt(micros);
      return true;
    }
    case TypeId::kString:
      column->AppendString(text);
      return true;
    case TypeId::kBytes: {
      std::string bytes;
      if (!absl::Base64Unescape(text, &bytes)) return false;
      column->AppendString(bytes);
      return true;
    }
  }
  return false;
}

std::string QuoteForMessage(absl::string_view text) {
  constexpr size_t kMax = 64;
  bool cut = text.size() > kMax;
  if (cut) text = text.substr(0, kMax);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppend(&out, "\\x", absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
    } else {
      out += c;
    }
  }
  out += '"';
  if (cut) out += "...";
  return out;
}

std::string ValueErrorMessage(absl::string_view column, TypeId type, TimestampUnit unit,
                              absl::string_view got) {
  constexpr size_t kMax = 64;
  std::string shown(got.substr(0, kMax));
  if (got.size() > kMax) shown += "...";
  std::string expected(TypeName(type));
  if (type == TypeId::kTimestamp) {
    absl::StrAppend(&expected, " (RFC 3339 or integer epoch ", TimestampUnitName(unit), ")");
  } else if (type == TypeId::kBytes) {
    expected += " (base64)";
  }
  return absl::StrCat("column '", column, "': expected ", expected, ", got ", shown);
}

void TruncateColumn(Column* column, size_t rows) {
  if (column->size() <= rows) return;
  column->mutable_valid().resize(rows);
  TypeId type = column->type();
  if (IsIntegerStored(type)) {
    column->mutable_ints().resize(rows);
  } else if (type == TypeId::kFloat64) {
    column->mutable_doubles().resize(rows);
  } else {
    std::vector<uint32_t>& offsets = column->mutable_offsets();
    offsets.resize(rows + 1);
    column->mutable_chars().resize(offsets[rows]);
  }
}

}  // namespace sluice::types
