// Exactly-once chaos test (real processes): a keyed running count over a deterministic
// datagen source, checkpoints every 500 ms, while a seeded harness kill -9s random
// TaskManagers at random moments (each replaced by a new one) and, with JobManager high
// availability on, kill -9s the JobManager too (restarted on a new port with the same
// high_availability.dir: it recovers the job from its job store and the surviving
// TaskManagers register with it again). The committed output must hold
// every update exactly once: for every key k, the rows n = 1..count(k) each exactly once, and
// the last row's total equals the brute-force sum. Runs for both state backends, and again
// with tumbling event-time windows instead of the running count (every (key, window) row
// exactly once, with its brute-force count and sum: window state and timers recover too),
// with a CEP pattern (every brute-force match exactly once: waiting events and partial
// matches recover too) and with an interval join of two copies of the stream (every pair
// exactly once: both sides' buffers recover).
// Short by default (3 TaskManager kills, 1 JobManager kill); SLUICE_CHAOS_LONG=1 runs millions
// of rows (10 M at 60 000 rows/s, so that the job still runs for every kill), 12
// TaskManager kills and 2 JobManager kills, and requires all of them.
#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <map>
#include <random>
#include <set>

#include "tests/integration/keyed_count_job.h"

namespace sluice::testing {
namespace {

constexpr int64_t kKeys = 101;

struct ChaosParams {
  int64_t rows;
  int64_t rows_per_second;
  int kills;     // TaskManagers
  int jm_kills;  // JobManager
};

ChaosParams Params() {
  if (std::getenv("SLUICE_CHAOS_LONG") != nullptr) return {10'000'000, 60'000, 12, 2};
  return {240'000, 40'000, 3, 1};
}

// A chaos run: a state backend, and the running aggregate, tumbling event-time windows or
// a CEP pattern.
struct ChaosCase {
  std::string backend;
  int64_t window_ms = 0;
  bool pattern = false;
  bool join = false;
  std::string Name() const {
    return backend + (window_ms > 0 ? "_windows" : "") + (pattern ? "_pattern" : "") +
           (join ? "_join" : "");
  }
};

constexpr int64_t kWindowMs = 1000;

std::string JobSpec(const ChaosParams& p, const ChaosCase& chaos, const std::string& dir) {
  const std::string& backend = chaos.backend;
  KeyedCountJob job;
  job.window_ms = chaos.window_ms;
  job.pattern = chaos.pattern;
  job.join = chaos.join;
  job.name = "exactly-once-chaos";
  job.rows = p.rows;
  job.keys = kKeys;
  job.rows_per_second = p.rows_per_second;
  job.seed = 11;
  job.settings = "checkpointing: {interval: 500ms, dir: " + dir + ", retained: 2}\nstate: {backend: " +
                 backend + "}\nrestart: {strategy: fixed_delay, attempts: 100, delay: 200ms}\n";
  return KeyedCountSpec(job);
}

// The id of the newest completed checkpoint (ids keep increasing across restarts of the
// JobManager, unlike the bounded history's counts).
int64_t LatestCompleted(const nlohmann::json& info) {
  int64_t latest = 0;
  if (!info.is_object() || !info.contains("checkpoints")) return 0;
  for (const auto& c : info["checkpoints"]) {
    if (c.value("status", "") == "COMPLETED") latest = std::max<int64_t>(latest, c.value("id", 0));
  }
  return latest;
}

class ExactlyOnceTest : public ::testing::TestWithParam<ChaosCase> {};

TEST_P(ExactlyOnceTest, KilledTaskManagersLoseAndDuplicateNothing) {
  const ChaosCase chaos = GetParam();
  const std::string backend = chaos.Name();
  const ChaosParams p = Params();
  Cluster cluster("exactly-once-" + backend);
  cluster.UseHighAvailability();
  constexpr int kTaskManagers = 3;
  ASSERT_NO_FATAL_FAILURE(cluster.Start(kTaskManagers, 2));
  const std::string spec = cluster.WriteFile(
      "job.yaml", JobSpec(p, chaos, (cluster.dir() / "checkpoints").string()));
  CommandResult run = cluster.Sluice({"run", spec, "--detached", "--output", "json"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const std::string job_id = nlohmann::json::parse(run.output)["job_id"].get<std::string>();

  std::mt19937 rng(20261128);
  int kills = 0;
  int jm_kills = 0;
  int64_t seen_checkpoint = 0;
  const int events = p.kills + p.jm_kills;
  while (kills + jm_kills < events) {
    // Kill only after a checkpoint completed since the last kill, so the job makes progress.
    bool progressed = WaitFor(
        [&] {
          nlohmann::json info = cluster.JobInfo(job_id);
          return LatestCompleted(info) > seen_checkpoint || JobState(info) == "JOB_FINISHED" ||
                 JobState(info) == "JOB_FAILED";
        },
        std::chrono::seconds(60));
    nlohmann::json info = cluster.JobInfo(job_id);
    ASSERT_TRUE(progressed) << info.dump(2);
    // Only an ended job stops the kills: a job a restarted JobManager recovered is CREATED
    // until its TaskManagers are back, and is killed again like any other.
    const std::string state = JobState(info);
    if (state == "JOB_FINISHED" || state == "JOB_FAILED" || state == "JOB_CANCELED") break;
    seen_checkpoint = LatestCompleted(info);
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 700)(rng)));
    // The JobManager kills are spread evenly over the run.
    const int event = kills + jm_kills + 1;
    if (jm_kills < p.jm_kills && event == events * (jm_kills + 1) / (p.jm_kills + 1)) {
      ++jm_kills;
      ASSERT_NO_FATAL_FAILURE(cluster.RestartJobManager());
      continue;
    }
    const size_t victim = std::uniform_int_distribution<size_t>(0, kTaskManagers - 1)(rng);
    cluster.taskmanager(victim)->Kill(SIGKILL);
    cluster.taskmanager(victim)->Wait();
    ++kills;
    ASSERT_NO_FATAL_FAILURE(cluster.StartTaskManager(victim, 2));
  }
  ASSERT_TRUE(WaitFor([&] { return JobState(cluster.JobInfo(job_id)) == "JOB_FINISHED"; },
                      std::chrono::seconds(240)))
      << cluster.JobInfo(job_id).dump(2);

  const std::filesystem::path out = cluster.dir() / "out";
  const ExactlyOnceCounts c = chaos.join      ? CheckJoinPairs(out, p.rows)
                              : chaos.pattern ? CheckPatternMatches(out, p.rows, kKeys)
                              : chaos.window_ms > 0 ? CheckWindowCounts(out, p.rows, kKeys, chaos.window_ms)
                                                    : CheckKeyedCounts(out, p.rows, kKeys);
  nlohmann::json info = cluster.JobInfo(job_id);
  std::printf("[chaos %s] kills survived: %d (TaskManagers %d, JobManager %d), restarts since "
              "the last JobManager start: %d, checkpoints completed: %d (latest %lld), records "
              "checked: %lld, lost: %lld, duplicated: %lld\n",
              backend.c_str(), kills + jm_kills, kills, jm_kills,
              info["summary"].value("restarts", 0), CompletedCheckpoints(info),
              static_cast<long long>(LatestCompleted(info)),
              static_cast<long long>(c.checked), static_cast<long long>(c.lost),
              static_cast<long long>(c.duplicated));
  EXPECT_EQ(c.lost, 0);
  EXPECT_EQ(c.duplicated, 0);
  EXPECT_GE(kills, 1);
  if (std::getenv("SLUICE_CHAOS_LONG") != nullptr) {
    EXPECT_EQ(kills, p.kills);
  }
  EXPECT_EQ(jm_kills, p.jm_kills);
}

INSTANTIATE_TEST_SUITE_P(Backends, ExactlyOnceTest,
                         ::testing::Values(ChaosCase{"heap"}, ChaosCase{"rocksdb"},
                                           ChaosCase{"heap", kWindowMs},
                                           ChaosCase{"rocksdb", kWindowMs},
                                           ChaosCase{"rocksdb", 0, true},
                                           ChaosCase{"heap", 0, false, true}),
                         [](const ::testing::TestParamInfo<ChaosCase>& info) {
                           return info.param.Name();
                         });

}  // namespace
}  // namespace sluice::testing
