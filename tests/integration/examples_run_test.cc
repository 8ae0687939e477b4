// The examples under examples/ run as they are on a real cluster (JobManager + TaskManagers as
// processes, `sluice run`), from a copy of the folder so the source tree stays clean: each
// bounded file-based example finishes and every file sink commits rows. The IoT example's late
// readings (two in its data, 30 minutes late) come out of its late_output and nothing else
// does. (kafka_txn_totals needs a topic with data; the Kafka tests cover it. datagen_to_print
// prints only.)
#include <filesystem>
#include <set>

#include "tests/integration/cluster_harness.h"
#include "tests/integration/keyed_count_job.h"
#include "tests/test_dirs.h"

namespace sluice::testing {
namespace {

// Example -> its file sinks' output folders (relative to examples/).
const std::vector<std::pair<std::string, std::vector<std::string>>> kExamples = {
    {"card_fraud", {"out/card_fraud"}},
    {"click_alert", {"out/click_alert"}},
    {"iot_rolling_average", {"out/iot_rolling_average", "out/iot_late_readings"}},
    {"orders_payments", {"out/orders_payments"}},
    {"txn_totals", {"out/txn_totals"}},
};

TEST(ExamplesRunTest, FileExamplesRunOnARealCluster) {
  Cluster cluster("examples-run");
  ASSERT_NO_FATAL_FAILURE(cluster.Start(/*taskmanagers=*/2, /*slots=*/4));
  const std::filesystem::path examples = cluster.dir() / "examples";
  std::filesystem::copy(SourceDir() / "examples", examples,
                        std::filesystem::copy_options::recursive);
  std::filesystem::remove_all(examples / "out");
  for (const auto& [name, outputs] : kExamples) {
    SCOPED_TRACE(name);
    CommandResult run = cluster.Sluice({"run", (examples / (name + ".yaml")).string()});
    ASSERT_EQ(run.exit_code, 0) << run.output;
    for (const std::string& out : outputs) {
      ASSERT_TRUE(std::filesystem::exists(examples / out)) << out;
      EXPECT_FALSE(CommittedRows(examples / out).empty()) << out;
    }
  }
  std::set<std::string> late;
  for (const nlohmann::json& row : CommittedRows(examples / "out/iot_late_readings")) {
    late.insert(row["device"].get<std::string>() + " " + row["ts"].get<std::string>());
  }
  EXPECT_EQ(late, (std::set<std::string>{"sensor-3 2026-11-28T08:18:59.980000Z",
                                         "sensor-8 2026-11-28T08:17:59.980000Z"}));
}

}  // namespace
}  // namespace sluice::testing
