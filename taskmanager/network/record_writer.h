// RecordWriter: the producer end of one output edge of a task (Flink's RecordWriter +
// ChannelSelector). It partitions every RecordBatch by the edge's partitioning, appends the
// rows to a pending batch per subpartition, and when a pending batch would outgrow a network
// buffer it serializes it (types::SerializeBatch, one batch per buffer) into a buffer of the
// partition's pool and queues it on the ResultSubpartition. Pending rows are also flushed by
// FlushIfDue after `buffer_timeout`, by Flush, and by Finish (which then ends every
// subpartition). When the pool has no free buffer, Emit blocks: backpressure.
// Partitioning: FORWARD (one subpartition), REBALANCE (each batch to the next subpartition,
// round robin), HASH (key group of the key columns, see key_groups.h), BROADCAST (every
// subpartition; one buffer shared by all of them).
// Owned and used by the task thread only (records_out/bytes_out may be read from any thread).
#pragma once

#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "common/clock.h"
#include "common/types/record_batch.h"
#include "proto/control.pb.h"
#include "taskmanager/network/network_config.h"
#include "taskmanager/network/result_partition.h"

namespace sluice::network {

class RecordWriter {
 public:
  // Checks an OutputDescriptor before anything is allocated for it: InvalidArgument naming
  // the edge for a bad partitioning, subpartition count, key column or max_parallelism.
  static absl::Status Validate(const proto::OutputDescriptor& out, const types::Schema& schema,
                               int max_parallelism);

  // `partition` is registered by the caller; `canceled` (may be null) is the task's flag.
  RecordWriter(std::shared_ptr<ResultPartition> partition, const proto::OutputDescriptor& out,
               types::SchemaPtr schema, int max_parallelism, const NetworkConfig& config,
               const Clock* clock, const std::atomic<bool>* canceled);
  // Without Finish or Fail, consumers see the partition fail (Cancelled).
  ~RecordWriter();
  RecordWriter(const RecordWriter&) = delete;
  RecordWriter& operator=(const RecordWriter&) = delete;

  // Partitions and buffers `batch`. May block for a buffer (backpressure); returns
  // Cancelled promptly when *canceled becomes true, and the release cause when the partition
  // is released. InvalidArgument for a batch of another schema or a row larger than
  // rpc.max_message_size.
  absl::Status Emit(const types::RecordBatch& batch);
  // Flushes the pending rows when the buffer timeout has passed since the oldest of them.
  absl::Status FlushIfDue(int64_t now_ms);
  // When FlushIfDue should next be called; INT64_MAX when nothing is pending.
  int64_t NextFlushDeadlineMs() const { return flush_deadline_ms_; }
  absl::Status Flush();
  // Flush, then checkpoint barrier `checkpoint_id` on every subpartition (an event: it
  // overtakes no data and needs no credit).
  // `savepoint_dir` non-empty: the barrier of a savepoint writing there.
  absl::Status BroadcastBarrier(int64_t checkpoint_id, const std::string& savepoint_dir = "");
  // Flush, then a watermark (or, `idle`, the producer's idleness) on every subpartition (an
  // event, like a barrier).
  absl::Status BroadcastWatermark(int64_t watermark, bool idle);
  // Flush, then END_OF_PARTITION on every subpartition. No Emit afterwards.
  absl::Status Finish();
  // The producer failed: consumers get PARTITION_ERROR with `cause`.
  void Fail(const absl::Status& cause);

  int64_t records_out() const { return records_out_.load(std::memory_order_relaxed); }
  // Serialized bytes handed to the network (a broadcast buffer counts once per subpartition).
  int64_t bytes_out() const { return bytes_out_.load(std::memory_order_relaxed); }
  const std::string& partition_id() const { return partition_->id(); }
  // The partition's send buffers: pool size, in use, producers blocked (tests, metrics).
  int pool_size() const { return partition_->pool().size(); }
  int pool_in_use() const { return partition_->pool().in_use(); }
  bool blocked_on_buffer() const { return partition_->pool().waiters() > 0; }
  // Time Emit/Flush spent blocked waiting for a free buffer (backpressure), including the
  // wait in progress; any thread.
  int64_t backpressured_ns() const;

 private:
  struct Pending {
    explicit Pending(types::SchemaPtr schema) : batch(std::move(schema)) {}
    types::RecordBatch batch;
    int64_t bytes = 0;  // upper bound of batch's serialized size
  };
  enum class State { kOpen, kFinished, kFailed };

  // Appends rows of `batch` to pending slot `slot`: all of [0, rows) when `rows` is null,
  // else rows[0..count). Flushes the slot whenever the next row does not fit a buffer.
  absl::Status Append(int slot, const types::RecordBatch& batch, const uint32_t* rows,
                      size_t count);
  absl::Status FlushSlot(int slot);
  // Serializes `batch` into a new buffer of subpartition `slot` (all for BROADCAST).
  absl::Status Ship(int slot, const types::RecordBatch& batch);
  // Sizes of the batch being emitted: its total always (per column, cheap), each row's only
  // when the batch is split or is too large for a message (MeasureRows).
  void MeasureBatch(const types::RecordBatch& batch);
  void MeasureRows(const types::RecordBatch& batch);
  int64_t RowBytes(size_t row) const {
    return row_bytes_.empty() ? fixed_row_bytes_ : row_bytes_[row];
  }

  std::shared_ptr<ResultPartition> partition_;
  const proto::Partitioning partitioning_;
  const std::vector<int> key_indexes_;
  const int num_subpartitions_;
  const int max_parallelism_;
  const types::SchemaPtr schema_;
  const int64_t buffer_size_;
  const int64_t buffer_timeout_ms_;
  const int64_t max_row_bytes_;
  const Clock* const clock_;
  const std::atomic<bool>* const canceled_;

  std::vector<Pending> pending_;  // per subpartition; one shared slot for BROADCAST
  int pending_slots_ = 0;         // slots holding rows
  int64_t empty_batch_bytes_ = 0; // serialized size of a batch with no rows
  int64_t fixed_row_bytes_ = 0;   // per-row bytes without string contents
  bool has_strings_ = false;
  int next_rebalance_ = 0;
  int64_t flush_deadline_ms_ = std::numeric_limits<int64_t>::max();
  State state_ = State::kOpen;

  // Scratch, reused across batches.
  std::vector<int64_t> row_bytes_;  // empty: not measured (or no strings: all fixed)
  int64_t batch_row_bytes_ = 0;  // sum of RowBytes over the batch being emitted
  std::vector<int32_t> hashes_;
  std::vector<std::vector<uint32_t>> selections_;

  std::atomic<int64_t> records_out_{0};
  std::atomic<int64_t> bytes_out_{0};
  std::atomic<int64_t> backpressured_ns_{0};   // finished waits
  std::atomic<int64_t> blocked_since_ns_{0};   // start of the wait in progress, 0 = none
};

}  // namespace sluice::network
