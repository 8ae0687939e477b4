#include "jobmanager/execution_graph.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/check.h"
#include "jobmanager/job_graph_checks.h"

namespace sluice::jobmanager {

bool IsTerminal(proto::TaskState state) {
  return state == proto::FINISHED || state == proto::FAILED || state == proto::CANCELED;
}

ExecutionGraph::ExecutionGraph(std::string job_id, const proto::JobGraph* graph)
    : job_id_(std::move(job_id)), graph_(graph) {
  const int n = graph_->vertices_size();
  inputs_.resize(n);
  outputs_.resize(n);
  executions_.resize(n);
  for (int i = 0; i < n; ++i) {
    const proto::JobVertex& v = graph_->vertices(i);
    vertex_index_[v.id()] = i;
    num_slots_ = std::max(num_slots_, v.parallelism());
    executions_[i].resize(v.parallelism());
  }
  for (const proto::JobEdge& e : graph_->edges()) {
    auto src = vertex_index_.find(e.source_vertex());
    auto dst = vertex_index_.find(e.target_vertex());
    SLUICE_CHECK(src != vertex_index_.end() && dst != vertex_index_.end(),
                 "job graph must be validated before building its ExecutionGraph");
    outputs_[src->second].push_back(&e);
    inputs_[dst->second].push_back(&e);
  }
}

int ExecutionGraph::max_parallelism() const { return EffectiveMaxParallelism(*graph_); }

void ExecutionGraph::ResetForAttempt(int attempt, std::vector<TaskManagerLocation> slots) {
  SLUICE_CHECK(static_cast<int>(slots.size()) >= num_slots_, "too few slots for the job");
  attempt_ = attempt;
  slots_ = std::move(slots);
  for (int v = 0; v < num_vertices(); ++v) {
    for (int s = 0; s < static_cast<int>(executions_[v].size()); ++s) {
      Execution fresh;
      fresh.location = slots_[s];
      fresh.metrics.set_job_id(job_id_);
      fresh.metrics.set_attempt(attempt);
      fresh.metrics.set_vertex_id(vertex(v).id());
      fresh.metrics.set_subtask(s);
      executions_[v][s] = std::move(fresh);
    }
  }
}

std::optional<int> ExecutionGraph::VertexIndex(int vertex_id) const {
  auto it = vertex_index_.find(vertex_id);
  if (it == vertex_index_.end()) return std::nullopt;
  return it->second;
}

std::string ExecutionGraph::TaskName(int index, int subtask) const {
  const proto::JobVertex& v = vertex(index);
  return absl::StrCat(v.name().empty() ? absl::StrCat("vertex ", v.id()) : v.name(), " (",
                      subtask + 1, "/", v.parallelism(), ")");
}

int ExecutionGraph::NumTasks() const {
  int n = 0;
  for (const auto& v : executions_) n += static_cast<int>(v.size());
  return n;
}

int ExecutionGraph::CountInState(proto::TaskState state) const {
  int n = 0;
  ForEach([&](int, int, const Execution& e) { n += e.state == state ? 1 : 0; });
  return n;
}

bool ExecutionGraph::AllInState(proto::TaskState state) const {
  return CountInState(state) == NumTasks();
}

bool ExecutionGraph::AllTerminal() const {
  bool all = true;
  ForEach([&](int, int, const Execution& e) { all = all && IsTerminal(e.state); });
  return all;
}

}  // namespace sluice::jobmanager
