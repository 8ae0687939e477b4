#include "taskmanager/connectors/file_splits.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace sluice::taskmanager::connectors {
namespace {

std::string ErrnoText(int err) { return std::error_code(err, std::generic_category()).message(); }

absl::Status NoSuchPath(const std::string& path) {
  return absl::NotFoundError(absl::StrCat("no such file or directory: ", path));
}

}  // namespace

absl::StatusOr<std::vector<FileSplit>> PlanSplits(const std::vector<std::string>& files,
                                                  int64_t split_bytes) {
  split_bytes = std::max<int64_t>(split_bytes, 1);
  std::vector<FileSplit> splits;
  for (const std::string& file : files) {
    struct stat st;
    if (::stat(file.c_str(), &st) != 0) {
      if (errno == ENOENT) return NoSuchPath(file);
      return absl::PermissionDeniedError(
          absl::StrCat("cannot read ", file, ": ", ErrnoText(errno)));
    }
    const int64_t size = st.st_size;
    for (int64_t start = 0; start < size; start += split_bytes) {
      splits.push_back({file, start, std::min(size, start + split_bytes)});
    }
  }
  return splits;
}

std::vector<FileSplit> SplitsOfSubtask(const std::vector<FileSplit>& all, int subtask,
                                       int parallelism) {
  std::vector<FileSplit> mine;
  if (parallelism <= 0) return mine;
  for (size_t k = static_cast<size_t>(subtask); k < all.size(); k += parallelism) {
    mine.push_back(all[k]);
  }
  return mine;
}

}  // namespace sluice::taskmanager::connectors
