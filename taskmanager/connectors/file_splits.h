// Byte-range splits of a bounded file source's input files (listed by
// common/input_files.h). Each file is cut into splits of `split_bytes` (the last one shorter);
// the global split list is ordered by (file, offset) and split k belongs to subtask
// k % parallelism, so every subtask computes the same assignment on its own.
// Stateless functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/input_files.h"

namespace sluice::taskmanager::connectors {

inline constexpr int64_t kDefaultSplitBytes = 32 << 20;

struct FileSplit {
  std::string path;
  int64_t start = 0;  // byte offsets [start, end) of the file; lines starting in the range
  int64_t end = 0;    // belong to the split (the last one is read to its end)
  bool operator==(const FileSplit&) const = default;
};

using sluice::ListInputFiles;  // common/input_files.h

// The splits of `files` (empty files have none), in global order.
absl::StatusOr<std::vector<FileSplit>> PlanSplits(const std::vector<std::string>& files,
                                                  int64_t split_bytes = kDefaultSplitBytes);

// Splits k with k % parallelism == subtask, in order.
std::vector<FileSplit> SplitsOfSubtask(const std::vector<FileSplit>& all, int subtask,
                                       int parallelism);

}  // namespace sluice::taskmanager::connectors
