// TaskDeploymentDescriptors built from an ExecutionGraph: channels, partition ids and
// subpartitions of FORWARD and HASH edges; and the structural checks of submitted graphs.
#include "jobmanager/deployment_descriptor.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "jobmanager/execution_graph.h"
#include "jobmanager/job_graph_checks.h"

namespace sluice::jobmanager {
namespace {

using ::testing::HasSubstr;

proto::OperatorSpec Op(const std::string& name) {
  proto::OperatorSpec op;
  op.set_name(name);
  return op;
}

// src (2) --FORWARD--> map (2) --HASH[1]--> sink (3)
proto::JobGraph ThreeVertexGraph() {
  proto::JobGraph g;
  g.set_name("pipeline");
  (*g.mutable_config())["pipeline.buffer_timeout"] = "5ms";
  auto add_vertex = [&](int id, const std::string& name, int p) {
    proto::JobVertex* v = g.add_vertices();
    v->set_id(id);
    v->set_name(name);
    v->set_parallelism(p);
    *v->add_chain() = Op(name);
  };
  add_vertex(1, "src", 2);
  add_vertex(2, "map", 2);
  add_vertex(3, "sink", 3);
  proto::JobEdge* e1 = g.add_edges();
  e1->set_id(10);
  e1->set_source_vertex(1);
  e1->set_target_vertex(2);
  e1->set_partitioning(proto::FORWARD);
  proto::JobEdge* e2 = g.add_edges();
  e2->set_id(11);
  e2->set_source_vertex(2);
  e2->set_target_vertex(3);
  e2->set_partitioning(proto::HASH);
  e2->add_key_indexes(1);
  proto::Field* f = e2->mutable_schema()->add_fields();
  f->set_name("amount");
  f->set_type(proto::FLOAT64);
  f = e2->mutable_schema()->add_fields();
  f->set_name("card");
  f->set_type(proto::INT64);
  return g;
}

class DeploymentDescriptorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    graph_ = ThreeVertexGraph();
    ASSERT_TRUE(ValidateJobGraph(graph_).ok());
    executions_ = std::make_unique<ExecutionGraph>("jobid", &graph_);
    executions_->ResetForAttempt(
        3, {{"tm-a", "a:1", "a:2"}, {"tm-b", "b:1", "b:2"}, {"tm-c", "c:1", "c:2"}});
  }
  proto::JobGraph graph_;
  std::unique_ptr<ExecutionGraph> executions_;
};

TEST_F(DeploymentDescriptorTest, SourceHasOneForwardOutputAndNoInputs) {
  proto::TaskDeploymentDescriptor tdd = BuildDeploymentDescriptor(*executions_, 0, 1);
  EXPECT_EQ(tdd.job_id(), "jobid");
  EXPECT_EQ(tdd.attempt(), 3);
  EXPECT_EQ(tdd.vertex_id(), 1);
  EXPECT_EQ(tdd.vertex_name(), "src");
  EXPECT_EQ(tdd.subtask(), 1);
  EXPECT_EQ(tdd.parallelism(), 2);
  EXPECT_EQ(tdd.max_parallelism(), 128);
  ASSERT_EQ(tdd.chain_size(), 1);
  EXPECT_EQ(tdd.chain(0).name(), "src");
  EXPECT_EQ(tdd.config().at("pipeline.buffer_timeout"), "5ms");
  EXPECT_EQ(tdd.inputs_size(), 0);
  ASSERT_EQ(tdd.outputs_size(), 1);
  EXPECT_EQ(tdd.outputs(0).edge_id(), 10);
  EXPECT_EQ(tdd.outputs(0).partitioning(), proto::FORWARD);
  EXPECT_EQ(tdd.outputs(0).num_subpartitions(), 1);
  EXPECT_EQ(tdd.outputs(0).partition_id(), "jobid/3/10/1");
}

TEST_F(DeploymentDescriptorTest, ForwardInputReadsOnlyTheSameSubtask) {
  proto::TaskDeploymentDescriptor tdd = BuildDeploymentDescriptor(*executions_, 1, 1);
  ASSERT_EQ(tdd.inputs_size(), 1);
  const proto::InputGateDescriptor& gate = tdd.inputs(0);
  EXPECT_EQ(gate.edge_id(), 10);
  ASSERT_EQ(gate.channels_size(), 1);
  EXPECT_EQ(gate.channels(0).partition_id(), "jobid/3/10/1");
  EXPECT_EQ(gate.channels(0).subpartition(), 0);
  EXPECT_EQ(gate.channels(0).producer_tm_id(), "tm-b");
  EXPECT_EQ(gate.channels(0).producer_address(), "b:2");
  // Its HASH output has one subpartition per sink subtask.
  ASSERT_EQ(tdd.outputs_size(), 1);
  const proto::OutputDescriptor& out = tdd.outputs(0);
  EXPECT_EQ(out.edge_id(), 11);
  EXPECT_EQ(out.partitioning(), proto::HASH);
  EXPECT_THAT(out.key_indexes(), ::testing::ElementsAre(1));
  EXPECT_EQ(out.num_subpartitions(), 3);
  EXPECT_EQ(out.schema().fields_size(), 2);
  EXPECT_EQ(out.partition_id(), "jobid/3/11/1");
}

TEST_F(DeploymentDescriptorTest, HashInputHasOneChannelPerProducer) {
  proto::TaskDeploymentDescriptor tdd = BuildDeploymentDescriptor(*executions_, 2, 2);
  EXPECT_EQ(tdd.outputs_size(), 0);
  ASSERT_EQ(tdd.inputs_size(), 1);
  const proto::InputGateDescriptor& gate = tdd.inputs(0);
  EXPECT_EQ(gate.edge_id(), 11);
  EXPECT_EQ(gate.schema().fields(1).name(), "card");
  ASSERT_EQ(gate.channels_size(), 2);
  for (int p = 0; p < 2; ++p) {
    EXPECT_EQ(gate.channels(p).partition_id(), "jobid/3/11/" + std::to_string(p));
    EXPECT_EQ(gate.channels(p).subpartition(), 2);  // this consumer's index
  }
  EXPECT_EQ(gate.channels(0).producer_tm_id(), "tm-a");
  EXPECT_EQ(gate.channels(0).producer_address(), "a:2");
  EXPECT_EQ(gate.channels(1).producer_tm_id(), "tm-b");
}

TEST(JobGraphChecksTest, AcceptsAValidGraph) {
  EXPECT_TRUE(ValidateJobGraph(ThreeVertexGraph()).ok());
}

TEST(JobGraphChecksTest, RejectsStructuralErrors) {
  auto message = [](const proto::JobGraph& g) {
    return std::string(ValidateJobGraph(g).message());
  };
  EXPECT_THAT(message(proto::JobGraph()), HasSubstr("no vertices"));

  proto::JobGraph g = ThreeVertexGraph();
  g.mutable_vertices(1)->set_parallelism(0);
  EXPECT_THAT(message(g), HasSubstr("vertex 2 (map): parallelism must be >= 1, got 0"));

  g = ThreeVertexGraph();
  g.mutable_edges(1)->set_target_vertex(7);
  EXPECT_THAT(message(g), HasSubstr("edge 11: target vertex 7 does not exist"));

  g = ThreeVertexGraph();
  g.mutable_vertices(1)->set_parallelism(3);
  EXPECT_THAT(message(g),
              HasSubstr("edge 10 (src -> map) is FORWARD but the parallelisms differ (2 vs 3)"));

  g = ThreeVertexGraph();
  g.mutable_edges(1)->set_key_indexes(0, 5);
  EXPECT_THAT(message(g), HasSubstr("key index 5 is not a column"));

  g = ThreeVertexGraph();
  proto::JobEdge* back = g.add_edges();
  back->set_id(12);
  back->set_source_vertex(3);
  back->set_target_vertex(2);
  back->set_partitioning(proto::REBALANCE);
  EXPECT_THAT(message(g), HasSubstr("cycle"));

  g = ThreeVertexGraph();
  g.set_max_parallelism(2);
  EXPECT_THAT(message(g), HasSubstr("parallelism 3 exceeds max_parallelism 2"));

  g = ThreeVertexGraph();
  g.mutable_restart()->set_strategy("bogus");
  EXPECT_THAT(message(g), HasSubstr("unknown strategy 'bogus'"));
}

}  // namespace
}  // namespace sluice::jobmanager
