// The C++ JobBuilder: the same job written in YAML and built in code gives the same JobGraph;
// mistakes are reported at Build() naming the node.
#include <filesystem>
#include <string>

#include "common/jobgraph/job_builder.h"
#include "common/jobgraph/job_spec.h"
#include "gtest/gtest.h"
#include "tests/common/jobgraph_test_util.h"

namespace sluice::jobgraph {
namespace {

using testing::GraphDiff;
using types::Schema;
using types::TypeId;

const Schema kTxns({{"card", TypeId::kInt64},
                    {"amount", TypeId::kFloat64},
                    {"country", TypeId::kString},
                    {"ts", TypeId::kTimestamp}});

TEST(JobBuilderTest, SameGraphAsTheYamlSpec) {
  const std::string yaml = R"yaml(name: txn-alerts
parallelism: 2
max_parallelism: 256
restart: {strategy: exponential_delay, initial: 1s, max: 1m}
checkpointing: {interval: 5s}
config: {buffer_timeout: 5ms}
sources:
  - name: txns
    connector: file
    path: /data/txns.jsonl
    format: json
    timestamp_unit: s
    on_error: skip
    schema: {card: int64, amount: float64, country: string, ts: timestamp}
  - name: gen
    connector: datagen
    count: 100
    seed: 7
    rows_per_second: 50
    schema: {card: int64, amount: float64, country: string, ts: timestamp}
    fields:
      card: {kind: sequence, min: 1, max: 10}
      country: {kind: choice, values: [DE, FR]}
operators:
  - name: all
    inputs: [txns, gen]
    union: true
  - name: big
    input: all
    filter: "amount > 1000"
  - name: proj
    input: big
    parallelism: 3
    select: {card: card, double_amount: "amount * 2"}
  - name: per_card
    input: proj
    key_by: [card]
    aggregate: {n: "count(*)", total: "sum(double_amount)"}
sinks:
  - {name: out, input: per_card, connector: file, path: /data/out, format: csv, csv: {header: true}}
)yaml";
  absl::StatusOr<proto::JobGraph> from_yaml = ParseJobSpec(yaml, "job.yaml", {});
  ASSERT_TRUE(from_yaml.ok()) << from_yaml.status();

  JobBuilder b("txn-alerts");
  b.Parallelism(2).MaxParallelism(256);
  b.Restart("exponential_delay", {{"initial", "1s"}, {"max", "1m"}});
  b.Config("checkpointing.interval", "5s").Config("buffer_timeout", "5ms");
  // Declared in another order than the YAML: the graph is the same.
  b.FileSink("out", "per_card", "/data/out", "csv", {{"header", "true"}});
  b.FileSource("txns", "/data/txns.jsonl", "json", kTxns,
               {.format_options = {{"timestamp_unit", "s"}}, .on_error = "skip"});
  b.Datagen("gen", kTxns,
            {.count = 100,
             .rows_per_second = 50,
             .seed = 7,
             .fields = {{"card", {.kind = "sequence", .min = 1, .max = 10}},
                        {"country", {.kind = "choice", .values = {"DE", "FR"}}}}});
  b.Union("all", {"txns", "gen"});
  b.Filter("big", "all", "amount > 1000");
  b.Select("proj", "big", {{"card", "card"}, {"double_amount", "amount * 2"}});
  b.NodeParallelism("proj", 3);
  b.Aggregate("per_card", "proj", {"card"}, {{"n", "count", ""}, {"total", "sum", "double_amount"}});
  absl::StatusOr<proto::JobGraph> built = b.Build();
  ASSERT_TRUE(built.ok()) << built.status();

  EXPECT_EQ(GraphDiff(*from_yaml, *built, /*ignore_yaml_line=*/true), "");
  EXPECT_EQ(built->vertices_size(), 5);  // txns, gen, all -> big, proj, per_card -> out
  EXPECT_EQ(built->vertices(0).chain(0).yaml_line(), 0);
}

TEST(JobBuilderTest, KafkaSourceIsTheSameAsInYaml) {
  const std::string yaml = R"yaml(name: k
sources:
  - name: txns
    connector: kafka
    topics: [txns, refunds]
    group: g
    start: latest
    properties: {security.protocol: SSL}
    discovery_interval: 5s
    stop_at: latest
    format: json
    on_error: skip
    schema: {card: int64, amount: float64, country: string, ts: timestamp}
    watermark: {column: ts, max_delay: 2s}
sinks:
  - {name: out, input: txns, connector: print}
)yaml";
  absl::StatusOr<proto::JobGraph> from_yaml = ParseJobSpec(yaml, "job.yaml", {});
  ASSERT_TRUE(from_yaml.ok()) << from_yaml.status();
  JobBuilder b("k");
  b.KafkaSource("txns", "json", kTxns,
                {.topics = {"txns", "refunds"},
                 .group = "g",
                 .start = "latest",
                 .properties = {{"security.protocol", "SSL"}},
                 .discovery_interval = "5s",
                 .stop_at = "latest",
                 .on_error = "skip",
                 .watermark = WatermarkOptions{.column = "ts", .max_delay = "2s"}});
  b.PrintSink("out", "txns");
  absl::StatusOr<proto::JobGraph> built = b.Build();
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_EQ(GraphDiff(*from_yaml, *built, /*ignore_yaml_line=*/true), "");
}

TEST(JobBuilderTest, ErrorsNameTheNode) {
  auto error = [](const JobBuilder& b) { return std::string(b.Build().status().message()); };
  {
    JobBuilder b("j");
    b.FileSource("txns", "/t.jsonl", "json", kTxns).Filter("big", "txns", "amout > 1000");
    b.PrintSink("out", "big");
    EXPECT_EQ(error(b), "node 'big': unknown column 'amout' in filter (did you mean 'amount'?)");
  }
  {
    JobBuilder b("j");
    b.FileSource("txns", "/t.jsonl", "json", kTxns).PrintSink("out", "txn");
    EXPECT_EQ(error(b), "node 'out': unknown input 'txn' (did you mean 'txns'?)");
  }
  {
    JobBuilder b("j");
    b.FileSource("txns", "/t.jsonl", "json", kTxns).FileSource("txns", "/u.jsonl", "json", kTxns);
    b.PrintSink("out", "txns");
    EXPECT_EQ(error(b), "node 'txns': duplicate name 'txns': already used by source 'txns'");
  }
  {
    JobBuilder b("j");
    b.Datagen("a", kTxns).Datagen("b", Schema({{"card", TypeId::kInt64}}));
    b.Union("u", {"a", "b"}).PrintSink("out", "u");
    EXPECT_EQ(error(b),
              "node 'u': union input 'b' has 1 columns (card int64) but 'a' has 4 (card int64, "
              "amount float64, country string, ts timestamp)");
  }
  {
    JobBuilder b("j");
    b.Datagen("a", kTxns).Aggregate("agg", "a", {}, {{"n", "count", ""}}).PrintSink("out", "agg");
    EXPECT_EQ(error(b), "node 'agg': aggregate needs key_by: [columns] (a running aggregate per key)");
  }
  {
    JobBuilder b("j");
    b.Datagen("a", kTxns).FileSink("out", "a", "relative/out", "xml");
    EXPECT_EQ(error(b), "node 'out': unknown format 'xml' (use json or csv)");
  }
  {
    JobBuilder b("j");
    b.Parallelism(0).Datagen("a", kTxns).PrintSink("out", "a");
    EXPECT_EQ(error(b), "job 'j': parallelism must be at least 1, got 0");
  }
  {
    JobBuilder b("j");
    b.Datagen("a", kTxns).PrintSink("out", "a").NodeParallelism("nope", 2);
    EXPECT_EQ(error(b), "NodeParallelism: no node named 'nope'");
  }
  {
    JobBuilder b("j");
    b.Datagen("a", kTxns);
    EXPECT_EQ(error(b), "job 'j': the job has no sinks");
  }
  {
    JobBuilder b("");
    EXPECT_EQ(error(b), "job '': the job needs a name");
  }
}

TEST(JobBuilderTest, RelativePathsResolveAgainstTheCurrentDirectory) {
  JobBuilder b("paths");
  b.FileSource("in", "data/in.jsonl", "json", kTxns).FileSink("out", "in", "./out/../res", "json");
  absl::StatusOr<proto::JobGraph> g = b.Build();
  ASSERT_TRUE(g.ok()) << g.status();
  const std::string cwd = std::filesystem::current_path().string();
  EXPECT_EQ(g->vertices(0).chain(0).file_source().path(), cwd + "/data/in.jsonl");
  EXPECT_EQ(g->vertices(0).chain(1).file_sink().path(), cwd + "/res");
}

}  // namespace
}  // namespace sluice::jobgraph
