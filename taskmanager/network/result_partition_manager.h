// ResultPartitionManager: the registry of the result partitions produced on one TaskManager
// (Flink's ResultPartitionManager). RecordWriters register their partition at creation;
// local input channels and remote consumers' streams request a subpartition by partition id.
// A request for a partition that is not registered yet waits for it (consumers may be
// deployed before their producers) up to `request_timeout_ms`, then fails with NotFound.
// A partition is forgotten when every subpartition was consumed to END_OF_PARTITION, or when
// ReleasePartitions (cancel / restart) releases it. Safe for concurrent use; callbacks run
// with no lock of the manager held.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "taskmanager/network/result_partition.h"

namespace sluice::network {

class ResultPartitionManager {
 public:
  using ViewCallback = std::function<void(absl::StatusOr<std::unique_ptr<SubpartitionView>>)>;

  ResultPartitionManager(const Clock* clock, int64_t request_timeout_ms);
  ~ResultPartitionManager();
  ResultPartitionManager(const ResultPartitionManager&) = delete;
  ResultPartitionManager& operator=(const ResultPartitionManager&) = delete;

  // AlreadyExists when a partition with that id is registered.
  absl::Status Register(std::shared_ptr<ResultPartition> partition);

  // Opens a reader on (partition_id, subpartition) and calls `on_ready` exactly once (unless
  // the request is canceled first): with the view, or with the error (NotFound after the
  // timeout; InvalidArgument / FailedPrecondition from ResultPartition::CreateView). It may
  // be called before this returns, on this thread. `listener` is the view's data listener.
  // Returns a request id for CancelRequest.
  uint64_t RequestSubpartition(const std::string& partition_id, int subpartition,
                               std::function<void()> listener, ViewCallback on_ready);
  // Forgets a waiting request (its on_ready is not called). No-op once it was served.
  void CancelRequest(uint64_t request_id);

  // Fails and forgets every partition of `job_id` with attempt <= attempt_upto: blocked
  // producers wake up and readers get `cause`. A request that arrives later for one of them
  // gets `cause` at once (the last kMaxTombstones released ids are remembered).
  void ReleasePartitions(const std::string& job_id, int attempt_upto, const absl::Status& cause);
  // Releases everything and fails waiting requests (TaskManager shutdown). Idempotent.
  void Shutdown();

  int num_partitions() const;
  int num_waiting_requests() const;

 private:
  struct Request {
    uint64_t id;
    std::string partition_id;
    int subpartition;
    int64_t deadline_ms;
    std::function<void()> listener;
    ViewCallback on_ready;
  };
  void Serve(const std::shared_ptr<ResultPartition>& partition, Request request);
  void Forget(const std::string& partition_id, const ResultPartition* partition);
  void TimeoutLoop();
  void AddTombstone(const std::string& partition_id, const absl::Status& cause)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  static constexpr size_t kMaxTombstones = 4096;

  const Clock* const clock_;
  const int64_t request_timeout_ms_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<ResultPartition>> partitions_
      ABSL_GUARDED_BY(mu_);
  std::vector<Request> waiting_ ABSL_GUARDED_BY(mu_);
  // Released partition ids and why, oldest first in tombstone_order_.
  absl::flat_hash_map<std::string, absl::Status> tombstones_ ABSL_GUARDED_BY(mu_);
  std::deque<std::string> tombstone_order_ ABSL_GUARDED_BY(mu_);
  uint64_t next_request_id_ ABSL_GUARDED_BY(mu_) = 1;
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
  std::thread timeout_thread_;
};

}  // namespace sluice::network
