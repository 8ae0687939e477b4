// The Kafka sink against librdkafka's mock cluster, read back by an independent consumer:
// values and keys in the format, at_least_once delivers everything by the checkpoint,
// exactly_once writes a checkpoint's rows only when it completes, and a restore writes the
// uncommitted rows of its checkpoint exactly once, whether the failure came before, after or
// in the middle of the commit, also for a writer taken over at another parallelism.
#include "taskmanager/connectors/kafka_sink.h"

#include <algorithm>
#include <map>
#include <filesystem>
#include <fstream>
#include <set>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "common/kafka/embedded_kafka.h"
#include "tests/common/fake_schema_registry.h"
#include "tests/kafka_test_util.h"
#include "tests/test_dirs.h"
#include "tests/taskmanager/operator_test_util.h"

namespace sluice::taskmanager::connectors {
namespace {

using ::sluice::testing::KafkaMessage;
using ::sluice::testing::ReadTopic;
using types::RecordBatch;
using types::TypeId;

const types::Schema kSchema({{"card", TypeId::kInt64}, {"amount", TypeId::kFloat64},
                             {"country", TypeId::kString}});

proto::OperatorSpec SinkSpec(const std::string& bootstrap, const std::string& delivery,
                             const std::string& format = "json") {
  proto::OperatorSpec spec;
  spec.set_name("alerts");
  *spec.mutable_input_schema() = kSchema.ToProto();
  proto::KafkaSinkSpec* kafka = spec.mutable_kafka_sink();
  kafka->set_topic("alerts");
  kafka->set_bootstrap(bootstrap);
  kafka->mutable_format()->set_name(format);
  kafka->add_key_columns("card");
  kafka->set_delivery(delivery);
  kafka->set_transactional_id_prefix("job-alerts");
  (*kafka->mutable_properties())["log_level"] = "3";
  return spec;
}

// Rows first..first+n-1: card i % 7, amount i + 0.5, country "c<i>".
RecordBatch Rows(int first, int n) {
  RecordBatch batch(std::make_shared<const types::Schema>(kSchema));
  for (int i = first; i < first + n; ++i) {
    batch.mutable_column(0).AppendInt(i % 7);
    batch.mutable_column(1).AppendDouble(i + 0.5);
    batch.mutable_column(2).AppendString(absl::StrCat("c", i));
  }
  batch.SetNumRows(n);
  return batch;
}

std::string Value(int i) {
  return absl::StrCat("{\"card\":", i % 7, ",\"amount\":", i, ".5,\"country\":\"c", i, "\"}");
}

// The values read back, sorted.
std::vector<std::string> Values(const std::vector<KafkaMessage>& messages) {
  std::vector<std::string> values;
  for (const KafkaMessage& m : messages) values.push_back(m.value);
  std::sort(values.begin(), values.end());
  return values;
}

std::vector<std::string> ValuesOf(int first, int n) {
  std::vector<std::string> values;
  for (int i = first; i < first + n; ++i) values.push_back(Value(i));
  std::sort(values.begin(), values.end());
  return values;
}

class KafkaSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto kafka = kafka::EmbeddedKafka::Start(3);
    ASSERT_TRUE(kafka.ok()) << kafka.status();
    kafka_ = *std::move(kafka);
    ASSERT_TRUE(kafka_->CreateTopic("alerts", 3).ok());
  }

  std::vector<KafkaMessage> ReadAll() { return ReadTopic(kafka_->bootstrap(), "alerts"); }

  std::unique_ptr<KafkaSink> Open(const std::string& delivery, int subtask = 0,
                                  const std::map<std::string, std::string>& properties = {}) {
    proto::OperatorSpec spec = SinkSpec(kafka_->bootstrap(), delivery);
    for (const auto& [key, value] : properties) {
      (*spec.mutable_kafka_sink()->mutable_properties())[key] = value;
    }
    auto sink = KafkaSink::Create(spec);
    EXPECT_TRUE(sink.ok()) << sink.status();
    if (!sink.ok()) return nullptr;
    OperatorContext ctx;
    ctx.subtask = subtask;
    ctx.checkpointing = true;
    absl::Status s = (*sink)->Open(ctx);
    EXPECT_TRUE(s.ok()) << s;
    return *std::move(sink);
  }

  // A sink restored from `states` (operator state entries) of checkpoint `checkpoint`.
  std::unique_ptr<KafkaSink> Restore(const std::vector<std::string>& states, int64_t checkpoint,
                                     int subtask = 0) {
    std::unique_ptr<KafkaSink> sink = Open("exactly_once", subtask);
    StateInitContext ctx;
    ctx.restored = true;
    ctx.checkpoint_id = checkpoint;
    ctx.operator_state = states;
    absl::Status s = sink->InitializeState(ctx);
    EXPECT_TRUE(s.ok()) << s;
    return sink;
  }

  void Process(KafkaSink& sink, int first, int n) {
    RecordBatch batch = Rows(first, n);
    ::sluice::taskmanager::testing::RowCollector out;
    ASSERT_TRUE(sink.ProcessBatch(0, batch, out).ok());
  }

  std::unique_ptr<kafka::EmbeddedKafka> kafka_;
};

TEST_F(KafkaSinkTest, AtLeastOnceDeliversEveryRowByTheCheckpointWithItsKey) {
  std::unique_ptr<KafkaSink> sink = Open("at_least_once");
  ASSERT_NE(sink, nullptr);
  Process(*sink, 0, 500);
  absl::StatusOr<std::string> state = sink->SnapshotState(1);
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_TRUE(state->empty());
  const std::vector<KafkaMessage> messages = ReadAll();
  EXPECT_EQ(Values(messages), ValuesOf(0, 500));
  // The key is the key columns in the format; equal keys share a partition.
  std::map<std::string, std::set<int>> partitions_of_key;
  for (const KafkaMessage& m : messages) {
    ASSERT_TRUE(m.has_key);
    EXPECT_EQ(m.value.rfind(absl::StrCat("{\"card\":", m.key.substr(8, m.key.size() - 9), ","), 0),
              0u)
        << m.key << " " << m.value;
    partitions_of_key[m.key].insert(m.partition);
    EXPECT_EQ(m.id, "");
  }
  EXPECT_EQ(partitions_of_key.size(), 7u);
  for (const auto& [key, partitions] : partitions_of_key) EXPECT_EQ(partitions.size(), 1u) << key;
  EXPECT_TRUE(sink->Close().ok());
}

// A batch is handed to librdkafka in one rd_kafka_produce_batch call; when its queue is full
// part way through, the sink waits for room and sends the rest: nothing lost or doubled.
TEST_F(KafkaSinkTest, AtLeastOnceWaitsForRoomWhenLibrdkafkasQueueIsFull) {
  std::unique_ptr<KafkaSink> sink =
      Open("at_least_once", 0, {{"queue.buffering.max.messages", "40"}});
  ASSERT_NE(sink, nullptr);
  Process(*sink, 0, 1000);
  Process(*sink, 1000, 7);
  absl::StatusOr<std::string> state = sink->SnapshotState(1);
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(Values(ReadAll()), ValuesOf(0, 1007));
  EXPECT_TRUE(sink->Close().ok());
}

TEST_F(KafkaSinkTest, ExactlyOnceWritesACheckpointsRowsWhenItCompletes) {
  std::unique_ptr<KafkaSink> sink = Open("exactly_once");
  ASSERT_NE(sink, nullptr);
  EXPECT_EQ(sink->writer(), "job-alerts-0");
  Process(*sink, 0, 100);
  ASSERT_TRUE(sink->SnapshotState(1).ok());
  Process(*sink, 100, 50);  // after the barrier: belongs to checkpoint 2
  EXPECT_TRUE(ReadAll().empty());  // nothing before the checkpoint completes
  ASSERT_TRUE(sink->NotifyCheckpointComplete(1).ok());
  std::vector<KafkaMessage> messages = ReadAll();
  EXPECT_EQ(Values(messages), ValuesOf(0, 100));
  for (const KafkaMessage& m : messages) EXPECT_EQ(m.id.rfind("job-alerts-0/1/", 0), 0u) << m.id;
  EXPECT_EQ(sink->pending_rows(), 50u);
  ASSERT_TRUE(sink->SnapshotState(2).ok());
  ASSERT_TRUE(sink->NotifyCheckpointComplete(2).ok());
  EXPECT_EQ(Values(ReadAll()), ValuesOf(0, 150));
  // The end of a bounded input commits the rest.
  Process(*sink, 150, 10);
  ::sluice::taskmanager::testing::RowCollector out;
  ASSERT_TRUE(sink->Finish(out).ok());
  EXPECT_EQ(Values(ReadAll()), ValuesOf(0, 160));
  EXPECT_EQ(sink->pending_rows(), 0u);
}

// Checkpoint 2 completed, but the sink failed before committing its rows: the restored sink
// commits them.
TEST_F(KafkaSinkTest, RestoreCommitsRowsWhoseTransactionNeverHappened) {
  std::string state;
  {
    std::unique_ptr<KafkaSink> sink = Open("exactly_once");
    Process(*sink, 0, 40);
    ASSERT_TRUE(sink->SnapshotState(1).ok());
    ASSERT_TRUE(sink->NotifyCheckpointComplete(1).ok());
    Process(*sink, 40, 60);
    absl::StatusOr<std::string> s = sink->SnapshotState(2);
    ASSERT_TRUE(s.ok());
    state = *s;
    Process(*sink, 100, 5);  // after checkpoint 2: the restored job emits them again
  }  // killed: no notification for checkpoint 2
  std::unique_ptr<KafkaSink> restored = Restore({state}, 2);
  EXPECT_EQ(Values(ReadAll()), ValuesOf(0, 100));
  EXPECT_EQ(restored->pending_rows(), 0u);
}

// The transaction of checkpoint 2 committed, then the sink failed before the next
// checkpoint: restored from checkpoint 2 (whose state still lists those rows), nothing is
// written twice.
TEST_F(KafkaSinkTest, RestoreSkipsRowsCommittedBeforeTheFailure) {
  std::string state;
  {
    std::unique_ptr<KafkaSink> sink = Open("exactly_once");
    Process(*sink, 0, 70);
    absl::StatusOr<std::string> s = sink->SnapshotState(2);
    ASSERT_TRUE(s.ok());
    state = *s;
    ASSERT_TRUE(sink->NotifyCheckpointComplete(2).ok());
  }
  std::unique_ptr<KafkaSink> restored = Restore({state}, 2);
  EXPECT_EQ(Values(ReadAll()), ValuesOf(0, 70));
}

// Part of a transaction is visible (the mock broker shows messages of open transactions, as
// if the commit had been cut in the middle): only the rest is written.
TEST_F(KafkaSinkTest, RestoreWritesOnlyTheMessagesThatAreMissing) {
  std::string state;
  {
    std::unique_ptr<KafkaSink> sink = Open("exactly_once");
    Process(*sink, 0, 30);
    absl::StatusOr<std::string> s = sink->SnapshotState(3);
    ASSERT_TRUE(s.ok());
    state = *s;
  }
  // Messages 0..9 of checkpoint 3 as the failed commit left them.
  proto::KafkaSinkState parsed;
  ASSERT_TRUE(parsed.ParseFromString(state));
  ASSERT_EQ(parsed.pending_size(), 1);
  {
    proto::KafkaSinkState partial = parsed;
    proto::KafkaSinkState::Records* r = partial.mutable_pending(0);
    const uint32_t value_end = r->value_ends(9), key_end = r->key_ends(9);
    r->mutable_values()->resize(value_end);
    r->mutable_keys()->resize(key_end);
    r->mutable_value_ends()->Truncate(10);
    r->mutable_key_ends()->Truncate(10);
    partial.set_writer("job-alerts-0");
    std::unique_ptr<KafkaSink> writer = Restore({partial.SerializeAsString()}, 3);
  }
  ASSERT_EQ(ReadAll().size(), 10u);
  std::unique_ptr<KafkaSink> restored = Restore({state}, 3);
  const std::vector<KafkaMessage> messages = ReadAll();
  EXPECT_EQ(Values(messages), ValuesOf(0, 30));
  std::set<std::string> ids;
  for (const KafkaMessage& m : messages) EXPECT_TRUE(ids.insert(m.id).second) << m.id;
}

// Restored at a smaller parallelism, subtask 0 also finishes the writer of old subtask 1.
TEST_F(KafkaSinkTest, RestoreTakesOverTheWritersOfOtherSubtasks) {
  std::vector<std::string> states;
  for (int subtask : {0, 1}) {
    std::unique_ptr<KafkaSink> sink = Open("exactly_once", subtask);
    Process(*sink, subtask * 1000, 25);
    absl::StatusOr<std::string> s = sink->SnapshotState(5);
    ASSERT_TRUE(s.ok());
    states.push_back(*s);
  }
  std::unique_ptr<KafkaSink> restored = Restore(states, 5, /*subtask=*/0);
  std::vector<std::string> want = ValuesOf(0, 25), more = ValuesOf(1000, 25);
  want.insert(want.end(), more.begin(), more.end());
  std::sort(want.begin(), want.end());
  EXPECT_EQ(Values(ReadAll()), want);
}

TEST(KafkaSinkSpecTest, BadSpecsAreClearErrors) {
  proto::OperatorSpec spec = SinkSpec("127.0.0.1:9", "twice");
  EXPECT_EQ(KafkaSink::Create(spec).status().message(),
            "kafka sink 'alerts': unknown delivery 'twice' (use none, at_least_once or "
            "exactly_once)");
  spec = SinkSpec("127.0.0.1:9", "none");
  spec.mutable_kafka_sink()->set_key_columns(0, "user");
  EXPECT_EQ(KafkaSink::Create(spec).status().message(),
            "kafka sink 'alerts': unknown key column 'user' (the input has card int64, amount "
            "float64, country string)");
  spec = SinkSpec("127.0.0.1:9", "none");
  (*spec.mutable_kafka_sink()->mutable_properties())["no.such.setting"] = "1";
  auto sink = KafkaSink::Create(spec);
  ASSERT_TRUE(sink.ok());
  OperatorContext ctx;
  absl::Status s = (*sink)->Open(ctx);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "kafka sink 'alerts': property 'no.such.setting': No such configuration property: "
            "\"no.such.setting\"");
}

// Registry formats register the value's schema under <topic>-value and the key columns' own
// schema (named after the value's + "Key") under <topic>-key, for Avro and Protobuf alike.
TEST(KafkaSinkSpecTest, RegistryFormatsRegisterValueAndKeySubjects) {
  sluice::testing::FakeSchemaRegistry registry;
  for (const char* format : {"avro-confluent", "protobuf-confluent"}) {
    proto::OperatorSpec spec = SinkSpec("127.0.0.1:9", "none", format);
    (*spec.mutable_kafka_sink()->mutable_format()->mutable_options())["registry"] = registry.url();
    auto sink = KafkaSink::Create(spec);
    ASSERT_TRUE(sink.ok()) << format << ": " << sink.status();
  }
  // A proto_file message for the value; the key still gets a derived message.
  const std::string dir = sluice::testing::FreshTestDir("kafka_sink_registry").string();
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/alert.proto")
      << "syntax = \"proto3\";\npackage acme;\n"
         "message Alert { int64 card = 1; double amount = 2; string country = 3; }\n";
  proto::OperatorSpec spec = SinkSpec("127.0.0.1:9", "none", "protobuf-confluent");
  auto& options = *spec.mutable_kafka_sink()->mutable_format()->mutable_options();
  options["registry"] = registry.url();
  options["proto_file"] = dir + "/alert.proto";
  options["message"] = "acme.Alert";
  options["subject"] = "alerts-v2";
  ASSERT_TRUE(KafkaSink::Create(spec).ok());

  std::map<std::string, std::string> schemas;  // "subject type" -> schema
  for (const auto& [id, entry] : registry.entries()) {
    schemas[entry.subject + " " + entry.type] += entry.schema;
  }
  ASSERT_EQ(schemas.size(), 5u);
  EXPECT_NE(schemas["alerts-value AVRO"].find("\"Row\""), std::string::npos);
  EXPECT_NE(schemas["alerts-key AVRO"].find("\"RowKey\""), std::string::npos);
  EXPECT_NE(schemas["alerts-value PROTOBUF"].find("message Row {"), std::string::npos);
  EXPECT_NE(schemas["alerts-v2 PROTOBUF"].find("message Alert {"), std::string::npos);
  // Both protobuf keys: sluice.RowKey and acme.AlertKey, of the key column only.
  const std::string& keys = schemas["alerts-key PROTOBUF"];
  EXPECT_NE(keys.find("message RowKey {\n  optional int64 card = 1;\n}"), std::string::npos) << keys;
  EXPECT_NE(keys.find("package acme;"), std::string::npos) << keys;
  EXPECT_NE(keys.find("message AlertKey {"), std::string::npos) << keys;
}

}  // namespace
}  // namespace sluice::taskmanager::connectors
