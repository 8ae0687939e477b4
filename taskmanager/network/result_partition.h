// ResultPartition: the output of one producer subtask on one edge, split into subpartitions
// (one per consumer subtask), like Flink's pipelined ResultPartition / ResultSubpartition.
// The producer's RecordWriter adds full buffers to a subpartition's queue; exactly one reader
// (a local input channel or a remote consumer's stream) takes them through a SubpartitionView
// and is told by a listener when there is something new. Memory is bounded by the partition's
// LocalBufferPool: queued buffers are buffers of that pool.
// All classes here are safe for concurrent use; listeners are called with no lock held.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "taskmanager/network/buffer_pool.h"

namespace sluice::network {

// What a reader takes from a subpartition.
struct SubpartitionItem {
  enum class Kind { kData, kBarrier, kWatermark, kEndOfPartition, kError };
  Kind kind = Kind::kData;
  BufferRef buffer;     // kData
  int64_t checkpoint_id = 0;  // kBarrier
  std::string savepoint_dir;  // kBarrier of a savepoint
  int64_t watermark = 0;      // kWatermark: µs
  bool idle = false;          // kWatermark: the producer is idle (watermark not meaningful)
  absl::Status error;   // kError: why the producer failed or the partition was released
  int backlog = 0;      // data buffers still queued after this one
  bool more_available = false;  // something (data or an event) is queued after this one
  bool next_is_event = false;   // ... and it needs no credit (a barrier, the end or an error)
};

class ResultPartition;

class ResultSubpartition {
 public:
  ResultSubpartition(ResultPartition* parent, int index) : parent_(parent), index_(index) {}

  // Producer side (the task thread).
  void Add(BufferRef buffer);
  // Queued in order with the data; needs no credit. `savepoint_dir` non-empty: a savepoint.
  void AddBarrier(int64_t checkpoint_id, const std::string& savepoint_dir);
  // An event-time watermark (or idleness), in order with the data; needs no credit.
  void AddWatermark(int64_t watermark, bool idle);
  void Finish();                         // queues END_OF_PARTITION
  void Fail(const absl::Status& cause);  // drops queued data; the reader gets `cause`

  // Reader side. One reader at a time; `listener` is called (with no lock held, from the
  // producer's thread) when data is queued into an empty queue, at the end, and when the
  // subpartition fails. A reader that polled an item with more_available must come back on
  // its own (when it has credit again).
  absl::Status AttachReader(std::function<void()> listener);
  void DetachReader();
  // Next item, or nullopt when nothing is queued or (allow_data false) the next item is data.
  std::optional<SubpartitionItem> Poll(bool allow_data);

  int index() const { return index_; }
  int backlog() const;

 private:
  using Listener = std::shared_ptr<const std::function<void()>>;

  ResultPartition* const parent_;
  const int index_;
  mutable absl::Mutex mu_;
  // A queued data buffer, or an event (buffer null): a barrier (checkpoint_id > 0) or a
  // watermark.
  struct Entry {
    BufferRef buffer;
    int64_t checkpoint_id = 0;
    std::string savepoint_dir;
    int64_t watermark = 0;
    bool idle = false;
  };
  void Enqueue(Entry entry);
  std::deque<Entry> queue_ ABSL_GUARDED_BY(mu_);  // END_OF_PARTITION follows them
  int data_buffers_ ABSL_GUARDED_BY(mu_) = 0;     // data entries in queue_
  bool finished_ ABSL_GUARDED_BY(mu_) = false;        // END_OF_PARTITION queued
  bool end_delivered_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status error_ ABSL_GUARDED_BY(mu_);
  bool has_reader_ ABSL_GUARDED_BY(mu_) = false;
  Listener listener_ ABSL_GUARDED_BY(mu_);
};

// A reader's handle on one subpartition; keeps the partition alive. Destroying it detaches
// the reader. Used by one thread at a time (the consuming gate or the stream's writer).
class SubpartitionView {
 public:
  SubpartitionView(std::shared_ptr<ResultPartition> partition, int subpartition)
      : partition_(std::move(partition)), subpartition_(subpartition) {}
  ~SubpartitionView();
  SubpartitionView(const SubpartitionView&) = delete;
  SubpartitionView& operator=(const SubpartitionView&) = delete;

  std::optional<SubpartitionItem> Poll(bool allow_data);
  const ResultPartition& partition() const { return *partition_; }

 private:
  std::shared_ptr<ResultPartition> partition_;
  const int subpartition_;
};

class ResultPartition : public std::enable_shared_from_this<ResultPartition> {
 public:
  ResultPartition(std::string id, std::string job_id, int attempt, int num_subpartitions,
                  std::shared_ptr<LocalBufferPool> pool);

  const std::string& id() const { return id_; }
  const std::string& job_id() const { return job_id_; }
  int attempt() const { return attempt_; }
  int num_subpartitions() const { return static_cast<int>(subpartitions_.size()); }
  ResultSubpartition& subpartition(int i) { return *subpartitions_[i]; }
  LocalBufferPool& pool() { return *pool_; }

  // Opens a reader on subpartition `index`: InvalidArgument for a bad index,
  // FailedPrecondition when it already has a reader.
  absl::StatusOr<std::unique_ptr<SubpartitionView>> CreateView(int index,
                                                               std::function<void()> listener);

  // A checkpoint barrier on every subpartition (after the buffers queued so far).
  void BroadcastBarrier(int64_t checkpoint_id, const std::string& savepoint_dir);
  // A watermark (or idleness) on every subpartition.
  void BroadcastWatermark(int64_t watermark, bool idle);
  // END_OF_PARTITION on every subpartition.
  void Finish();
  // The producer failed (or was released with `cause`): readers get the cause, a blocked
  // producer wakes up with it.
  void Fail(const absl::Status& cause);

  // Called once, when every subpartition delivered END_OF_PARTITION to its reader (the
  // ResultPartitionManager then forgets the partition). Set before the partition is shared.
  void set_on_consumed(std::function<void()> on_consumed) { on_consumed_ = std::move(on_consumed); }

 private:
  friend class ResultSubpartition;
  void OnSubpartitionConsumed();

  const std::string id_;
  const std::string job_id_;
  const int attempt_;
  std::shared_ptr<LocalBufferPool> pool_;
  std::vector<std::unique_ptr<ResultSubpartition>> subpartitions_;
  std::function<void()> on_consumed_;
  absl::Mutex mu_;
  int consumed_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace sluice::network
