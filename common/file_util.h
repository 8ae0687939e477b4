// Small file-system helpers shared by the binaries: atomic writes (temp + fsync + rename)
// for ready files and metadata. Thread-safe (no shared state).
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace sluice {

// Writes `content` to `path` so that readers see either the old file or the whole new one.
absl::Status WriteFileAtomically(const std::string& path, const std::string& content);
absl::StatusOr<std::string> ReadFile(const std::string& path);

}  // namespace sluice
