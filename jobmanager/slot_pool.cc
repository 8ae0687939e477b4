#include "jobmanager/slot_pool.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace sluice::jobmanager {

int SlotPool::TaskManagerSlots::used() const {
  int n = 0;
  for (const auto& [job, count] : held) n += count;
  return n;
}

void SlotPool::AddTaskManager(absl::string_view tm_id, int slots) {
  TaskManagerSlots tm;
  tm.total = slots;
  tm.sequence = next_sequence_++;
  tms_[tm_id] = std::move(tm);
}

void SlotPool::RemoveTaskManager(absl::string_view tm_id) { tms_.erase(tm_id); }

absl::StatusOr<std::vector<std::string>> SlotPool::Allocate(absl::string_view job_id, int n) {
  int free = FreeSlots();
  if (free < n) {
    return absl::ResourceExhaustedError(
        absl::StrCat("not enough task slots: need ", n, ", cluster has ", free, " free"));
  }
  struct Candidate {
    std::string tm_id;
    int free;
    uint64_t sequence;
  };
  std::vector<Candidate> order;
  for (const auto& [id, tm] : tms_) {
    int f = tm.total - tm.used();
    if (f > 0) order.push_back({id, f, tm.sequence});
  }
  std::sort(order.begin(), order.end(), [](const Candidate& a, const Candidate& b) {
    if (a.free != b.free) return a.free > b.free;
    return a.sequence < b.sequence;
  });
  std::vector<std::string> slots;
  slots.reserve(n);
  while (static_cast<int>(slots.size()) < n) {
    for (Candidate& c : order) {
      if (c.free == 0) continue;
      --c.free;
      slots.push_back(c.tm_id);
      if (static_cast<int>(slots.size()) == n) break;
    }
  }
  for (const std::string& tm_id : slots) ++tms_[tm_id].held[job_id];
  return slots;
}

void SlotPool::Release(absl::string_view job_id) {
  for (auto& [id, tm] : tms_) tm.held.erase(job_id);
}

int SlotPool::FreeSlots() const {
  int n = 0;
  for (const auto& [id, tm] : tms_) n += tm.total - tm.used();
  return n;
}

int SlotPool::FreeSlots(absl::string_view tm_id) const {
  auto it = tms_.find(tm_id);
  return it == tms_.end() ? 0 : it->second.total - it->second.used();
}

int SlotPool::TotalSlots(absl::string_view tm_id) const {
  auto it = tms_.find(tm_id);
  return it == tms_.end() ? 0 : it->second.total;
}

}  // namespace sluice::jobmanager
