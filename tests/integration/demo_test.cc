// `make demo` as a user runs it: scripts/demo.sh with the real binaries (a local cluster with
// the embedded Kafka and the schema registry, the Avro generator job and the fraud job),
// stopped after a while by SLUICE_DEMO_SECONDS instead of Ctrl-C (the same cleanup path).
// It must print committed alerts of both kinds' format, the dashboard URL, stop cleanly
// (exit 0) and leave no process behind. The alerts themselves are checked by kcat's
// read_committed view in the script; their content is random data, so the test checks shape.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <regex>
#include <string>

#include "cluster_harness.h"
#include "gtest/gtest.h"
#include "tests/test_dirs.h"

namespace sluice::testing {
namespace {

TEST(DemoTest, MakeDemoPrintsAlertsAndStopsCleanly) {
  const std::string log = (std::filesystem::temp_directory_path() /
                           ("sluice-demo-test-" + std::to_string(getpid()) + ".log"))
                              .string();
  setenv("SLUICE_DEMO_SECONDS", "25", 1);
  setenv("SLUICE_DEMO_PORT", "0", 1);
  setenv("SLUICE_DEMO_REST_PORT", "0", 1);
  Process demo({"/bin/bash", (SourceDir() / "scripts" / "demo.sh").string()}, log);
  ASSERT_EQ(demo.Wait(), 0) << demo.Log();
  const std::string out = demo.Log();
  EXPECT_NE(out.find("Dashboard:        http://127.0.0.1:"), std::string::npos) << out;
  EXPECT_NE(out.find("Schema registry:  http://127.0.0.1:"), std::string::npos) << out;
  // At 1000 transactions a second, tiny-probe-then-large alerts come within seconds.
  const std::regex alert(R"(probe-then-big  card 40\d\d  a tiny probe, then \d+\.\d\d from another country)");
  EXPECT_TRUE(std::regex_search(out, alert)) << out;
  EXPECT_NE(out.find("txn-generator  RUNNING"), std::string::npos) << out;
  EXPECT_NE(out.find("fraud-alerts   RUNNING"), std::string::npos) << out;
  EXPECT_NE(out.find("demo: stopped."), std::string::npos) << out;
  // Every process of the banner's table is gone.
  const std::regex row(R"(\n\s+(jobmanager|taskmanager-\d+)\s+\S+\s+\S+\s+(\d+)\s)");
  int processes = 0;
  for (std::sregex_iterator it(out.begin(), out.end(), row), end; it != end; ++it) {
    ++processes;
    const pid_t pid = std::stoi((*it)[2]);
    EXPECT_NE(kill(pid, 0), 0) << (*it)[1] << " (pid " << pid << ") is still running";
  }
  EXPECT_EQ(processes, 3) << out;
  std::remove(log.c_str());
}

}  // namespace
}  // namespace sluice::testing
