// Durations as written in job specs and configuration: "500ms", "2s", "1m", "1h", "1d";
// a bare integer is milliseconds. Thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace sluice {

absl::StatusOr<int64_t> ParseDurationMillis(absl::string_view text);
std::string FormatDurationMillis(int64_t ms);

}  // namespace sluice
