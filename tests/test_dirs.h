// Directories tests use: the source tree (SourceDir) and a fresh per-test scratch directory
// under the system temp dir (FreshTestDir), so each test names its own and none repeats the
// recipe.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "gtest/gtest.h"

namespace sluice::testing {

// The source tree: ctest sets SLUICE_SOURCE_DIR; run by hand, found from this file's path.
inline std::filesystem::path SourceDir() {
  const char* root = std::getenv("SLUICE_SOURCE_DIR");
  if (root != nullptr) return root;
  return std::filesystem::path(__FILE__).parent_path().parent_path();
}

// <temp>/<prefix>-<pid>-<current test name>, removed if it exists (not created).
inline std::filesystem::path FreshTestDir(const std::string& prefix) {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() /
      (prefix + "-" + std::to_string(getpid()) + "-" +
       ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::filesystem::remove_all(dir);
  return dir;
}

}  // namespace sluice::testing
