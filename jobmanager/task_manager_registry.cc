#include "jobmanager/task_manager_registry.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace sluice::jobmanager {
namespace {

constexpr size_t kMaxRememberedLost = 64;

std::string LostCause(const TaskManagerRecord& record, absl::string_view why) {
  return absl::StrCat("TaskManager ", record.location.tm_id, " (", record.location.control_address,
                      ") lost: ", why);
}

}  // namespace

TaskManagerRegistry::TaskManagerRegistry(const Clock* clock, int64_t heartbeat_timeout_ms)
    : clock_(clock), heartbeat_timeout_ms_(heartbeat_timeout_ms) {}

absl::StatusOr<std::optional<LostTaskManager>> TaskManagerRegistry::Register(
    const proto::RegisterTaskManagerRequest& request) {
  if (request.tm_id().empty()) {
    return absl::InvalidArgumentError("RegisterTaskManager: tm_id is empty");
  }
  if (request.control_address().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("RegisterTaskManager ", request.tm_id(), ": control_address is empty"));
  }
  if (request.slots() < 1) {
    return absl::InvalidArgumentError(absl::StrCat("RegisterTaskManager ", request.tm_id(),
                                                   ": slots must be >= 1, got ", request.slots()));
  }
  std::optional<LostTaskManager> replaced;
  auto it = entries_.find(request.tm_id());
  if (it != entries_.end() && it->second.record.alive) {
    replaced = LostTaskManager{it->second.record,
                               LostCause(it->second.record, "it registered again (restarted)")};
  }
  Entry entry;
  entry.sequence = next_sequence_++;
  TaskManagerRecord& r = entry.record;
  r.location.tm_id = request.tm_id();
  r.location.control_address = request.control_address();
  r.location.data_address =
      request.data_address().empty() ? request.control_address() : request.data_address();
  r.slots = request.slots();
  r.pid = request.pid();
  r.metrics_address = request.metrics_address();
  r.registered_wall_ms = clock_->WallMillis();
  r.last_heartbeat_ms = clock_->NowMillis();
  r.last_heartbeat_wall_ms = r.registered_wall_ms;
  entries_[request.tm_id()] = std::move(entry);
  return replaced;
}

bool TaskManagerRegistry::Heartbeat(const proto::HeartbeatRequest& request) {
  auto it = entries_.find(request.tm_id());
  if (it == entries_.end() || !it->second.record.alive) return false;
  TaskManagerRecord& r = it->second.record;
  r.last_heartbeat_ms = clock_->NowMillis();
  r.last_heartbeat_wall_ms = clock_->WallMillis();
  r.rss_bytes = request.rss_bytes();
  r.task_metrics.assign(request.tasks().begin(), request.tasks().end());
  return true;
}

std::optional<LostTaskManager> TaskManagerRegistry::MarkLost(absl::string_view tm_id,
                                                             absl::string_view reason) {
  auto it = entries_.find(tm_id);
  if (it == entries_.end() || !it->second.record.alive) return std::nullopt;
  TaskManagerRecord& r = it->second.record;
  r.alive = false;
  r.task_metrics.clear();
  return LostTaskManager{r, LostCause(r, reason)};
}

std::vector<LostTaskManager> TaskManagerRegistry::ExpireSilent() {
  const int64_t now = clock_->NowMillis();
  std::vector<std::pair<uint64_t, LostTaskManager>> lost;
  for (auto& [id, entry] : entries_) {
    TaskManagerRecord& r = entry.record;
    if (!r.alive) continue;
    int64_t silent = now - r.last_heartbeat_ms;
    if (silent <= heartbeat_timeout_ms_) continue;
    r.alive = false;
    r.task_metrics.clear();
    lost.emplace_back(
        entry.sequence,
        LostTaskManager{r, LostCause(r, absl::StrCat("no heartbeat for ", silent, " ms"))});
  }
  std::sort(lost.begin(), lost.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  // Forget the oldest lost entries beyond the limit.
  std::vector<std::pair<uint64_t, std::string>> dead;
  for (const auto& [id, entry] : entries_) {
    if (!entry.record.alive) dead.emplace_back(entry.sequence, id);
  }
  if (dead.size() > kMaxRememberedLost) {
    std::sort(dead.begin(), dead.end());
    for (size_t i = 0; i + kMaxRememberedLost < dead.size(); ++i) entries_.erase(dead[i].second);
  }
  std::vector<LostTaskManager> out;
  out.reserve(lost.size());
  for (auto& [seq, l] : lost) out.push_back(std::move(l));
  return out;
}

std::optional<int64_t> TaskManagerRegistry::NextExpiryMs() const {
  std::optional<int64_t> next;
  for (const auto& [id, entry] : entries_) {
    if (!entry.record.alive) continue;
    int64_t at = entry.record.last_heartbeat_ms + heartbeat_timeout_ms_ + 1;
    if (!next.has_value() || at < *next) next = at;
  }
  return next;
}

const TaskManagerRecord* TaskManagerRegistry::FindAlive(absl::string_view tm_id) const {
  auto it = entries_.find(tm_id);
  if (it == entries_.end() || !it->second.record.alive) return nullptr;
  return &it->second.record;
}

std::vector<const TaskManagerRecord*> TaskManagerRegistry::List() const {
  std::vector<const Entry*> sorted;
  sorted.reserve(entries_.size());
  for (const auto& [id, entry] : entries_) sorted.push_back(&entry);
  std::sort(sorted.begin(), sorted.end(),
            [](const Entry* a, const Entry* b) { return a->sequence < b->sequence; });
  std::vector<const TaskManagerRecord*> out;
  out.reserve(sorted.size());
  for (const Entry* e : sorted) out.push_back(&e->record);
  return out;
}

}  // namespace sluice::jobmanager
