#include "jobmanager/scheduler.h"

#include <algorithm>

namespace sluice::jobmanager {

void Scheduler::Request(absl::string_view job_id, int slots, int64_t now_ms) {
  CancelRequest(job_id);
  pending_.push_back({std::string(job_id), slots, now_ms + request_timeout_ms_});
}

void Scheduler::CancelRequest(absl::string_view job_id) {
  pending_.erase(std::remove_if(pending_.begin(), pending_.end(),
                                [&](const PendingRequest& r) { return r.job_id == job_id; }),
                 pending_.end());
}

bool Scheduler::HasRequest(absl::string_view job_id) const {
  return std::any_of(pending_.begin(), pending_.end(),
                     [&](const PendingRequest& r) { return r.job_id == job_id; });
}

std::vector<Scheduler::Grant> Scheduler::TryFulfill() {
  std::vector<Grant> grants;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (pool_->FreeSlots() < it->slots) {
      ++it;
      continue;
    }
    auto slots = pool_->Allocate(it->job_id, it->slots);
    if (!slots.ok()) {
      ++it;
      continue;
    }
    grants.push_back({it->job_id, *std::move(slots)});
    it = pending_.erase(it);
  }
  return grants;
}

std::vector<Scheduler::Expired> Scheduler::ExpireRequests(int64_t now_ms) {
  std::vector<Expired> expired;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (now_ms < it->deadline_ms) {
      ++it;
      continue;
    }
    expired.push_back({it->job_id, it->slots, pool_->FreeSlots()});
    it = pending_.erase(it);
  }
  return expired;
}

std::optional<int64_t> Scheduler::NextDeadlineMs() const {
  std::optional<int64_t> next;
  for (const PendingRequest& r : pending_) {
    if (!next.has_value() || r.deadline_ms < *next) next = r.deadline_ms;
  }
  return next;
}

}  // namespace sluice::jobmanager
