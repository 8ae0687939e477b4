// JobBuilder: the C++ front end for job graphs, the in-code twin of a YAML job spec
// (job_spec.h). It records the same LogicalPlan the spec parser builds and runs the same
// planner, so a job built here and the same job written as YAML give equal JobGraphs (except
// OperatorSpec.yaml_line, which is 0 here). Every check happens in Build(); its errors name
// the node: "node 'big': unknown column 'amout' in filter (did you mean 'amount'?)".
//
//   JobBuilder b("txn-alerts");
//   b.Parallelism(2);
//   b.FileSource("txns", "/data/txns.jsonl", "json", schema);
//   b.Filter("big", "txns", "amount > 1000");
//   b.Aggregate("per_card", "big", {"card"}, {{"n", "count", ""}, {"total", "sum", "amount"}});
//   b.FileSink("out", "per_card", "/data/out", "json");
//   absl::StatusOr<proto::JobGraph> graph = b.Build();
//
// Nodes may be added in any order; inputs are resolved by name in Build(). Relative paths
// resolve against the current directory. Not thread-safe (external synchronization required).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/jobgraph/logical_plan.h"
#include "common/types/schema.h"
#include "proto/jobgraph.pb.h"

namespace sluice::jobgraph {

// One output column of an aggregate: {"total", "sum", "amount"}; count(*) is {"n", "count", ""}.
struct AggregateCall {
  std::string name;
  std::string function;  // count | sum | min | max | avg | first | last | count_distinct
  std::string argument;  // expression; empty for count
};

// A source's event time, as a spec's `watermark:` (durations written "2s", "" = 0 / never).
struct WatermarkOptions {
  std::string column;
  std::string max_delay;
  std::string idle_timeout;
};

// A window, as a spec's `window:`: kind tumble | slide | session, size (the gap of a
// session), every (slide), allowed_lateness, on (time column; "" = the input's event time).
struct WindowOptions {
  std::string kind;
  std::string size;
  std::string every;
  std::string allowed_lateness;
  std::string on;
  std::string late_output;  // a name later nodes read late records from; empty: dropped
};

// A join, as a spec's `join:`: an interval join with within ("10m": |right.time -
// left.time| <= 10m) or lower and upper (bounds of right.time - left.time, e.g. "-5m",
// "10m") and type inner | left; or a window join with `window` (tumble or slide).
struct JoinOptions {
  std::vector<std::string> on;
  std::string within;
  std::string lower;
  std::string upper;
  std::string type;
  std::optional<WindowOptions> window;
};

struct FileSourceOptions {
  std::map<std::string, std::string> format_options;  // e.g. {{"timestamp_unit", "s"}}
  std::string on_error = "fail";                      // fail | skip
  std::optional<WatermarkOptions> watermark;
};

// A Kafka source, as a spec's kafka connector keys (docs/kafka.md): topics or topic_pattern;
// bootstrap ("" = the cluster's kafka.bootstrap); start earliest | latest | group | an RFC 3339
// timestamp; properties passed to librdkafka; discovery_interval ("" = 30s, "0" = never);
// stop_at "" (unbounded) | latest.
struct KafkaSourceOptions {
  std::vector<std::string> topics;
  std::string topic_pattern;
  std::string bootstrap;
  std::string group;
  std::string start;
  std::map<std::string, std::string> properties;
  std::string discovery_interval;
  std::string stop_at;
  std::map<std::string, std::string> format_options;
  std::string on_error = "fail";
  std::optional<WatermarkOptions> watermark;
};

// A Kafka sink, as a spec's kafka sink keys (docs/kafka.md): bootstrap ("" = the cluster's
// kafka.bootstrap), key columns, delivery none | at_least_once | exactly_once ("" =
// at_least_once), transactional_id_prefix ("" = "<job>-<sink>"), properties for librdkafka.
struct KafkaSinkOptions {
  std::string bootstrap;
  std::vector<std::string> key;
  std::string delivery;
  std::string transactional_id_prefix;
  std::map<std::string, std::string> properties;
  std::map<std::string, std::string> format_options;
};

// How datagen fills one column (see DESIGN.md "datagen").
struct DatagenColumn {
  std::string kind;  // sequence | random | choice
  std::optional<double> min;
  std::optional<double> max;
  std::vector<std::string> values;  // choice
};

struct DatagenOptions {
  std::optional<int64_t> count;  // rows in total; unbounded when absent
  double rows_per_second = 0;    // 0: as fast as possible
  uint64_t seed = 0;
  std::map<std::string, DatagenColumn> fields;
  std::optional<WatermarkOptions> watermark;
};

class JobBuilder {
 public:
  explicit JobBuilder(absl::string_view job_name);

  // Job-level settings.
  JobBuilder& Parallelism(int parallelism);
  JobBuilder& MaxParallelism(int max_parallelism);
  // The restart strategy and its options as in a spec's `restart:` map, e.g.
  // Restart("exponential_delay", {{"initial", "1s"}, {"max", "1m"}}).
  JobBuilder& Restart(absl::string_view strategy,
                      const std::vector<std::pair<std::string, std::string>>& options = {});
  // A JobGraph.config key (see JobConfigKeys() in job_settings.h), e.g.
  // Config("checkpointing.interval", "5s"), Config("buffer_timeout", "5ms").
  JobBuilder& Config(absl::string_view key, absl::string_view value);
  // Parallelism of one node (default: the job's). The node may be added later.
  JobBuilder& NodeParallelism(absl::string_view node, int parallelism);

  // Sources.
  JobBuilder& FileSource(absl::string_view name, absl::string_view path, absl::string_view format,
                         const types::Schema& schema, const FileSourceOptions& options = {});
  JobBuilder& Datagen(absl::string_view name, const types::Schema& schema,
                      const DatagenOptions& options = {});
  JobBuilder& KafkaSource(absl::string_view name, absl::string_view format,
                          const types::Schema& schema, const KafkaSourceOptions& options);

  // Operators.
  JobBuilder& Filter(absl::string_view name, absl::string_view input, absl::string_view predicate);
  // Output columns {name, expression} in order.
  JobBuilder& Select(absl::string_view name, absl::string_view input,
                     const std::vector<std::pair<std::string, std::string>>& columns);
  // Running keyed aggregate: output = key columns, then one column per call.
  JobBuilder& Aggregate(absl::string_view name, absl::string_view input,
                        const std::vector<std::string>& key_by,
                        const std::vector<AggregateCall>& calls);
  // Windowed keyed aggregate: output = key columns, window_start, window_end, then one
  // column per call.
  JobBuilder& WindowAggregate(absl::string_view name, absl::string_view input,
                              const std::vector<std::string>& key_by, const WindowOptions& window,
                              const std::vector<AggregateCall>& calls);
  JobBuilder& Union(absl::string_view name, const std::vector<std::string>& inputs);
  // A keyed process function (taskmanager/operators/keyed_process_function.h) registered in
  // the TaskManager binary as `registered_name`, on `input` hash-partitioned by `key_by`,
  // emitting rows of `output`; `options` reach it in the spec's user options.
  JobBuilder& KeyedProcess(absl::string_view name, absl::string_view input,
                           const std::vector<std::string>& key_by,
                           absl::string_view registered_name, const types::Schema& output,
                           const std::map<std::string, std::string>& options = {});
  // Interval join of two inputs with event time: output = the left columns, then the right
  // columns that are not join keys.
  JobBuilder& Join(absl::string_view name, absl::string_view left, absl::string_view right,
                   const JoinOptions& join);

  // Sinks.
  JobBuilder& FileSink(absl::string_view name, absl::string_view input, absl::string_view path,
                       absl::string_view format,
                       const std::map<std::string, std::string>& format_options = {});
  JobBuilder& PrintSink(absl::string_view name, absl::string_view input);
  JobBuilder& KafkaSink(absl::string_view name, absl::string_view input, absl::string_view topic,
                        absl::string_view format, const KafkaSinkOptions& options);
  // rows_per_second > 0 throttles the sink (a slow downstream system).
  JobBuilder& BlackholeSink(absl::string_view name, absl::string_view input,
                            double rows_per_second = 0);

  // Validates and plans the job (see planner.h).
  absl::StatusOr<proto::JobGraph> Build() const;

 private:
  LogicalNode& AddNode(NodeOp op, absl::string_view name,
                       const std::vector<std::string>& inputs);

  LogicalPlan plan_;
  std::vector<std::pair<std::string, int>> node_parallelism_;
};

}  // namespace sluice::jobgraph
