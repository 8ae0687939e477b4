// TimerService: the event-time and processing-time timers of one keyed operator, per key and
// namespace (e.g. a window), Flink's InternalTimerService. Timers live in the operator's
// KeyedStateBackend as a map state `<name>` (per key: entries "domain, timestamp, namespace"),
// so they are checkpointed, restored and redistributed by key group with the rest of the
// operator's state, on both backends; an in-memory index ordered by time finds the due ones
// (as Flink's heap timers: the index holds every timer of the subtask in memory).
// A timer is unique per (domain, key, namespace, timestamp): registering it twice fires it
// once. Firing removes the timer first, sets the backend's current key to the timer's key and
// calls the operator, which may register or delete timers (a new timer that is already due
// fires in the same call). Task thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "taskmanager/state/keyed_state_backend.h"

namespace sluice::state {

enum class TimeDomain : uint8_t { kEventTime = 0, kProcessingTime = 1 };

struct Timer {
  TimeDomain domain = TimeDomain::kEventTime;
  int64_t timestamp = 0;  // event time: µs (the TIMESTAMP unit); processing time: ms
  int key_group = 0;
  std::string key;
  std::string ns;  // namespace: "" or what the operator chose (a window's bounds)
};

class TimerService {
 public:
  using FireFn = std::function<absl::Status(const Timer& timer)>;

  // Registers the map state `name` in `backend` (which must outlive the service) and, after a
  // restore, rebuilds the index from it.
  static absl::StatusOr<std::unique_ptr<TimerService>> Create(KeyedStateBackend* backend,
                                                              std::string name);

  // Adds a timer for `key` (in `key_group`, which the backend must own). Idempotent.
  absl::Status Register(TimeDomain domain, int key_group, absl::string_view key,
                        absl::string_view ns, int64_t timestamp);
  // Removes it; a timer that does not exist is not an error.
  absl::Status Delete(TimeDomain domain, int key_group, absl::string_view key,
                      absl::string_view ns, int64_t timestamp);

  // Event time reached `watermark`: fires every event-time timer with timestamp <= watermark,
  // in timestamp order (ties: by key group, key, namespace). Stops at the first error.
  absl::Status AdvanceWatermark(int64_t watermark, const FireFn& fire);
  // Processing time reached `now_ms`: the same for processing-time timers.
  absl::Status AdvanceProcessingTime(int64_t now_ms, const FireFn& fire);

  // The earliest processing-time timer (the task sleeps until then at most).
  std::optional<int64_t> NextProcessingTime() const;
  // Event time fired up to (INT64_MIN before the first watermark).
  int64_t current_watermark() const { return watermark_; }
  size_t size(TimeDomain domain) const { return index_[Slot(domain)].size(); }

 private:
  // The in-memory index of one domain's timers: a bucket per timestamp (many timers share
  // one: every key's window ending at the same minute), a hash set in each, so adding and
  // deleting a timer are O(1) on average. The due bucket is sorted once when it fires, for
  // the (timestamp, key group, key, namespace) firing order.
  class Index {
   public:
    using Ref = std::tuple<int, std::string, std::string>;  // key group, key, namespace
    bool Insert(int64_t timestamp, Ref ref);  // false: already there
    bool Erase(int64_t timestamp, const Ref& ref);  // false: not there
    // Removes and returns the first timer due at `time` (timestamp <= time), if any.
    std::optional<std::pair<int64_t, Ref>> PopDue(int64_t time);
    std::optional<int64_t> first_time() const;
    size_t size() const { return size_; }

   private:
    absl::btree_map<int64_t, absl::flat_hash_set<Ref>> buckets_;
    size_t size_ = 0;
    // The bucket being fired, sorted: its timestamp and the entries not yet taken.
    int64_t firing_time_ = 0;
    std::vector<Ref> firing_;
    size_t firing_next_ = 0;
  };

  TimerService(KeyedStateBackend* backend, std::string name, MapState* timers)
      : backend_(backend), name_(std::move(name)), timers_(timers) {}
  static int Slot(TimeDomain d) { return d == TimeDomain::kEventTime ? 0 : 1; }
  // The stored key of a timer, into `out` (reused: no allocation per timer).
  static void EncodeEntry(TimeDomain domain, int64_t timestamp, absl::string_view ns,
                          std::string* out);
  static bool DecodeEntry(absl::string_view stored, TimeDomain* domain, int64_t* timestamp,
                          std::string* ns);
  absl::Status Rebuild();
  absl::Status FireUpTo(TimeDomain domain, int64_t time, const FireFn& fire);

  KeyedStateBackend* backend_;
  const std::string name_;
  MapState* timers_;
  std::string entry_scratch_;
  Index index_[2];
  int64_t watermark_ = INT64_MIN;
};

}  // namespace sluice::state
