// JobManager high availability with real processes: a checkpointing keyed-sum job survives
// kill -9 of its JobManager. The restarted JobManager (same high_availability.dir, new free
// port) recovers the job with its original id from the job store, the same TaskManager
// processes find it through <ha>/leader and register again, the job resumes from the latest
// checkpoint and finishes with exactly-once output (compared with a brute-force reference);
// its job store entry is removed once it finished.
#include <csignal>
#include <map>

#include "tests/integration/cluster_harness.h"

namespace sluice::testing {
namespace {

constexpr int64_t kKeys = 37;
constexpr int64_t kRows = 150'000;

std::string JobSpec(const std::string& checkpoint_dir) {
  return R"yaml(name: jm-failover
parallelism: 2
config: {buffer_timeout: 5ms}
checkpointing: {interval: 300ms, dir: )yaml" + checkpoint_dir + R"yaml(, retained: 2}
restart: {strategy: fixed_delay, attempts: 100, delay: 200ms}
sources:
  - name: numbers
    connector: datagen
    count: )yaml" + std::to_string(kRows) + R"yaml(
    rows_per_second: 30000
    seed: 5
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

std::string JobState(const nlohmann::json& info) {
  if (!info.is_object() || !info.contains("summary")) return "";
  return info["summary"].value("state", "");
}

int CompletedCheckpoints(const nlohmann::json& info) {
  int n = 0;
  if (!info.is_object() || !info.contains("checkpoints")) return 0;
  for (const auto& c : info["checkpoints"]) n += c.value("status", "") == "COMPLETED";
  return n;
}

// pid -> alive of every TaskManager the JobManager knows.
std::map<std::string, bool> TaskManagerPids(Cluster& cluster) {
  std::map<std::string, bool> out;
  CommandResult r = cluster.Sluice({"taskmanagers", "--output", "json"});
  if (r.exit_code != 0) return out;
  nlohmann::json json = nlohmann::json::parse(r.output, nullptr, false);
  if (json.is_object() && json.contains("taskmanagers")) json = json["taskmanagers"];
  if (!json.is_array()) return out;
  for (const auto& tm : json) {
    if (!tm.contains("pid")) continue;
    const std::string pid = tm["pid"].is_string() ? tm["pid"].get<std::string>()
                                                   : std::to_string(tm["pid"].get<int64_t>());
    out[pid] = tm.value("alive", false);
  }
  return out;
}

// Checks the committed output: every (k, n) exactly once, final totals equal the reference.
void ExpectExactlyOnce(const std::filesystem::path& out_dir, int64_t rows, int64_t keys) {
  std::map<int64_t, std::pair<int64_t, int64_t>> expected;  // k -> (count, sum)
  for (int64_t id = 0; id < rows; ++id) {
    auto& e = expected[id % keys];
    ++e.first;
    e.second += id;
  }
  std::map<std::pair<int64_t, int64_t>, int> seen;
  std::map<int64_t, int64_t> final_total;
  for (const auto& entry : std::filesystem::directory_iterator(out_dir)) {
    if (entry.path().filename().string().rfind("part-", 0) != 0) continue;
    std::ifstream in(entry.path());
    std::string line;
    while (std::getline(in, line)) {
      auto row = nlohmann::json::parse(line);
      const int64_t k = row["k"], n = row["n"];
      ++seen[{k, n}];
      if (n == expected[k].first) final_total[k] = row["total"];
    }
  }
  int64_t lost = 0, duplicated = 0;
  for (const auto& [k, e] : expected) {
    for (int64_t n = 1; n <= e.first; ++n) {
      auto it = seen.find({k, n});
      if (it == seen.end()) {
        ++lost;
      } else {
        duplicated += it->second - 1;
      }
    }
    EXPECT_EQ(final_total[k], e.second) << "key " << k;
  }
  for (const auto& [kn, times] : seen) {
    if (!expected.count(kn.first) || kn.second < 1 || kn.second > expected[kn.first].first) {
      duplicated += times;
    }
  }
  EXPECT_EQ(lost, 0);
  EXPECT_EQ(duplicated, 0);
}

TEST(JobManagerFailoverTest, KilledJobManagerRecoversItsJobFromTheLatestCheckpoint) {
  Cluster cluster("jm-failover");
  const std::filesystem::path ha = cluster.UseHighAvailability();
  ASSERT_NO_FATAL_FAILURE(cluster.Start(/*taskmanagers=*/2, /*slots=*/2));
  const std::string first_address = cluster.jobmanager_address();
  ASSERT_TRUE(std::filesystem::exists(ha / "leader")) << cluster.jobmanager()->Log();
  const std::map<std::string, bool> pids_before = TaskManagerPids(cluster);
  ASSERT_EQ(pids_before.size(), 2u);

  const std::string spec =
      cluster.WriteFile("job.yaml", JobSpec((cluster.dir() / "checkpoints").string()));
  CommandResult run = cluster.Sluice({"run", spec, "--detached", "--output", "json"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const std::string job_id = nlohmann::json::parse(run.output)["job_id"].get<std::string>();
  EXPECT_TRUE(std::filesystem::exists(ha / "jobs" / job_id / "jobgraph.pb"));

  // Two checkpoints completed: the store points at one of them.
  ASSERT_TRUE(WaitFor([&] { return CompletedCheckpoints(cluster.JobInfo(job_id)) >= 2; },
                      std::chrono::seconds(60)))
      << cluster.JobInfo(job_id).dump(2) << cluster.jobmanager()->Log();
  ASSERT_TRUE(std::filesystem::exists(ha / "jobs" / job_id / "checkpoint"));
  nlohmann::json pointer = nlohmann::json::parse(ReadAll((ha / "jobs" / job_id / "checkpoint").string()));
  EXPECT_GE(pointer["checkpoint_id"].get<int64_t>(), 1);
  EXPECT_TRUE(std::filesystem::exists(pointer["metadata_path"].get<std::string>()));

  ASSERT_NO_FATAL_FAILURE(cluster.RestartJobManager());
  EXPECT_NE(cluster.jobmanager_address(), first_address);  // port 0: found through the leader file

  // The same job id, known to the new JobManager at once.
  nlohmann::json info = cluster.JobInfo(job_id);
  ASSERT_TRUE(info.is_object()) << cluster.jobmanager()->Log();
  EXPECT_EQ(info["summary"]["job_id"], job_id);
  // The same TaskManager processes register again, without being restarted.
  ASSERT_TRUE(WaitFor(
      [&] {
        std::map<std::string, bool> pids = TaskManagerPids(cluster);
        if (pids.size() != pids_before.size()) return false;
        for (const auto& [pid, alive] : pids_before) {
          if (!pids.count(pid) || !pids[pid]) return false;
        }
        return true;
      },
      std::chrono::seconds(20)))
      << cluster.jobmanager()->Log();
  for (size_t i = 0; i < 2; ++i) EXPECT_TRUE(cluster.taskmanager(i)->Running());

  ASSERT_TRUE(WaitFor([&] { return JobState(cluster.JobInfo(job_id)) == "JOB_FINISHED"; },
                      std::chrono::seconds(90)))
      << cluster.JobInfo(job_id).dump(2) << cluster.jobmanager()->Log();
  const std::string log = cluster.jobmanager()->Log();
  EXPECT_NE(log.find("recovered from the job store"), std::string::npos) << log;
  EXPECT_NE(log.find("from checkpoint"), std::string::npos) << log;
  ExpectExactlyOnce(cluster.dir() / "out", kRows, kKeys);
  // An ended job leaves the store.
  EXPECT_TRUE(WaitFor([&] { return !std::filesystem::exists(ha / "jobs" / job_id); },
                      std::chrono::seconds(10)));
}

TEST(JobManagerFailoverTest, JobManagerRestartedWithoutJobsKeepsTheTaskManagers) {
  Cluster cluster("jm-failover-idle");
  const std::filesystem::path ha = cluster.UseHighAvailability();
  // A corrupt entry in the store is skipped, never a crash.
  std::filesystem::create_directories(ha / "jobs" / "0123abcd");
  std::ofstream(ha / "jobs" / "0123abcd" / "jobgraph.pb") << "not a job graph";
  ASSERT_NO_FATAL_FAILURE(cluster.Start(/*taskmanagers=*/1, /*slots=*/1));
  CommandResult list = cluster.Sluice({"list", "--output", "json"});
  EXPECT_EQ(list.exit_code, 0) << list.output;
  EXPECT_EQ(list.output.find("0123abcd"), std::string::npos);
  EXPECT_NE(cluster.jobmanager()->Log().find("0123abcd"), std::string::npos);

  ASSERT_NO_FATAL_FAILURE(cluster.RestartJobManager());
  ASSERT_TRUE(WaitFor([&] { return TaskManagerPids(cluster).size() == 1; }, std::chrono::seconds(20)))
      << cluster.jobmanager()->Log();
  EXPECT_TRUE(cluster.taskmanager(0)->Running());
}

}  // namespace
}  // namespace sluice::testing
