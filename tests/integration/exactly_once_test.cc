// Exactly-once chaos test (real processes): a keyed running count over a deterministic
// datagen source, checkpoints every 500 ms, while a seeded harness kill -9s random
// TaskManagers at random moments (each replaced by a new one). The committed output must hold
// every update exactly once: for every key k, the rows n = 1..count(k) each exactly once, and
// the last row's total equals the brute-force sum. Runs for both state backends.
// Short by default; SLUICE_CHAOS_LONG=1 runs millions of rows and at least 10 kills.
#include <csignal>
#include <cstdlib>
#include <map>
#include <random>
#include <set>

#include "tests/integration/cluster_harness.h"

namespace sluice::testing {
namespace {

constexpr int64_t kKeys = 101;

struct ChaosParams {
  int64_t rows;
  int64_t rows_per_second;
  int kills;
};

ChaosParams Params() {
  if (std::getenv("SLUICE_CHAOS_LONG") != nullptr) return {2'000'000, 100'000, 12};
  return {240'000, 40'000, 3};
}

std::string JobSpec(const ChaosParams& p, const std::string& backend, const std::string& dir) {
  return R"yaml(name: exactly-once-chaos
parallelism: 2
config: {buffer_timeout: 5ms}
checkpointing: {interval: 500ms, dir: )yaml" + dir + R"yaml(, retained: 2}
state: {backend: )yaml" + backend + R"yaml(}
restart: {strategy: fixed_delay, attempts: 100, delay: 200ms}
sources:
  - name: numbers
    connector: datagen
    count: )yaml" + std::to_string(p.rows) + R"yaml(
    rows_per_second: )yaml" + std::to_string(p.rows_per_second) + R"yaml(
    seed: 11
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
  if (!info.is_object()) return "";
  return info["summary"]["state"].get<std::string>();
}

int CompletedCheckpoints(const nlohmann::json& info) {
  int n = 0;
  if (!info.is_object() || !info.contains("checkpoints")) return 0;
  for (const auto& c : info["checkpoints"]) n += c.value("status", "") == "COMPLETED";
  return n;
}

class ExactlyOnceTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ExactlyOnceTest, KilledTaskManagersLoseAndDuplicateNothing) {
  const std::string backend = GetParam();
  const ChaosParams p = Params();
  Cluster cluster("exactly-once-" + backend);
  constexpr int kTaskManagers = 3;
  ASSERT_NO_FATAL_FAILURE(cluster.Start(kTaskManagers, 2));
  const std::string spec = cluster.WriteFile(
      "job.yaml", JobSpec(p, backend, (cluster.dir() / "checkpoints").string()));
  CommandResult run = cluster.Sluice({"run", spec, "--detached", "--output", "json"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const std::string job_id = nlohmann::json::parse(run.output)["job_id"].get<std::string>();

  std::mt19937 rng(20261128);
  int kills = 0;
  int seen_checkpoints = 0;
  while (kills < p.kills) {
    // Kill only after a checkpoint completed since the last kill, so the job makes progress.
    bool progressed = WaitFor(
        [&] {
          nlohmann::json info = cluster.JobInfo(job_id);
          return CompletedCheckpoints(info) > seen_checkpoints || JobState(info) == "JOB_FINISHED" ||
                 JobState(info) == "JOB_FAILED";
        },
        std::chrono::seconds(60));
    nlohmann::json info = cluster.JobInfo(job_id);
    ASSERT_TRUE(progressed) << info.dump(2);
    if (JobState(info) != "JOB_RUNNING" && JobState(info) != "JOB_RESTARTING") break;
    seen_checkpoints = CompletedCheckpoints(info);
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 700)(rng)));
    const size_t victim = std::uniform_int_distribution<size_t>(0, kTaskManagers - 1)(rng);
    cluster.taskmanager(victim)->Kill(SIGKILL);
    cluster.taskmanager(victim)->Wait();
    ++kills;
    ASSERT_NO_FATAL_FAILURE(cluster.StartTaskManager(victim, 2));
  }
  ASSERT_TRUE(WaitFor([&] { return JobState(cluster.JobInfo(job_id)) == "JOB_FINISHED"; },
                      std::chrono::seconds(240)))
      << cluster.JobInfo(job_id).dump(2);

  // Reference, brute force: key k gets every id with id % kKeys == k.
  std::map<int64_t, std::pair<int64_t, int64_t>> expected;  // k -> (count, sum)
  for (int64_t id = 0; id < p.rows; ++id) {
    auto& e = expected[id % kKeys];
    ++e.first;
    e.second += id;
  }
  std::map<std::pair<int64_t, int64_t>, int> seen;  // (k, n) -> times
  std::map<int64_t, int64_t> final_total;           // k -> total of its row n = count(k)
  for (const auto& entry : std::filesystem::directory_iterator(cluster.dir() / "out")) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("part-", 0) != 0) continue;  // in-progress / pending files are not output
    std::ifstream in(entry.path());
    std::string line;
    while (std::getline(in, line)) {
      auto row = nlohmann::json::parse(line);
      const int64_t k = row["k"], n = row["n"];
      ++seen[{k, n}];
      if (n == expected[k].first) final_total[k] = row["total"];
    }
  }
  int64_t lost = 0, duplicated = 0, checked = 0;
  for (const auto& [k, e] : expected) {
    for (int64_t n = 1; n <= e.first; ++n) {
      ++checked;
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
      duplicated += times;  // a row no correct run produces
    }
  }
  nlohmann::json info = cluster.JobInfo(job_id);
  std::printf("[chaos %s] kills survived: %d, restarts: %d, checkpoints completed: %d, records "
              "checked: %lld, lost: %lld, duplicated: %lld\n",
              backend.c_str(), kills, info["summary"].value("restarts", 0), CompletedCheckpoints(info),
              static_cast<long long>(checked), static_cast<long long>(lost),
              static_cast<long long>(duplicated));
  EXPECT_EQ(lost, 0);
  EXPECT_EQ(duplicated, 0);
  EXPECT_GE(kills, 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, ExactlyOnceTest, ::testing::Values("heap", "rocksdb"));

}  // namespace
}  // namespace sluice::testing
