// Faults in checkpoint storage (real processes): a checkpoint directory that cannot be written
// makes every checkpoint fail with a reason naming the path, while the job keeps running and
// finishes with correct output; `sluice checkpoints` shows the failures.
#include <map>

#include "tests/integration/keyed_count_job.h"

namespace sluice::testing {
namespace {

constexpr int64_t kRows = 60'000;
constexpr int64_t kKeys = 13;

TEST(CheckpointFaultsTest, UnwritableCheckpointDirectoryDeclinesCheckpointsButTheJobRuns) {
  Cluster cluster("checkpoint-faults");
  ASSERT_NO_FATAL_FAILURE(cluster.Start(2, 2));
  // A regular file where a directory should be: unwritable even for root.
  const std::string blocker = cluster.WriteFile("not-a-dir", "x");
  KeyedCountJob job;
  job.name = "unwritable-checkpoints";
  job.rows = kRows;
  job.keys = kKeys;
  job.settings = "checkpointing: {interval: 300ms, dir: " + blocker + "/ckpt}\n";
  const std::string spec = cluster.WriteFile("job.yaml", KeyedCountSpec(job));
  CommandResult run = cluster.Sluice({"run", spec});  // attached: waits for the end
  ASSERT_EQ(run.exit_code, 0) << run.output;

  CommandResult list = cluster.Sluice({"list", "--output", "json"});
  ASSERT_EQ(list.exit_code, 0);
  const std::string job_id = nlohmann::json::parse(list.output)[0]["job_id"].get<std::string>();
  CommandResult checkpoints = cluster.Sluice({"checkpoints", job_id, "--output", "json"});
  ASSERT_EQ(checkpoints.exit_code, 0) << checkpoints.output;
  nlohmann::json history = nlohmann::json::parse(checkpoints.output)["checkpoints"];
  ASSERT_GE(history.size(), 2u) << checkpoints.output;
  int failed = 0;
  for (const auto& c : history) {
    EXPECT_NE(c["status"], "COMPLETED") << c.dump();
    if (c["status"] == "FAILED") {
      ++failed;
      EXPECT_NE(c["failure"].get<std::string>().find(blocker), std::string::npos) << c.dump();
    }
  }
  EXPECT_GE(failed, 2);
  CommandResult table = cluster.Sluice({"checkpoints", job_id});
  EXPECT_EQ(table.exit_code, 0);
  EXPECT_NE(table.output.find("FAILED"), std::string::npos) << table.output;

  // Nothing was checkpointed, and the output is still complete and exact.
  ExpectExactlyOnce(cluster.dir() / "out", kRows, kKeys);
}

}  // namespace
}  // namespace sluice::testing
