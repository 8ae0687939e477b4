// Savepoints (real processes, real CLI): `sluice savepoint` of a running job, `sluice stop`
// with a savepoint (the job ends FINISHED), and `sluice run --from-savepoint` resuming it: the
// committed output of both runs together holds every update exactly once. A savepoint that
// does not match the job is refused with a clear error. Rescaling: a savepoint taken at
// parallelism 2 resumed at 4 and at 1 gives the same output as an uninterrupted run.
#include <map>

#include "tests/integration/keyed_count_job.h"

namespace sluice::testing {
namespace {

constexpr int64_t kRows = 120'000;
constexpr int64_t kKeys = 17;

std::string Spec(const std::string& checkpoint_dir, const std::string& sums_name = "sums",
                 const std::string& out = "out") {
  KeyedCountJob job;
  job.name = "savepoints";
  job.rows = kRows;
  job.keys = kKeys;
  job.rows_per_second = 15000;
  job.settings = "checkpointing: {interval: 1s, dir: " + checkpoint_dir + "}\n";
  job.sums_name = sums_name;
  job.out = out;
  return KeyedCountSpec(job);
}


std::string State(Cluster& cluster, const std::string& job_id) {
  return JobState(cluster.JobInfo(job_id));
}

std::string SubmitDetached(Cluster& cluster, std::vector<std::string> args) {
  args.insert(args.begin(), "run");
  args.push_back("--detached");
  args.push_back("--output");
  args.push_back("json");
  CommandResult run = cluster.Sluice(args);
  EXPECT_EQ(run.exit_code, 0) << run.output;
  if (run.exit_code != 0) return "";
  return nlohmann::json::parse(run.output)["job_id"].get<std::string>();
}

// Waits until the job runs and has processed some records.
void WaitUntilProcessing(Cluster& cluster, const std::string& job_id) {
  ASSERT_TRUE(WaitFor(
      [&] {
        nlohmann::json info = cluster.JobInfo(job_id);
        if (!info.is_object() || info["summary"]["state"] != "JOB_RUNNING") return false;
        int64_t out = 0;
        for (const auto& v : info["vertices"]) out += v.value("records_out", int64_t{0});
        return out > 1000;
      },
      std::chrono::seconds(60)));
}


TEST(SavepointTest, StopWithSavepointThenResumeIsExactlyOnce) {
  Cluster cluster("savepoint");
  ASSERT_NO_FATAL_FAILURE(cluster.Start(2, 2));
  const std::string checkpoints = (cluster.dir() / "checkpoints").string();
  const std::string savepoints = (cluster.dir() / "savepoints").string();
  const std::string spec = cluster.WriteFile("job.yaml", Spec(checkpoints));
  const std::string job1 = SubmitDetached(cluster, {spec});
  ASSERT_FALSE(job1.empty());
  ASSERT_NO_FATAL_FAILURE(WaitUntilProcessing(cluster, job1));

  // A plain savepoint: the job keeps running.
  CommandResult sp = cluster.Sluice({"savepoint", job1, savepoints, "--output", "json"});
  ASSERT_EQ(sp.exit_code, 0) << sp.output;
  nlohmann::json first = JsonOf(sp);
  EXPECT_EQ(first["status"], "COMPLETED");
  EXPECT_TRUE(first["savepoint"].get<bool>());
  const std::string first_path = first["path"];
  EXPECT_TRUE(std::filesystem::exists(first_path + "/_metadata")) << first_path;
  EXPECT_EQ(State(cluster, job1), "JOB_RUNNING");

  // Stop with a savepoint: FINISHED, its path printed.
  CommandResult stop = cluster.Sluice({"stop", job1, "--savepoint-dir", savepoints});
  ASSERT_EQ(stop.exit_code, 0) << stop.output;
  EXPECT_NE(stop.output.find("--from-savepoint"), std::string::npos) << stop.output;
  EXPECT_EQ(State(cluster, job1), "JOB_FINISHED");
  nlohmann::json history = nlohmann::json::parse(
      cluster.Sluice({"checkpoints", job1, "--output", "json"}).output)["checkpoints"];
  std::string stop_path;
  for (const auto& c : history) {
    if (c["savepoint"].get<bool>() && c["path"] != first_path) stop_path = c["path"];
  }
  ASSERT_FALSE(stop_path.empty()) << history.dump(2);
  // Self-contained: nothing of it lives in the checkpoint directory.
  for (const auto& entry : std::filesystem::recursive_directory_iterator(stop_path)) {
    EXPECT_EQ(entry.path().string().rfind(stop_path, 0), 0u);
  }

  // A job whose keyed operator was renamed does not match the savepoint.
  const std::string renamed = cluster.WriteFile("renamed.yaml", Spec(checkpoints, "totals"));
  CommandResult refused = cluster.Sluice({"run", renamed, "--from-savepoint", stop_path});
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_NE(refused.output.find("--allow-non-restored-state"), std::string::npos) << refused.output;
  EXPECT_NE(refused.output.find("sums"), std::string::npos) << refused.output;
  CommandResult missing = cluster.Sluice({"run", spec, "--from-savepoint", savepoints + "/nope"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.output.find("_metadata"), std::string::npos) << missing.output;

  // Resume: the second run continues where the savepoint left off.
  const std::string job2 = SubmitDetached(cluster, {spec, "--from-savepoint", stop_path});
  ASSERT_FALSE(job2.empty());
  ASSERT_TRUE(WaitFor([&] { return State(cluster, job2) == "JOB_FINISHED"; },
                      std::chrono::seconds(120)))
      << cluster.JobInfo(job2).dump(2);

  ExpectExactlyOnce(cluster.dir() / "out", kRows, kKeys);
}

TEST(SavepointTest, ResumingAtAnotherParallelismRedistributesState) {
  Cluster cluster("savepoint-rescale");
  ASSERT_NO_FATAL_FAILURE(cluster.Start(3, 2));
  const std::string checkpoints = (cluster.dir() / "checkpoints").string();
  const std::string job1 = SubmitDetached(cluster, {cluster.WriteFile("job.yaml", Spec(checkpoints))});
  ASSERT_FALSE(job1.empty());
  ASSERT_NO_FATAL_FAILURE(WaitUntilProcessing(cluster, job1));
  CommandResult stop = cluster.Sluice(
      {"stop", job1, "--savepoint-dir", (cluster.dir() / "sp").string(), "--output", "json"});
  ASSERT_EQ(stop.exit_code, 0) << stop.output;
  const std::string savepoint = JsonOf(stop)["path"];
  for (int parallelism : {4, 1}) {
    // Each resume continues the same output, so it starts from a copy of the first run's.
    const std::string out = "out-p" + std::to_string(parallelism);
    std::filesystem::copy(cluster.dir() / "out", cluster.dir() / out);
    const std::string spec = cluster.WriteFile(out + ".yaml", Spec(checkpoints, "sums", out));
    const std::string job = SubmitDetached(
        cluster, {spec, "--from-savepoint", savepoint, "--parallelism", std::to_string(parallelism)});
    ASSERT_FALSE(job.empty());
    ASSERT_TRUE(WaitFor([&] { return State(cluster, job) == "JOB_FINISHED"; },
                        std::chrono::seconds(120)))
        << cluster.JobInfo(job).dump(2);
    ExpectExactlyOnce(cluster.dir() / out, kRows, kKeys);
  }
}

TEST(SavepointTest, SavepointOfAJobThatIsNotRunningIsRefused) {
  Cluster cluster("savepoint-refused");
  ASSERT_NO_FATAL_FAILURE(cluster.Start(1, 2));
  CommandResult unknown = cluster.Sluice({"savepoint", "nosuchjob", (cluster.dir() / "sp").string()});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.output.find("no job with id nosuchjob"), std::string::npos) << unknown.output;
}

}  // namespace
}  // namespace sluice::testing
