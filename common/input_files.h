// The input files a file source `path` names: a file, a directory (its regular files, not
// recursive, sorted by name; names starting with '.' or '_' are skipped) or a glob ('*', '?',
// '[' anywhere in the path; matches sorted, regular files only). Used by the file source on
// TaskManagers and by the JobManager to reject a job whose input is missing at submission.
// Stateless functions; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace sluice {

// NotFound "no such file or directory: <path>" when `path` does not exist or a glob matches
// nothing; an existing empty directory gives no files.
absl::StatusOr<std::vector<std::string>> ListInputFiles(const std::string& path);

}  // namespace sluice
