#include "taskmanager/state/timer_service.h"

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
std::string TimerService::EncodeEntry(TimeDomain domain, int64_t timestamp, absl::string_view ns) {
  std::string out;
  out.push_back(static_cast<char>(domain));
  const uint64_t biased = static_cast<uint64_t>(timestamp) ^ (uint64_t{1} << 63);
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(biased >> shift));
  out.append(ns.data(), ns.size());
  return out;
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
      index_[Slot(domain)].emplace(timestamp, key_group, key, std::move(ns));
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
  auto [it, added] = index_[Slot(domain)].emplace(timestamp, key_group, std::string(key),
                                                  std::string(ns));
  if (!added) return absl::OkStatus();
  backend_->SetCurrentKey(key_group, key);
  absl::Status s = timers_->Put(EncodeEntry(domain, timestamp, ns), "");
  if (!s.ok()) index_[Slot(domain)].erase(it);
  return s;
}

absl::Status TimerService::Delete(TimeDomain domain, int key_group, absl::string_view key,
                                  absl::string_view ns, int64_t timestamp) {
  if (index_[Slot(domain)].erase(Entry(timestamp, key_group, std::string(key), std::string(ns))) ==
      0) {
    return absl::OkStatus();
  }
  backend_->SetCurrentKey(key_group, key);
  return timers_->Remove(EncodeEntry(domain, timestamp, ns));
}

absl::Status TimerService::FireUpTo(TimeDomain domain, int64_t time, const FireFn& fire) {
  std::set<Entry>& index = index_[Slot(domain)];
  while (!index.empty() && std::get<0>(*index.begin()) <= time) {
    auto node = index.extract(index.begin());
    Timer timer;
    timer.domain = domain;
    std::tie(timer.timestamp, timer.key_group, timer.key, timer.ns) = std::move(node.value());
    backend_->SetCurrentKey(timer.key_group, timer.key);
    RETURN_IF_ERROR(timers_->Remove(EncodeEntry(domain, timer.timestamp, timer.ns)));
    RETURN_IF_ERROR(fire(timer));
  }
  return absl::OkStatus();
}

absl::Status TimerService::AdvanceWatermark(int64_t watermark, const FireFn& fire) {
  if (watermark > watermark_) watermark_ = watermark;
  return FireUpTo(TimeDomain::kEventTime, watermark_, fire);
}

absl::Status TimerService::AdvanceProcessingTime(int64_t now_ms, const FireFn& fire) {
  return FireUpTo(TimeDomain::kProcessingTime, now_ms, fire);
}

std::optional<int64_t> TimerService::NextProcessingTime() const {
  const std::set<Entry>& index = index_[Slot(TimeDomain::kProcessingTime)];
  if (index.empty()) return std::nullopt;
  return std::get<0>(*index.begin());
}

}  // namespace sluice::state
