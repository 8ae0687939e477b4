// Avro with a schema registry on a real cluster (JobManager + TaskManagers as processes, the
// real CLI), with clients Sluice did not write on both ends of Kafka:
//   - the test encodes Confluent-framed Avro records itself (an encoder independent of
//     Sluice's), written with two versions of a registered schema (v2 adds a field with a
//     default), plus poison records (truncated, wrong magic byte, unknown schema id), and
//     kcat produces them;
//   - a bounded job reads them (avro-confluent, on_error: dead_letter), filters, and writes
//     avro-confluent to another topic exactly once, registering its own schema;
//   - kcat reads the output back as raw bytes and the test decodes it with the writer schema
//     it fetches from the registry by id; the rows must equal a brute-force reference, and the
//     dead-letter topic must hold exactly the three poison records with their reasons;
//   - a job without `schema:` takes its columns from the registry's latest schema.
// The same round trip in JSON: kcat produces JSON lines, the job writes JSON exactly once, kcat
// reads the committed output, and it must equal the brute-force reference.
// The registry is Sluice's own (SchemaRegistryServer, in this process, on a free port), the
// broker the embedded Kafka.
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cluster_harness.h"
#include "common/http/http_client.h"
#include "common/kafka/embedded_kafka.h"
#include "common/schema_registry/registry_server.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/kafka_test_util.h"

namespace sluice::testing {
namespace {

constexpr char kTxnV1[] = R"({"type": "record", "name": "Txn", "namespace": "acme", "fields": [
  {"name": "card", "type": "long"},
  {"name": "amount", "type": "double"},
  {"name": "country", "type": "string"},
  {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}}]})";
// v2 adds a field with a default: a BACKWARD-compatible change the job (reading v1's
// columns) must also read.
constexpr char kTxnV2[] = R"({"type": "record", "name": "Txn", "namespace": "acme", "fields": [
  {"name": "card", "type": "long"},
  {"name": "channel", "type": "string", "default": "web"},
  {"name": "amount", "type": "double"},
  {"name": "country", "type": "string"},
  {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}}]})";

struct Txn {
  int64_t card;
  double amount;
  std::string country;
  int64_t ts_ms;
};

// --- An Avro encoder and decoder written from the specification, independent of Sluice's.
void PutLong(int64_t v, std::string* out) {
  uint64_t z = (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  while (z >= 0x80) {
    out->push_back(static_cast<char>(z | 0x80));
    z >>= 7;
  }
  out->push_back(static_cast<char>(z));
}
void PutString(const std::string& s, std::string* out) {
  PutLong(static_cast<int64_t>(s.size()), out);
  out->append(s);
}
void PutDouble(double d, std::string* out) {
  char raw[8];
  std::memcpy(raw, &d, 8);
  out->append(raw, 8);
}
std::string Frame(int32_t id, const std::string& body) {
  std::string out(1, '\0');
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(id >> shift));
  return out + body;
}
std::string EncodeV1(const Txn& t) {
  std::string b;
  PutLong(t.card, &b);
  PutDouble(t.amount, &b);
  PutString(t.country, &b);
  PutLong(t.ts_ms, &b);
  return b;
}
std::string EncodeV2(const Txn& t, const std::string& channel) {
  std::string b;
  PutLong(t.card, &b);
  PutString(channel, &b);
  PutDouble(t.amount, &b);
  PutString(t.country, &b);
  PutLong(t.ts_ms, &b);
  return b;
}

struct Reader {
  const std::string& s;
  size_t pos = 0;
  int64_t Long() {
    uint64_t raw = 0;
    for (int shift = 0;; shift += 7) {
      const uint8_t b = static_cast<uint8_t>(s.at(pos++));
      raw |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) break;
    }
    return static_cast<int64_t>(raw >> 1) ^ -static_cast<int64_t>(raw & 1);
  }
  double Double() {
    double d;
    std::memcpy(&d, s.data() + pos, 8);
    pos += 8;
    return d;
  }
  std::string String() {
    const int64_t n = Long();
    std::string out = s.substr(pos, n);
    pos += n;
    return out;
  }
};

// A row of the job's output as text, decoded from `record` (Confluent framing) with the writer
// schema `schema` (the registry's JSON): every field is a ["null", T] union.
std::string DecodeOutput(const std::string& record, const nlohmann::json& schema) {
  Reader r{record, 5};
  std::string row;
  for (const nlohmann::json& field : schema["fields"]) {
    const std::string name = field["name"];
    const nlohmann::json& type = field["type"][1];
    absl::StrAppend(&row, row.empty() ? "" : ",", name, "=");
    if (r.Long() == 0) {
      row += "null";
      continue;
    }
    if (type == "long" || (type.is_object() && type["type"] == "long")) {
      absl::StrAppend(&row, r.Long());
    } else if (type == "double") {
      absl::StrAppend(&row, r.Double());
    } else {
      row += r.String();
    }
  }
  EXPECT_EQ(r.pos, record.size()) << "bytes left over";
  return row;
}

class KafkaFormatsClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto kafka = kafka::EmbeddedKafka::Start(1);
    ASSERT_TRUE(kafka.ok()) << kafka.status();
    kafka_ = *std::move(kafka);
    ASSERT_TRUE(kafka_->CreateTopic("txns", 2).ok());
    ASSERT_TRUE(kafka_->CreateTopic("out", 2).ok());
    ASSERT_TRUE(kafka_->CreateTopic("dlq", 1).ok());
    registry_dir_ = std::filesystem::temp_directory_path() /
                    ("sluice-it-registry-" + std::to_string(getpid()));
    std::filesystem::remove_all(registry_dir_);
    schema_registry::SchemaRegistryServerOptions options;
    options.port = 0;
    options.dir = registry_dir_.string();
    auto registry = schema_registry::SchemaRegistryServer::Start(options);
    ASSERT_TRUE(registry.ok()) << registry.status();
    registry_ = *std::move(registry);
  }
  void TearDown() override {
    registry_.reset();
    std::filesystem::remove_all(registry_dir_);
  }

  std::string RegistryAddress() const { return absl::StrCat("127.0.0.1:", registry_->port()); }

  // POST /subjects/{subject}/versions: the id.
  int32_t Register(const std::string& subject, const std::string& schema) {
    auto r = http::HttpCall("POST", RegistryAddress(), "/subjects/" + subject + "/versions",
                            nlohmann::json({{"schema", schema}}).dump());
    EXPECT_TRUE(r.ok() && r->status == 200) << (r.ok() ? r->body : r.status().ToString());
    return r.ok() ? nlohmann::json::parse(r->body).value("id", -1) : -1;
  }
  nlohmann::json SchemaById(int32_t id) {
    auto r = http::HttpCall("GET", RegistryAddress(), absl::StrCat("/schemas/ids/", id));
    EXPECT_TRUE(r.ok() && r->status == 200);
    return nlohmann::json::parse(nlohmann::json::parse(r->body)["schema"].get<std::string>());
  }

  std::unique_ptr<kafka::EmbeddedKafka> kafka_;
  std::filesystem::path registry_dir_;
  std::unique_ptr<schema_registry::SchemaRegistryServer> registry_;
};

TEST_F(KafkaFormatsClusterTest, AvroConfluentThroughKcatWithEvolutionAndDeadLetters) {
  Cluster cluster("kafka-avro");
  cluster.common_settings.push_back("kafka.bootstrap=" + kafka_->bootstrap());
  cluster.common_settings.push_back("kafka.registry=http://" + RegistryAddress());
  cluster.Start(/*taskmanagers=*/2, /*slots=*/2);

  const int32_t v1 = Register("txns-value", kTxnV1);
  const int32_t v2 = Register("txns-value", kTxnV2);
  ASSERT_GT(v1, 0);
  ASSERT_NE(v1, v2);

  // 600 records per partition, v1 and v2 mixed, and the poison records in partition 1.
  std::mt19937_64 rng(11);
  const char* countries[] = {"NL", "DE", "FR"};
  std::multiset<std::string> want;
  std::vector<std::vector<std::string>> messages(2);
  for (int i = 0; i < 1200; ++i) {
    Txn t{static_cast<int64_t>(rng() % 50), static_cast<double>(rng() % 20000) / 8,
          countries[rng() % 3], 1'795'000'000'000 + i};
    messages[i % 2].push_back(i % 3 == 0 ? Frame(v2, EncodeV2(t, "pos")) : Frame(v1, EncodeV1(t)));
    if (t.amount > 100) {
      want.insert(absl::StrCat("card=", t.card, ",amount=", t.amount, ",country=", t.country,
                               ",ts=", t.ts_ms * 1000));
    }
  }
  const std::string truncated = Frame(v1, EncodeV1({7, 1.5, "NL", 1}).substr(0, 6));
  const std::string wrong_magic = "{\"card\": 7}";
  const std::string unknown_id = Frame(9999, EncodeV1({7, 1.5, "NL", 1}));
  messages[1].insert(messages[1].begin() + 10, truncated);
  messages[1].insert(messages[1].begin() + 20, wrong_magic);
  messages[1].insert(messages[1].begin() + 30, unknown_id);
  // kcat sends each file given after -P as one message.
  for (int p = 0; p < 2; ++p) {
    std::vector<std::string> argv = {"/usr/bin/kcat", "-P", "-b", kafka_->bootstrap(), "-t",
                                     "txns", "-p", std::to_string(p)};
    for (size_t m = 0; m < messages[p].size(); ++m) {
      argv.push_back(cluster.WriteFile(absl::StrCat("msg-", p, "-", m), messages[p][m]));
    }
    Process kcat(argv, (cluster.dir() / absl::StrCat("kcat-", p, ".log")).string());
    ASSERT_EQ(kcat.Wait(), 0) << kcat.Log();
  }

  const std::string job = R"yaml(name: avro-big
parallelism: 2
checkpointing: {interval: 500ms}
sources:
  - name: txns
    connector: kafka
    topic: txns
    format: avro-confluent
    schema: {card: int64, amount: float64, country: string, ts: timestamp}
    stop_at: latest
    on_error: dead_letter
    dead_letter: {topic: dlq}
operators:
  - {name: big, input: txns, filter: "amount > 100"}
sinks:
  - name: out
    input: big
    connector: kafka
    topic: out
    key: [card]
    format: avro-confluent
    format_options: {record_name: acme.BigTxn}
    delivery: exactly_once
)yaml";
  CommandResult run = cluster.Sluice({"run", cluster.WriteFile("job.yaml", job)});
  ASSERT_EQ(run.exit_code, 0) << run.output;

  // The output, read by kcat as raw bytes: "<size>:<bytes>" per message.
  const std::string out_log = (cluster.dir() / "out.bin").string();
  Process reader({"/usr/bin/kcat", "-C", "-b", kafka_->bootstrap(), "-t", "out", "-e", "-q",
                  "-X", "isolation.level=read_committed", "-f", "%S:%s"},
                 out_log);
  ASSERT_EQ(reader.Wait(), 0) << reader.Log();
  const std::string raw = reader.Log();
  std::multiset<std::string> got;
  std::map<int32_t, nlohmann::json> schemas;
  for (size_t pos = 0; pos < raw.size();) {
    const size_t colon = raw.find(':', pos);
    ASSERT_NE(colon, std::string::npos) << raw.substr(pos, 100);
    const size_t size = std::stoul(raw.substr(pos, colon - pos));
    const std::string record = raw.substr(colon + 1, size);
    pos = colon + 1 + size;
    ASSERT_GE(record.size(), 5u);
    ASSERT_EQ(record[0], '\0');
    int32_t id = 0;
    for (int i = 1; i <= 4; ++i) id = id << 8 | static_cast<uint8_t>(record[i]);
    if (!schemas.count(id)) schemas[id] = SchemaById(id);
    got.insert(DecodeOutput(record, schemas[id]));
  }
  EXPECT_EQ(got.size(), want.size());
  EXPECT_TRUE(got == want);
  ASSERT_EQ(schemas.size(), 1u);
  EXPECT_EQ(schemas.begin()->second["name"], "BigTxn");

  // The sink registered its value and key schemas under the topic's subjects.
  auto subjects = http::HttpCall("GET", RegistryAddress(), "/subjects");
  ASSERT_TRUE(subjects.ok());
  EXPECT_THAT(nlohmann::json::parse(subjects->body).get<std::vector<std::string>>(),
              ::testing::UnorderedElementsAre("txns-value", "out-value", "out-key"));

  // Exactly the three poison records went to the dead-letter topic, with their reasons.
  std::vector<KafkaMessage> dead = ReadTopic(kafka_->bootstrap(), "dlq");
  ASSERT_EQ(dead.size(), 3u);
  std::map<std::string, std::string> reasons;
  for (const KafkaMessage& m : dead) reasons[m.value] = m.headers.at("sluice.error");
  EXPECT_THAT(reasons[truncated], ::testing::HasSubstr("truncated record"));
  EXPECT_THAT(reasons[wrong_magic], ::testing::HasSubstr("wrong magic byte 0x7b"));
  EXPECT_THAT(reasons[unknown_id], ::testing::HasSubstr("schema id 9999"));
  EXPECT_EQ(dead[0].headers.at("sluice.location").rfind("topic txns partition 1 offset ", 0), 0u);

  // A job with `registry:` and no `schema:` takes its columns from the latest txns-value
  // schema (v2, with `channel`) when `sluice run` plans it: v2 records carry their channel,
  // v1 records (without the field) read it as null.
  const std::string out_dir = (cluster.dir() / "from-registry").string();
  const std::string from_registry = absl::StrCat(R"yaml(name: avro-columns
parallelism: 1
sources:
  - name: txns
    connector: kafka
    topic: txns
    format: avro-confluent
    registry: http://)yaml", RegistryAddress(), R"yaml(
    stop_at: latest
    on_error: skip
sinks:
  - {name: out, input: txns, connector: file, path: )yaml", out_dir, R"yaml(, format: json}
)yaml");
  run = cluster.Sluice({"run", cluster.WriteFile("columns.yaml", from_registry)});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::map<std::string, int> channels;  // "pos" / "null" -> rows
  size_t rows = 0;
  for (const auto& entry : std::filesystem::directory_iterator(out_dir)) {
    std::ifstream in(entry.path());
    std::string line;
    while (std::getline(in, line)) {
      const nlohmann::json row = nlohmann::json::parse(line);
      ASSERT_EQ(row.size(), 5u) << line;  // card, channel, amount, country, ts
      ++rows;
      ++channels[row["channel"].is_null() ? "null" : row["channel"].get<std::string>()];
    }
  }
  EXPECT_EQ(rows, 1200u);
  EXPECT_EQ(channels["pos"], 400);   // every third record was written with v2
  EXPECT_EQ(channels["null"], 800);
}

TEST_F(KafkaFormatsClusterTest, JsonThroughKcatBothWays) {
  Cluster cluster("kafka-json");
  cluster.common_settings.push_back("kafka.bootstrap=" + kafka_->bootstrap());
  cluster.Start(/*taskmanagers=*/2, /*slots=*/2);
  std::mt19937_64 rng(5);
  std::vector<std::string> lines(2);
  std::multiset<std::string> want;
  for (int i = 0; i < 2000; ++i) {
    const int64_t card = static_cast<int64_t>(rng() % 40), amount = static_cast<int64_t>(rng() % 300);
    absl::StrAppend(&lines[i % 2], R"({"card":)", card, R"(,"amount":)", amount, "}\n");
    if (amount > 100) want.insert(absl::StrCat(card, "|", amount * 2));
  }
  for (int p = 0; p < 2; ++p) {
    Process kcat({"/usr/bin/kcat", "-P", "-b", kafka_->bootstrap(), "-t", "txns", "-p",
                  std::to_string(p), "-l", cluster.WriteFile(absl::StrCat("in-", p), lines[p])},
                 (cluster.dir() / absl::StrCat("kcat-", p, ".log")).string());
    ASSERT_EQ(kcat.Wait(), 0) << kcat.Log();
  }
  const std::string job = R"yaml(name: json-big
parallelism: 2
checkpointing: {interval: 500ms}
sources:
  - {name: txns, connector: kafka, topic: txns, format: json, stop_at: latest,
     schema: {card: int64, amount: int64}}
operators:
  - {name: big, input: txns, filter: "amount > 100"}
  - {name: doubled, input: big, select: [card, "amount * 2 as amount"]}
sinks:
  - {name: out, input: doubled, connector: kafka, topic: out, key: [card], format: json,
     delivery: exactly_once}
)yaml";
  CommandResult run = cluster.Sluice({"run", cluster.WriteFile("job.yaml", job)});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  Process reader({"/usr/bin/kcat", "-C", "-b", kafka_->bootstrap(), "-t", "out", "-e", "-q",
                  "-X", "isolation.level=read_committed", "-f", "%k %s\n"},
                 (cluster.dir() / "out.txt").string());
  ASSERT_EQ(reader.Wait(), 0) << reader.Log();
  std::multiset<std::string> got;
  std::istringstream in(reader.Log());
  std::string line;
  while (std::getline(in, line)) {
    const size_t space = line.find(' ');
    ASSERT_NE(space, std::string::npos) << line;
    const nlohmann::json key = nlohmann::json::parse(line.substr(0, space));
    const nlohmann::json value = nlohmann::json::parse(line.substr(space + 1));
    EXPECT_EQ(key["card"], value["card"]);  // the key is the key columns in the same format
    got.insert(absl::StrCat(value["card"].get<int64_t>(), "|", value["amount"].get<int64_t>()));
  }
  EXPECT_EQ(got.size(), want.size());
  EXPECT_TRUE(got == want);
}

}  // namespace
}  // namespace sluice::testing
