// KeyedStateBackend: the keyed state of one task (subtask of a keyed vertex), partitioned by
// key group. Operators register named states (value, list, map, reducing) and read/write them
// for the CURRENT key, set once per record with SetCurrentKey. Values are opaque bytes (the
// operator encodes them). Two implementations behind this one interface: heap
// (absl::flat_hash_map) and rocksdb (one column family per state, key = key group + key).
// Snapshots have a synchronous part (task thread, must be short) and an asynchronous part
// (SnapshotRunner::Run, any thread, while the task keeps changing state).
// Thread-safety: everything except SnapshotRunner::Run is called from the task thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "proto/checkpoint.pb.h"
#include "taskmanager/network/key_groups.h"

namespace sluice::state {

using network::KeyGroupRange;

enum class StateKind { kValue, kList, kMap, kReducing };

// Merges `value` into `accumulator` (reducing/aggregating state).
using ReduceFunction = std::function<void(std::string* accumulator, absl::string_view value)>;

struct StateDescriptor {
  std::string name;  // unique within the backend, e.g. "2.acc" (chain index + state name)
  StateKind kind = StateKind::kValue;
  // Entries not written for longer than `ttl` read as absent (and are dropped lazily and at
  // snapshot). Zero = no TTL. Time comes from the backend's clock.
  absl::Duration ttl = absl::ZeroDuration();
  ReduceFunction reduce;  // kReducing only
};

// Each state object is owned by its backend and valid for the backend's life. All access
// refers to the backend's current key.
class ValueState {
 public:
  virtual ~ValueState() = default;
  // True and `*value` set when present.
  virtual absl::StatusOr<bool> Get(std::string* value) = 0;
  virtual absl::Status Put(absl::string_view value) = 0;
  virtual absl::Status Clear() = 0;
};

class ListState {
 public:
  virtual ~ListState() = default;
  virtual absl::Status Add(absl::string_view value) = 0;
  virtual absl::Status Get(std::vector<std::string>* values) = 0;  // empty when absent
  virtual absl::Status Update(const std::vector<std::string>& values) = 0;
  virtual absl::Status Clear() = 0;
};

class MapState {
 public:
  virtual ~MapState() = default;
  virtual absl::StatusOr<bool> Get(absl::string_view key, std::string* value) = 0;
  virtual absl::Status Put(absl::string_view key, absl::string_view value) = 0;
  virtual absl::Status Remove(absl::string_view key) = 0;
  // Calls `fn` for each entry of the current key (order unspecified for heap, sorted for
  // rocksdb); stops early when `fn` returns false.
  virtual absl::Status ForEach(
      const std::function<bool(absl::string_view key, absl::string_view value)>& fn) = 0;
  virtual absl::Status Clear() = 0;
};

class ReducingState {
 public:
  virtual ~ReducingState() = default;
  virtual absl::Status Add(absl::string_view value) = 0;  // reduce into the accumulator
  virtual absl::StatusOr<bool> Get(std::string* accumulator) = 0;
  virtual absl::Status Clear() = 0;
};

// Where a snapshot writes. Files go under `<job_dir>/chk-<N>/` (exclusive to this
// checkpoint) or, for incremental backends, `<job_dir>/shared/` (referenced by later
// checkpoints too). A savepoint (`self_contained`) writes everything under its own directory
// and references no shared file. Handle paths are relative to `job_dir`.
struct SnapshotTarget {
  int64_t checkpoint_id = 0;
  std::string job_dir;          // "<checkpoint dir>/<job_id>" or the savepoint directory
  std::string exclusive_subdir; // "chk-<N>" (or "" for a savepoint: files at its top level)
  std::string file_prefix;      // unique per task in the job, e.g. "v3-s1"
  bool self_contained = false;  // savepoint: no shared files
};

// The asynchronous part of a snapshot. Run once, on any thread; the backend may be used by
// the task meanwhile (the runner owns or references an immutable view). Failure (full disk,
// unwritable dir) is a Status naming the path; partial files may remain (the coordinator
// cleans the checkpoint directory).
class SnapshotRunner {
 public:
  virtual ~SnapshotRunner() = default;
  virtual absl::StatusOr<proto::KeyedStateHandle> Run() = 0;
};

class KeyedStateBackend {
 public:
  virtual ~KeyedStateBackend() = default;

  virtual const KeyGroupRange& key_groups() const = 0;
  // Sets the key every state access refers to. `key_group` must be in key_groups() (the
  // caller computed it with network::KeyGroupForKeyHash of the key's hash).
  virtual void SetCurrentKey(int key_group, absl::string_view key) = 0;

  // Registers (first call) or returns the state named `descriptor.name`. InvalidArgument if
  // the name exists with another kind.
  virtual absl::StatusOr<ValueState*> GetValueState(const StateDescriptor& descriptor) = 0;
  virtual absl::StatusOr<ListState*> GetListState(const StateDescriptor& descriptor) = 0;
  virtual absl::StatusOr<MapState*> GetMapState(const StateDescriptor& descriptor) = 0;
  virtual absl::StatusOr<ReducingState*> GetReducingState(const StateDescriptor& descriptor) = 0;

  // Calls `fn` with the key group and key of every key with a live value in state `name`
  // (order unspecified); NotFound if unregistered. `fn` may call SetCurrentKey and read any
  // state, but must not write: timers rebuild their index with it after a restore.
  virtual absl::Status ForEachKey(
      absl::string_view name, const std::function<void(int key_group, absl::string_view key)>& fn) = 0;
  // Number of keys with a value in state `name` (tests, metrics); NotFound if unregistered.
  absl::StatusOr<int64_t> NumKeys(absl::string_view name) {
    int64_t n = 0;
    absl::Status s = ForEachKey(name, [&n](int, absl::string_view) { ++n; });
    if (!s.ok()) return s;
    return n;
  }

  // Synchronous part of a snapshot of every state. The runner does the I/O.
  virtual absl::StatusOr<std::unique_ptr<SnapshotRunner>> Snapshot(
      const SnapshotTarget& target) = 0;

  // Before any state access: loads the snapshots of one or more old subtasks (rescaling),
  // keeping only key groups in key_groups(). Paths in the handles are relative to `job_dir`.
  // A missing, truncated or corrupt file is DataLoss naming the file.
  virtual absl::Status Restore(const std::string& job_dir,
                               const std::vector<proto::KeyedStateHandle>& handles) = 0;

  // Checkpoint `checkpoint_id` completed (all tasks acked): incremental backends may release
  // what only older checkpoints needed.
  virtual void NotifyCheckpointComplete(int64_t checkpoint_id) {}
};

enum class BackendKind { kHeap, kRocksDb };

struct BackendOptions {
  BackendKind kind = BackendKind::kHeap;
  int max_parallelism = network::kDefaultMaxParallelism;
  KeyGroupRange key_groups;
  // RocksDB: the task's private working directory (created; deleted when the backend is
  // destroyed).
  std::string local_dir;
  const Clock* clock = nullptr;  // TTL; nullptr = SystemClock
};

absl::StatusOr<BackendKind> ParseBackendKind(absl::string_view name);  // "heap" | "rocksdb"
absl::StatusOr<std::unique_ptr<KeyedStateBackend>> CreateKeyedStateBackend(
    const BackendOptions& options);

}  // namespace sluice::state
