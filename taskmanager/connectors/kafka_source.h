// KafkaSource: the `kafka` source (docs/kafka.md), a librdkafka consumer per subtask.
// - Assignment: no consumer-group rebalancing. Each subtask rd_kafka_assign()s a fixed set of
//   partitions: partition p of topic t belongs to subtask KafkaPartitionOwner(t, p, P).
//   Topics are the spec's `topics`, or every topic whose whole name matches `topic_pattern`.
//   Every `discovery_interval_ms` (0: never; never when bounded) the metadata is read again;
//   new partitions (and new matching topics) are read by their owner from the earliest offset.
// - Start (partitions without a checkpointed offset, at the job's first start): earliest,
//   latest (the end offsets at the first poll), group (the group's committed offsets,
//   earliest where none), timestamp (offsets_for_times; the end where no later record).
// - State: the next offset of every owned partition (KafkaSourceState), redistributed as a
//   union on restore (UnionOperatorState), so any new parallelism resumes every partition
//   exactly once. NotifyCheckpointComplete commits the checkpoint's offsets to `group`
//   (asynchronously; for monitoring only, the checkpoint is the truth).
// - Records: each message payload is one or more lines of a line format (json | csv), or one
//   record of a message format (avro, avro-confluent), decoded with common/types/format.h
//   into batches of up to ~1024 records, each batch from one partition (CurrentSplit), so the
//   task keeps a watermark per partition. Bad records go by on_error (bad_records.h), located
//   as "topic <t> partition <p> offset <o>"; on_error: fail returns InvalidArgument
//   "kafka source '<name>': topic <t> partition <p> offset <o>: <message>".
// - PollNext drains the consumer's queue up to a batch at a time and returns kIdle when no
//   message is waiting; librdkafka then calls ctx.wake_up (from its thread) as soon as the
//   queue receives something, so an idle task waits for data, not for idle_wait_ms (the
//   fallback without wake_up). With stop_at: latest it ends (kEnd) once every partition reached the end
//   offset it had at the first poll.
// - Errors: Open fails with Unavailable when the bootstrap does not answer within
//   metadata_timeout_ms, NotFound "kafka source 'txns': topic 'x' does not exist on bootstrap
//   B" for a missing topic; a bad `properties` entry is InvalidArgument naming it.
// Task thread only.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/types/format.h"
#include "taskmanager/connectors/bad_records.h"
#include "taskmanager/operators/operator.h"

typedef struct rd_kafka_s rd_kafka_t;
typedef struct rd_kafka_message_s rd_kafka_message_t;
typedef struct rd_kafka_queue_s rd_kafka_queue_t;

namespace sluice::taskmanager::connectors {

// The subtask (of `parallelism`) that reads partition `partition` of `topic`: Flink's
// KafkaTopicPartitionAssigner, start = ((JavaHash(topic) * 31) & 0x7fffffff) % parallelism,
// owner = (start + partition) % parallelism, with Java's String.hashCode over the name's bytes
// (the same as Flink's for ASCII names). A topic's partitions go round robin from its start.
int KafkaPartitionOwner(absl::string_view topic, int partition, int parallelism);

class KafkaSource : public SourceOperator {
 public:
  struct Options {
    int64_t metadata_timeout_ms = 10'000;  // metadata, watermark and offset queries
    size_t batch_records = 1024;           // lines per batch at most
    int64_t idle_wait_ms = 10;
  };

  // `spec.kafka_source()` and `spec.output_schema()`; format and on_error validated here.
  static absl::StatusOr<std::unique_ptr<KafkaSource>> Create(const proto::OperatorSpec& spec,
                                                             Options options);
  static absl::StatusOr<std::unique_ptr<KafkaSource>> Create(const proto::OperatorSpec& spec) {
    return Create(spec, Options());
  }
  ~KafkaSource() override;

  absl::Status Open(const OperatorContext& ctx) override;
  absl::StatusOr<SourcePoll> PollNext(Collector& out) override;
  int64_t idle_wait_ms() const override { return options_.idle_wait_ms; }
  absl::Status Close() override;
  absl::Status InitializeState(StateInitContext& ctx) override;
  absl::StatusOr<std::string> SnapshotState(int64_t checkpoint_id) override;
  absl::Status NotifyCheckpointComplete(int64_t checkpoint_id) override;
  bool UnionOperatorState() const override { return true; }
  // Per-partition watermarks: every batch holds records of one partition; splits are the
  // partitions in the order this subtask took them.
  int NumSplits() const override { return static_cast<int>(partitions_.size()); }
  int CurrentSplit() const override { return current_split_; }

  BadRecordCounts bad_records() const override {
    return {bad_->skipped(), bad_->dead_lettered()};
  }
  // "topic/partition" of every partition this subtask reads, sorted (after the first poll).
  std::vector<std::string> AssignedPartitions() const;

 private:
  using PartitionKey = std::pair<std::string, int32_t>;
  struct Partition {
    std::string topic;
    int32_t partition = 0;
    int64_t next_offset = 0;   // < 0: a logical offset (earliest) until a record is read
    int64_t stop_offset = -1;  // stop_at: latest: the end offset at the first poll; -1: none
    bool done() const { return stop_offset >= 0 && next_offset >= stop_offset; }
  };

  KafkaSource(const proto::OperatorSpec& spec, std::unique_ptr<BadRecords> bad,
              types::FormatOptions format,
              types::SchemaPtr schema, std::unique_ptr<types::BatchDecoder> decoder,
              Options options);
  std::string Prefix() const;
  absl::Status Error(absl::StatusCode code, absl::string_view message) const;
  // The partitions of the source's topics that this subtask owns, from fresh metadata.
  absl::StatusOr<std::vector<PartitionKey>> OwnedPartitions(bool first);
  // Adds `fresh` partitions (initial: at the first poll, else discovered later) with their
  // start offsets and reassigns the consumer.
  absl::Status AddPartitions(const std::vector<PartitionKey>& fresh, bool initial);
  absl::Status ResolveStartOffsets(std::vector<Partition>* fresh);
  absl::Status Reassign();
  // Decodes the messages into one batch per run of one partition's messages.
  absl::Status DecodeAndEmit(std::vector<rd_kafka_message_t*>& messages, Collector& out);
  // Decodes lines_ (of partition current_split_), applies on_error and emits the batch.
  absl::Status EmitLines(const std::vector<rd_kafka_message_t*>& messages, Collector& out);
  absl::Status HandleMessageError(const rd_kafka_message_t* message);
  bool AllDone() const;

  std::string name_;
  proto::KafkaSourceSpec spec_;
  std::unique_ptr<BadRecords> bad_;
  types::FormatOptions format_;
  types::SchemaPtr schema_;
  Options options_;
  std::unique_ptr<types::BatchDecoder> decoder_;
  // End-of-partition events of the current poll: (index in partitions_, end offset).
  std::vector<std::pair<size_t, int64_t>> partition_ends_;
  bool bounded_ = false;

  const Clock* clock_ = nullptr;
  int subtask_ = 0;
  int parallelism_ = 1;
  rd_kafka_t* consumer_ = nullptr;
  rd_kafka_queue_t* queue_ = nullptr;  // consumer_'s queue: messages, errors and events
  std::function<void()> wake_up_;      // OperatorContext::wake_up

  bool restored_ = false;
  std::map<PartitionKey, int64_t> restored_offsets_;  // every old subtask's entries
  bool assigned_ = false;  // the first poll assigned the consumer
  std::vector<Partition> partitions_;  // append-only: indexes are the watermark splits
  int current_split_ = 0;               // the partition of the batch being emitted
  absl::flat_hash_map<PartitionKey, size_t> index_;  // into partitions_
  int64_t next_discovery_ms_ = 0;
  // Offsets to commit to the group when a checkpoint completes, by checkpoint id.
  std::map<int64_t, std::vector<Partition>> pending_commits_;

  std::vector<rd_kafka_message_t*> polled_;    // rd_kafka_consume_batch_queue's output
  std::vector<rd_kafka_message_t*> messages_;  // the records of the current poll
  types::RecordBatch batch_;
  std::vector<absl::string_view> lines_;
  std::vector<size_t> line_message_;  // lines_[i] came from messages[line_message_[i]]
  std::vector<types::DecodeError> errors_;
  int64_t message_errors_logged_ = 0;
};

}  // namespace sluice::taskmanager::connectors
