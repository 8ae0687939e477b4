// Scheduler: the slot requests of jobs waiting to be (re)deployed. A request for N shared
// slots is granted from the SlotPool as soon as N slots are free (requests are tried oldest
// first; one that does not fit does not block smaller ones behind it) and expires after
// `jobmanager.slot_request_timeout`.
// Not thread-safe: called under the Dispatcher's mutex.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "jobmanager/slot_pool.h"

namespace sluice::jobmanager {

class Scheduler {
 public:
  Scheduler(SlotPool* pool, int64_t request_timeout_ms)
      : pool_(pool), request_timeout_ms_(request_timeout_ms) {}

  // Queues a request of `job_id` for `slots` shared slots, made at monotonic `now_ms`
  // (replaces an earlier request of the same job).
  void Request(absl::string_view job_id, int slots, int64_t now_ms);
  // Drops the request of `job_id`, if any.
  void CancelRequest(absl::string_view job_id);
  bool HasRequest(absl::string_view job_id) const;

  struct Grant {
    std::string job_id;
    std::vector<std::string> slots;  // tm_id of shared slot i
  };
  // Allocates every queued request that fits now, oldest first.
  std::vector<Grant> TryFulfill();

  struct Expired {
    std::string job_id;
    int needed = 0;
    int free = 0;  // free slots in the cluster when it expired
  };
  // Removes and returns requests older than the timeout at `now_ms`.
  std::vector<Expired> ExpireRequests(int64_t now_ms);
  std::optional<int64_t> NextDeadlineMs() const;

 private:
  struct PendingRequest {
    std::string job_id;
    int slots;
    int64_t deadline_ms;
  };
  SlotPool* pool_;
  int64_t request_timeout_ms_;
  std::vector<PendingRequest> pending_;  // oldest first
};

}  // namespace sluice::jobmanager
