// kill -9 of a TaskManager during a job: the JobManager notices within the heartbeat timeout;
// with a restart strategy the job runs again and finishes with the right output; with `none`
// it ends FAILED and `sluice info` shows the cause.
#include <csignal>
#include <map>

#include "tests/integration/cluster_harness.h"

namespace sluice::testing {
namespace {

constexpr int64_t kRows = 300'000;
constexpr int64_t kKeys = 97;

std::string JobSpec(const std::string& restart) {
  return R"yaml(name: failover
parallelism: 4
config: {buffer_timeout: 5ms}
restart: )yaml" + restart + R"yaml(
sources:
  - name: numbers
    connector: datagen
    count: )yaml" + std::to_string(kRows) + R"yaml(
    rows_per_second: 50000
    seed: 7
    schema: {id: int64}
    fields: {id: {kind: sequence, min: 0}}
operators:
  - name: keyed
    input: numbers
    select: {k: "id % )yaml" + std::to_string(kKeys) + R"yaml(", v: "id"}
  - name: sums
    input: keyed
    key_by: [k]
    aggregate: {n: "count(*)", total: "sum(v)"}
sinks:
  - {name: out, input: sums, connector: file, path: out, format: json}
)yaml";
}

std::string JobState(Cluster& cluster, const std::string& job_id) {
  nlohmann::json info = cluster.JobInfo(job_id);
  if (!info.is_object()) return "";
  return info["summary"]["state"].get<std::string>();
}

std::string SubmitDetached(Cluster& cluster, const std::string& spec) {
  CommandResult run = cluster.Sluice({"run", spec, "--detached", "--output", "json"});
  EXPECT_EQ(run.exit_code, 0) << run.output;
  return nlohmann::json::parse(run.output)["job_id"].get<std::string>();
}

// Kills TaskManager 1 once the job is running.
void KillTaskManagerWhileRunning(Cluster& cluster, const std::string& job_id) {
  ASSERT_TRUE(WaitFor([&] { return JobState(cluster, job_id) == "JOB_RUNNING"; },
                      std::chrono::seconds(30)));
  cluster.taskmanager(1)->Kill(SIGKILL);
}

// Over both data transports (taskmanager.network.transport): the tcp one must also notice a
// producer TaskManager killed mid-stream and carry the restarted job.
class FailoverTransportTest : public ::testing::TestWithParam<std::string> {};
INSTANTIATE_TEST_SUITE_P(Transports, FailoverTransportTest, ::testing::Values("grpc", "tcp"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

TEST_P(FailoverTransportTest, KilledTaskManagerRestartsJobWithCorrectOutput) {
  Cluster cluster("failover-restart-" + GetParam());
  cluster.common_settings.push_back("taskmanager.network.transport=" + GetParam());
  ASSERT_NO_FATAL_FAILURE(cluster.Start(3, 2));
  // The TaskManagers register the data address of their transport.
  CommandResult tms = cluster.Sluice({"taskmanagers", "--output", "json"});
  ASSERT_EQ(tms.exit_code, 0) << tms.output;
  EXPECT_EQ(tms.output.find("tcp://") != std::string::npos, GetParam() == "tcp") << tms.output;
  std::string spec = cluster.WriteFile("job.yaml", JobSpec("{strategy: fixed_delay, attempts: 3, delay: 500ms}"));
  std::string job_id = SubmitDetached(cluster, spec);
  ASSERT_NO_FATAL_FAILURE(KillTaskManagerWhileRunning(cluster, job_id));

  ASSERT_TRUE(WaitFor([&] { return JobState(cluster, job_id) == "JOB_FINISHED"; },
                      std::chrono::seconds(120)))
      << cluster.JobInfo(job_id).dump(2);
  nlohmann::json info = cluster.JobInfo(job_id);
  EXPECT_GE(info["summary"]["restarts"].get<int>(), 1);
  EXPECT_NE(info.dump().find("lost"), std::string::npos) << info.dump(2);

  // Reference: key k gets every id with id % kKeys == k.
  std::map<int64_t, std::pair<int64_t, int64_t>> expected;  // k -> (count, sum)
  for (int64_t id = 0; id < kRows; ++id) {
    auto& e = expected[id % kKeys];
    ++e.first;
    e.second += id;
  }
  std::map<int64_t, std::pair<int64_t, int64_t>> last;
  int64_t rows = 0;
  for (const auto& entry : std::filesystem::directory_iterator(cluster.dir() / "out")) {
    ASSERT_EQ(entry.path().filename().string().rfind("part-", 0), 0u) << entry.path();
    std::ifstream in(entry.path());
    std::string line;
    while (std::getline(in, line)) {
      auto row = nlohmann::json::parse(line);
      int64_t k = row["k"], n = row["n"];
      if (n > last[k].first) last[k] = {n, row["total"]};
      ++rows;
    }
  }
  EXPECT_EQ(rows, kRows);  // the failed attempt's partial output was discarded
  EXPECT_EQ(last, expected);
}

TEST(FailoverTest, KilledTaskManagerWithoutRestartFailsTheJob) {
  Cluster cluster("failover-none");
  ASSERT_NO_FATAL_FAILURE(cluster.Start(3, 2));
  std::string spec = cluster.WriteFile("job.yaml", JobSpec("{strategy: none}"));
  std::string job_id = SubmitDetached(cluster, spec);
  auto killed_at = std::chrono::steady_clock::now();
  ASSERT_NO_FATAL_FAILURE(KillTaskManagerWhileRunning(cluster, job_id));

  ASSERT_TRUE(WaitFor([&] { return JobState(cluster, job_id) == "JOB_FAILED"; },
                      std::chrono::seconds(30)));
  // Noticed within the heartbeat timeout (2 s) plus polling slack, not at the end of the job.
  EXPECT_LT(std::chrono::steady_clock::now() - killed_at, std::chrono::seconds(10));
  CommandResult info = cluster.Sluice({"info", job_id});
  EXPECT_EQ(info.exit_code, 0);
  EXPECT_NE(info.output.find("lost"), std::string::npos) << info.output;
  // Nothing half-written under a final name.
  if (std::filesystem::exists(cluster.dir() / "out")) {
    for (const auto& entry : std::filesystem::directory_iterator(cluster.dir() / "out")) {
      EXPECT_NE(entry.path().filename().string().rfind("part-", 0), 0u) << entry.path();
    }
  }
}

}  // namespace
}  // namespace sluice::testing
