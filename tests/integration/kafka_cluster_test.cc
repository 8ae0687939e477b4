// The Kafka source on a real cluster (JobManager + TaskManagers as processes, the real CLI)
// reading a Kafka-protocol broker (librdkafka's mock cluster served from this test process)
// that kcat, a client Sluice did not write, fills with JSON records over 4 partitions. The
// jobs name no bootstrap: the JobManager's kafka.bootstrap (what `sluice local --kafka` sets)
// fills it in.
// 1. A bounded job (stop_at: latest) kafka -> filter -> key_by aggregate -> file sink at
//    source parallelism 3: its rows equal a brute-force reference.
// 2. The same job unbounded with checkpoints and a group: the output reaches the reference,
//    and the group's committed offsets (read with librdkafka, as any Kafka tool would) reach
//    the end of every partition; then the job is canceled.
// 3. Stop with a savepoint at parallelism 3, resume at 2: exactly once over both runs.
#include <map>
#include <random>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/kafka/embedded_kafka.h"
#include "librdkafka/rdkafka.h"
#include "tests/integration/cluster_harness.h"
#include "tests/integration/keyed_count_job.h"

namespace sluice::testing {
namespace {

constexpr int kPartitions = 4;

struct Txn {
  int64_t card, amount;
};

std::vector<Txn> MakeTxns(uint64_t seed, int n) {
  std::mt19937_64 rng(seed);
  std::vector<Txn> txns;
  for (int i = 0; i < n; ++i) {
    txns.push_back({static_cast<int64_t>(rng() % 17), static_cast<int64_t>(rng() % 500)});
  }
  return txns;
}

// The running aggregate's rows: for each card with big (> 100) amounts, n = 1..N; only the
// row with n = N has a total every interleaving agrees on (the card's sum).
struct Reference {
  std::set<std::string> counts;  // "card|n"
  std::set<std::string> finals;  // "card|N|total"
};

Reference ReferenceOf(const std::vector<Txn>& txns) {
  std::map<int64_t, std::pair<int64_t, int64_t>> per_card;  // n, total
  for (const Txn& t : txns) {
    if (t.amount <= 100) continue;
    auto& [n, total] = per_card[t.card];
    ++n;
    total += t.amount;
  }
  Reference ref;
  for (const auto& [card, acc] : per_card) {
    for (int64_t i = 1; i <= acc.first; ++i) ref.counts.insert(absl::StrCat(card, "|", i));
    ref.finals.insert(absl::StrCat(card, "|", acc.first, "|", acc.second));
  }
  return ref;
}

// The committed rows of the file sink in `dir`, as a Reference (empty when there is none).
Reference ReadOutput(const std::filesystem::path& dir, size_t* rows) {
  Reference out;
  *rows = 0;
  std::map<int64_t, std::pair<int64_t, int64_t>> last;  // card -> highest n, its total
  if (!std::filesystem::exists(dir)) return out;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().filename().string().rfind("part-", 0) != 0) continue;  // in-progress files
    std::ifstream in(entry.path());
    std::string line;
    while (std::getline(in, line)) {
      nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_object()) continue;
      ++*rows;
      const int64_t card = j["card"].get<int64_t>(), n = j["n"].get<int64_t>();
      out.counts.insert(absl::StrCat(card, "|", n));
      if (n > last[card].first) last[card] = {n, j["total"].get<int64_t>()};
    }
  }
  for (const auto& [card, acc] : last) out.finals.insert(absl::StrCat(card, "|", acc.first, "|", acc.second));
  return out;
}

struct JobOptions {
  std::string out_dir;
  bool bounded = false;      // stop_at: latest
  int parallelism = 2;       // the job's
  int source_parallelism = 3;  // 0: the job's (the source then chains with the filter)
  std::string group = "totals";
  std::string checkpoints;   // checkpointing.dir; empty: no checkpoints
};

std::string Job(const JobOptions& o) {
  std::string checkpointing;
  if (!o.checkpoints.empty()) {
    checkpointing = absl::StrCat("checkpointing: {interval: 300ms, dir: ", o.checkpoints, "}\n");
  }
  return absl::StrCat("name: kafka-totals\nparallelism: ", o.parallelism, "\n", checkpointing,
                      R"yaml(sources:
  - name: txns
    connector: kafka
    topic: txns
    format: json
    schema: {card: int64, amount: int64}
)yaml",
                      "    group: ", o.group, "\n",
                      o.source_parallelism > 0 ? absl::StrCat("    parallelism: ", o.source_parallelism, "\n") : "",
                      o.bounded ? "    stop_at: latest\n" : "", R"yaml(operators:
  - {name: big, input: txns, filter: "amount > 100"}
  - name: per_card
    input: big
    key_by: [card]
    aggregate: {n: "count(*)", total: "sum(amount)"}
sinks:
  - {name: out, input: per_card, connector: file, path: )yaml", o.out_dir, R"yaml(, format: json}
)yaml");
}

class KafkaSourceClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto kafka = kafka::EmbeddedKafka::Start(1);
    ASSERT_TRUE(kafka.ok()) << kafka.status();
    kafka_ = *std::move(kafka);
    ASSERT_TRUE(kafka_->CreateTopic("txns", kPartitions).ok());
  }

  // kcat produces `txns` as JSON lines, round robin over the partitions (one kcat per
  // partition). Returns the records per partition.
  std::vector<int64_t> ProduceWithKcat(Cluster& cluster, const std::vector<Txn>& txns) {
    std::vector<std::string> data(kPartitions);
    std::vector<int64_t> counts(kPartitions, 0);
    for (size_t i = 0; i < txns.size(); ++i) {
      absl::StrAppend(&data[i % kPartitions], R"({"card":)", txns[i].card, R"(,"amount":)",
                      txns[i].amount, "}\n");
      ++counts[i % kPartitions];
    }
    for (int p = 0; p < kPartitions; ++p) {
      const std::string file = cluster.WriteFile(absl::StrCat("kcat-", p, ".jsonl"), data[p]);
      Process kcat({"/usr/bin/kcat", "-P", "-b", kafka_->bootstrap(), "-t", "txns", "-p",
                    std::to_string(p), "-l", file},
                   (cluster.dir() / absl::StrCat("kcat-", p, ".log")).string());
      EXPECT_EQ(kcat.Wait(), 0) << kcat.Log();
    }
    return counts;
  }

  // The group's committed offset per partition (-1001: none), as any Kafka tool reads it.
  std::vector<int64_t> Committed(const std::string& group) {
    char error[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", kafka_->bootstrap().c_str(), error, sizeof(error));
    rd_kafka_conf_set(conf, "group.id", group.c_str(), error, sizeof(error));
    rd_kafka_t* reader = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof(error));
    std::vector<int64_t> offsets(kPartitions, -1001);
    if (reader == nullptr) return offsets;
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(kPartitions);
    for (int p = 0; p < kPartitions; ++p) rd_kafka_topic_partition_list_add(list, "txns", p);
    if (rd_kafka_committed(reader, list, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      for (int i = 0; i < list->cnt; ++i) offsets[list->elems[i].partition] = list->elems[i].offset;
    }
    rd_kafka_topic_partition_list_destroy(list);
    rd_kafka_destroy(reader);
    return offsets;
  }

  void StartCluster(Cluster& cluster) {
    cluster.common_settings.push_back("kafka.bootstrap=" + kafka_->bootstrap());
    cluster.Start(/*taskmanagers=*/2, /*slots=*/3);
  }

  std::unique_ptr<kafka::EmbeddedKafka> kafka_;
};

TEST_F(KafkaSourceClusterTest, BoundedJobMatchesTheReference) {
  Cluster cluster("kafka-bounded");
  StartCluster(cluster);
  const std::vector<Txn> txns = MakeTxns(42, 4000);
  ProduceWithKcat(cluster, txns);
  const std::string out = (cluster.dir() / "out").string();
  CommandResult run =
      cluster.Sluice({"run", cluster.WriteFile("job.yaml", Job({.out_dir = out, .bounded = true}))});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  size_t rows = 0;
  const Reference got = ReadOutput(out, &rows);
  const Reference want = ReferenceOf(txns);
  EXPECT_EQ(rows, want.counts.size());
  EXPECT_EQ(got.counts, want.counts);
  EXPECT_EQ(got.finals, want.finals);
}

TEST_F(KafkaSourceClusterTest, UnboundedJobCommitsCheckpointedOffsetsToItsGroup) {
  Cluster cluster("kafka-unbounded");
  StartCluster(cluster);
  const std::vector<Txn> txns = MakeTxns(7, 3000);
  const std::vector<int64_t> ends = ProduceWithKcat(cluster, txns);
  const std::string out = (cluster.dir() / "out").string();
  const std::string spec = cluster.WriteFile(
      "job.yaml", Job({.out_dir = out, .checkpoints = (cluster.dir() / "checkpoints").string()}));
  CommandResult run = cluster.Sluice({"run", spec, "--detached", "--output", "json"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const std::string job_id = nlohmann::json::parse(run.output)["job_id"].get<std::string>();
  const Reference want = ReferenceOf(txns);
  size_t rows = 0;
  Reference got;
  EXPECT_TRUE(WaitFor(
      [&] {
        got = ReadOutput(out, &rows);
        return rows == want.counts.size() && got.counts == want.counts;
      },
      std::chrono::seconds(90)))
      << rows << " rows of " << want.counts.size();
  EXPECT_EQ(got.finals, want.finals);
  std::vector<int64_t> committed;
  EXPECT_TRUE(WaitFor([&] { return (committed = Committed("totals")) == ends; },
                      std::chrono::seconds(30)))
      << "committed " << ::testing::PrintToString(committed) << ", ends "
      << ::testing::PrintToString(ends);
  CommandResult cancel = cluster.Sluice({"cancel", job_id});
  EXPECT_EQ(cancel.exit_code, 0) << cancel.output;
}

// Stop with a savepoint at parallelism 3, more records, resume at parallelism 2 (bounded):
// every subtask of the resumed source gets every old subtask's offsets (union state) and
// keeps its partitions', so the output is exactly that of one run over all records.
TEST_F(KafkaSourceClusterTest, ResumeFromASavepointAtAnotherParallelismIsExactlyOnce) {
  Cluster cluster("kafka-rescale");
  StartCluster(cluster);
  const std::vector<Txn> txns = MakeTxns(11, 4000);
  const std::vector<Txn> first(txns.begin(), txns.begin() + 2000);
  const std::vector<Txn> second(txns.begin() + 2000, txns.end());
  const std::vector<int64_t> first_ends = ProduceWithKcat(cluster, first);
  JobOptions options{.out_dir = (cluster.dir() / "out").string(),
                     .parallelism = 3,
                     .source_parallelism = 0,
                     .group = "rescale",
                     .checkpoints = (cluster.dir() / "checkpoints").string()};
  CommandResult run = cluster.Sluice(
      {"run", cluster.WriteFile("job.yaml", Job(options)), "--detached", "--output", "json"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const std::string job_id = nlohmann::json::parse(run.output)["job_id"].get<std::string>();
  // Everything produced so far was read and checkpointed.
  ASSERT_TRUE(WaitFor([&] { return Committed("rescale") == first_ends; }, std::chrono::seconds(60)));
  CommandResult stop = cluster.Sluice(
      {"stop", job_id, "--savepoint-dir", (cluster.dir() / "sp").string(), "--output", "json"});
  ASSERT_EQ(stop.exit_code, 0) << stop.output;
  const std::string savepoint = JsonOf(stop)["path"].get<std::string>();

  ProduceWithKcat(cluster, second);
  options.bounded = true;
  CommandResult resumed = cluster.Sluice({"run", cluster.WriteFile("resume.yaml", Job(options)),
                                          "--from-savepoint", savepoint, "--parallelism", "2"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  size_t rows = 0;
  const Reference got = ReadOutput(options.out_dir, &rows);
  const Reference want = ReferenceOf(txns);
  EXPECT_EQ(rows, want.counts.size());
  EXPECT_EQ(got.counts, want.counts);
  EXPECT_EQ(got.finals, want.finals);
}

}  // namespace
}  // namespace sluice::testing
