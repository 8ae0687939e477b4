#include "taskmanager/state/timer_service.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace sluice::state {

absl::StatusOr<std::unique_ptr<TimerService>> TimerService::Create(KeyedStateBackend* backend,
                                                                   std::string name) {
  StateDescriptor descriptor;
  descriptor.name = name;
  descriptor.kind = StateKind::kMap;
  ASSIGN_OR_RETURN(MapState * timers, backend->GetMapState(descriptor));
  std::unique_ptr<TimerService> service(new TimerService(backend, std::move(name), timers));
  RETURN_IF_ERROR(service->Rebuild());
  return service;
}

// domain (1 byte) | timestamp (8 bytes, big-endian, sign bit flipped: sorts by time) | ns
void TimerService::EncodeEntry(TimeDomain domain, int64_t timestamp, absl::string_view ns,
                               std::string* out) {
  out->clear();
  out->push_back(static_cast<char>(domain));
  const uint64_t biased = static_cast<uint64_t>(timestamp) ^ (uint64_t{1} << 63);
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>(biased >> shift));
  out->append(ns.data(), ns.size());
}

bool TimerService::DecodeEntry(absl::string_view stored, TimeDomain* domain, int64_t* timestamp,
                               std::string* ns) {
  if (stored.size() < 9 || static_cast<uint8_t>(stored[0]) > 1) return false;
  *domain = static_cast<TimeDomain>(stored[0]);
  uint64_t biased = 0;
  for (int i = 1; i <= 8; ++i) biased = (biased << 8) | static_cast<unsigned char>(stored[i]);
  *timestamp = static_cast<int64_t>(biased ^ (uint64_t{1} << 63));
  ns->assign(stored.data() + 9, stored.size() - 9);
  return true;
}

absl::Status TimerService::Rebuild() {
  // Keys first, then their timers: reading a key's map may reorganise the heap backend's
  // tables, which must not happen while ForEachKey walks them.
  std::vector<std::pair<int, std::string>> keys;
  RETURN_IF_ERROR(backend_->ForEachKey(name_, [&keys](int key_group, absl::string_view key) {
    keys.emplace_back(key_group, std::string(key));
  }));
  for (const auto& [key_group, key] : keys) {
    backend_->SetCurrentKey(key_group, key);
    bool malformed = false;
    RETURN_IF_ERROR(timers_->ForEach([&](absl::string_view stored, absl::string_view) {
      TimeDomain domain;
      int64_t timestamp = 0;
      std::string ns;
      if (!DecodeEntry(stored, &domain, &timestamp, &ns)) {
        malformed = true;
        return false;
      }
      index_[Slot(domain)].Insert(timestamp, Index::Ref(key_group, key, std::move(ns)));
      return true;
    }));
    if (malformed) {
      return absl::DataLossError(
          absl::StrCat("timer state '", name_, "': a malformed entry in key group ", key_group));
    }
  }
  return absl::OkStatus();
}

absl::Status TimerService::Register(TimeDomain domain, int key_group, absl::string_view key,
                                    absl::string_view ns, int64_t timestamp) {
  Index::Ref ref(key_group, std::string(key), std::string(ns));
  if (!index_[Slot(domain)].Insert(timestamp, ref)) return absl::OkStatus();
  backend_->SetCurrentKey(key_group, key);
  EncodeEntry(domain, timestamp, ns, &entry_scratch_);
  absl::Status s = timers_->Put(entry_scratch_, "");
  if (!s.ok()) index_[Slot(domain)].Erase(timestamp, ref);
  return s;
}

absl::Status TimerService::Delete(TimeDomain domain, int key_group, absl::string_view key,
                                  absl::string_view ns, int64_t timestamp) {
  if (!index_[Slot(domain)].Erase(timestamp,
                                  Index::Ref(key_group, std::string(key), std::string(ns)))) {
    return absl::OkStatus();
  }
  backend_->SetCurrentKey(key_group, key);
  EncodeEntry(domain, timestamp, ns, &entry_scratch_);
  return timers_->Remove(entry_scratch_);
}

absl::Status TimerService::FireUpTo(TimeDomain domain, int64_t time, const FireFn& fire) {
  Index& index = index_[Slot(domain)];
  while (std::optional<std::pair<int64_t, Index::Ref>> due = index.PopDue(time)) {
    Timer timer;
    timer.domain = domain;
    timer.timestamp = due->first;
    std::tie(timer.key_group, timer.key, timer.ns) = std::move(due->second);
    backend_->SetCurrentKey(timer.key_group, timer.key);
    EncodeEntry(domain, timer.timestamp, timer.ns, &entry_scratch_);
    RETURN_IF_ERROR(timers_->Remove(entry_scratch_));
    RETURN_IF_ERROR(fire(timer));
  }
  return absl::OkStatus();
}

bool TimerService::Index::Insert(int64_t timestamp, Ref ref) {
  if (!buckets_[timestamp].insert(std::move(ref)).second) return false;
  ++size_;
  return true;
}

bool TimerService::Index::Erase(int64_t timestamp, const Ref& ref) {
  auto bucket = buckets_.find(timestamp);
  if (bucket == buckets_.end() || bucket->second.erase(ref) == 0) return false;
  --size_;
  if (bucket->second.empty()) buckets_.erase(bucket);
  return true;
}

std::optional<std::pair<int64_t, TimerService::Index::Ref>> TimerService::Index::PopDue(
    int64_t time) {
  while (!buckets_.empty() && buckets_.begin()->first <= time) {
    auto bucket = buckets_.begin();
    if (bucket->first != firing_time_ || firing_next_ >= firing_.size()) {
      // Start (or, after timers were added to it meanwhile, restart) this bucket in order.
      firing_time_ = bucket->first;
      firing_.assign(bucket->second.begin(), bucket->second.end());
      std::sort(firing_.begin(), firing_.end());
      firing_next_ = 0;
    }
    while (firing_next_ < firing_.size()) {
      Ref& ref = firing_[firing_next_++];
      if (bucket->second.erase(ref) == 0) continue;  // deleted since the sort
      --size_;
      const int64_t timestamp = bucket->first;
      if (bucket->second.empty()) buckets_.erase(bucket);
      return std::make_pair(timestamp, std::move(ref));
    }
    if (bucket->second.empty()) buckets_.erase(bucket);
  }
  return std::nullopt;
}

std::optional<int64_t> TimerService::Index::first_time() const {
  if (buckets_.empty()) return std::nullopt;
  return buckets_.begin()->first;
}

absl::Status TimerService::AdvanceWatermark(int64_t watermark, const FireFn& fire) {
  if (watermark > watermark_) watermark_ = watermark;
  return FireUpTo(TimeDomain::kEventTime, watermark_, fire);
}

absl::Status TimerService::AdvanceProcessingTime(int64_t now_ms, const FireFn& fire) {
  return FireUpTo(TimeDomain::kProcessingTime, now_ms, fire);
}

std::optional<int64_t> TimerService::NextProcessingTime() const {
  return index_[Slot(TimeDomain::kProcessingTime)].first_time();
}

}  // namespace sluice::state
