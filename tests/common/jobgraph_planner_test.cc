// The planner (shared by the YAML spec and the JobBuilder): chaining, partitioning, vertex
// order, schema inference and job settings.
#include <string>
#include <vector>

#include "common/jobgraph/job_builder.h"
#include "common/jobgraph/job_settings.h"
#include "common/jobgraph/job_spec.h"
#include "gtest/gtest.h"
#include "tests/common/jobgraph_test_util.h"

namespace sluice::jobgraph {
namespace {

using testing::GraphDiff;
using testing::GraphFromText;
using types::Field;
using types::Schema;
using types::TypeId;

const Schema kIds({{"id", TypeId::kInt64}});

// "name(parallelism)[chain names]" per vertex and "src->dst:PARTITIONING[keys]" per edge.
std::string Shape(const proto::JobGraph& g) {
  std::string out;
  for (const proto::JobVertex& v : g.vertices()) {
    out += std::to_string(v.id()) + ":" + v.name() + "(" + std::to_string(v.parallelism()) + ") ";
  }
  out += "|";
  for (const proto::JobEdge& e : g.edges()) {
    out += " " + std::to_string(e.id()) + ":" + std::to_string(e.source_vertex()) + "->" +
           std::to_string(e.target_vertex()) + ":" + proto::Partitioning_Name(e.partitioning());
    for (int k : e.key_indexes()) out += "[" + std::to_string(k) + "]";
  }
  return out;
}

std::string ShapeOf(const JobBuilder& b) {
  absl::StatusOr<proto::JobGraph> g = b.Build();
  if (!g.ok()) return std::string(g.status().message());
  return Shape(*g);
}

TEST(PlannerTest, ForwardNodesChainIntoOneVertex) {
  JobBuilder b("linear");
  b.Parallelism(2);
  b.Datagen("src", kIds);
  b.Filter("f", "src", "id > 0");
  b.Select("s", "f", {{"id", "id"}});
  b.PrintSink("out", "s");
  EXPECT_EQ(ShapeOf(b), "0:src -> f -> s -> out(2) |");
}

TEST(PlannerTest, ParallelismChangeStartsAVertexWithRebalance) {
  JobBuilder b("rescale");
  b.Datagen("src", kIds);
  b.Filter("f", "src", "id > 0");
  b.NodeParallelism("f", 3);
  b.BlackholeSink("out", "f");
  EXPECT_EQ(ShapeOf(b), "0:src(1) 1:f(3) 2:out(1) | 0:0->1:REBALANCE 1:1->2:REBALANCE");
}

TEST(PlannerTest, FanOutEndsTheChainWithForwardEdges) {
  JobBuilder b("fan-out");
  b.Datagen("src", kIds);
  b.Filter("f1", "src", "id > 0");
  b.Filter("f2", "src", "id < 0");
  b.PrintSink("out1", "f1");
  b.PrintSink("out2", "f2");
  EXPECT_EQ(ShapeOf(b), "0:src(1) 1:f1 -> out1(1) 2:f2 -> out2(1) | 0:0->1:FORWARD 1:0->2:FORWARD");
}

TEST(PlannerTest, KeyByHashesOnTheKeyColumnsOfTheEdgeSchema) {
  JobBuilder b("keyed");
  b.Parallelism(4);
  b.Datagen("src", Schema({{"a", TypeId::kString}, {"b", TypeId::kInt64}, {"c", TypeId::kInt64}}));
  b.Aggregate("agg", "src", {"c", "a"}, {{"n", "count", ""}});
  b.PrintSink("out", "agg");
  absl::StatusOr<proto::JobGraph> g = b.Build();
  ASSERT_TRUE(g.ok()) << g.status();
  // Same parallelism, but a keyed node never chains onto its input.
  EXPECT_EQ(Shape(*g), "0:src(4) 1:agg -> out(4) | 0:0->1:HASH[2][0]");
  EXPECT_EQ(g->edges(0).schema().fields_size(), 3);
  EXPECT_EQ(Schema::FromProto(g->vertices(1).chain(0).output_schema())->ToString(),
            "c int64, a string, n int64");
}

TEST(PlannerTest, UnionStartsAVertexWithOneEdgePerInputInOrder) {
  JobBuilder b("union");
  b.Parallelism(2);
  b.Datagen("a", kIds);
  b.Datagen("b", kIds);
  b.NodeParallelism("b", 1);
  b.Union("u", {"b", "a"});
  b.PrintSink("out", "u");
  EXPECT_EQ(ShapeOf(b), "0:a(2) 1:b(1) 2:u -> out(2) | 0:1->2:REBALANCE 1:0->2:FORWARD");
}

TEST(PlannerTest, DiamondVerticesAreTopologicallyOrdered) {
  JobBuilder b("diamond");
  b.PrintSink("out", "u");  // declaration order does not matter
  b.Union("u", {"left", "right"});
  b.Filter("right", "src", "id > 10");
  b.Filter("left", "src", "id < 5");
  b.Datagen("src", kIds);
  EXPECT_EQ(ShapeOf(b),
            "0:src(1) 1:right(1) 2:left(1) 3:u -> out(1) | 0:0->1:FORWARD 1:0->2:FORWARD "
            "2:2->3:FORWARD 3:1->3:FORWARD");
}

TEST(PlannerTest, AggregateOutputTypes) {
  JobBuilder b("types");
  b.Datagen("src", Schema({{"k", TypeId::kString},
                           {"i", TypeId::kInt64},
                           {"f", TypeId::kFloat64},
                           {"s", TypeId::kString},
                           {"t", TypeId::kTimestamp}}));
  b.Aggregate("agg", "src", {"k"},
              {{"n", "count", ""},
               {"sum_i", "sum", "i"},
               {"sum_f", "sum", "f"},
               {"sum_mixed", "SUM", "i * 2.5"},
               {"min_s", "min", "s"},
               {"max_t", "max", "t"},
               {"avg_i", "avg", "i"},
               {"n2", "count", "*"}});
  b.BlackholeSink("out", "agg");
  absl::StatusOr<proto::JobGraph> g = b.Build();
  ASSERT_TRUE(g.ok()) << g.status();
  const proto::OperatorSpec& agg = g->vertices(1).chain(0);
  EXPECT_EQ(Schema::FromProto(agg.output_schema())->ToString(),
            "k string, n int64, sum_i int64, sum_f float64, sum_mixed float64, min_s string, "
            "max_t timestamp, avg_i float64, n2 int64");
  EXPECT_EQ(agg.aggregate().calls(3).function(), "sum");  // normalized to lower case
  EXPECT_EQ(agg.aggregate().calls(7).argument(), "");     // count(*)
}

TEST(PlannerTest, SelectInfersExpressionTypes) {
  JobBuilder b("select");
  b.Datagen("src", Schema({{"id", TypeId::kInt64}, {"name", TypeId::kString}}));
  b.Select("s", "src", {{"half", "id / 2.0"}, {"big", "id > 10"}, {"upper_name", "upper(name)"}});
  b.PrintSink("out", "s");
  absl::StatusOr<proto::JobGraph> g = b.Build();
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(Schema::FromProto(g->vertices(0).chain(1).output_schema())->ToString(),
            "half float64, big bool, upper_name string");
}

TEST(PlannerTest, RestartStrategyDefaults) {
  auto restart = [](absl::string_view strategy,
                    std::vector<std::pair<std::string, std::string>> options = {}) {
    JobBuilder b("r");
    b.Datagen("src", kIds).PrintSink("out", "src");
    if (!strategy.empty()) b.Restart(strategy, options);
    absl::StatusOr<proto::JobGraph> g = b.Build();
    return g.ok() ? g->restart().ShortDebugString() : std::string(g.status().message());
  };
  EXPECT_EQ(restart(""), "strategy: \"none\"");
  EXPECT_EQ(restart("none"), "strategy: \"none\"");
  EXPECT_EQ(restart("fixed_delay"), "strategy: \"fixed_delay\" attempts: 3 delay_ms: 1000");
  EXPECT_EQ(restart("fixed_delay", {{"attempts", "0"}, {"delay", "500ms"}}),
            "strategy: \"fixed_delay\" delay_ms: 500");
  EXPECT_EQ(restart("exponential_delay"),
            "strategy: \"exponential_delay\" initial_ms: 1000 max_ms: 60000 multiplier: 2 "
            "jitter: 0.1 reset_after_ms: 3600000");
  EXPECT_EQ(restart("exponential_delay", {{"initial", "100ms"}, {"max", "2s"}, {"multiplier", "1.5"},
                                          {"jitter", "0"}, {"reset_after", "10m"}}),
            "strategy: \"exponential_delay\" initial_ms: 100 max_ms: 2000 multiplier: 1.5 "
            "reset_after_ms: 600000");
  EXPECT_EQ(restart("failure_rate"),
            "strategy: \"failure_rate\" delay_ms: 1000 max_failures: 1 interval_ms: 60000");
  EXPECT_EQ(restart("failure_rate", {{"max_failures", "3"}, {"interval", "5m"}, {"delay", "2s"}}),
            "strategy: \"failure_rate\" delay_ms: 2000 max_failures: 3 interval_ms: 300000");
  EXPECT_EQ(restart("none", {{"attempts", "3"}}),
            "job 'r': restart key 'attempts' does not apply to strategy none (it takes no other "
            "keys)");
  EXPECT_EQ(restart("fixed_delay", {{"attempts", "-1"}}),
            "job 'r': restart attempts must be an integer >= 0, got '-1'");
}

TEST(PlannerTest, JobConfigIsValidatedAndCopied) {
  JobBuilder b("cfg");
  b.Datagen("src", kIds).PrintSink("out", "src");
  b.Config("checkpointing.interval", "10s")
      .Config("checkpointing.timeout", "1m")
      .Config("checkpointing.min_pause", "0ms")
      .Config("checkpointing.max_concurrent", "2")
      .Config("checkpointing.retained", "3")
      .Config("checkpointing.dir", "/tmp/chk")
      .Config("checkpointing.mode", "at_least_once")
      .Config("state.backend", "heap")
      .Config("state.incremental", "false")
      .Config("buffer_timeout", "1ms");
  absl::StatusOr<proto::JobGraph> g = b.Build();
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->config().size(), 10u);
  EXPECT_EQ(g->config().at("checkpointing.interval"), "10s");
  EXPECT_EQ(g->config().at("checkpointing.max_concurrent"), "2");
  EXPECT_EQ(JobConfigKeys().size(), 10u) << "every key is exercised above";

  b.Config("checkpointing.max_concurrent", "0");
  EXPECT_EQ(b.Build().status().message(),
            "job 'cfg': job setting 'checkpointing.max_concurrent' is set twice");
  JobBuilder c("cfg2");
  c.Datagen("src", kIds).PrintSink("out", "src").Config("checkpointing.retained", "zero");
  EXPECT_EQ(c.Build().status().message(),
            "job 'cfg2': checkpointing.retained must be an integer >= 1, got 'zero'");
}

TEST(PlannerTest, YamlLinesAndSchemasAreFilledForEveryOperator) {
  absl::StatusOr<proto::JobGraph> g = ParseJobSpec(R"(name: lines
sources:
  - {name: src, connector: datagen, schema: {id: int64}}
operators:
  - {name: f, input: src, filter: "id > 1"}
sinks:
  - {name: out, input: f, connector: print}
)",
                                                   "lines.yaml", {});
  ASSERT_TRUE(g.ok()) << g.status();
  ASSERT_EQ(g->vertices_size(), 1);
  const auto& chain = g->vertices(0).chain();
  ASSERT_EQ(chain.size(), 3);
  EXPECT_EQ(chain[0].yaml_line(), 3);
  EXPECT_EQ(chain[1].yaml_line(), 5);
  EXPECT_EQ(chain[2].yaml_line(), 7);
  EXPECT_EQ(chain[0].input_schema().fields_size(), 0);  // sources receive nothing
  EXPECT_EQ(chain[0].output_schema().fields_size(), 1);
  EXPECT_EQ(chain[1].input_schema().fields_size(), 1);
  EXPECT_EQ(chain[1].output_schema().fields_size(), 1);
  EXPECT_EQ(chain[2].input_schema().fields_size(), 1);
  EXPECT_EQ(chain[2].output_schema().fields_size(), 0);  // sinks emit nothing
}

}  // namespace
}  // namespace sluice::jobgraph
