#include "jobmanager/deployment_descriptor.h"

#include "absl/strings/str_cat.h"
#include "common/check.h"

namespace sluice::jobmanager {

std::string PartitionId(absl::string_view job_id, int attempt, int edge_id, int producer_subtask) {
  return absl::StrCat(job_id, "/", attempt, "/", edge_id, "/", producer_subtask);
}

proto::TaskDeploymentDescriptor BuildDeploymentDescriptor(const ExecutionGraph& graph,
                                                          int vertex_index, int subtask) {
  const proto::JobVertex& vertex = graph.vertex(vertex_index);
  SLUICE_CHECK(subtask >= 0 && subtask < vertex.parallelism(), "subtask out of range");
  const int attempt = graph.attempt();
  proto::TaskDeploymentDescriptor tdd;
  tdd.set_job_id(graph.job_id());
  tdd.set_attempt(attempt);
  tdd.set_vertex_id(vertex.id());
  tdd.set_vertex_name(vertex.name());
  tdd.set_subtask(subtask);
  tdd.set_parallelism(vertex.parallelism());
  tdd.set_max_parallelism(graph.max_parallelism());
  *tdd.mutable_chain() = vertex.chain();
  tdd.mutable_config()->insert(graph.graph().config().begin(), graph.graph().config().end());

  for (const proto::JobEdge* edge : graph.InputEdges(vertex_index)) {
    proto::InputGateDescriptor* gate = tdd.add_inputs();
    gate->set_edge_id(edge->id());
    *gate->mutable_schema() = edge->schema();
    const int producer_index = *graph.VertexIndex(edge->source_vertex());
    const int producers = graph.vertex(producer_index).parallelism();
    auto add_channel = [&](int producer, int subpartition) {
      const TaskManagerLocation& where = graph.execution(producer_index, producer).location;
      proto::ResultPartitionRef* ch = gate->add_channels();
      ch->set_partition_id(PartitionId(graph.job_id(), attempt, edge->id(), producer));
      ch->set_subpartition(subpartition);
      ch->set_producer_tm_id(where.tm_id);
      ch->set_producer_address(where.data_address);
    };
    if (edge->partitioning() == proto::FORWARD) {
      add_channel(subtask, 0);
    } else {
      for (int p = 0; p < producers; ++p) add_channel(p, subtask);
    }
  }

  for (const proto::JobEdge* edge : graph.OutputEdges(vertex_index)) {
    proto::OutputDescriptor* out = tdd.add_outputs();
    out->set_edge_id(edge->id());
    out->set_partitioning(edge->partitioning());
    *out->mutable_key_indexes() = edge->key_indexes();
    *out->mutable_schema() = edge->schema();
    const int consumers = graph.vertex(*graph.VertexIndex(edge->target_vertex())).parallelism();
    out->set_num_subpartitions(edge->partitioning() == proto::FORWARD ? 1 : consumers);
    out->set_partition_id(PartitionId(graph.job_id(), attempt, edge->id(), subtask));
    out->set_side_output(edge->side_output());
  }
  return tdd;
}

}  // namespace sluice::jobmanager
