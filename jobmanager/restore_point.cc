#include "jobmanager/restore_point.h"

#include <filesystem>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/file_util.h"
#include "common/key_group_range.h"
#include "jobmanager/job_graph_checks.h"

namespace sluice::jobmanager {
namespace {

namespace fs = std::filesystem;

bool HasState(const proto::TaskStateSnapshot& task) {
  return task.operators_size() > 0 || task.has_keyed();
}

}  // namespace

absl::StatusOr<RestorePoint> LoadRestorePoint(const std::string& path, const proto::JobGraph& graph,
                                              bool allow_non_restored_state) {
  RestorePoint point;
  point.path = fs::absolute(path).lexically_normal().string();
  if (!point.path.empty() && point.path.back() == '/') point.path.pop_back();
  const std::string file = point.path + "/_metadata";
  absl::StatusOr<std::string> bytes = ReadFile(file);
  if (!bytes.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("savepoint ", path, ": cannot read ", file, " (", bytes.status().message(), ")"));
  }
  proto::CheckpointMetadata& m = point.metadata;
  if (!m.ParseFromString(*bytes) || m.checkpoint_id() <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("savepoint ", path, ": ", file, " is corrupt"));
  }
  // A savepoint's handles are relative to itself; a checkpoint's to its job directory.
  point.base_dir = m.savepoint() ? point.path : fs::path(point.path).parent_path().string();
  const int max_parallelism = EffectiveMaxParallelism(graph);
  if (m.max_parallelism() != 0 && m.max_parallelism() != max_parallelism) {
    return absl::InvalidArgumentError(absl::StrCat(
        "savepoint ", path, " was taken with max_parallelism ", m.max_parallelism(),
        ", the job has ", max_parallelism,
        ": keyed state cannot be redistributed to another number of key groups"));
  }
  std::map<std::string, const proto::JobVertex*> by_name;
  for (const proto::JobVertex& v : graph.vertices()) by_name[v.name()] = &v;
  std::map<int, int> new_id;  // old vertex id -> new
  for (const proto::CheckpointMetadata::Vertex& old : m.vertices()) {
    auto it = by_name.find(old.name());
    if (it == by_name.end()) continue;
    std::vector<std::string> ops;
    for (const proto::OperatorSpec& op : it->second->chain()) ops.push_back(op.name());
    if (ops == std::vector<std::string>(old.operator_names().begin(), old.operator_names().end())) {
      new_id[old.vertex_id()] = it->second->id();
    }
  }
  google::protobuf::RepeatedPtrField<proto::TaskStateSnapshot> kept;
  for (proto::TaskStateSnapshot& task : *m.mutable_tasks()) {
    auto it = new_id.find(task.vertex_id());
    if (it != new_id.end()) {
      task.set_vertex_id(it->second);
      *kept.Add() = std::move(task);
      continue;
    }
    if (!HasState(task) || allow_non_restored_state) continue;
    std::string vertex = absl::StrCat("vertex ", task.vertex_id());
    for (const auto& v : m.vertices()) {
      if (v.vertex_id() == task.vertex_id()) {
        vertex = absl::StrCat("'", v.name(), "' (operators ", absl::StrJoin(v.operator_names(), ", "), ")");
      }
    }
    return absl::InvalidArgumentError(absl::StrCat(
        "savepoint ", path, " has state for ", vertex,
        ", which this job does not have; pass --allow-non-restored-state to start without it"));
  }
  m.mutable_tasks()->Swap(&kept);
  for (proto::CheckpointMetadata::Vertex& v : *m.mutable_vertices()) {
    auto it = new_id.find(v.vertex_id());
    v.set_vertex_id(it == new_id.end() ? -1 : it->second);
  }
  return point;
}

std::vector<proto::TaskStateSnapshot> AssignRestoreState(const proto::CheckpointMetadata& metadata,
                                                         int vertex_id, int subtask,
                                                         int parallelism, int max_parallelism) {
  int old_parallelism = parallelism;
  for (const auto& v : metadata.vertices()) {
    if (v.vertex_id() == vertex_id) old_parallelism = v.parallelism();
  }
  std::vector<proto::TaskStateSnapshot> out;
  const KeyGroupRange range = KeyGroupRangeForOperatorIndex(max_parallelism, parallelism, subtask);
  const bool rescaled = old_parallelism != parallelism;
  for (const proto::TaskStateSnapshot& task : metadata.tasks()) {
    if (task.vertex_id() != vertex_id) continue;
    const bool owner = rescaled ? task.subtask() % parallelism == subtask : task.subtask() == subtask;
    proto::TaskStateSnapshot share = task;
    share.clear_operators();
    for (const proto::OperatorSubtaskState& op : task.operators()) {
      if (owner || op.union_state()) *share.add_operators() = op;
    }
    const bool keyed = task.has_keyed() &&
                       (rescaled ? range.Overlaps(task.keyed().key_group_first(),
                                                  task.keyed().key_group_last())
                                 : task.subtask() == subtask);
    if (!keyed) share.clear_keyed();
    if ((owner && !rescaled) || share.operators_size() > 0 || share.has_keyed()) {
      out.push_back(std::move(share));
    }
  }
  return out;
}

}  // namespace sluice::jobmanager
