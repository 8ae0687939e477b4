// Test certificates: runs scripts/dev-certs.sh (openssl) into a directory of the test, so
// no key or token is ever committed. Files: ca.crt, cluster.crt/key (server + client,
// SANs incl. 127.0.0.1 and sluice-cluster), cli.crt/key (client only), other-ca.crt and
// other.crt/key (signed by a CA the cluster does not trust), token. Test thread only.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

#include "gtest/gtest.h"
#include "tests/test_dirs.h"

namespace sluice::testing {

// Generates the certificates into `dir` (idempotent: an existing set is kept) and returns
// `dir`; a failure of the script fails the test.
inline std::filesystem::path MakeTestCerts(const std::filesystem::path& dir) {
  const std::string cmd =
      (SourceDir() / "scripts" / "dev-certs.sh").string() + " '" + dir.string() + "' > /dev/null";
  const int rc = std::system(cmd.c_str());
  EXPECT_EQ(rc, 0) << cmd;
  EXPECT_TRUE(std::filesystem::exists(dir / "cluster.key")) << dir;
  return dir;
}

}  // namespace sluice::testing
