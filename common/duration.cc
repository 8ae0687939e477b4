#include "common/duration.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace sluice {

absl::StatusOr<int64_t> ParseDurationMillis(absl::string_view text) {
  absl::string_view s = absl::StripAsciiWhitespace(text);
  size_t digits = 0;
  while (digits < s.size() && (absl::ascii_isdigit(s[digits]) || s[digits] == '.')) ++digits;
  double value = 0;
  if (digits == 0 || !absl::SimpleAtod(s.substr(0, digits), &value)) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "' is not a duration (write e.g. 500ms, 2s, 1m, 1h)"));
  }
  absl::string_view unit = absl::StripAsciiWhitespace(s.substr(digits));
  double factor = 0;
  if (unit.empty() || unit == "ms") factor = 1;
  else if (unit == "s") factor = 1000;
  else if (unit == "m" || unit == "min") factor = 60'000;
  else if (unit == "h") factor = 3'600'000;
  else if (unit == "d") factor = 86'400'000;
  else {
    return absl::InvalidArgumentError(absl::StrCat("'", text, "' has unknown duration unit '",
                                                   unit, "' (use ms, s, m, h or d)"));
  }
  return static_cast<int64_t>(value * factor);
}

std::string FormatDurationMillis(int64_t ms) {
  if (ms % 3'600'000 == 0 && ms != 0) return absl::StrCat(ms / 3'600'000, "h");
  if (ms % 60'000 == 0 && ms != 0) return absl::StrCat(ms / 60'000, "m");
  if (ms % 1000 == 0 && ms != 0) return absl::StrCat(ms / 1000, "s");
  return absl::StrCat(ms, "ms");
}

}  // namespace sluice
