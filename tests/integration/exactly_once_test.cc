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
// Kafka -> Kafka too: a Kafka source, the running count and a Kafka sink with delivery
// exactly_once, read back by a read_committed consumer.
// Short by default (3 TaskManager kills, 1 JobManager kill); SLUICE_CHAOS_LONG=1 runs millions
// of rows (10 M at 60 000 rows/s, so that the job still runs for every kill), 12
// TaskManager kills and 2 JobManager kills, and requires all of them.
#include <algorithm>
#include <atomic>
#include <csignal>
#include <thread>
#include <cstdlib>
#include <functional>
#include <map>
#include <random>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/kafka/embedded_kafka.h"
#include "librdkafka/rdkafka.h"
#include "tests/integration/keyed_count_job.h"
#include "tests/kafka_test_util.h"

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

// How many processes the chaos harness killed.
struct Kills {
  int taskmanagers = 0;
  int jobmanager = 0;
};

// Kills TaskManagers (each replaced by a new one) and the JobManager (restarted with the same
// HA directory) at seeded random moments, each after a checkpoint completed since the
// previous kill, until p.kills + p.jm_kills kills or the job ended.
void KillWhileRunning(Cluster& cluster, const std::string& job_id, const ChaosParams& p,
                      int taskmanagers, Kills* done) {
  std::mt19937 rng(20261128);
  int& kills = done->taskmanagers;
  int& jm_kills = done->jobmanager;
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
    const size_t victim = std::uniform_int_distribution<size_t>(0, taskmanagers - 1)(rng);
    cluster.taskmanager(victim)->Kill(SIGKILL);
    cluster.taskmanager(victim)->Wait();
    ++kills;
    ASSERT_NO_FATAL_FAILURE(cluster.StartTaskManager(victim, 2));
  }
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

  Kills k;
  ASSERT_NO_FATAL_FAILURE(KillWhileRunning(cluster, job_id, p, kTaskManagers, &k));
  const int kills = k.taskmanagers, jm_kills = k.jobmanager;
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

// Kafka -> Kafka: the test produces ids into a 4-partition topic at a fixed rate while the
// job (Kafka source, running count per key, Kafka sink with delivery: exactly_once) runs and
// `faults` strike; once every key's final count is in the output topic, the job is canceled
// and the topic, read with isolation.level=read_committed, must hold every update exactly
// once. (The mock broker does not hide open transactions, but the sink writes nothing before
// its checkpoint completed, so whatever is in the topic was being committed.)
using KafkaFaults =
    std::function<void(Cluster&, const std::string& job_id, kafka::EmbeddedKafka& kafka)>;

void RunKafkaToKafka(const std::string& name, const KafkaFaults& faults) {
  const ChaosParams p = Params();
  const int64_t rows = std::min<int64_t>(p.rows, 300'000);  // the mock keeps ~100 k per partition
  auto kafka = kafka::EmbeddedKafka::Start(3);
  ASSERT_TRUE(kafka.ok()) << kafka.status();
  ASSERT_TRUE((*kafka)->CreateTopic("numbers", 4).ok());
  // Keys spread unevenly over partitions: 8 keep each well under the mock's ~100 k.
  ASSERT_TRUE((*kafka)->CreateTopic("counts", 8).ok());
  const std::string bootstrap = (*kafka)->bootstrap();

  Cluster cluster(name);
  cluster.UseHighAvailability();
  cluster.common_settings.push_back("kafka.bootstrap=" + bootstrap);
  ASSERT_NO_FATAL_FAILURE(cluster.Start(3, 2));
  const std::string spec = cluster.WriteFile("job.yaml", absl::StrCat(R"yaml(name: kafka-chaos
parallelism: 2
config: {buffer_timeout: 5ms}
checkpointing: {interval: 500ms, dir: )yaml", (cluster.dir() / "checkpoints").string(), R"yaml(, retained: 2}
restart: {strategy: fixed_delay, attempts: 100, delay: 200ms}
sources:
  - {name: numbers, connector: kafka, topic: numbers, group: chaos, format: json, schema: {id: int64}}
operators:
  - {name: keyed, input: numbers, select: {k: "id % )yaml", kKeys, R"yaml(", v: "id"}}
  - {name: sums, input: keyed, key_by: [k], aggregate: {n: "count(*)", total: "sum(v)"}}
sinks:
  - {name: out, input: sums, connector: kafka, topic: counts, format: json, key: [k], delivery: exactly_once}
)yaml"));
  CommandResult run = cluster.Sluice({"run", spec, "--detached", "--output", "json"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const std::string job_id = nlohmann::json::parse(run.output)["job_id"].get<std::string>();

  // The input, produced while the job runs (and faults strike).
  std::atomic<bool> stop{false};
  std::thread producer([&] {
    char error[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), error, sizeof error);
    rd_kafka_conf_set(conf, "enable.idempotence", "true", error, sizeof error);
    rd_kafka_conf_set(conf, "log_level", "3", error, sizeof error);
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
    const auto start = std::chrono::steady_clock::now();
    for (int64_t id = 0; id < rows && !stop; ++id) {
      const std::string value = absl::StrCat("{\"id\":", id, "}");
      while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("numbers"),
                               RD_KAFKA_V_PARTITION(static_cast<int32_t>(id % 4)),
                               RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                               RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                               RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        rd_kafka_poll(rk, 10);
      }
      rd_kafka_poll(rk, 0);
      // Rate limit: id should not run ahead of elapsed time.
      std::this_thread::sleep_until(start + std::chrono::microseconds(id * 1'000'000 / p.rows_per_second));
    }
    rd_kafka_flush(rk, 120'000);
    rd_kafka_destroy(rk);
  });
  faults(cluster, job_id, **kafka);
  producer.join();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());

  // The reference is what the input topic holds: under broker faults the test's own
  // (idempotent) producer may have written a record twice, and the job must then count it
  // twice - exactly once per input record.
  std::vector<int64_t> ids;
  for (const KafkaMessage& m : ReadTopic(bootstrap, "numbers")) {
    ids.push_back(nlohmann::json::parse(m.value)["id"].get<int64_t>());
  }
  std::set<int64_t> distinct(ids.begin(), ids.end());
  ASSERT_EQ(static_cast<int64_t>(distinct.size()), rows) << "the input topic lost records";
  std::printf("[%s] input records: %zu (%zu written twice by the test's producer)\n",
              name.c_str(), ids.size(), ids.size() - distinct.size());

  // Done when every key's last update (its count) is in the output.
  std::map<int64_t, int64_t> counts;  // k -> input records with that key
  for (int64_t id : ids) ++counts[id % kKeys];
  std::vector<nlohmann::json> output;
  const bool complete = WaitFor(
      [&] {
        output.clear();
        std::map<int64_t, int64_t> highest;
        for (const KafkaMessage& m : ReadTopic(bootstrap, "counts")) {
          output.push_back(nlohmann::json::parse(m.value));
          int64_t& n = highest[output.back()["k"].get<int64_t>()];
          n = std::max(n, output.back()["n"].get<int64_t>());
        }
        return highest == counts;
      },
      std::chrono::seconds(240));
  EXPECT_TRUE(complete) << cluster.JobInfo(job_id).dump(2);
  CommandResult cancel = cluster.Sluice({"cancel", job_id});
  EXPECT_EQ(cancel.exit_code, 0) << cancel.output;

  const ExactlyOnceCounts c = CheckKeyedCounts(output, ids, kKeys);
  nlohmann::json info = cluster.JobInfo(job_id);
  std::printf("[%s] restarts since the last JobManager start: %d, records checked: %lld, lost: "
              "%lld, duplicated: %lld\n",
              name.c_str(), info.is_object() && info.contains("summary")
                                ? info["summary"].value("restarts", 0)
                                : -1,
              static_cast<long long>(c.checked), static_cast<long long>(c.lost),
              static_cast<long long>(c.duplicated));
  EXPECT_EQ(c.lost, 0);
  EXPECT_EQ(c.duplicated, 0);
}

// Under kill -9s of TaskManagers and the JobManager (the chaos harness above).
TEST(ExactlyOnceKafkaTest, KafkaToKafkaLosesAndDuplicatesNothingUnderKills) {
  RunKafkaToKafka("exactly-once-kafka", [](Cluster& cluster, const std::string& job_id,
                                           kafka::EmbeddedKafka&) {
    Kills k;
    KillWhileRunning(cluster, job_id, Params(), 3, &k);
    std::printf("[exactly-once-kafka] kills survived: %d (TaskManagers %d, JobManager %d)\n",
                k.taskmanagers + k.jobmanager, k.taskmanagers, k.jobmanager);
    EXPECT_GE(k.taskmanagers, 1);
  });
}

// Under broker faults: one broker down and up again, every partition's leader moved to
// another broker, then every broker down at once for a second. Each fault comes after a
// checkpoint completed since the previous one; the job keeps going or restarts from its
// checkpoint.
TEST(ExactlyOnceKafkaTest, KafkaToKafkaSurvivesBrokerFaults) {
  RunKafkaToKafka("exactly-once-kafka-brokers", [](Cluster& cluster, const std::string& job_id,
                                                   kafka::EmbeddedKafka& kafka) {
    int64_t seen = 0;
    auto after_checkpoint = [&] {
      ASSERT_TRUE(WaitFor([&] { return LatestCompleted(cluster.JobInfo(job_id)) > seen; },
                          std::chrono::seconds(90)))
          << cluster.JobInfo(job_id).dump(2);
      seen = LatestCompleted(cluster.JobInfo(job_id));
    };
    ASSERT_NO_FATAL_FAILURE(after_checkpoint());
    ASSERT_TRUE(kafka.SetBrokerDown(2, true).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    ASSERT_TRUE(kafka.SetBrokerDown(2, false).ok());
    ASSERT_NO_FATAL_FAILURE(after_checkpoint());
    for (const auto& [topic, partitions] : {std::pair<std::string, int>{"numbers", 4}, {"counts", 8}}) {
      for (int p = 0; p < partitions; ++p) {
        ASSERT_TRUE(kafka.SetPartitionLeader(topic, p, 1 + (p + 1) % 3).ok());
      }
    }
    ASSERT_NO_FATAL_FAILURE(after_checkpoint());
    ASSERT_TRUE(kafka.SetBrokerDown(-1, true).ok());
    std::this_thread::sleep_for(std::chrono::seconds(1));
    ASSERT_TRUE(kafka.SetBrokerDown(-1, false).ok());
    ASSERT_NO_FATAL_FAILURE(after_checkpoint());
  });
}

}  // namespace
}  // namespace sluice::testing
