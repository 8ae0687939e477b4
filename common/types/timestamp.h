// Timestamps: microseconds since the Unix epoch (UTC). Parsing from RFC 3339 strings and
// formatting as RFC 3339 with microseconds ("2026-11-28T12:00:00.000000Z"). Thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace sluice::types {

// "2026-11-28T12:00:00Z", "2026-11-28T12:00:00.123456+01:00", "2026-11-28 12:00:00".
absl::StatusOr<int64_t> ParseTimestamp(absl::string_view text);
// Always UTC with six fractional digits and a trailing Z.
std::string FormatTimestamp(int64_t micros);
void AppendTimestamp(int64_t micros, std::string* out);

}  // namespace sluice::types
