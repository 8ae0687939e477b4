#include "common/input_files.h"

#include <glob.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace sluice {
namespace {

std::string ErrnoText(int err) { return std::error_code(err, std::generic_category()).message(); }

absl::Status NoSuchPath(const std::string& path) {
  return absl::NotFoundError(absl::StrCat("no such file or directory: ", path));
}

bool IsRegularFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

absl::StatusOr<std::vector<std::string>> Glob(const std::string& pattern) {
  glob_t g{};
  int rc = ::glob(pattern.c_str(), 0, nullptr, &g);
  std::vector<std::string> files;
  if (rc == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) {
      if (IsRegularFile(g.gl_pathv[i])) files.emplace_back(g.gl_pathv[i]);
    }
  }
  ::globfree(&g);
  if (rc != 0 && rc != GLOB_NOMATCH) {
    return absl::InternalError(absl::StrCat("cannot expand ", pattern, ": ", ErrnoText(errno)));
  }
  if (files.empty()) return NoSuchPath(pattern);
  std::sort(files.begin(), files.end());
  return files;
}

absl::StatusOr<std::vector<std::string>> ListDirectory(const std::string& dir) {
  std::error_code ec;
  std::vector<std::string> files;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.empty() || name[0] == '.' || name[0] == '_') continue;
    std::string full = it->path().string();
    if (IsRegularFile(full)) files.push_back(std::move(full));
  }
  if (ec) return absl::InternalError(absl::StrCat("cannot list ", dir, ": ", ec.message()));
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ListInputFiles(const std::string& path) {
  if (path.find_first_of("*?[") != std::string::npos) return Glob(path);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return NoSuchPath(path);
    return absl::PermissionDeniedError(absl::StrCat("cannot read ", path, ": ", ErrnoText(errno)));
  }
  if (S_ISDIR(st.st_mode)) return ListDirectory(path);
  return std::vector<std::string>{path};
}

}  // namespace sluice
