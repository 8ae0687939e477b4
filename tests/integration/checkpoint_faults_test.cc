// Faults in checkpoint storage (real processes): a checkpoint directory that cannot be written
// makes every checkpoint fail with a reason naming the path, while the job keeps running and
// finishes with correct output; `sluice checkpoints` shows the failures.
#include <map>

#include "tests/integration/cluster_harness.h"

namespace sluice::testing {
namespace {

constexpr int64_t kRows = 60'000;
constexpr int64_t kKeys = 13;

TEST(CheckpointFaultsTest, UnwritableCheckpointDirectoryDeclinesCheckpointsButTheJobRuns) {
  Cluster cluster("checkpoint-faults");
  ASSERT_NO_FATAL_FAILURE(cluster.Start(2, 2));
  // A regular file where a directory should be: unwritable even for root.
  const std::string blocker = cluster.WriteFile("not-a-dir", "x");
  const std::string spec = cluster.WriteFile("job.yaml", R"yaml(name: unwritable-checkpoints
parallelism: 2
checkpointing: {interval: 300ms, dir: )yaml" + blocker + R"yaml(/ckpt}
sources:
  - name: numbers
    connector: datagen
    count: )yaml" + std::to_string(kRows) + R"yaml(
    rows_per_second: 20000
    schema: {id: int64}
    fields: {id: {kind: sequence, min: 0}}
operators:
  - name: keyed
    input: numbers
    select: {k: "id % )yaml" + std::to_string(kKeys) + R"yaml(", v: "id"}
  - name: sums
    input: keyed
    key_by: [k]
    aggregate: {n: "count(*)"}
sinks:
  - {name: out, input: sums, connector: file, path: out, format: json}
)yaml");
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

  // The output is complete: the last count of each key is its number of rows.
  std::map<int64_t, int64_t> last;
  int64_t rows = 0;
  for (const auto& entry : std::filesystem::directory_iterator(cluster.dir() / "out")) {
    if (entry.path().filename().string().rfind("part-", 0) != 0) continue;
    std::ifstream in(entry.path());
    std::string line;
    while (std::getline(in, line)) {
      auto row = nlohmann::json::parse(line);
      last[row["k"]] = std::max<int64_t>(last[row["k"]], row["n"]);
      ++rows;
    }
  }
  EXPECT_EQ(rows, kRows);
  for (int64_t k = 0; k < kKeys; ++k) EXPECT_EQ(last[k], kRows / kKeys + (k < kRows % kKeys));
}

}  // namespace
}  // namespace sluice::testing
