#include "taskmanager/network/result_partition_manager.h"

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace sluice::network {

ResultPartitionManager::ResultPartitionManager(const Clock* clock, int64_t request_timeout_ms)
    : clock_(clock), request_timeout_ms_(request_timeout_ms) {
  timeout_thread_ = std::thread([this] { TimeoutLoop(); });
}

ResultPartitionManager::~ResultPartitionManager() { Shutdown(); }

absl::Status ResultPartitionManager::Register(std::shared_ptr<ResultPartition> partition) {
  std::vector<Request> ready;
  {
    absl::MutexLock lock(&mu_);
    if (shutdown_) return absl::UnavailableError("the TaskManager is shutting down");
    if (tombstones_.contains(partition->id())) {
      return absl::FailedPreconditionError(absl::StrCat(
          "result partition ", partition->id(), " was released (its attempt was canceled)"));
    }
    auto [it, inserted] = partitions_.try_emplace(partition->id(), partition);
    if (!inserted) {
      return absl::AlreadyExistsError(
          absl::StrCat("result partition ", partition->id(), " is already registered"));
    }
    const ResultPartition* raw = partition.get();
    partition->set_on_consumed([this, id = partition->id(), raw] { Forget(id, raw); });
    for (auto w = waiting_.begin(); w != waiting_.end();) {
      if (w->partition_id == partition->id()) {
        ready.push_back(std::move(*w));
        w = waiting_.erase(w);
      } else {
        ++w;
      }
    }
  }
  for (Request& r : ready) Serve(partition, std::move(r));
  return absl::OkStatus();
}

void ResultPartitionManager::Serve(const std::shared_ptr<ResultPartition>& partition,
                                   Request request) {
  request.on_ready(partition->CreateView(request.subpartition, std::move(request.listener)));
}

uint64_t ResultPartitionManager::RequestSubpartition(const std::string& partition_id,
                                                     int subpartition,
                                                     std::function<void()> listener,
                                                     ViewCallback on_ready) {
  std::shared_ptr<ResultPartition> partition;
  Request request{0, partition_id, subpartition, 0, std::move(listener), std::move(on_ready)};
  absl::Status refused;
  {
    absl::MutexLock lock(&mu_);
    request.id = next_request_id_++;
    if (shutdown_) {
      refused = absl::UnavailableError("the TaskManager is shutting down");
    } else if (auto released = tombstones_.find(partition_id); released != tombstones_.end()) {
      refused = released->second;
    } else {
      auto it = partitions_.find(partition_id);
      if (it == partitions_.end()) {
        request.deadline_ms = clock_->NowMillis() + request_timeout_ms_;
        const uint64_t id = request.id;
        waiting_.push_back(std::move(request));
        return id;
      }
      partition = it->second;
    }
  }
  const uint64_t id = request.id;
  if (!refused.ok()) {
    request.on_ready(refused);
  } else {
    Serve(partition, std::move(request));
  }
  return id;
}

void ResultPartitionManager::CancelRequest(uint64_t request_id) {
  absl::MutexLock lock(&mu_);
  for (auto w = waiting_.begin(); w != waiting_.end(); ++w) {
    if (w->id == request_id) {
      waiting_.erase(w);
      return;
    }
  }
}

void ResultPartitionManager::Forget(const std::string& partition_id,
                                    const ResultPartition* partition) {
  std::shared_ptr<ResultPartition> forgotten;  // destroyed outside the lock
  absl::MutexLock lock(&mu_);
  auto it = partitions_.find(partition_id);
  if (it != partitions_.end() && it->second.get() == partition) {
    forgotten = std::move(it->second);
    partitions_.erase(it);
  }
}

void ResultPartitionManager::ReleasePartitions(const std::string& job_id, int attempt_upto,
                                               const absl::Status& cause) {
  std::vector<std::shared_ptr<ResultPartition>> released;
  {
    absl::MutexLock lock(&mu_);
    for (auto it = partitions_.begin(); it != partitions_.end();) {
      if (it->second->job_id() == job_id && it->second->attempt() <= attempt_upto) {
        AddTombstone(it->first, cause);
        released.push_back(std::move(it->second));
        partitions_.erase(it++);
      } else {
        ++it;
      }
    }
  }
  for (auto& p : released) p->Fail(cause);
}

void ResultPartitionManager::AddTombstone(const std::string& partition_id,
                                          const absl::Status& cause) {
  if (!tombstones_.insert_or_assign(partition_id, cause).second) return;
  tombstone_order_.push_back(partition_id);
  if (tombstone_order_.size() > kMaxTombstones) {
    tombstones_.erase(tombstone_order_.front());
    tombstone_order_.pop_front();
  }
}

void ResultPartitionManager::Shutdown() {
  std::vector<std::shared_ptr<ResultPartition>> released;
  std::vector<Request> failed;
  {
    absl::MutexLock lock(&mu_);
    if (shutdown_) return;
    shutdown_ = true;
    for (auto& [id, p] : partitions_) released.push_back(std::move(p));
    partitions_.clear();
    failed.swap(waiting_);
  }
  timeout_thread_.join();
  const absl::Status cause = absl::UnavailableError("the TaskManager is shutting down");
  for (auto& p : released) p->Fail(cause);
  for (Request& r : failed) r.on_ready(cause);
}

void ResultPartitionManager::TimeoutLoop() {
  while (true) {
    std::vector<Request> expired;
    {
      absl::MutexLock lock(&mu_);
      // Nothing to time out: sleep until a request arrives or shutdown. Otherwise re-check
      // the (injectable) clock every 20 ms.
      auto busy = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return shutdown_ || !waiting_.empty();
      };
      mu_.Await(absl::Condition(&busy));
      if (shutdown_) return;
      mu_.AwaitWithTimeout(absl::Condition(&shutdown_), absl::Milliseconds(20));
      if (shutdown_) return;
      const int64_t now = clock_->NowMillis();
      for (auto w = waiting_.begin(); w != waiting_.end();) {
        if (w->deadline_ms <= now) {
          expired.push_back(std::move(*w));
          w = waiting_.erase(w);
        } else {
          ++w;
        }
      }
    }
    for (Request& r : expired) {
      r.on_ready(absl::NotFoundError(absl::StrCat(
          "partition ", r.partition_id, " not found: its producer did not register it within ",
          request_timeout_ms_ / 1000.0, " s")));
    }
  }
}

int ResultPartitionManager::num_partitions() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(partitions_.size());
}

int ResultPartitionManager::num_waiting_requests() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(waiting_.size());
}

}  // namespace sluice::network
