// The planner: validates a LogicalPlan (built by the job spec parser or the JobBuilder) and
// compiles it into the JobGraph the CLI submits and the JobManager schedules.
//
// Validation: node names (unique; letters, digits, '_', '-', '.'), inputs (exist, are not
// sinks, right count), no cycles, every non-sink output consumed, at least one source and one
// sink, schemas of every node (expressions type-checked with sluice::expr::Compile), connector
// settings, parallelism (1..max_parallelism), restart strategy and job config (job_settings.h).
// Errors are InvalidArgument with one line: "<file>:<line>:<col>: <message>" (see SpecError).
//
// Planning: nodes are ordered topologically (ties: sources, then operators, then sinks, each in
// declaration order). A node is chained into the vertex of its input when it has exactly one
// input, is not a union, has no key_by, has the same parallelism, and that input feeds only
// this node; otherwise it starts a new vertex, connected by one edge per input: HASH (key
// columns of the edge schema) when the node has key_by, else REBALANCE when the parallelism
// differs, else FORWARD. Vertex ids 0..n-1 in topological order, named by their chained node
// names joined with " -> "; edge ids 0..m-1 ordered by target vertex, then input order.
// Stateless; thread-safe.
#pragma once

#include "absl/status/statusor.h"
#include "common/jobgraph/logical_plan.h"
#include "proto/jobgraph.pb.h"

namespace sluice::jobgraph {

absl::StatusOr<proto::JobGraph> PlanJob(const LogicalPlan& plan);

}  // namespace sluice::jobgraph
