// ExecutionGraph: the parallel form of one job's JobGraph for its current attempt: one
// Execution per (vertex, subtask) with its TaskState, the TaskManager it runs on (subtask i of
// every vertex is placed in shared slot i) and its latest metrics. The attempt number grows by
// one on every restart; executions are reset to CREATED then. Owned by the job's JobMaster.
// Not thread-safe: called under the Dispatcher's mutex.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "jobmanager/task_manager_location.h"
#include "proto/control.pb.h"
#include "proto/jobgraph.pb.h"

namespace sluice::jobmanager {

struct Execution {
  proto::TaskState state = proto::CREATED;
  TaskManagerLocation location;  // empty until placed
  proto::TaskMetrics metrics;    // latest from a heartbeat or the final state update
  bool final_metrics = false;    // metrics came with a terminal state update
  std::string failure;           // the cause, when FAILED
};

// FINISHED, FAILED and CANCELED.
bool IsTerminal(proto::TaskState state);

class ExecutionGraph {
 public:
  // `graph` (validated by ValidateJobGraph) must outlive this object.
  ExecutionGraph(std::string job_id, const proto::JobGraph* graph);

  const std::string& job_id() const { return job_id_; }
  const proto::JobGraph& graph() const { return *graph_; }
  int attempt() const { return attempt_; }
  // Shared slots the job needs: the largest vertex parallelism.
  int num_slots() const { return num_slots_; }
  int max_parallelism() const;

  // Starts `attempt`: every execution CREATED again, subtask i placed on `slots[i]`.
  void ResetForAttempt(int attempt, std::vector<TaskManagerLocation> slots);
  const std::vector<TaskManagerLocation>& slots() const { return slots_; }

  int num_vertices() const { return graph_->vertices_size(); }
  const proto::JobVertex& vertex(int index) const { return graph_->vertices(index); }
  // Index in graph().vertices() of a vertex id.
  std::optional<int> VertexIndex(int vertex_id) const;
  // Edges into / out of a vertex (by index), in graph order.
  const std::vector<const proto::JobEdge*>& InputEdges(int index) const { return inputs_[index]; }
  const std::vector<const proto::JobEdge*>& OutputEdges(int index) const { return outputs_[index]; }

  Execution& execution(int index, int subtask) { return executions_[index][subtask]; }
  const Execution& execution(int index, int subtask) const { return executions_[index][subtask]; }
  // "big -> per_card (2/4)": the vertex name and the 1-based subtask, as users read it.
  std::string TaskName(int index, int subtask) const;

  int NumTasks() const;
  int CountInState(proto::TaskState state) const;
  bool AllInState(proto::TaskState state) const;
  bool AllTerminal() const;

  // Calls fn(vertex index, subtask, Execution&) for every execution.
  template <typename Fn>
  void ForEach(Fn&& fn) {
    for (int v = 0; v < num_vertices(); ++v) {
      for (int s = 0; s < static_cast<int>(executions_[v].size()); ++s) fn(v, s, executions_[v][s]);
    }
  }
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (int v = 0; v < num_vertices(); ++v) {
      for (int s = 0; s < static_cast<int>(executions_[v].size()); ++s) fn(v, s, executions_[v][s]);
    }
  }

 private:
  std::string job_id_;
  const proto::JobGraph* graph_;
  int attempt_ = 0;
  int num_slots_ = 0;
  std::vector<TaskManagerLocation> slots_;
  absl::flat_hash_map<int, int> vertex_index_;
  std::vector<std::vector<const proto::JobEdge*>> inputs_;
  std::vector<std::vector<const proto::JobEdge*>> outputs_;
  std::vector<std::vector<Execution>> executions_;  // [vertex index][subtask]
};

}  // namespace sluice::jobmanager
