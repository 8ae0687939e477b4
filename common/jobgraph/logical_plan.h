// LogicalPlan: the one internal representation of a job, built by both front ends (the YAML
// job spec parser, job_spec.h, and the C++ JobBuilder, job_builder.h) and turned into a
// proto::JobGraph by the planner (planner.h), so validation, schema inference and chaining
// exist once. A front end only records what the user wrote, with where it was written;
// every semantic check happens in the planner. Plain data; external synchronization required.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/types/schema.h"

namespace sluice::jobgraph {

// A place in the job spec, 1-based. line == 0: unknown (nodes built by the JobBuilder).
struct Position {
  int line = 0;
  int column = 0;
  bool known() const { return line > 0; }
};

// A string the user wrote and where. `exact`: character i of `text` is at column
// `pos.column + i` of `pos.line` (a one-line YAML scalar without escapes), so an error at an
// offset inside an expression can point at its precise column.
struct Located {
  std::string text;
  Position pos;
  bool exact = false;

  // Where character `offset` of `text` is (the start of `text` when not exact).
  Position At(int offset) const;
  // The part [offset, offset + length) with its own position.
  Located Sub(size_t offset, size_t length) const;
  bool empty() const { return text.empty(); }
};

// What a node does.
enum class NodeOp {
  kFileSource,
  kDatagenSource,
  kKafkaSource,
  kFilter,
  kSelect,
  kAggregate,
  kUnion,
  kJoin,
  kPattern,
  kUser,       // a user C++ operator (JobBuilder::KeyedProcess)
  kLateOutput, // a window's late records (the planner adds one per `late_output: NAME`)
  kFileSink,
  kPrintSink,
  kBlackholeSink,
  kKafkaSink,
};

bool IsSource(NodeOp op);
bool IsSink(NodeOp op);
// "source", "operator" or "sink".
absl::string_view NodeRole(NodeOp op);

struct SchemaColumn {
  Located name;
  types::TypeId type;
};

struct NamedExpression {
  Located name;
  Located expr;
};

struct AggregateCallSpec {
  Located name;      // output column
  Located function;  // count | sum | min | max | avg (as written)
  Located argument;  // expression text; empty for count(*)
};

struct OptionEntry {
  Located key;
  Located value;
};

struct DatagenField {
  Located column;
  Located kind;  // sequence | random | choice
  std::optional<double> min;
  std::optional<double> max;
  std::vector<Located> values;
};

// A Kafka source's own keys (its format, schema, on_error and watermark are the common ones).
struct KafkaDef {
  std::vector<Located> topics;   // `topic: t` or `topics: [..]`
  Position topics_pos;
  Located topic_pattern;
  Located bootstrap;             // empty: the cluster's kafka.bootstrap
  Located registry;              // schema registry URL; empty: the cluster's kafka.registry
  Located group;
  Located start;                 // earliest | latest | group | RFC 3339 timestamp
  std::vector<OptionEntry> properties;
  Located discovery_interval;    // duration; empty: 30s; 0: never
  Located stop_at;               // empty: unbounded | latest
  // Sink only: `key: [columns]`, `delivery`, `transactional_id_prefix`.
  std::vector<Located> key;
  Position key_pos;
  Located delivery;              // none | at_least_once | exactly_once; empty: at_least_once
  Located transactional_id_prefix;  // empty: "<job name>-<sink name>"
};

// A source's event time: `watermark: {column, max_delay, idle_timeout}`.
struct WatermarkDef {
  bool present = false;
  Position pos;            // of the watermark key
  Located column;          // a TIMESTAMP column of the source
  Located max_delay;       // duration; empty: 0
  Located idle_timeout;    // duration; empty: never idle
};

// The window of a keyed aggregate: `window: {tumble: D} | {slide: D, every: D} |
// {session: D}` with optional `allowed_lateness: D` and `on: column`.
struct WindowDef {
  bool present = false;
  Position pos;               // of the window key
  Located kind;               // tumble | slide | session (the key as written)
  Located size;               // tumble/slide size, session gap
  Located every;              // slide only
  Located allowed_lateness;   // empty: 0
  Located on;                 // the time column; empty: the input's event-time column
  Located late_output;        // name of the stream of late records; empty: dropped
};

// An interval join: `join: {on: [cols], within: D}` or `{on, lower: D, upper: D}` (bounds of
// right.time - left.time, may be negative), `type: inner|left`.
struct JoinDef {
  bool present = false;
  Position pos;  // of the join key
  Located within;
  Located lower;
  Located upper;
  Located type;  // empty: inner
};

// A CEP pattern: `pattern: {sequence: [{name: "condition", after, times, one_or_more,
// optional}, ...], within: D, skip: no_skip|skip_past_last_event, emit: {col: expr}}`.
struct PatternStepDef {
  Located name;
  Located condition;
  Located after;          // empty: followed_by
  Located times;          // empty: 1
  bool one_or_more = false;
  bool optional = false;
  Position pos;
};

struct PatternDef {
  bool present = false;
  Position pos;
  std::vector<PatternStepDef> steps;
  Position sequence_pos;
  Located within;
  Located skip;
  std::vector<NamedExpression> emit;
  Position emit_pos;
};

struct LogicalNode {
  NodeOp op;
  Located name;
  Position pos;                 // where the node is declared (its yaml_line)
  std::vector<Located> inputs;  // names of earlier nodes
  int parallelism = 0;          // 0: the job's parallelism
  Position parallelism_pos;

  // Sources: the schema of the records they emit.
  std::vector<SchemaColumn> schema;
  Position schema_pos;
  // File source and sink.
  Located path;  // relative paths resolve against LogicalPlan::base_dir
  Located format;
  std::vector<OptionEntry> format_options;
  Located on_error;  // source only: fail | skip (empty: fail)
  // Datagen source.
  std::optional<int64_t> count;  // nullopt: unbounded
  Position count_pos;
  double rows_per_second = 0;  // also the throttle of a blackhole sink
  Position rows_per_second_pos;
  uint64_t seed = 0;
  std::vector<DatagenField> fields;
  // Kafka source.
  KafkaDef kafka;
  // Filter.
  Located predicate;
  // Select: output columns in order.
  std::vector<NamedExpression> select;
  Position select_pos;
  // Aggregate: key columns, then calls.
  std::vector<Located> key_by;
  Position key_by_pos;
  std::vector<AggregateCallSpec> aggregates;
  Position aggregates_pos;
  // Sources: event time. Aggregates: a window.
  WatermarkDef watermark;
  WindowDef window;
  // Join (its `on` columns are `key_by`).
  JoinDef join;
  // CEP pattern (on the key_by stream).
  PatternDef pattern;
  // User operator: its registered name and options (its output schema is `schema`).
  Located registered_name;
  std::vector<OptionEntry> user_options;
};

struct LogicalPlan {
  // Where the plan came from, for error messages: the spec file name, or empty for the
  // JobBuilder (errors then name the node instead of a position).
  std::string file_name;
  // Relative file connector paths resolve against this (the current directory when empty).
  std::string base_dir;

  Located name;
  int parallelism = 1;
  Position parallelism_pos;
  bool parallelism_from_flag = false;  // set by SpecOptions::parallelism_override
  int max_parallelism = 128;
  Position max_parallelism_pos;
  // Restart strategy; empty `restart_strategy` and no options: none.
  Located restart_strategy;
  Position restart_pos;
  std::vector<OptionEntry> restart_options;
  // Job-level settings copied into JobGraph.config ("checkpointing.interval", "state.backend",
  // "buffer_timeout", ...); validated against JobConfigKeys() (job_settings.h).
  std::vector<OptionEntry> config;

  std::vector<LogicalNode> nodes;  // in declaration order
};

// An InvalidArgument error of a job: "<file>:<line>:<column>: <message>" when the position is
// known, "<file>: <message>" when only the file is, and for the JobBuilder "node '<node>':
// <message>" (or "job '<job>': <message>" when `node` is empty).
absl::Status SpecError(const LogicalPlan& plan, Position pos, absl::string_view node,
                       absl::string_view message);
// The same for a spec file before a plan exists.
absl::Status SpecError(absl::string_view file_name, Position pos, absl::string_view message);

}  // namespace sluice::jobgraph
