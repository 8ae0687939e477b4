// RestorePoint: a savepoint (or a retained checkpoint) a job starts from, mapped onto the job
// graph being submitted (`sluice run --from-savepoint PATH [--parallelism P]`), and the rule
// that hands each subtask its share of a checkpoint's state, also when the parallelism changed:
// keyed state goes to the subtasks whose key group range overlaps the old subtask's (the
// backend keeps only its own key groups); non-keyed (operator) state of old subtask i goes to
// new subtask i % P (exactly one owner, so sources resume each old position once), except
// entries marked union_state (the Kafka source's offsets), which every new subtask gets.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/checkpoint.pb.h"
#include "proto/jobgraph.pb.h"

namespace sluice::jobmanager {

struct RestorePoint {
  std::string path;      // the savepoint or chk-N directory
  std::string base_dir;  // state handle paths are relative to it
  // Vertex ids remapped to the job graph's; state of vertices the job lacks dropped (only with
  // allow_non_restored_state).
  proto::CheckpointMetadata metadata;
};

// Reads `<path>/_metadata` and matches its vertices to `graph` by vertex name and operator
// names. InvalidArgument naming the path for a missing or corrupt _metadata, a changed
// max_parallelism, or state of an operator the job does not have (unless
// `allow_non_restored_state`).
absl::StatusOr<RestorePoint> LoadRestorePoint(const std::string& path,
                                              const proto::JobGraph& graph,
                                              bool allow_non_restored_state);

// The state subtask `subtask` of vertex `vertex_id` (now at `parallelism`) restores from
// `metadata`, whose vertex ids match the running graph.
std::vector<proto::TaskStateSnapshot> AssignRestoreState(const proto::CheckpointMetadata& metadata,
                                                         int vertex_id, int subtask,
                                                         int parallelism, int max_parallelism);

}  // namespace sluice::jobmanager
