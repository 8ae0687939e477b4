// Input files of a bounded file source and their byte-range splits. A source `path` is a
// file, a directory (its regular files, not recursive, sorted by name; names starting with
// '.' or '_' are skipped) or a glob ('*', '?', '[' anywhere in the path; matches sorted,
// regular files only). Each file is cut into splits of `split_bytes` (the last one shorter);
// the global split list is ordered by (file, offset) and split k belongs to subtask
// k % parallelism, so every subtask computes the same assignment on its own.
// Stateless functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace sluice::taskmanager::connectors {

inline constexpr int64_t kDefaultSplitBytes = 32 << 20;

struct FileSplit {
  std::string path;
  int64_t start = 0;  // byte offsets [start, end) of the file; lines starting in the range
  int64_t end = 0;    // belong to the split (the last one is read to its end)
  bool operator==(const FileSplit&) const = default;
};

// The files `path` names. NotFound "no such file or directory: <path>" when `path` does not
// exist or a glob matches nothing; an existing empty directory gives no files.
absl::StatusOr<std::vector<std::string>> ListInputFiles(const std::string& path);

// The splits of `files` (empty files have none), in global order.
absl::StatusOr<std::vector<FileSplit>> PlanSplits(const std::vector<std::string>& files,
                                                  int64_t split_bytes = kDefaultSplitBytes);

// Splits k with k % parallelism == subtask, in order.
std::vector<FileSplit> SplitsOfSubtask(const std::vector<FileSplit>& all, int subtask,
                                       int parallelism);

}  // namespace sluice::taskmanager::connectors
