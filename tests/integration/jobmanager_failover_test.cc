// JobManager high availability with real processes: a checkpointing keyed-sum job survives
// kill -9 of its JobManager. The restarted JobManager (same high_availability.dir, new free
// port) recovers the job with its original id from the job store, the same TaskManager
// processes find it through <ha>/leader and register again, the job resumes from the latest
// checkpoint and finishes with exactly-once output (compared with a brute-force reference);
// its job store entry is removed once it finished.
#include <csignal>
#include <map>

#include "tests/integration/keyed_count_job.h"

namespace sluice::testing {
namespace {

constexpr int64_t kKeys = 37;
constexpr int64_t kRows = 150'000;

std::string JobSpec(const std::string& checkpoint_dir) {
  KeyedCountJob job;
  job.name = "jm-failover";
  job.rows = kRows;
  job.keys = kKeys;
  job.rows_per_second = 30000;
  job.seed = 5;
  job.settings = "checkpointing: {interval: 300ms, dir: " + checkpoint_dir +
                 ", retained: 2}\nrestart: {strategy: fixed_delay, attempts: 100, delay: 200ms}\n";
  return KeyedCountSpec(job);
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
