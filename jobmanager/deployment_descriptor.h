// Builds the TaskDeploymentDescriptor of one subtask of the current attempt of an
// ExecutionGraph (what SubmitTask sends to a TaskManager):
// - chain, job config, parallelism and max_parallelism of the vertex;
// - one InputGateDescriptor per incoming edge (graph order) with one channel per producer
//   subtask j: partition "<job>/<attempt>/<edge>/<j>", subpartition = this subtask, and the
//   producer's TaskManager id and data address. FORWARD edges have a single channel: producer
//   subtask i -> consumer subtask i, subpartition 0;
// - one OutputDescriptor per outgoing edge: partitioning, key indexes, schema,
//   num_subpartitions = consumer parallelism (1 for FORWARD), this subtask's partition id and
//   the side output it carries (empty: the main output).
// Thread-safe (pure function of its arguments).
#pragma once

#include <string>

#include "absl/strings/string_view.h"
#include "jobmanager/execution_graph.h"
#include "proto/control.pb.h"

namespace sluice::jobmanager {

// "<job>/<attempt>/<edge>/<producer subtask>"
std::string PartitionId(absl::string_view job_id, int attempt, int edge_id, int producer_subtask);

proto::TaskDeploymentDescriptor BuildDeploymentDescriptor(const ExecutionGraph& graph,
                                                          int vertex_index, int subtask);

}  // namespace sluice::jobmanager
