// HeapKeyedStateBackend: keyed state in memory, one absl::flat_hash_map per state per key
// group (so snapshots and restores split by key group). Snapshots are copy-on-write at
// entry granularity: the synchronous part only takes a reference to every key group's map
// and pins it (an atomic count; O(states x key groups), no entry is copied). While a group
// is pinned, writes go to a per-group delta map (an entry is copied from the pinned map on
// its first write; erased keys become tombstones) and reads look in the delta first; the
// asynchronous part unpins each group, with release order, as soon as it has written it,
// and the delta is folded back into the map on the group's next access. So the task pays
// for the entries it writes during the upload, not for the size of the state. (A snapshot
// taken while an earlier one still pins a group with a delta copies that group.)
// The asynchronous part writes the pinned (immutable) maps to one file (docs/state.md):
//   header (magic "SLUICEHP", version, key group range, state names and kinds, crc32)
//   one section per key group (every state's entries of that group, crc32 per section)
//   index (offset, length, crc32 per key group) and a footer (index offset, crc32, magic),
// written as temp + fsync + rename. Restore reads the footer and index, then only the
// sections of the key groups this backend owns.
// TTL: every entry (every user key of a map) carries its last write time from the clock;
// past the ttl it reads as absent, is skipped by snapshots and is erased when read while its
// key group is not pinned by a running snapshot.
// Thread-safety: task thread only, except SnapshotRunner::Run (any thread).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "taskmanager/state/keyed_state_backend.h"

namespace sluice::state {

inline constexpr char kHeapMagic[] = "SLUICEHP";  // 8 bytes, at the start and the end
inline constexpr uint32_t kHeapFormatVersion = 1;

class HeapStateBase;

class HeapKeyedStateBackend : public KeyedStateBackend {
 public:
  explicit HeapKeyedStateBackend(const BackendOptions& options);
  ~HeapKeyedStateBackend() override;

  const KeyGroupRange& key_groups() const override { return key_groups_; }
  void SetCurrentKey(int key_group, absl::string_view key) override;

  absl::StatusOr<ValueState*> GetValueState(const StateDescriptor& descriptor) override;
  absl::StatusOr<ListState*> GetListState(const StateDescriptor& descriptor) override;
  absl::StatusOr<MapState*> GetMapState(const StateDescriptor& descriptor) override;
  absl::StatusOr<ReducingState*> GetReducingState(const StateDescriptor& descriptor) override;
  absl::Status ForEachKey(
      absl::string_view name,
      const std::function<void(int key_group, absl::string_view key)>& fn) override;

  absl::StatusOr<std::unique_ptr<SnapshotRunner>> Snapshot(const SnapshotTarget& target) override;
  absl::Status Restore(const std::string& job_dir,
                       const std::vector<proto::KeyedStateHandle>& handles) override;

  // For the state objects.
  int current_group_index() const { return current_group_index_; }
  // Changes with every SetCurrentKey (states cache the current key's entry within one).
  uint64_t key_generation() const { return key_generation_; }
  const std::string& current_key() const { return current_key_; }
  int64_t NowMs() const { return clock_->WallMillis(); }

 private:
  absl::StatusOr<HeapStateBase*> GetOrCreate(const StateDescriptor& descriptor);
  HeapStateBase* CreateState(const std::string& name, StateKind kind);
  absl::Status RestoreOne(const std::string& job_dir, const proto::KeyedStateHandle& handle);

  KeyGroupRange key_groups_;
  const Clock* clock_;
  int current_group_index_ = 0;
  uint64_t key_generation_ = 0;
  std::string current_key_;
  // Registration order is the order states are written in a snapshot.
  std::vector<std::unique_ptr<HeapStateBase>> states_;
  absl::flat_hash_map<std::string, HeapStateBase*> by_name_;
};

const char* StateKindName(StateKind kind);

}  // namespace sluice::state
