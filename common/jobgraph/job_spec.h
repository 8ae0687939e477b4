// Job specs: the YAML front end of Sluice. ParseJobSpec reads a job spec (the language of
// DESIGN.md "Job spec") into a LogicalPlan and hands it to the planner (planner.h), which
// validates it and produces the JobGraph the CLI submits. The JobBuilder (job_builder.h) is
// the C++ front end for the same graphs.
//
// Accepted keys (anything else is an error naming the key, with a did-you-mean):
//   name (required), parallelism (1), max_parallelism (128),
//   restart: {strategy: none|fixed_delay|exponential_delay|failure_rate, attempts, delay,
//             initial, max, multiplier, jitter, reset_after, max_failures, interval},
//   checkpointing: {interval, mode, timeout, dir, min_pause, max_concurrent, retained},
//   state: {backend}, config: {buffer_timeout}   (all copied into JobGraph.config),
//   sources: [{name, connector: file, path, format: json|csv, schema: {col: type},
//              format_options: {..}, timestamp_unit, csv: {delimiter, header}, on_error,
//              parallelism, watermark}
//             | {name, connector: datagen, schema, count, rows_per_second, seed,
//                fields: {col: {kind: sequence|random|choice, min, max, values}}, parallelism,
//                watermark}
//             | {name, connector: kafka, topic | topics: [..] | topic_pattern, bootstrap,
//                group, start: earliest|latest|group|<RFC 3339>, properties: {..},
//                discovery_interval, stop_at: latest, format, schema, format_options,
//                timestamp_unit, csv, on_error, parallelism, watermark}],
//     watermark: {column: <timestamp column>, max_delay: D, idle_timeout: D}
//   operators: [{name, input | inputs, parallelism, one of:
//                  filter: "expr" | select: {col: "expr"} or [col, "expr as col"] |
//                  key_by: [cols] + aggregate: {col: "count(*)|sum(e)|min(e)|max(e)|avg(e)|
//                                               first(e)|last(e)|count_distinct(e)"}
//                    [+ window: {tumble: D | slide: D, every: D | session: D,
//                                allowed_lateness: D, on: <timestamp column>,
//                                late_output: <name of the stream of late records>}] |
//                  union: true (with inputs: [a, b, ...]) |
//                  join: {on: [cols], within: D | lower: D, upper: D, type: inner|left}
//                    (with inputs: [left, right])}],
//   sinks: [{name, input, parallelism, connector: file (path, format, format_options, csv) |
//            print | blackhole (rows_per_second: throttle, 0 = none) |
//            kafka (topic, bootstrap, key: [cols], delivery: none|at_least_once|exactly_once,
//                   transactional_id_prefix, properties, format, format_options, csv)}].
// Not yet available, with a clear error: the nexmark connector.
//
// Errors are InvalidArgument with one line "<file>:<line>:<column>: <message>" (1-based).
// Stateless functions; thread-safe.
#pragma once

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/types/schema.h"
#include "proto/jobgraph.pb.h"

namespace sluice::jobgraph {

struct SpecOptions {
  // Relative `path:` values of file connectors resolve against this (the spec file's
  // directory; the current directory when empty); the JobGraph holds absolute paths.
  std::string base_dir;
  // > 0: replaces the job-level `parallelism` (CLI --parallelism).
  int parallelism_override = 0;
  // The columns of the latest schema of a registry subject (registry URL, subject): a Kafka
  // source in avro-confluent with `registry:` and no `schema:` takes its columns from
  // `<topic>-value` (or its format's `subject`). Unset: such a source needs `schema:`. The CLI
  // sets it to types::RegistryColumns.
  std::function<absl::StatusOr<types::Schema>(const std::string& registry,
                                              const std::string& subject)>
      registry_columns;
};

// Parses, validates and plans a job spec. `file_name` prefixes error messages.
absl::StatusOr<proto::JobGraph> ParseJobSpec(absl::string_view yaml_text,
                                             absl::string_view file_name,
                                             const SpecOptions& options);

// Reads the file (NotFound "job spec <path>: no such file" if missing), then ParseJobSpec with
// the path as the file name and base_dir = the file's directory (unless options.base_dir is
// set).
absl::StatusOr<proto::JobGraph> LoadJobSpecFile(const std::string& path, SpecOptions options = {});

// LoadJobSpecFile as a submitting process reads a spec (the CLI's `run`, an application-mode
// JobManager's --job): registry-backed sources take their columns from their schema registry
// (types::RegistryColumns). `parallelism_override` 0 keeps the spec's parallelism.
absl::StatusOr<proto::JobGraph> LoadJobSpecToSubmit(const std::string& path,
                                                    int parallelism_override = 0);

}  // namespace sluice::jobgraph
