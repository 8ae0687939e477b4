// A Kubernetes pod lifecycle simulated with real processes on loopback (docs/kubernetes.md):
// the JobManager runs in application mode (--job, as the manifests start it) on a fixed port
// and advertises the name "localhost" the way the Service name is advertised; TaskManagers are
// given "localhost:PORT" the way they are given the Service address and wait for it
// (taskmanager.registration.timeout=0).
//   1. A TaskManager gets SIGTERM (a scale-down or eviction): it exits 0 and the job restarts
//      from its checkpoint on the others plus a replacement pod.
//   2. The JobManager is stopped (SIGTERM, as Kubernetes stops a pod: it exits 0 and keeps its
//      jobs recoverable; jobmanager_failover_test covers kill -9) and a new process starts
//      with the same arguments, the same port and the same HA directory (a restarted pod): it
//      recovers the job instead of submitting the application a second time, the
//      TaskManagers re-register by name, and the job finishes with exactly-once output
//      (brute-force reference).
//   3. Once the job ended, another JobManager restart does not run the application again.
// Also: a bad application spec stops the JobManager (exit 2, reason), and a TaskManager still
// waiting for its JobManager stops cleanly on SIGTERM.
#include <csignal>

#include "tests/integration/keyed_count_job.h"

namespace sluice::testing {
namespace {

constexpr int64_t kKeys = 23;
constexpr int64_t kRows = 240'000;

std::vector<nlohmann::json> Jobs(Cluster& cluster) {
  CommandResult r = cluster.Sluice({"list", "--output", "json"});
  nlohmann::json json = nlohmann::json::parse(r.output, nullptr, false);
  if (json.is_object() && json.contains("jobs")) json = json["jobs"];
  std::vector<nlohmann::json> jobs;
  if (json.is_array()) jobs.assign(json.begin(), json.end());
  return jobs;
}

TEST(KubernetesRestartTest, PodsRestartAndTheApplicationJobRunsExactlyOnce) {
  Cluster cluster("k8s-restart");
  cluster.UseHighAvailability();
  KeyedCountJob job;
  job.name = "k8s-application";
  job.rows = kRows;
  job.keys = kKeys;
  job.rows_per_second = 20'000;
  job.seed = 9;
  job.settings = "checkpointing: {interval: 300ms, dir: " + (cluster.dir() / "checkpoints").string() +
                 ", retained: 2}\nrestart: {strategy: fixed_delay, attempts: 100, delay: 200ms}\n";
  const std::string spec = cluster.WriteFile("job.yaml", KeyedCountSpec(job));

  const int port = FreePort();
  cluster.jobmanager_rpc_port = port;
  cluster.jobmanager_args = {"--job", spec, "--set", "jobmanager.address=localhost", "--set",
                             "jobmanager.bind_host=127.0.0.1"};
  cluster.taskmanager_jobmanager = "localhost:" + std::to_string(port);
  cluster.common_settings.push_back("taskmanager.registration.timeout=0");
  ASSERT_NO_FATAL_FAILURE(cluster.Start(/*taskmanagers=*/2, /*slots=*/2));
  EXPECT_EQ(cluster.jobmanager_address(), "localhost:" + std::to_string(port));

  // Application mode submitted the job at start.
  std::vector<nlohmann::json> jobs = Jobs(cluster);
  ASSERT_EQ(jobs.size(), 1u) << cluster.jobmanager()->Log();
  const std::string job_id = jobs[0]["job_id"].get<std::string>();
  EXPECT_NE(cluster.jobmanager()->Log().find("application mode: job " + job_id + " (k8s-application) submitted"),
            std::string::npos)
      << cluster.jobmanager()->Log();
  ASSERT_TRUE(WaitFor([&] { return CompletedCheckpoints(cluster.JobInfo(job_id)) >= 1; },
                      std::chrono::seconds(60)))
      << cluster.JobInfo(job_id).dump(2) << cluster.jobmanager()->Log();

  // 1. SIGTERM to a TaskManager: a clean exit, and a replacement pod joins.
  cluster.taskmanager(1)->Kill(SIGTERM);
  EXPECT_EQ(cluster.taskmanager(1)->Wait(), 0) << cluster.taskmanager(1)->Log();
  ASSERT_NO_FATAL_FAILURE(cluster.StartTaskManager(2, 2));
  const int checkpoints = CompletedCheckpoints(cluster.JobInfo(job_id));
  ASSERT_TRUE(WaitFor([&] {
                nlohmann::json info = cluster.JobInfo(job_id);
                return JobState(info) == "JOB_RUNNING" && CompletedCheckpoints(info) > checkpoints;
              },
              std::chrono::seconds(60)))
      << cluster.JobInfo(job_id).dump(2) << cluster.jobmanager()->Log();

  // 2. The JobManager pod restarts (SIGTERM, exit 0): same arguments, port and HA directory.
  ASSERT_NO_FATAL_FAILURE(cluster.RestartJobManager(SIGTERM));
  EXPECT_EQ(cluster.jobmanager_address(), "localhost:" + std::to_string(port));
  jobs = Jobs(cluster);
  ASSERT_EQ(jobs.size(), 1u) << cluster.jobmanager()->Log();
  EXPECT_EQ(jobs[0]["job_id"], job_id);
  EXPECT_NE(cluster.jobmanager()->Log().find("recovered from the job store; not submitted again"),
            std::string::npos)
      << cluster.jobmanager()->Log();
  ASSERT_TRUE(WaitFor([&] { return JobState(cluster.JobInfo(job_id)) == "JOB_FINISHED"; },
                      std::chrono::seconds(120)))
      << cluster.JobInfo(job_id).dump(2) << cluster.jobmanager()->Log();
  EXPECT_NE(cluster.jobmanager()->Log().find("from checkpoint"), std::string::npos)
      << cluster.jobmanager()->Log();
  EXPECT_TRUE(cluster.taskmanager(0)->Running());
  EXPECT_TRUE(cluster.taskmanager(2)->Running());
  ExpectExactlyOnce(cluster.dir() / "out", kRows, kKeys);

  // 3. After the end, a restarted JobManager (crashed this time) does not run the application
  // again.
  ASSERT_NO_FATAL_FAILURE(cluster.RestartJobManager(SIGKILL));
  EXPECT_TRUE(Jobs(cluster).empty()) << cluster.jobmanager()->Log();
  EXPECT_NE(cluster.jobmanager()->Log().find("already ran as job " + job_id), std::string::npos)
      << cluster.jobmanager()->Log();
}

TEST(KubernetesRestartTest, ABadApplicationSpecStopsTheJobManagerWithItsReason) {
  Cluster cluster("k8s-bad-spec");
  const std::string spec = cluster.WriteFile(
      "job.yaml", "name: bad\nsources:\n  - {name: s, connector: datagen, schema: {a: int64}}\n"
                  "sinks:\n  - {name: out, input: nowhere, connector: print}\n");
  Process jm({BinDir() + "/sluice-jobmanager", "--job", spec, "--set", "jobmanager.rpc.port=0",
              "--set", "rest.port=0"},
             (cluster.dir() / "jm.log").string());
  EXPECT_EQ(jm.Wait(), 2);
  const std::string log = jm.Log();
  EXPECT_NE(log.find("job.yaml"), std::string::npos) << log;
  EXPECT_NE(log.find("nowhere"), std::string::npos) << log;
}

TEST(KubernetesRestartTest, AMissingApplicationSavepointStopsTheJobManagerWithItsReason) {
  Cluster cluster("k8s-bad-savepoint");
  KeyedCountJob job;
  job.rows = 10;
  const std::string spec = cluster.WriteFile("job.yaml", KeyedCountSpec(job));
  const std::string missing = (cluster.dir() / "savepoints" / "savepoint-gone").string();
  Process jm({BinDir() + "/sluice-jobmanager", "--job", spec, "--from-savepoint", missing, "--set",
              "jobmanager.rpc.port=0", "--set", "rest.port=0"},
             (cluster.dir() / "jm.log").string());
  EXPECT_EQ(jm.Wait(), 2);
  EXPECT_NE(jm.Log().find("savepoint-gone"), std::string::npos) << jm.Log();
}

TEST(KubernetesRestartTest, ATaskManagerWaitingForItsJobManagerStopsCleanlyOnSigterm) {
  Cluster cluster("k8s-waiting-tm");
  const std::string metrics = (cluster.dir() / "tm.log").string();
  Process tm({BinDir() + "/sluice-taskmanager", "--jobmanager", "localhost:" + std::to_string(FreePort()),
              "--set", "taskmanager.port=0", "--set", "taskmanager.registration.timeout=0"},
             metrics);
  // It keeps trying (nothing listens there) until it is asked to stop.
  ASSERT_TRUE(WaitFor([&] { return tm.Log().find("metrics on http://") != std::string::npos; },
                      std::chrono::seconds(20)))
      << tm.Log();
  EXPECT_TRUE(tm.Running());
  tm.Kill(SIGTERM);
  EXPECT_EQ(tm.Wait(), 0) << tm.Log();
  EXPECT_NE(tm.Log().find("stopped before registering with the JobManager"), std::string::npos)
      << tm.Log();
}

}  // namespace
}  // namespace sluice::testing
