// RocksDbKeyedStateBackend: keyed state in an embedded RocksDB under the task's local_dir,
// one column family per state. Keys are
//   2-byte big-endian key group | 4-byte big-endian key length | key [| map user key]
// so every key group (and every key of a map state) is one contiguous, sorted range. Values
// are an 8-byte write time (TTL) followed by the payload (bytes; lists as length-prefixed
// elements). Writes skip the WAL: a task's state is recovered from checkpoints, not logs.
//
// Snapshots: the synchronous part is a rocksdb::Checkpoint (memtables flushed, SST files
// hard-linked into `<local_dir>/snap-<N>`). The asynchronous part copies them out:
//   checkpoint: each SST to `<job_dir>/shared/<prefix>-<instance>-<N>-<name>.sst` unless a
//     completed checkpoint already uploaded it (then only referenced: incremental);
//     MANIFEST, CURRENT, OPTIONS to `<job_dir>/<exclusive_subdir>/<prefix>-<name>`;
//   savepoint (self_contained): every file under the savepoint directory, nothing shared.
// Only files of checkpoints confirmed by NotifyCheckpointComplete are reused, so a declined
// checkpoint's uploads (which the coordinator deletes) are never referenced.
// `backend_metadata` is JSON: format version, key group range, states (name, kind) and each
// file's local name and path. Restore hard-links SSTs (copies the rest) into local_dir and
// opens the DB as is when one snapshot lies inside our key groups; otherwise (rescaling) it
// opens each snapshot in a temporary directory and copies only our key groups' ranges.
// Thread-safety: task thread only, except SnapshotRunner::Run (any thread; the upload
// registry it shares with the backend is guarded by a mutex).
#pragma once

#include <memory>

#include "taskmanager/state/keyed_state_backend.h"

namespace sluice::state {

absl::StatusOr<std::unique_ptr<KeyedStateBackend>> CreateRocksDbBackend(
    const BackendOptions& options);

}  // namespace sluice::state
