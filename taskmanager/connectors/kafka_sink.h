// KafkaSink: the `kafka` sink (KafkaSinkSpec). Each row becomes one message of `topic`:
//   value: the row in `format`, one JSON object or CSV line without its newline;
//   key:   the `key` columns as a row of their own in the same format ({"card":42} in json,
//          `42` in csv, as Flink's key.format); no key without key columns;
//   partition: librdkafka's murmur2_random partitioner on the key (the Java client's default,
//          so keyed messages land where Java producers would put them) unless `properties`
//          sets another `partitioner`.
// `properties` go to librdkafka unchanged, after Sluice's defaults, so they win.
// Delivery (KafkaSinkSpec.delivery):
//   none:          messages are handed to librdkafka and not waited for; a delivery error
//                  seen later fails the task.
//   at_least_once: idempotent producer (acks=all); SnapshotState and Finish wait until every
//                  message is acknowledged, and a delivery error fails the task, so a completed
//                  checkpoint means every row before it is in Kafka. A restart may write rows
//                  after the checkpoint again.
//   exactly_once:  the rows between two checkpoints are kept (encoded) and become part of the
//                  checkpoint's state (KafkaSinkState); when the checkpoint completes they are
//                  written in one Kafka transaction (transactional.id "<prefix>-<subtask>") and
//                  committed. Every message carries the header `sluice.id` =
//                  "<writer>/<checkpoint>/<n>". On restore, a subtask fences the writers whose
//                  state it takes over (init_transactions aborts their open transaction), then
//                  writes their uncommitted rows again in one transaction, skipping the ones a
//                  read_committed scan of the topic (from the positions the state records:
//                  no pending row can be earlier) shows were committed just before the
//                  failure. At the end of a bounded input the rest is committed in one last
//                  transaction. Needs checkpointing (the planner says so).
// Errors name the sink and the topic: "kafka sink 'alerts': delivery to topic 'alerts'
// failed: Local: Message timed out". Task thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "common/types/format.h"
#include "proto/checkpoint.pb.h"
#include "taskmanager/connectors/kafka_client.h"
#include "taskmanager/operators/operator.h"

typedef struct rd_kafka_s rd_kafka_t;
typedef struct rd_kafka_topic_s rd_kafka_topic_t;
typedef struct rd_kafka_message_s rd_kafka_message_t;

namespace sluice::taskmanager::connectors {

class KafkaSink : public Operator {
 public:
  enum class Delivery { kNone, kAtLeastOnce, kExactlyOnce };

  // `spec.kafka_sink()` and `spec.input_schema()`; format, key columns and delivery are
  // validated here.
  static absl::StatusOr<std::unique_ptr<KafkaSink>> Create(const proto::OperatorSpec& spec);
  ~KafkaSink() override;

  absl::Status Open(const OperatorContext& ctx) override;
  absl::Status InitializeState(StateInitContext& ctx) override;
  absl::Status ProcessBatch(int input, types::RecordBatch& batch, Collector& out) override;
  absl::StatusOr<std::string> SnapshotState(int64_t checkpoint_id) override;
  absl::Status NotifyCheckpointComplete(int64_t checkpoint_id) override;
  absl::Status Finish(Collector& out) override;
  absl::Status Close() override;

  // The transactional id / message id prefix of this subtask ("" before Open).
  const std::string& writer() const { return writer_; }
  // Rows kept for checkpoints not committed yet (exactly_once).
  size_t pending_rows() const;

 private:
  using Records = proto::KafkaSinkState::Records;

  KafkaSink(std::string name, proto::KafkaSinkSpec spec, types::SchemaPtr schema,
            Delivery delivery, std::vector<int> key_indexes);
  // A producer for `transactional_id` ("" for none), with the spec's settings.
  absl::StatusOr<rd_kafka_t*> NewProducer(const std::string& transactional_id);
  // Encodes the values and keys of `batch` into values_/value_ends_ and keys_/key_ends_.
  absl::Status Encode(const types::RecordBatch& batch);
  // Sends one message; waits for room in librdkafka's queue. `id` is the sluice.id header
  // (empty: none).
  absl::Status Produce(absl::string_view key, bool has_key, absl::string_view value,
                       absl::string_view id);
  // librdkafka's queue was full: serves delivery reports for up to 50 ms (room appears as
  // messages are delivered); Cancelled when the task is, a delivery error if one came.
  absl::Status WaitForRoom();
  // Sends batch_messages_ (at_least_once and none: no headers) with rd_kafka_produce_batch,
  // one clock read and topic lock per batch; waits for room in librdkafka's queue.
  absl::Status ProduceBatch();
  // Sends every message of `records` (of writer `writer`) but those whose id is in `skip`.
  absl::Status ProduceRecords(const std::string& writer, const Records& records,
                              const absl::flat_hash_set<std::string>* skip);
  // Waits until librdkafka delivered every message (or failed: the first delivery error).
  absl::Status Flush();
  // Writes `batches` of `writer` in one transaction and commits it.
  absl::Status CommitInTransaction(
      const std::vector<std::pair<std::string, const Records*>>& batches,
      const absl::flat_hash_set<std::string>* skip);
  // The sluice.id headers of `writers` committed in the topic after the offsets `scan_from`
  // (per partition), read with isolation.level=read_committed.
  absl::StatusOr<absl::flat_hash_set<std::string>> CommittedIds(
      const std::vector<std::string>& writers, const std::vector<int64_t>& scan_from);
  // Aborts what a producer with `transactional_id` left open.
  absl::Status Fence(const std::string& transactional_id);
  // "kafka sink '<name>'", and the client settings every client of the sink starts from
  // (bootstrap and the spec's properties).
  std::string What() const;
  KafkaSettings Settings() const;
  absl::Status Error(absl::string_view what) const;
  absl::Status CheckDeliveries();
  static void OnDelivery(rd_kafka_t* rk, const void* message, void* opaque);

  std::string name_;
  proto::KafkaSinkSpec spec_;
  types::SchemaPtr schema_;
  Delivery delivery_;
  std::vector<int> key_indexes_;
  std::unique_ptr<types::BatchEncoder> value_encoder_;
  std::unique_ptr<types::BatchEncoder> key_encoder_;  // null without key columns
  types::SchemaPtr key_schema_;
  const std::atomic<bool>* canceled_ = nullptr;
  std::string writer_;
  rd_kafka_t* producer_ = nullptr;
  rd_kafka_topic_t* topic_ = nullptr;  // spec_.topic() on producer_
  std::string delivery_error_;  // the first failed delivery (set by OnDelivery)

  // exactly_once: rows since the last checkpoint, and the checkpoints' rows not committed.
  Records current_;
  std::vector<Records> pending_;
  int64_t last_checkpoint_ = 0;  // the newest checkpoint taken (or restored)
  // Per partition: no message this writer sends from now on can be before it (the end of the
  // partition at Open, then after each delivered message); kept in the state for a restore.
  std::vector<int64_t> scan_from_;
  // Scratch of Encode.
  std::string values_, keys_;
  std::vector<size_t> value_ends_, key_ends_;
  std::vector<rd_kafka_message_t> batch_messages_;  // of ProcessBatch, pointing into them
};

}  // namespace sluice::taskmanager::connectors
