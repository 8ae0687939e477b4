// Network buffer accounting of one TaskManager, like Flink's NetworkBufferPool /
// LocalBufferPool. NetworkBufferPool holds `taskmanager.network.buffers` buffers of
// `buffer_size`; each task output (LocalBufferPool) and each input gate reserves a fixed share
// at creation and returns it when destroyed, so the network memory of a TaskManager never
// exceeds buffers * buffer_size (plus single rows larger than a buffer, which travel alone in
// an oversize buffer). A producer with no free buffer blocks: that is backpressure.
// NetworkBufferPool, BufferReservation and LocalBufferPool are safe for concurrent use.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace sluice::network {

// Buffers of the whole TaskManager (for metrics and tests).
struct BufferPoolStats {
  int total_buffers = 0;     // taskmanager.network.buffers
  int used_buffers = 0;      // reserved by the pools of live outputs and input gates
  int available_buffers = 0; // total - used
  int64_t buffer_size = 0;
};

class BufferReservation;

class NetworkBufferPool {
 public:
  NetworkBufferPool(int total_buffers, int64_t buffer_size);
  NetworkBufferPool(const NetworkBufferPool&) = delete;
  NetworkBufferPool& operator=(const NetworkBufferPool&) = delete;

  // Reserves `count` buffers for `purpose` (e.g. "the output of edge 3 (partition p)").
  // ResourceExhausted naming taskmanager.network.buffers when fewer are free.
  absl::StatusOr<BufferReservation> Reserve(int count, absl::string_view purpose);

  int64_t buffer_size() const { return buffer_size_; }
  BufferPoolStats stats() const;

 private:
  friend class BufferReservation;
  void Return(int count);

  const int total_;
  const int64_t buffer_size_;
  mutable absl::Mutex mu_;
  int used_ ABSL_GUARDED_BY(mu_) = 0;
};

// A share of the NetworkBufferPool, returned when destroyed (move-only).
class BufferReservation {
 public:
  BufferReservation() = default;
  BufferReservation(BufferReservation&& other) noexcept { *this = std::move(other); }
  BufferReservation& operator=(BufferReservation&& other) noexcept;
  ~BufferReservation() { Reset(); }

  int count() const { return count_; }
  void Reset();

 private:
  friend class NetworkBufferPool;
  BufferReservation(NetworkBufferPool* pool, int count) : pool_(pool), count_(count) {}
  NetworkBufferPool* pool_ = nullptr;
  int count_ = 0;
};

// One network buffer: the bytes of one serialized RecordBatch. Handed out by a
// LocalBufferPool as a BufferRef; it returns to its pool when the last reference is dropped
// (after it was sent to a remote consumer or read by a local one). A broadcast buffer is
// shared by every subpartition. The producer fills it before anyone else sees it; after that
// it is read-only, except that the one holder of the only reference may move `data` out and
// back (the gRPC sender does, to avoid a copy).
struct NetworkBuffer {
  std::string data;
};
using BufferRef = std::shared_ptr<NetworkBuffer>;

// While one is alive on a thread, the buffers that thread drops go back to their pools
// together when it ends: one lock and one wake-up per pool, instead of one per buffer. (A
// producer blocked on its pool would otherwise wake for the first buffer, preempt the thread
// returning them, and block again for the next one: a context switch per buffer.) The
// exchange's writer holds one around returning the buffers of a message it wrote. Nests.
class RecycleBatch {
 public:
  RecycleBatch();
  ~RecycleBatch();
  RecycleBatch(const RecycleBatch&) = delete;
  RecycleBatch& operator=(const RecycleBatch&) = delete;

 private:
  bool outermost_;
};

// The send buffers of one task output (a ResultPartition): a fixed number of buffers
// reserved from the NetworkBufferPool. The task thread requests buffers (blocking when none is
// free); any thread returns them by dropping the BufferRef. Shared (shared_ptr) by the
// partition and by every buffer it handed out, so it lives until the last buffer returns.
class LocalBufferPool : public std::enable_shared_from_this<LocalBufferPool> {
 public:
  static absl::StatusOr<std::shared_ptr<LocalBufferPool>> Create(NetworkBufferPool* global,
                                                                 int size,
                                                                 absl::string_view purpose);
  ~LocalBufferPool();

  // Blocks until a buffer is free. Cancelled promptly (within ~20 ms) once *canceled is
  // true; the release status once Release was called.
  absl::StatusOr<BufferRef> Request(const std::atomic<bool>* canceled);
  // A free buffer or nullptr, without blocking.
  BufferRef TryRequest();
  // Wakes blocked requesters; every later Request fails with `status` (partition released).
  void Release(const absl::Status& status);

  int size() const { return size_; }
  int in_use() const;
  // Threads blocked in Request (tests use it to see that a producer is backpressured).
  int waiters() const;

 private:
  LocalBufferPool(BufferReservation reservation, int64_t buffer_size);
  friend class RecycleBatch;
  BufferRef Wrap(NetworkBuffer* buffer);
  void Recycle(NetworkBuffer* buffer);
  // Puts buffers[0..count) back and wakes the blocked requesters once.
  void PutBack(NetworkBuffer* const* buffers, size_t count);

  BufferReservation reservation_;
  const int size_;
  const int64_t buffer_size_;
  mutable absl::Mutex mu_;
  absl::CondVar freed_;
  std::vector<std::unique_ptr<NetworkBuffer>> all_ ABSL_GUARDED_BY(mu_);  // allocated lazily
  std::vector<NetworkBuffer*> free_ ABSL_GUARDED_BY(mu_);
  int in_use_ ABSL_GUARDED_BY(mu_) = 0;
  int waiters_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status released_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sluice::network
