// The YAML job spec front end: a full spec compiles to the exact JobGraph, and every kind of
// mistake gives one line naming file, line and column.
#include <filesystem>
#include <fstream>
#include <string>

#include "common/jobgraph/job_spec.h"
#include "common/types/schema.h"
#include "gtest/gtest.h"
#include "tests/common/jobgraph_test_util.h"

namespace sluice::jobgraph {
namespace {

using testing::GraphDiff;
using testing::GraphFromText;

absl::StatusOr<proto::JobGraph> Parse(const std::string& yaml, SpecOptions options = {}) {
  if (options.base_dir.empty()) options.base_dir = "/specs";
  return ParseJobSpec(yaml, "job.yaml", options);
}

// The error message of a spec that must be rejected.
std::string ErrorOf(const std::string& yaml, SpecOptions options = {}) {
  absl::StatusOr<proto::JobGraph> graph = Parse(yaml, options);
  if (graph.ok()) return "accepted: " + graph->DebugString();
  EXPECT_EQ(graph.status().code(), absl::StatusCode::kInvalidArgument) << graph.status();
  return std::string(graph.status().message());
}

// A valid job the error tests modify: source at line 2, operators from line 8, sinks after.
const char kSource[] = R"(name: t
sources:
  - name: txns
    connector: file
    path: data/txns.jsonl
    format: json
    schema: {card: int64, amount: float64, country: string, ts: timestamp}
)";

std::string WithOperators(const std::string& operators, const std::string& sink_input = "big") {
  return std::string(kSource) + "operators:\n" + operators + "sinks:\n  - {name: out, input: " +
         sink_input + ", connector: blackhole}\n";
}

constexpr char kTxnsSchema[] = R"(
  fields { name: "card" type: INT64 } fields { name: "amount" type: FLOAT64 }
  fields { name: "country" type: STRING } fields { name: "ts" type: TIMESTAMP })";

TEST(JobSpecTest, DesignExampleCompilesToTheExactJobGraph) {
  const std::string yaml = R"yaml(name: txn-alerts
parallelism: 2
checkpointing: {interval: 5s, mode: exactly_once}
restart: {strategy: exponential_delay, initial: 1s, max: 1m}
sources:
  - name: txns
    connector: file            # file | datagen | kafka | nexmark
    path: data/txns.jsonl
    format: json
    schema: {card: int64, amount: float64, country: string, ts: timestamp}
operators:
  - name: big
    input: txns
    filter: "amount > 1000"
  - name: per_card
    input: big
    key_by: [card]
    aggregate: {n: "count(*)", total: "sum(amount)", top: "max(amount)"}
sinks:
  - {name: out, input: per_card, connector: file, path: out/per_card, format: json}
)yaml";
  absl::StatusOr<proto::JobGraph> graph = Parse(yaml);
  ASSERT_TRUE(graph.ok()) << graph.status();
  const std::string txns = kTxnsSchema;
  const std::string expected = R"(
name: "txn-alerts"
max_parallelism: 128
restart { strategy: "exponential_delay" initial_ms: 1000 max_ms: 60000 multiplier: 2
          jitter: 0.1 reset_after_ms: 3600000 }
config { key: "checkpointing.interval" value: "5s" }
config { key: "checkpointing.mode" value: "exactly_once" }
vertices {
  id: 0 name: "txns -> big" parallelism: 2
  chain {
    name: "txns"
    file_source { path: "/specs/data/txns.jsonl" format { name: "json" } on_error: "fail" }
    output_schema {)" + txns + R"( }
    yaml_line: 6
  }
  chain {
    name: "big"
    filter { predicate: "amount > 1000" }
    input_schema {)" + txns + R"( }
    output_schema {)" + txns + R"( }
    yaml_line: 12
  }
}
vertices {
  id: 1 name: "per_card -> out" parallelism: 2
  chain {
    name: "per_card"
    aggregate {
      key_columns: "card"
      calls { name: "n" function: "count" }
      calls { name: "total" function: "sum" argument: "amount" }
      calls { name: "top" function: "max" argument: "amount" }
    }
    input_schema {)" + txns + R"( }
    output_schema {
      fields { name: "card" type: INT64 } fields { name: "n" type: INT64 }
      fields { name: "total" type: FLOAT64 } fields { name: "top" type: FLOAT64 }
    }
    yaml_line: 15
  }
  chain {
    name: "out"
    file_sink { path: "/specs/out/per_card" format { name: "json" } }
    input_schema {
      fields { name: "card" type: INT64 } fields { name: "n" type: INT64 }
      fields { name: "total" type: FLOAT64 } fields { name: "top" type: FLOAT64 }
    }
    yaml_line: 20
  }
}
edges {
  id: 0 source_vertex: 0 target_vertex: 1 partitioning: HASH key_indexes: 0
  schema {)" + txns + R"( }
}
)";
  EXPECT_EQ(GraphDiff(GraphFromText(expected), *graph), "");
}

TEST(JobSpecTest, DatagenFormatOptionsAndSinksAreCopied) {
  const std::string yaml = R"(name: gen
max_parallelism: 64
config: {buffer_timeout: 5ms}
state: {backend: rocksdb, incremental: false}
sources:
  - name: readings
    connector: datagen
    count: 20
    rows_per_second: 10.5
    seed: 42
    schema: {sensor: string, seq: int64, celsius: float64}
    fields:
      sensor: {kind: choice, values: [kitchen, garage]}
      seq: {kind: sequence, min: 1}
      celsius: {kind: random, min: -5, max: 35}
  - name: csvin
    connector: file
    path: /abs/in.csv
    format: csv
    csv: {delimiter: ";", header: true}
    timestamp_unit: s
    on_error: skip
    schema: {sensor: string, seq: int64, celsius: float64}
operators:
  - name: both
    inputs: [readings, csvin]
    union: true
sinks:
  - name: csvout
    input: both
    connector: file
    path: ../out
    format: csv
    format_options: {delimiter: "|"}
)";
  absl::StatusOr<proto::JobGraph> graph = Parse(yaml);
  ASSERT_TRUE(graph.ok()) << graph.status();
  const std::string schema = R"(
  fields { name: "sensor" type: STRING } fields { name: "seq" type: INT64 }
  fields { name: "celsius" type: FLOAT64 })";
  const std::string expected = R"(
name: "gen"
max_parallelism: 64
restart { strategy: "none" }
config { key: "buffer_timeout" value: "5ms" }
config { key: "state.backend" value: "rocksdb" }
config { key: "state.incremental" value: "false" }
vertices {
  id: 0 name: "readings" parallelism: 1
  chain {
    name: "readings"
    datagen_source {
      count: 20 rows_per_second: 10.5 seed: 42
      fields { key: "sensor" value { kind: "choice" values: "kitchen" values: "garage" } }
      fields { key: "seq" value { kind: "sequence" min: 1 has_min: true } }
      fields { key: "celsius" value { kind: "random" min: -5 max: 35 has_min: true has_max: true } }
    }
    output_schema {)" + schema + R"( }
    yaml_line: 6
  }
}
vertices {
  id: 1 name: "csvin" parallelism: 1
  chain {
    name: "csvin"
    file_source {
      path: "/abs/in.csv"
      format { name: "csv" options { key: "delimiter" value: ";" } options { key: "header" value: "true" }
               options { key: "timestamp_unit" value: "s" } }
      on_error: "skip"
    }
    output_schema {)" + schema + R"( }
    yaml_line: 16
  }
}
vertices {
  id: 2 name: "both -> csvout" parallelism: 1
  chain {
    name: "both"
    union_op {}
    input_schema {)" + schema + R"( }
    output_schema {)" + schema + R"( }
    yaml_line: 25
  }
  chain {
    name: "csvout"
    file_sink { path: "/out" format { name: "csv" options { key: "delimiter" value: "|" } } }
    input_schema {)" + schema + R"( }
    yaml_line: 29
  }
}
edges { id: 0 source_vertex: 0 target_vertex: 2 partitioning: FORWARD schema {)" + schema + R"( } }
edges { id: 1 source_vertex: 1 target_vertex: 2 partitioning: FORWARD schema {)" + schema + R"( } }
)";
  EXPECT_EQ(GraphDiff(GraphFromText(expected), *graph), "");
}

TEST(JobSpecTest, SelectMapAndListFormsAndPrintSink) {
  const std::string yaml = std::string(kSource) + R"(operators:
  - name: m
    input: txns
    select: {card: card, double_amount: "amount * 2", big: amount > 1000}
  - name: l
    input: m
    select: [card, "double_amount / 2 AS half", "big as flag"]
sinks:
  - {name: p, input: l, connector: print}
)";
  absl::StatusOr<proto::JobGraph> graph = Parse(yaml);
  ASSERT_TRUE(graph.ok()) << graph.status();
  ASSERT_EQ(graph->vertices_size(), 1);
  EXPECT_EQ(graph->vertices(0).name(), "txns -> m -> l -> p");
  const proto::OperatorSpec& m = graph->vertices(0).chain(1);
  const proto::OperatorSpec& l = graph->vertices(0).chain(2);
  EXPECT_EQ(GraphDiff(GraphFromText(R"(vertices { chain {
    name: "m"
    select { columns { name: "card" expr: "card" } columns { name: "double_amount" expr: "amount * 2" }
             columns { name: "big" expr: "amount > 1000" } }
    input_schema {)" + std::string(kTxnsSchema) + R"( }
    output_schema { fields { name: "card" type: INT64 } fields { name: "double_amount" type: FLOAT64 }
                    fields { name: "big" type: BOOL } }
    yaml_line: 9 } }
    vertices { chain {
    name: "l"
    select { columns { name: "card" expr: "card" } columns { name: "half" expr: "double_amount / 2" }
             columns { name: "flag" expr: "big" } }
    input_schema { fields { name: "card" type: INT64 } fields { name: "double_amount" type: FLOAT64 }
                   fields { name: "big" type: BOOL } }
    output_schema { fields { name: "card" type: INT64 } fields { name: "half" type: FLOAT64 }
                    fields { name: "flag" type: BOOL } }
    yaml_line: 12 } })"),
                      [&] {
                        proto::JobGraph g;
                        *g.add_vertices()->add_chain() = m;
                        *g.add_vertices()->add_chain() = l;
                        return g;
                      }()),
            "");
  EXPECT_TRUE(graph->vertices(0).chain(3).has_print_sink());
}

TEST(JobSpecTest, ParallelismOverrideReplacesTheJobLevelParallelism) {
  const std::string yaml = R"(name: p
parallelism: 2
sources:
  - {name: gen, connector: datagen, schema: {id: int64}}
operators:
  - {name: wide, input: gen, parallelism: 3, filter: "id > 0"}
sinks:
  - {name: out, input: wide, connector: blackhole, rows_per_second: 100}
)";
  absl::StatusOr<proto::JobGraph> graph = Parse(yaml, {.parallelism_override = 5});
  ASSERT_TRUE(graph.ok()) << graph.status();
  ASSERT_EQ(graph->vertices_size(), 3);
  EXPECT_EQ(graph->vertices(0).parallelism(), 5);
  EXPECT_EQ(graph->vertices(1).parallelism(), 3);  // its own parallelism stays
  EXPECT_EQ(graph->vertices(2).parallelism(), 5);
  EXPECT_EQ(graph->vertices(0).chain(0).datagen_source().count(), -1);  // unbounded
  EXPECT_EQ(graph->vertices(2).chain(0).blackhole_sink().rows_per_second(), 100);
  EXPECT_EQ(ErrorOf(yaml, {.parallelism_override = 200}),
            "job.yaml: --parallelism 200 is larger than max_parallelism 128");
}

TEST(JobSpecTest, MalformedYamlNamesTheLine) {
  // yaml-cpp notices the unclosed flow list at the end of the input.
  EXPECT_EQ(ErrorOf("name: bad\nsources:\n  - name: [txns\n"),
            "job.yaml:4:1: invalid YAML: end of sequence flow not found");
  EXPECT_EQ(ErrorOf("name: bad\nsources:\n  - name: a\n\tconnector: file\n"),
            "job.yaml:4:1: invalid YAML: illegal tab when looking for indentation");
  EXPECT_EQ(ErrorOf("name: t\nparallelism: 2: 3\n"), "job.yaml:2:15: invalid YAML: illegal map value");
  EXPECT_EQ(ErrorOf(""), "job.yaml:1:1: the job spec is empty");
  EXPECT_EQ(ErrorOf("- a\n- b\n"),
            "job.yaml:1:1: a job spec must be a map with name, sources, operators and sinks");
}

TEST(JobSpecTest, UnknownKeysGetADidYouMean) {
  EXPECT_EQ(ErrorOf("name: t\nsorces: []\n"),
            "job.yaml:2:1: unknown key 'sorces' in the job spec (did you mean 'sources'?)");
  EXPECT_EQ(ErrorOf(WithOperators("  - {name: big, input: txns, fitler: \"amount > 1\"}\n")),
            "job.yaml:9:30: unknown key 'fitler' in operator 'big' (did you mean 'filter'?)");
  EXPECT_EQ(ErrorOf(R"(name: t
sources:
  - name: txns
    connector: file
    pth: x
)"),
            "job.yaml:5:5: unknown key 'pth' in source 'txns' (did you mean 'path'?)");
  EXPECT_EQ(ErrorOf(std::string(kSource) +
                    "sinks:\n  - name: out\n    input: txns\n    connector: file\n    formt: json\n"),
            "job.yaml:12:5: unknown key 'formt' in sink 'out' (did you mean 'format'?)");
  EXPECT_EQ(ErrorOf("name: t\ncheckpointing: {intreval: 5s}\n"),
            "job.yaml:2:17: unknown job setting 'checkpointing.intreval' (did you mean "
            "'checkpointing.interval'?)");
  EXPECT_EQ(ErrorOf("name: t\nconfig: {bufer_timeout: 5ms}\n"),
            "job.yaml:2:10: unknown job setting 'bufer_timeout' (did you mean 'buffer_timeout'?)");
  EXPECT_EQ(ErrorOf("name: t\nname: u\n"), "job.yaml:2:1: duplicate key 'name' in the job spec");
}

TEST(JobSpecTest, UnknownColumnPointsInsideTheExpression) {
  // Quoted scalar: the column after the quote.
  EXPECT_EQ(ErrorOf(WithOperators("  - name: big\n    input: txns\n    filter: \"amout > 1000\"\n")),
            "job.yaml:11:14: unknown column 'amout' in filter (did you mean 'amount'?)");
  // Plain scalar, error in the middle.
  EXPECT_EQ(ErrorOf(WithOperators("  - name: big\n    input: txns\n    filter: amount > 1 and contry = 'DE'\n")),
            "job.yaml:11:28: unknown column 'contry' in filter (did you mean 'country'?)");
  // Flow map.
  EXPECT_EQ(ErrorOf(WithOperators("  - {name: big, input: txns, filter: 'amount > crd'}\n")),
            "job.yaml:9:48: unknown column 'crd' in filter (did you mean 'card'?)");
  // Select list item "expr as name" and aggregate argument.
  EXPECT_EQ(ErrorOf(WithOperators("  - {name: big, input: txns, select: [card, \"amont * 2 as x\"]}\n")),
            "job.yaml:9:46: unknown column 'amont' in select column 'x' (did you mean 'amount'?)");
  EXPECT_EQ(ErrorOf(WithOperators(
                "  - {name: big, input: txns, key_by: [card], aggregate: {t: \"sum( amout )\"}}\n")),
            "job.yaml:9:67: unknown column 'amout' in sum() of 't' (did you mean 'amount'?)");
  // No close match: the expression library lists the columns; syntax errors point too.
  EXPECT_EQ(ErrorOf(WithOperators("  - {name: big, input: txns, filter: \"zzz > 1\"}\n")),
            "job.yaml:9:39: unknown column 'zzz' in filter (columns: card, amount, country, ts)");
  EXPECT_EQ(ErrorOf(WithOperators("  - {name: big, input: txns, filter: \"amount >\"}\n")),
            "job.yaml:9:47: expected an expression at end of expression in filter");
  // A scalar over two lines cannot be mapped exactly: the error points at its start.
  EXPECT_EQ(ErrorOf(WithOperators("  - name: big\n    input: txns\n    filter: \"amount > 1 and\n      amout > 2\"\n")),
            "job.yaml:11:14: unknown column 'amout' in filter (did you mean 'amount'?)");
}

TEST(JobSpecTest, TypeErrors) {
  EXPECT_EQ(ErrorOf(WithOperators("  - {name: big, input: txns, filter: \"amount + 1\"}\n")),
            "job.yaml:9:39: filter must be a bool expression, but 'amount + 1' is float64");
  EXPECT_EQ(ErrorOf(WithOperators("  - {name: big, input: txns, filter: \"country > 5\"}\n")),
            "job.yaml:9:47: type error: cannot compare string 'country' with int64 5 in filter");
  EXPECT_EQ(ErrorOf(WithOperators(
                "  - {name: big, input: txns, key_by: [card], aggregate: {t: \"sum(country)\"}}\n")),
            "job.yaml:9:66: sum() needs a number, but 'country' is string");
  EXPECT_EQ(ErrorOf(WithOperators(
                "  - {name: big, input: txns, key_by: [card], aggregate: {t: \"avg(ts)\"}}\n")),
            "job.yaml:9:66: avg() needs a number, but 'ts' is timestamp");
  EXPECT_EQ(ErrorOf("name: t\nsources:\n  - {name: s, connector: datagen, schema: {id: int65}}\n"),
            "job.yaml:3:48: column 'id': unknown type 'int65' (expected bool, int64, float64, "
            "string, bytes or timestamp)");
}

TEST(JobSpecTest, WrongValueTypesAndMissingKeys) {
  EXPECT_EQ(ErrorOf("name: t\nparallelism: two\n"),
            "job.yaml:2:14: parallelism must be an integer, got 'two'");
  EXPECT_EQ(ErrorOf("name: t\nsources: {a: 1}\n"),
            "job.yaml:2:10: sources must be a list (- name: ...)");
  EXPECT_EQ(ErrorOf("name: t\nsources:\n  - {name: s, connector: datagen, schema: [id, int64]}\n"),
            "job.yaml:3:43: schema must be a map of column: type, got a list");
  EXPECT_EQ(ErrorOf(WithOperators("  - {name: big, inputs: txns, filter: \"amount > 1\"}\n")),
            "job.yaml:9:25: inputs must be a list of node names, got a scalar");
  EXPECT_EQ(ErrorOf(WithOperators("  - {name: big, input: txns, filter: }\n")),
            "job.yaml:9:30: filter needs a value");
  EXPECT_EQ(ErrorOf("parallelism: 1\nsources: []\n"), "job.yaml:1:1: the job spec needs a name");
  EXPECT_EQ(ErrorOf("name: t\nsources:\n  - {connector: datagen}\n"),
            "job.yaml:3:5: a source needs a name");
  EXPECT_EQ(ErrorOf("name: t\nsources:\n  - {name: s, schema: {id: int64}}\n"),
            "job.yaml:3:5: source 's' needs a connector (file, datagen, kafka)");
  EXPECT_EQ(ErrorOf("name: t\nsources:\n  - {name: s, connector: file, format: json, schema: {id: int64}}\n"
                    "sinks:\n  - {name: o, input: s, connector: print}\n"),
            "job.yaml:3:5: source 's' needs a path");
  EXPECT_EQ(ErrorOf("name: t\nsources:\n  - {name: s, connector: datagen}\n"
                    "sinks:\n  - {name: o, input: s, connector: print}\n"),
            "job.yaml:3:5: source 's' needs a schema (a map of column: type)");
  EXPECT_EQ(ErrorOf(std::string(kSource) + "sinks:\n  - {name: o, connector: print}\n"),
            "job.yaml:9:5: sink 'o' needs an input");
  EXPECT_EQ(ErrorOf(WithOperators("  - {name: big, filter: \"amount > 1\"}\n")),
            "job.yaml:9:5: operator 'big' needs an input");
  EXPECT_EQ(ErrorOf(WithOperators("  - {name: big, input: txns}\n")),
            "job.yaml:9:5: operator 'big' needs one of filter, select, key_by + aggregate, union, "
            "join or key_by + pattern");
  EXPECT_EQ(ErrorOf(WithOperators("  - {name: big, input: txns, filter: \"amount > 1\", select: [card]}\n")),
            "job.yaml:9:52: operator 'big' has both filter and select; use one per operator");
  EXPECT_EQ(ErrorOf(WithOperators("  - {name: big, input: txns, inputs: [txns], filter: \"amount > 1\"}\n")),
            "job.yaml:9:30: use either input or inputs, not both");
}

TEST(JobSpecTest, GraphMistakes) {
  EXPECT_EQ(ErrorOf(WithOperators("  - {name: big, input: txn, filter: \"amount > 1\"}\n")),
            "job.yaml:9:24: unknown input 'txn' (did you mean 'txns'?)");
  EXPECT_EQ(ErrorOf(WithOperators("  - {name: txns, input: txns, filter: \"amount > 1\"}\n", "txns")),
            "job.yaml:9:12: duplicate name 'txns': already used by source 'txns' (line 3)");
  EXPECT_EQ(ErrorOf(WithOperators("  - {name: a, input: b, filter: \"amount > 1\"}\n"
                                  "  - {name: b, input: a, filter: \"amount > 2\"}\n"
                                  "  - {name: big, input: txns, filter: \"amount > 3\"}\n")),
            "job.yaml:9:22: cycle: a -> b -> a");
  EXPECT_EQ(ErrorOf(WithOperators("  - {name: big, input: out, filter: \"amount > 1\"}\n")),
            "job.yaml:9:24: input 'out' is a sink; sinks have no output");
  EXPECT_EQ(ErrorOf(WithOperators("  - {name: big, inputs: [txns, txns], union: true}\n")),
            "job.yaml:9:32: input 'txns' is listed twice");
  EXPECT_EQ(ErrorOf(WithOperators("  - {name: big, inputs: [txns], union: true}\n")),
            "job.yaml:9:26: union 'big' needs at least two inputs");
  EXPECT_EQ(ErrorOf(WithOperators("  - {name: big, input: txns, filter: \"amount > 1\"}\n"
                                  "  - {name: unused, input: txns, filter: \"amount > 2\"}\n")),
            "job.yaml:10:12: the output of operator 'unused' is not used (add a sink that reads it, "
            "or remove it)");
  EXPECT_EQ(ErrorOf(std::string(kSource)), "job.yaml:1:7: the job has no sinks");
  EXPECT_EQ(ErrorOf(WithOperators("  - {name: \"my big\", input: txns, filter: \"amount > 1\"}\n")),
            "job.yaml:9:13: name 'my big' may contain only letters, digits, '_', '-' and '.'");
}

TEST(JobSpecTest, UnionSchemasMustMatch) {
  const std::string yaml = R"(name: u
sources:
  - {name: a, connector: datagen, schema: {id: int64, v: string}}
  - {name: b, connector: datagen, schema: {id: int64, v: float64}}
  - {name: c, connector: datagen, schema: {id: int64}}
operators:
  - {name: ab, inputs: [a, b], union: true}
  - {name: ac, inputs: [a, c], union: true}
sinks:
  - {name: o1, input: ab, connector: print}
  - {name: o2, input: ac, connector: print}
)";
  EXPECT_EQ(ErrorOf(yaml),
            "job.yaml:7:28: union input 'b' column 2 is 'v float64' but in 'a' it is 'v string'");
  std::string only_ac = yaml;
  only_ac.replace(only_ac.find("v: float64"), 10, "v: string");
  EXPECT_EQ(ErrorOf(only_ac),
            "job.yaml:8:28: union input 'c' has 1 columns (id int64) but 'a' has 2 (id int64, v "
            "string)");
}

// The same source with event time.
std::string WithEventTime(const std::string& operators, const std::string& watermark =
                                                            "{column: ts, max_delay: 2s}") {
  std::string yaml = WithOperators(operators);
  yaml.insert(yaml.find("operators:"), "    watermark: " + watermark + "\n");
  return yaml;
}

TEST(JobSpecTest, WatermarksAndWindowsBecomeSpecs) {
  absl::StatusOr<proto::JobGraph> graph = ParseJobSpec(
      WithEventTime("  - {name: big, input: txns, key_by: [card], window: {slide: 5m, every: 1m, "
                    "allowed_lateness: 30s}, aggregate: {n: \"count(*)\", f: \"first(amount)\", "
                    "d: \"count_distinct(country)\"}}\n",
                    "{column: ts, max_delay: 2s, idle_timeout: 30s}"),
      "job.yaml", {});
  ASSERT_TRUE(graph.ok()) << graph.status();
  const proto::OperatorSpec& source = graph->vertices(0).chain(0);
  EXPECT_EQ(source.watermark().column(), "ts");
  EXPECT_EQ(source.watermark().max_delay_us(), 2'000'000);
  EXPECT_EQ(source.watermark().idle_timeout_ms(), 30'000);
  const proto::OperatorSpec& window = graph->vertices(1).chain(0);
  const proto::WindowSpec& w = window.aggregate().window();
  EXPECT_EQ(w.kind(), "slide");
  EXPECT_EQ(w.size_us(), 300'000'000);
  EXPECT_EQ(w.slide_us(), 60'000'000);
  EXPECT_EQ(w.allowed_lateness_us(), 30'000'000);
  EXPECT_EQ(w.time_column(), "ts");  // from the source's watermark
  EXPECT_EQ(sluice::types::Schema::FromProto(window.output_schema())->ToString(),
            "card int64, window_start timestamp, window_end timestamp, n int64, f float64, "
            "d int64");
}

TEST(JobSpecTest, BadEventTimeIsAClearErrorAtItsPosition) {
  EXPECT_EQ(ErrorOf(WithEventTime("  - {name: big, input: txns, filter: \"true\"}\n",
                                  "{column: country}")),
            "job.yaml:8:25: watermark column 'country' is string, but event time needs a "
            "timestamp column");
  EXPECT_EQ(ErrorOf(WithEventTime("  - {name: big, input: txns, filter: \"true\"}\n",
                                  "{column: tss}")),
            "job.yaml:8:25: unknown watermark column 'tss' (did you mean 'ts'?)");
  EXPECT_EQ(ErrorOf(WithEventTime("  - {name: big, input: txns, filter: \"true\"}\n",
                                  "{column: ts, max_delay: soon}")),
            "job.yaml:8:40: max_delay: 'soon' is not a duration (write e.g. 500ms, 2s, 1m, 1h)");
  EXPECT_EQ(ErrorOf(WithEventTime("  - {name: big, input: txns, window: {tumble: 1m}, "
                                  "aggregate: {n: \"count(*)\"}}\n")),
            "job.yaml:10:30: a window needs a keyed stream: add key_by: [columns]");
  EXPECT_EQ(ErrorOf(WithOperators("  - {name: big, input: txns, key_by: [card], window: {tumble: 1m}, "
                                  "aggregate: {n: \"count(*)\"}}\n")),
            "job.yaml:9:46: the window needs event time: give the source a watermark: {column: "
            "...} (or name a timestamp column with window: {on: column})");
  EXPECT_EQ(ErrorOf(WithOperators("  - {name: big, input: txns, key_by: [card], window: {tumble: 1m, "
                                  "on: amount}, aggregate: {n: \"count(*)\"}}\n")),
            "job.yaml:9:71: window time column 'amount' is float64, not a timestamp");
  EXPECT_EQ(ErrorOf(WithEventTime("  - {name: big, input: txns, key_by: [card], window: {slide: 5m}, "
                                  "aggregate: {n: \"count(*)\"}}\n")),
            "job.yaml:10:55: a slide window needs every: D (how often a window starts)");
  EXPECT_EQ(ErrorOf(WithEventTime("  - {name: big, input: txns, key_by: [card], window: {tumble: 1m, "
                                  "late_output: late}, aggregate: {n: \"count(*)\"}}\n")),
            "job.yaml:10:80: the output of late output 'late' is not used (add a sink that reads "
            "it, or remove it)");
  EXPECT_EQ(ErrorOf(WithEventTime("  - {name: big, input: txns, key_by: [card], window: {tumble: 1m, "
                                  "late_output: txns}, aggregate: {n: \"count(*)\"}}\n")),
            "job.yaml:10:80: duplicate name 'txns': already used by source 'txns' (line 3)");
  EXPECT_EQ(ErrorOf(WithEventTime("  - {name: big, input: txns, filter: \"true\", "
                                  "window: {tumble: 1m}}\n")),
            "job.yaml:10:46: window needs key_by + aggregate (the aggregates computed per key "
            "and window)");
}

// A window's late_output is a stream: its consumers read the window's input rows over an
// edge naming the side output, from the window's vertex (whose main consumer still chains).
TEST(JobSpecTest, LateOutputIsASideOutputEdgeOfTheWindowVertex) {
  std::string yaml = WithEventTime(
      "  - {name: big, input: txns, key_by: [card], window: {tumble: 1m, late_output: late}, "
      "aggregate: {n: \"count(*)\"}}\n"
      "  - {name: late_big, input: late, filter: \"amount > 10\"}\n"
      "  - {name: alert, input: big, filter: \"n > 3\"}\n",
      "{column: ts}");
  yaml.replace(yaml.rfind("input: big"), 10, "input: alert");  // the sink
  yaml += "  - {name: late_out, input: late_big, connector: print}\n";
  absl::StatusOr<proto::JobGraph> graph = Parse(yaml);
  ASSERT_TRUE(graph.ok()) << graph.status();
  ASSERT_EQ(graph->vertices_size(), 3);
  EXPECT_EQ(graph->vertices(0).name(), "txns");
  EXPECT_EQ(graph->vertices(1).name(), "big -> alert -> out");
  EXPECT_EQ(graph->vertices(2).name(), "late_big -> late_out");
  const proto::WindowSpec& w = graph->vertices(1).chain(0).aggregate().window();
  EXPECT_EQ(w.late_output(), "late");
  ASSERT_EQ(graph->edges_size(), 2);
  const proto::JobEdge& late = graph->edges(1);
  EXPECT_EQ(late.source_vertex(), 1);
  EXPECT_EQ(late.target_vertex(), 2);
  EXPECT_EQ(late.side_output(), "late");
  EXPECT_EQ(late.partitioning(), proto::FORWARD);
  EXPECT_EQ(sluice::types::Schema::FromProto(late.schema())->ToString(),
            "card int64, amount float64, country string, ts timestamp");
  EXPECT_EQ(graph->edges(0).side_output(), "");

  // The late stream keeps event time: a window can read it.
  std::string windowed = WithEventTime(
      "  - {name: big, input: txns, key_by: [card], window: {tumble: 1m, late_output: late}, "
      "aggregate: {n: \"count(*)\"}}\n"
      "  - {name: recount, input: late, key_by: [card], window: {tumble: 1h}, "
      "aggregate: {n: \"count(*)\"}}\n");
  windowed += "  - {name: o2, input: recount, connector: print}\n";
  graph = Parse(windowed);
  ASSERT_TRUE(graph.ok()) << graph.status();
  EXPECT_EQ(graph->vertices(2).chain(0).aggregate().window().time_column(), "ts");
}

// Two sources with event time and a join of them.
std::string JoinJob(const std::string& join, const std::string& payments_schema =
                                                 "{card: int64, paid: float64, ts: timestamp}") {
  return R"(name: t
sources:
  - {name: txns, connector: file, path: a.jsonl, format: json, schema: {card: int64, amount: float64, ts: timestamp}, watermark: {column: ts}}
  - {name: pay, connector: file, path: b.jsonl, format: json, schema: )" + payments_schema + R"(, watermark: {column: ts}}
operators:
  - {name: j, inputs: [txns, pay], join: )" + join + R"(}
sinks:
  - {name: out, input: j, connector: blackhole}
)";
}

TEST(JobSpecTest, IntervalJoinBecomesASpec) {
  absl::StatusOr<proto::JobGraph> graph =
      ParseJobSpec(JoinJob("{on: [card], lower: -5m, upper: 10m, type: left}"), "job.yaml", {});
  ASSERT_TRUE(graph.ok()) << graph.status();
  ASSERT_EQ(graph->vertices_size(), 3);  // two sources, the join (the sink chained to it)
  const proto::OperatorSpec& join = graph->vertices(2).chain(0);
  ASSERT_TRUE(join.has_join());
  EXPECT_EQ(join.join().lower_us(), -300'000'000);
  EXPECT_EQ(join.join().upper_us(), 600'000'000);
  EXPECT_EQ(join.join().type(), "left");
  EXPECT_EQ(join.join().left_time_column(), "ts");
  EXPECT_EQ(sluice::types::Schema::FromProto(join.output_schema())->ToString(),
            "card int64, amount float64, ts timestamp, paid float64, pay_ts timestamp");
  int hashed = 0;
  for (const proto::JobEdge& e : graph->edges()) hashed += e.partitioning() == proto::HASH;
  EXPECT_EQ(hashed, 2);  // both inputs by card
}

TEST(JobSpecTest, WindowJoinBecomesASpec) {
  absl::StatusOr<proto::JobGraph> graph =
      ParseJobSpec(JoinJob("{on: [card], window: {slide: 10m, every: 5m}}"), "job.yaml", {});
  ASSERT_TRUE(graph.ok()) << graph.status();
  const proto::JoinSpec& join = graph->vertices(2).chain(0).join();
  EXPECT_EQ(join.window().kind(), "slide");
  EXPECT_EQ(join.window().size_us(), 600'000'000);
  EXPECT_EQ(join.window().slide_us(), 300'000'000);
  EXPECT_EQ(join.type(), "inner");
  EXPECT_EQ(ErrorOf(JoinJob("{on: [card], window: {session: 1m}}")),
            "job.yaml:6:64: a window join takes tumble or slide windows");
  EXPECT_EQ(ErrorOf(JoinJob("{on: [card], within: 1m, window: {tumble: 1m}}")),
            "job.yaml:6:67: a join has either a window or within / lower + upper, not both");
}

TEST(JobSpecTest, BadJoinsAreClearErrors) {
  EXPECT_EQ(ErrorOf(JoinJob("{on: [card]}")),
            "job.yaml:6:36: an interval join needs within: D (|right.time - left.time| <= D) or "
            "lower: D and upper: D (bounds of right.time - left.time)");
  EXPECT_EQ(ErrorOf(JoinJob("{on: [crad], within: 1m}")),
            "job.yaml:6:48: join column 'crad' is not a column of 'txns' (did you mean 'card'?)");
  EXPECT_EQ(ErrorOf(JoinJob("{on: [card], within: 1m}", "{card: string, paid: float64, ts: timestamp}")),
            "job.yaml:6:48: join column 'card' is int64 in 'txns' but string in 'pay'");
  EXPECT_EQ(ErrorOf(JoinJob("{on: [card], within: 1m, type: full}")),
            "job.yaml:6:73: unknown join type 'full' (use inner or left)");
  EXPECT_EQ(ErrorOf(JoinJob("{on: [card], lower: 5m, upper: 1m}")),
            "job.yaml:6:62: lower (5m) is after upper (1m)");
}

std::string PatternJob(const std::string& pattern, const std::string& key_by = "key_by: [card], ") {
  return WithEventTime("  - {name: big, input: txns, " + key_by + "pattern: " + pattern + "}\n");
}

TEST(JobSpecTest, PatternBecomesASpec) {
  absl::StatusOr<proto::JobGraph> graph = ParseJobSpec(
      PatternJob("{sequence: [{small: \"amount < 5\"}, {gap: \"country = 'XX'\", after: "
                 "not_followed_by}, {big: \"amount > small.amount * 100\", times: 2}], within: "
                 "10m, skip: skip_past_last_event, emit: {first: small.amount, country: big.country}}"),
      "job.yaml", {});
  ASSERT_TRUE(graph.ok()) << graph.status();
  const proto::OperatorSpec& op = graph->vertices(1).chain(0);
  ASSERT_TRUE(op.has_pattern());
  const proto::PatternSpec& p = op.pattern();
  ASSERT_EQ(p.steps_size(), 3);
  EXPECT_EQ(p.steps(1).after(), "not_followed_by");
  EXPECT_EQ(p.steps(2).min(), 2);
  EXPECT_EQ(p.steps(2).max(), 2);
  EXPECT_EQ(p.within_us(), 600'000'000);
  EXPECT_EQ(p.skip(), "skip_past_last_event");
  EXPECT_EQ(p.time_column(), "ts");
  EXPECT_EQ(sluice::types::Schema::FromProto(op.output_schema())->ToString(),
            "card int64, first float64, country string");
}

TEST(JobSpecTest, BadPatternsAreClearErrors) {
  EXPECT_EQ(ErrorOf(PatternJob("{sequence: [{small: \"amount < 5\"}], emit: {a: small.amount}}", "")),
            "job.yaml:10:30: a pattern needs a keyed stream: add key_by: [columns]");
  // A condition may only name steps before it.
  EXPECT_EQ(ErrorOf(PatternJob("{sequence: [{small: \"amount < big.amount\"}, {big: \"amount > 1\"}], "
                               "emit: {a: small.amount}}")),
            "job.yaml:10:85: unknown column 'big.amount' in step 'small' (columns: card, amount, "
            "country, ts)");
  EXPECT_EQ(ErrorOf(PatternJob("{sequence: [{small: \"amount < 5\"}, {big: \"amount > 1\", after: nxt}], "
                               "emit: {a: small.amount}}")),
            "job.yaml:10:117: unknown after 'nxt' (did you mean 'next'?)");
  EXPECT_EQ(ErrorOf(PatternJob("{sequence: [{small: \"amount < 5\"}, {big: \"amount > 1\", one_or_more: true}], "
                               "emit: {a: small.amount}}")),
            "job.yaml:10:91: the last step must match a fixed number of events (not optional, "
            "one_or_more or negative)");
  EXPECT_EQ(ErrorOf(PatternJob("{sequence: [{small: \"amount < 5\"}]}")),
            "job.yaml:10:46: a pattern needs emit: {column: expression} (e.g. first_amount: "
            "small.amount)");
}

// A Kafka source spec: `kafka` (line 3) with its keys on the lines after, then a print sink.
std::string KafkaJob(const std::string& keys) {
  return "name: t\nsources:\n  - name: txns\n    connector: kafka\n" + keys +
         "    format: json\n    schema: {card: int64, amount: float64, ts: timestamp}\n"
         "sinks:\n  - {name: out, input: txns, connector: print}\n";
}

TEST(JobSpecTest, KafkaSourceKeysBecomeASpec) {
  absl::StatusOr<proto::JobGraph> graph = Parse(KafkaJob(
      "    topics: [txns, refunds]\n    bootstrap: broker:9092\n    group: fraud\n"
      "    start: 2026-11-28T12:00:00Z\n    on_error: skip\n    discovery_interval: 1m\n"
      "    stop_at: latest\n    watermark: {column: ts, max_delay: 2s}\n"
      "    properties: {security.protocol: SASL_SSL, sasl: {mechanism: PLAIN}}\n"));
  ASSERT_TRUE(graph.ok()) << graph.status();
  const proto::OperatorSpec& source = graph->vertices(0).chain(0);
  ASSERT_TRUE(source.has_kafka_source());
  const proto::KafkaSourceSpec& k = source.kafka_source();
  EXPECT_EQ(std::vector<std::string>(k.topics().begin(), k.topics().end()),
            (std::vector<std::string>{"txns", "refunds"}));
  EXPECT_EQ(k.bootstrap(), "broker:9092");
  EXPECT_EQ(k.group(), "fraud");
  EXPECT_EQ(k.start(), "timestamp");
  EXPECT_EQ(k.start_timestamp_ms(), 1'795'867'200'000);
  EXPECT_EQ(k.on_error(), "skip");
  EXPECT_EQ(k.format().name(), "json");
  EXPECT_EQ(k.discovery_interval_ms(), 60'000);
  EXPECT_EQ(k.stop_at(), "latest");
  EXPECT_EQ(k.properties().at("security.protocol"), "SASL_SSL");
  EXPECT_EQ(k.properties().at("sasl.mechanism"), "PLAIN");
  EXPECT_EQ(source.watermark().column(), "ts");

  graph = Parse(KafkaJob("    topic_pattern: \"txns-.*\"\n"));
  ASSERT_TRUE(graph.ok()) << graph.status();
  const proto::KafkaSourceSpec& defaults = graph->vertices(0).chain(0).kafka_source();
  EXPECT_EQ(defaults.topic_pattern(), "txns-.*");
  EXPECT_EQ(defaults.bootstrap(), "");  // the JobManager fills in kafka.bootstrap
  EXPECT_EQ(defaults.start(), "earliest");
  EXPECT_EQ(defaults.on_error(), "fail");
  EXPECT_EQ(defaults.discovery_interval_ms(), 30'000);
  EXPECT_EQ(defaults.stop_at(), "");
}

TEST(JobSpecTest, BadKafkaSourceKeysAreClearErrors) {
  EXPECT_EQ(ErrorOf(KafkaJob("")),
            "job.yaml:3:5: source 'txns' needs a topic (or topics: [...], or topic_pattern)");
  EXPECT_EQ(ErrorOf(KafkaJob("    topic: txns\n    topik: x\n")),
            "job.yaml:6:5: unknown key 'topik' in source 'txns' (did you mean 'topic'?)");
  EXPECT_EQ(ErrorOf(KafkaJob("    topic: txns\n    topics: [a]\n")),
            "job.yaml:6:5: use either topic or topics, not both");
  EXPECT_EQ(ErrorOf(KafkaJob("    topic: txns\n    topic_pattern: a.*\n")),
            "job.yaml:6:20: use either topic(s) or topic_pattern, not both");
  // Messages that end with the library's own wording: their start.
  auto starts_with = [](const std::string& s, const std::string& prefix) {
    return s.substr(0, prefix.size()) == prefix ? prefix : s;
  };
  const std::string bad_regex = "job.yaml:5:21: topic_pattern '(a' is not a valid regular expression: ";
  EXPECT_EQ(starts_with(ErrorOf(KafkaJob("    topic_pattern: \"(a\"\n")), bad_regex), bad_regex);
  EXPECT_EQ(ErrorOf(KafkaJob("    topic: txns\n    start: earlyest\n")),
            "job.yaml:6:12: unknown start 'earlyest' (did you mean 'earliest'?)");
  EXPECT_EQ(ErrorOf(KafkaJob("    topic: txns\n    start: group\n")),
            "job.yaml:6:12: start: group needs a group (whose committed offsets to start from)");
  const std::string bad_start =
      "job.yaml:6:12: start must be earliest, latest, group or an RFC 3339 timestamp, got "
      "'2026-13-45T00:00:00Z' (";
  EXPECT_EQ(starts_with(ErrorOf(KafkaJob("    topic: txns\n    start: 2026-13-45T00:00:00Z\n")), bad_start),
            bad_start);
  EXPECT_EQ(ErrorOf(KafkaJob("    topic: txns\n    properties: {group.id: g}\n")),
            "job.yaml:6:18: set group: on the source instead of properties: group.id");
  EXPECT_EQ(ErrorOf(KafkaJob("    topic: txns\n    properties: {enable.auto.commit: true}\n")),
            "job.yaml:6:18: properties: enable.auto.commit is managed by Sluice (offsets are "
            "checkpointed and committed on checkpoint completion)");
  EXPECT_EQ(ErrorOf(KafkaJob("    topic: txns\n    properties: [a]\n")),
            "job.yaml:6:17: properties must be a map of librdkafka setting: value, got a list");
  EXPECT_EQ(ErrorOf(KafkaJob("    topic: txns\n    stop_at: never\n")),
            "job.yaml:6:14: stop_at must be latest (leave it out for an unbounded source), got "
            "'never'");
  const std::string bad_interval = "job.yaml:6:25: discovery_interval: 'soon' is";
  EXPECT_EQ(starts_with(ErrorOf(KafkaJob("    topic: txns\n    discovery_interval: soon\n")), bad_interval),
            bad_interval);
  EXPECT_EQ(ErrorOf(KafkaJob("    topic: txns\n    on_error: ignore\n")),
            "job.yaml:6:15: unknown on_error 'ignore' (use fail, skip or dead_letter)");
}

TEST(JobSpecTest, DeadLettersBecomeASpec) {
  absl::StatusOr<proto::JobGraph> graph = Parse(KafkaJob(
      "    topic: txns\n    on_error: dead_letter\n"
      "    dead_letter: {topic: txns-dlq, properties: {linger.ms: 5}}\n"));
  ASSERT_TRUE(graph.ok()) << graph.status();
  const proto::KafkaSourceSpec& k = graph->vertices(0).chain(0).kafka_source();
  EXPECT_EQ(k.on_error(), "dead_letter");
  EXPECT_EQ(k.dead_letter().topic(), "txns-dlq");
  EXPECT_EQ(k.dead_letter().bootstrap(), "");  // the JobManager fills in the source's
  EXPECT_EQ(k.dead_letter().properties().at("linger.ms"), "5");
  graph = Parse(KafkaJob("    topic: txns\n    on_error: dead_letter\n    dead_letter: {path: dlq}\n"));
  ASSERT_TRUE(graph.ok()) << graph.status();
  EXPECT_EQ(graph->vertices(0).chain(0).kafka_source().dead_letter().path(), "/specs/dlq");

  EXPECT_EQ(ErrorOf(KafkaJob("    topic: txns\n    on_error: dead_letter\n")),
            "job.yaml:6:15: on_error: dead_letter needs dead_letter: {topic: name} or "
            "{path: directory}");
  EXPECT_EQ(ErrorOf(KafkaJob("    topic: txns\n    on_error: dead_letter\n"
                             "    dead_letter: {topic: a, path: b}\n")),
            "job.yaml:7:5: dead_letter needs either topic: or path: (one of them)");
  EXPECT_EQ(ErrorOf(KafkaJob("    topic: txns\n    dead_letter: {topic: a}\n")),
            "job.yaml:6:5: dead_letter: is used by on_error: dead_letter only");
  EXPECT_EQ(ErrorOf(KafkaJob("    topic: txns\n    on_error: dead_letter\n"
                             "    dead_letter: {topik: a}\n")),
            "job.yaml:7:19: unknown key 'topik' in dead_letter (did you mean 'topic'?)");
}

// A Kafka sink reading `txns`, with `keys` (one per line) after its connector line (line 9).
std::string KafkaSinkJob(const std::string& keys, const std::string& job_keys = "") {
  return "name: t\n" + job_keys + std::string(kSource).substr(8) +
         "sinks:\n  - name: alerts\n    input: txns\n    connector: kafka\n" + keys;
}

TEST(JobSpecTest, KafkaSinkBecomesASpec) {
  absl::StatusOr<proto::JobGraph> graph = Parse(KafkaSinkJob(
      "    topic: alerts\n    format: json\n    key: [card, country]\n    delivery: exactly_once\n"
      "    properties: {linger.ms: 5, compression.type: lz4}\n",
      "checkpointing: {interval: 2s}\n"));
  ASSERT_TRUE(graph.ok()) << graph.status();
  const proto::OperatorSpec& sink = graph->vertices(0).chain(1);
  ASSERT_TRUE(sink.has_kafka_sink());
  const proto::KafkaSinkSpec& k = sink.kafka_sink();
  EXPECT_EQ(k.topic(), "alerts");
  EXPECT_EQ(k.bootstrap(), "");  // the JobManager fills in kafka.bootstrap
  EXPECT_EQ(k.format().name(), "json");
  EXPECT_EQ(std::vector<std::string>(k.key_columns().begin(), k.key_columns().end()),
            (std::vector<std::string>{"card", "country"}));
  EXPECT_EQ(k.delivery(), "exactly_once");
  EXPECT_EQ(k.transactional_id_prefix(), "t-alerts");
  EXPECT_EQ(k.properties().at("linger.ms"), "5");
  EXPECT_EQ(k.properties().at("compression.type"), "lz4");

  graph = Parse(KafkaSinkJob("    topic: alerts\n    format: csv\n    bootstrap: k:9092\n"
                             "    transactional_id_prefix: fraud-v2\n"));
  ASSERT_TRUE(graph.ok()) << graph.status();
  const proto::KafkaSinkSpec& defaults = graph->vertices(0).chain(1).kafka_sink();
  EXPECT_EQ(defaults.delivery(), "at_least_once");
  EXPECT_EQ(defaults.bootstrap(), "k:9092");
  EXPECT_EQ(defaults.transactional_id_prefix(), "fraud-v2");
  EXPECT_TRUE(defaults.key_columns().empty());
}

TEST(JobSpecTest, KafkaSourceTakesItsColumnsFromTheRegistry) {
  SpecOptions options;
  std::string asked;
  options.registry_columns = [&asked](const std::string& registry, const std::string& subject)
      -> absl::StatusOr<types::Schema> {
    asked = registry + " " + subject;
    if (subject == "missing-value") return absl::NotFoundError("subject 'missing-value' not found");
    return types::Schema({{"card", types::TypeId::kInt64}, {"ts", types::TypeId::kTimestamp}});
  };
  const std::string job =
      "name: t\nsources:\n  - name: txns\n    connector: kafka\n    topic: TOPIC\n"
      "    format: avro-confluent\n    registry: http://sr:8085\n"
      "    watermark: {column: ts, max_delay: 1s}\n"
      "sinks:\n  - {name: out, input: txns, connector: print}\n";
  std::string spec = job;
  spec.replace(spec.find("TOPIC"), 5, "txns");
  absl::StatusOr<proto::JobGraph> graph = Parse(spec, options);
  ASSERT_TRUE(graph.ok()) << graph.status();
  EXPECT_EQ(asked, "http://sr:8085 txns-value");
  EXPECT_EQ(types::Schema::FromProto(graph->vertices(0).chain(0).output_schema())->ToString(),
            "card int64, ts timestamp");
  spec = job;
  spec.replace(spec.find("TOPIC"), 5, "missing");
  EXPECT_EQ(ErrorOf(spec, options),
            "job.yaml:7:15: no schema: and the registry's columns of subject 'missing-value' are "
            "not available: subject 'missing-value' not found");
  // Without a resolver (or a registry: key) a schema is still required.
  spec = job;
  spec.replace(spec.find("TOPIC"), 5, "txns");
  EXPECT_NE(ErrorOf(spec).find("needs a schema"), std::string::npos) << ErrorOf(spec);
}

TEST(JobSpecTest, KafkaRegistryBecomesAFormatOption) {
  absl::StatusOr<proto::JobGraph> graph = Parse(KafkaSinkJob(
      "    topic: alerts\n    format: avro-confluent\n    registry: http://sr:8085\n"
      "    format_options: {subject_strategy: record_name, record_name: acme.Alert}\n"));
  ASSERT_TRUE(graph.ok()) << graph.status();
  const proto::FormatSpec& format = graph->vertices(0).chain(1).kafka_sink().format();
  EXPECT_EQ(format.name(), "avro-confluent");
  EXPECT_EQ(format.options().at("registry"), "http://sr:8085");
  EXPECT_EQ(format.options().at("record_name"), "acme.Alert");
  EXPECT_EQ(ErrorOf(KafkaSinkJob("    topic: alerts\n    format: json\n    registry: http://sr\n")),
            "job.yaml:14:15: registry: applies to format avro-confluent or protobuf-confluent, "
            "not json");
  absl::StatusOr<proto::JobGraph> proto_graph = Parse(KafkaSinkJob(
      "    topic: alerts\n    format: protobuf-confluent\n    registry: http://sr:8085\n"
      "    format_options: {message: acme.Alert, proto_file: alert.proto}\n"));
  ASSERT_TRUE(proto_graph.ok()) << proto_graph.status();
  const proto::FormatSpec& proto_format = proto_graph->vertices(0).chain(1).kafka_sink().format();
  EXPECT_EQ(proto_format.options().at("registry"), "http://sr:8085");
  EXPECT_EQ(proto_format.options().at("message"), "acme.Alert");
  // Files a format reads are resolved against the job spec's directory.
  EXPECT_TRUE(std::filesystem::path(proto_format.options().at("proto_file")).is_absolute());
  EXPECT_EQ(ErrorOf(KafkaSinkJob("    topic: alerts\n    format: avro-confluent\n"
                                 "    format_options: {subject_strategy: topic}\n")),
            "job.yaml:14:22: format avro-confluent: subject_strategy must be topic_name, "
            "record_name or topic_record_name, not 'topic'");
}

TEST(JobSpecTest, BadKafkaSinksAreClearErrors) {
  EXPECT_EQ(ErrorOf(KafkaSinkJob("    format: json\n")),
            "job.yaml:9:5: sink 'alerts' needs a topic");
  EXPECT_EQ(ErrorOf(KafkaSinkJob("    topic: alerts\n    format: json\n    key: [cards]\n")),
            "job.yaml:14:11: unknown key column 'cards' (did you mean 'card'?)");
  EXPECT_EQ(ErrorOf(KafkaSinkJob("    topic: alerts\n    format: json\n    delivery: exactly-once\n")),
            "job.yaml:14:15: unknown delivery 'exactly-once' (did you mean 'exactly_once'?)");
  EXPECT_EQ(ErrorOf(KafkaSinkJob("    topic: alerts\n    format: json\n    delivery: exactly_once\n")),
            "job.yaml:14:15: delivery: exactly_once commits a Kafka transaction per checkpoint: "
            "the job needs checkpointing: {interval: ...}");
  EXPECT_EQ(ErrorOf(KafkaSinkJob("    topic: alerts\n    format: json\n    group: g\n")),
            "job.yaml:14:5: unknown key 'group' in sink 'alerts'");
  EXPECT_EQ(ErrorOf(KafkaSinkJob("    topic: alerts\n    format: json\n"
                                 "    properties: {transactional.id: x}\n")),
            "job.yaml:14:18: set transactional_id_prefix: on the sink instead of properties: "
            "transactional.id");
}

TEST(JobSpecTest, NotYetAvailableFeaturesSaySo) {
  EXPECT_EQ(ErrorOf("name: t\nsources:\n  - {name: k, connector: nexmark}\n"),
            "job.yaml:3:26: connector 'nexmark' is not available yet (use file, datagen, kafka)");
  EXPECT_EQ(ErrorOf("name: t\nsources:\n  - {name: k, connector: fiel}\n"),
            "job.yaml:3:26: unknown source connector 'fiel' (did you mean 'file'?)");
  EXPECT_EQ(ErrorOf(std::string(kSource) + "sinks:\n  - {name: o, input: txns, connector: kafak}\n"),
            "job.yaml:9:39: unknown sink connector 'kafak' (did you mean 'kafka'?)");
  std::string avro = std::string(kSource) + "sinks:\n  - {name: o, input: txns, connector: print}\n";
  avro.replace(avro.find("format: json"), 12, "format: avro");
  EXPECT_EQ(ErrorOf(avro),
            "job.yaml:6:13: format avro has one record per message: the file connector takes "
            "json or csv");
  std::string protobuf = std::string(kSource) + "sinks:\n  - {name: o, input: txns, connector: print}\n";
  protobuf.replace(protobuf.find("format: json"), 12, "format: protobuf");
  EXPECT_EQ(ErrorOf(protobuf),
            "job.yaml:6:13: format protobuf has one record per message: the file connector "
            "takes json or csv");
}

TEST(JobSpecTest, AggregateMistakes) {
  EXPECT_EQ(ErrorOf(WithOperators("  - {name: big, input: txns, key_by: [card]}\n")),
            "job.yaml:9:30: key_by needs an aggregate (key_by alone is not supported yet)");
  EXPECT_EQ(ErrorOf(WithOperators("  - {name: big, input: txns, aggregate: {n: \"count(*)\"}}\n")),
            "job.yaml:9:41: aggregate needs key_by: [columns] (a running aggregate per key)");
  EXPECT_EQ(ErrorOf(WithOperators("  - {name: big, input: txns, key_by: [crd], aggregate: {n: \"count(*)\"}}\n")),
            "job.yaml:9:39: unknown key column 'crd' (did you mean 'card'?)");
  EXPECT_EQ(ErrorOf(WithOperators("  - {name: big, input: txns, key_by: [card], aggregate: {n: \"summ(amount)\"}}\n")),
            "job.yaml:9:62: unknown aggregate function 'summ' (did you mean 'sum'?)");
  EXPECT_EQ(ErrorOf(WithOperators("  - {name: big, input: txns, key_by: [card], aggregate: {n: count}}\n")),
            "job.yaml:9:61: aggregate 'n' must be a call like count(*), sum(expr), min(expr), "
            "max(expr) or avg(expr), got 'count'");
  EXPECT_EQ(ErrorOf(WithOperators("  - {name: big, input: txns, key_by: [card], aggregate: {n: \"count(amount)\"}}\n")),
            "job.yaml:9:68: count takes *: write count(*) for 'n'");
  EXPECT_EQ(ErrorOf(WithOperators("  - {name: big, input: txns, key_by: [card], aggregate: {card: \"count(*)\"}}\n")),
            "job.yaml:9:58: output column 'card' appears twice (key columns come first)");
  EXPECT_EQ(ErrorOf(WithOperators("  - {name: big, input: txns, select: [\"amount * 2\"]}\n")),
            "job.yaml:9:40: select item 'amount * 2' needs a name: write 'amount * 2 as <name>'");
  EXPECT_EQ(ErrorOf(WithOperators("  - {name: big, input: txns, select: [card, \"amount as card\"]}\n")),
            "job.yaml:9:56: select column 'card' appears twice");
}

TEST(JobSpecTest, ConnectorSettingMistakes) {
  const std::string sink = "sinks:\n  - {name: o, input: txns, connector: print}\n";
  std::string spec = std::string(kSource) + "    on_error: ignore\n" + sink;
  EXPECT_EQ(ErrorOf(spec), "job.yaml:8:15: unknown on_error 'ignore' (use fail, skip or dead_letter)");
  spec = std::string(kSource) + "    format_options: {delimiter: \";\"}\n" + sink;
  EXPECT_EQ(ErrorOf(spec),
            "job.yaml:8:22: format json: unknown option 'delimiter' (expected timestamp_unit)");
  spec = std::string(kSource) + "    timestamp_unit: ns\n" + sink;
  EXPECT_EQ(ErrorOf(spec),
            "job.yaml:8:5: format json: timestamp_unit must be s, ms or us, not 'ns'");
  spec = std::string(kSource) + "    csv: {header: true}\n" + sink;
  EXPECT_EQ(ErrorOf(spec), "job.yaml:8:5: csv options need format: csv");
  spec = std::string(kSource) + sink;
  spec.replace(spec.find("format: json"), 12, "format: jsn");
  EXPECT_EQ(ErrorOf(spec), "job.yaml:6:13: unknown format 'jsn' (did you mean 'json'?)");

  const std::string gen = R"(name: t
sources:
  - name: g
    connector: datagen
    schema: {id: int64, kind: string}
    fields:
)";
  const std::string gen_sink = "sinks:\n  - {name: o, input: g, connector: print}\n";
  EXPECT_EQ(ErrorOf(gen + "      idd: {kind: sequence}\n" + gen_sink),
            "job.yaml:7:7: fields: unknown column 'idd' (did you mean 'id'?)");
  EXPECT_EQ(ErrorOf(gen + "      kind: {kind: choice}\n" + gen_sink),
            "job.yaml:7:20: fields: column 'kind': kind choice needs values: [...]");
  EXPECT_EQ(ErrorOf(gen + "      id: {kind: choice, values: [1, x]}\n" + gen_sink),
            "job.yaml:7:38: value 'x' of column 'id' is not a valid int64");
  EXPECT_EQ(ErrorOf(gen + "      id: {kind: sequense}\n" + gen_sink),
            "job.yaml:7:18: unknown datagen kind 'sequense' (did you mean 'sequence'?)");
  EXPECT_EQ(ErrorOf(gen + "      id: {kind: random, min: 5, max: 1}\n" + gen_sink),
            "job.yaml:7:18: fields: column 'id': min (5) is larger than max (1)");
  EXPECT_EQ(ErrorOf(gen + "      id: {knd: random}\n" + gen_sink),
            "job.yaml:7:12: unknown key 'knd' in fields of column 'id' (did you mean 'kind'?)");
  EXPECT_EQ(ErrorOf(gen + "      id: {kind: random}\n    count: -1\n" + gen_sink),
            "job.yaml:8:12: count must be >= 0 (leave it out for an unbounded source), got -1");
}

TEST(JobSpecTest, JobSettingMistakes) {
  EXPECT_EQ(ErrorOf("name: t\nrestart: {strategy: fixd_delay}\n"),
            "job.yaml:2:21: unknown restart strategy 'fixd_delay' (did you mean 'fixed_delay'?)");
  EXPECT_EQ(ErrorOf("name: t\nrestart: {strategy: fixed_delay, initial: 1s}\n"),
            "job.yaml:2:34: restart key 'initial' does not apply to strategy fixed_delay (its "
            "keys: attempts, delay)");
  EXPECT_EQ(ErrorOf("name: t\nrestart: {strategy: fixed_delay, atempts: 3}\n"),
            "job.yaml:2:34: unknown restart key 'atempts' (did you mean 'attempts'?)");
  EXPECT_EQ(ErrorOf("name: t\nrestart: {strategy: fixed_delay, delay: 5x}\n"),
            "job.yaml:2:41: restart delay: '5x' has unknown duration unit 'x' (use ms, s, m, h or d)");
  EXPECT_EQ(ErrorOf("name: t\nrestart: {attempts: 3}\n"),
            "job.yaml:2:1: restart needs a strategy: none, fixed_delay, exponential_delay or "
            "failure_rate");
  EXPECT_EQ(ErrorOf("name: t\nrestart: {strategy: exponential_delay, jitter: 2}\n"),
            "job.yaml:2:48: restart jitter must be a number between 0 and 1, got '2'");
  EXPECT_EQ(ErrorOf("name: t\nrestart: {strategy: exponential_delay, initial: 2m, max: 1m}\n"),
            "job.yaml:2:58: restart max (1m) must be at least initial (2m)");
  EXPECT_EQ(ErrorOf("name: t\ncheckpointing: {interval: 5s, mode: exactly_twice}\n"),
            "job.yaml:2:37: checkpointing.mode must be one of exactly_once, at_least_once, got "
            "'exactly_twice'");
  EXPECT_EQ(ErrorOf("name: t\ncheckpointing: {interval: soon}\n"),
            "job.yaml:2:27: checkpointing.interval: 'soon' is not a duration (write e.g. 500ms, "
            "2s, 1m, 1h)");
  EXPECT_EQ(ErrorOf("name: t\nstate: {backend: disk}\n"),
            "job.yaml:2:18: state.backend must be one of heap, rocksdb, got 'disk'");
  EXPECT_EQ(ErrorOf("name: t\nstate: {backend: rocksdb, incremental: maybe}\n"),
            "job.yaml:2:40: state.incremental must be one of true, false, got 'maybe'");
  EXPECT_EQ(ErrorOf("name: t\nparallelism: 0\n"), "job.yaml:2:14: parallelism must be at least 1, got 0");
  EXPECT_EQ(ErrorOf("name: t\nparallelism: 200\n"),
            "job.yaml:2:14: parallelism 200 is larger than max_parallelism 128");
  EXPECT_EQ(ErrorOf("name: t\nmax_parallelism: 0\n"),
            "job.yaml:2:18: max_parallelism must be between 1 and 32768, got 0");
  EXPECT_EQ(ErrorOf(WithOperators("  - {name: big, input: txns, parallelism: 0, filter: \"amount > 1\"}\n")),
            "job.yaml:9:43: parallelism must be at least 1, got 0");
}

TEST(JobSpecTest, LoadJobSpecFileResolvesPathsAgainstItsDirectory) {
  const std::filesystem::path dir =
      std::filesystem::path(::testing::TempDir()) / "jobgraph_spec_test";
  std::filesystem::create_directories(dir / "sub");
  const std::string path = (dir / "sub" / "job.yaml").string();
  {
    std::ofstream out(path);
    out << std::string(kSource) << "sinks:\n  - {name: o, input: txns, connector: file, path: "
        << "../out, format: json}\n";
  }
  absl::StatusOr<proto::JobGraph> graph = LoadJobSpecFile(path);
  ASSERT_TRUE(graph.ok()) << graph.status();
  const proto::JobVertex& v = graph->vertices(0);
  EXPECT_EQ(v.chain(0).file_source().path(), (dir / "sub" / "data" / "txns.jsonl").string());
  EXPECT_EQ(v.chain(1).file_sink().path(), (dir / "out").string());

  {
    std::ofstream out(path);
    out << "name: t\nsorces: []\n";
  }
  EXPECT_EQ(LoadJobSpecFile(path).status().message(),
            path + ":2:1: unknown key 'sorces' in the job spec (did you mean 'sources'?)");

  absl::Status missing = LoadJobSpecFile((dir / "nope.yaml").string()).status();
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(missing.message(), "job spec " + (dir / "nope.yaml").string() + ": no such file");
}

}  // namespace
}  // namespace sluice::jobgraph
