#include "common/types/timestamp.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"

namespace sluice::types {

absl::StatusOr<int64_t> ParseTimestamp(absl::string_view text) {
  std::string s(text);
  if (s.size() > 10 && s[10] == ' ') s[10] = 'T';
  if (!s.empty() && (s.back() != 'Z' && s.back() != 'z') &&
      s.find_first_of("+-", 19) == std::string::npos) {
    s += "Z";  // no zone: UTC
  }
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, s, &t, &err)) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "' is not an RFC 3339 timestamp (", err, ")"));
  }
  return absl::ToUnixMicros(t);
}

void AppendTimestamp(int64_t micros, std::string* out) {
  out->append(absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::FromUnixMicros(micros),
                               absl::UTCTimeZone()));
}

std::string FormatTimestamp(int64_t micros) {
  std::string out;
  AppendTimestamp(micros, &out);
  return out;
}

}  // namespace sluice::types
