#include "common/jobgraph/planner.h"

#include <algorithm>
#include <filesystem>
#include <regex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/duration.h"
#include "common/expr/expr.h"
#include "common/jobgraph/job_settings.h"
#include "common/suggest.h"
#include "common/status_macros.h"
#include "common/types/format.h"
#include "common/types/timestamp.h"

namespace sluice::jobgraph {
namespace {

using types::Schema;
using types::TypeId;

constexpr int kMaxMaxParallelism = 32768;
// How often a Kafka source re-reads metadata for new partitions and topics by default.
constexpr int64_t kDefaultKafkaDiscoveryIntervalMs = 30'000;

bool IsValidNodeName(absl::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && c != '_' && c != '-' && c != '.') return false;
  }
  return true;
}

// Adds `where` ("in filter") to an expression error message, before a final hint in
// parentheses: "unknown column 'amout' in filter (did you mean 'amount'?)".
std::string WithContext(absl::string_view message, absl::string_view where) {
  if (!message.empty() && message.back() == ')') {
    int depth = 0;
    for (size_t i = message.size(); i-- > 0;) {
      if (message[i] == ')') ++depth;
      if (message[i] == '(' && --depth == 0) {
        if (i > 0 && message[i - 1] == ' ') {
          return absl::StrCat(message.substr(0, i - 1), " ", where, message.substr(i - 1));
        }
        break;
      }
    }
  }
  return absl::StrCat(message, " ", where);
}

bool IsNumeric(TypeId t) { return t == TypeId::kInt64 || t == TypeId::kFloat64; }

class Planner {
 public:
  explicit Planner(const LogicalPlan& plan)
      : plan_(WithLateOutputs(plan)), n_(plan_.nodes.size()) {}

  absl::StatusOr<proto::JobGraph> Run() {
    proto::JobGraph graph;
    RETURN_IF_ERROR(CheckJob());
    graph.set_name(plan_.name.text);
    graph.set_max_parallelism(plan_.max_parallelism);
    ASSIGN_OR_RETURN(*graph.mutable_restart(), PlanRestartStrategy(plan_));
    RETURN_IF_ERROR(PlanJobConfig(plan_, graph.mutable_config()));
    RETURN_IF_ERROR(CheckNames());
    RETURN_IF_ERROR(ResolveInputs());
    RETURN_IF_ERROR(SortNodes());
    output_.resize(n_);
    time_column_.resize(n_);
    specs_.resize(n_);
    parallelism_.resize(n_);
    for (int i : order_) RETURN_IF_ERROR(PlanNode(i));
    RETURN_IF_ERROR(CheckOutputsUsed());
    BuildVertices(&graph);
    return graph;
  }

 private:
  // The plan and a kLateOutput node reading each window that has `late_output: NAME`: a
  // stream named NAME that later nodes take as input like any other.
  static LogicalPlan WithLateOutputs(LogicalPlan plan) {
    const size_t declared = plan.nodes.size();
    for (size_t i = 0; i < declared; ++i) {
      if (plan.nodes[i].op != NodeOp::kAggregate || plan.nodes[i].window.late_output.empty()) {
        continue;
      }
      LogicalNode late;
      late.op = NodeOp::kLateOutput;
      late.name = plan.nodes[i].window.late_output;
      late.pos = late.name.pos;
      late.inputs.push_back(plan.nodes[i].name);
      plan.nodes.push_back(std::move(late));
    }
    return plan;
  }

  bool IsLateOutput(int i) const { return plan_.nodes[i].op == NodeOp::kLateOutput; }
  // Consumers of node i's main output (not of its late output).
  int MainConsumers(int i) const {
    return static_cast<int>(std::count_if(consumers_[i].begin(), consumers_[i].end(),
                                          [this](int c) { return !IsLateOutput(c); }));
  }

  absl::Status Error(Position pos, absl::string_view message) const {
    return SpecError(plan_, pos, "", message);
  }
  absl::Status Error(const LogicalNode& node, Position pos, absl::string_view message) const {
    return SpecError(plan_, pos.known() ? pos : node.pos, node.name.text, message);
  }
  // "operator 'big'", "source 'txns'".
  static std::string Describe(const LogicalNode& node) {
    return absl::StrCat(NodeRole(node.op), " '", node.name.text, "'");
  }

  absl::Status CheckJob() {
    if (plan_.name.text.empty()) return Error(plan_.name.pos, "the job needs a name");
    if (plan_.max_parallelism < 1 || plan_.max_parallelism > kMaxMaxParallelism) {
      return Error(plan_.max_parallelism_pos,
                   absl::StrCat("max_parallelism must be between 1 and ", kMaxMaxParallelism,
                                ", got ", plan_.max_parallelism));
    }
    const std::string what = plan_.parallelism_from_flag ? "--parallelism" : "parallelism";
    if (plan_.parallelism < 1) {
      return Error(plan_.parallelism_pos,
                   absl::StrCat(what, " must be at least 1, got ", plan_.parallelism));
    }
    if (plan_.parallelism > plan_.max_parallelism) {
      return Error(plan_.parallelism_pos,
                   absl::StrCat(what, " ", plan_.parallelism, " is larger than max_parallelism ",
                                plan_.max_parallelism));
    }
    return absl::OkStatus();
  }

  absl::Status CheckNames() {
    bool has_source = false, has_sink = false;
    for (size_t i = 0; i < n_; ++i) {
      const LogicalNode& node = plan_.nodes[i];
      has_source |= IsSource(node.op);
      has_sink |= IsSink(node.op);
      if (!IsValidNodeName(node.name.text)) {
        return Error(node, node.name.pos,
                     node.name.text.empty()
                         ? absl::StrCat("a ", NodeRole(node.op), " needs a name")
                         : absl::StrCat("name '", node.name.text,
                                        "' may contain only letters, digits, '_', '-' and '.'"));
      }
      auto [it, inserted] = index_.emplace(node.name.text, static_cast<int>(i));
      if (!inserted) {
        const LogicalNode& first = plan_.nodes[it->second];
        std::string where = first.pos.known() ? absl::StrCat(" (line ", first.pos.line, ")") : "";
        return Error(node, node.name.pos,
                     absl::StrCat("duplicate name '", node.name.text, "': already used by ",
                                  Describe(first), where));
      }
      const int p = node.parallelism;
      if (p < 0 || p > plan_.max_parallelism) {
        return Error(node, node.parallelism_pos,
                     absl::StrCat("parallelism of ", Describe(node), " must be between 1 and ",
                                  "max_parallelism ", plan_.max_parallelism, ", got ", p));
      }
    }
    if (!has_source) return Error(plan_.name.pos, "the job has no sources");
    if (!has_sink) return Error(plan_.name.pos, "the job has no sinks");
    return absl::OkStatus();
  }

  absl::Status ResolveInputs() {
    std::vector<std::string> names;
    for (const LogicalNode& node : plan_.nodes) names.push_back(node.name.text);
    inputs_.resize(n_);
    consumers_.resize(n_);
    for (size_t i = 0; i < n_; ++i) {
      const LogicalNode& node = plan_.nodes[i];
      if (IsSource(node.op)) continue;  // front ends give sources no inputs
      if (node.inputs.empty()) {
        return Error(node, node.pos, absl::StrCat(Describe(node), " needs an input"));
      }
      for (const Located& input : node.inputs) {
        auto it = index_.find(input.text);
        if (it == index_.end()) {
          return Error(node, input.pos,
                       absl::StrCat("unknown input '", input.text, "'", DidYouMean(input.text, names)));
        }
        const LogicalNode& from = plan_.nodes[it->second];
        if (IsSink(from.op)) {
          return Error(node, input.pos,
                       absl::StrCat("input '", input.text, "' is a sink; sinks have no output"));
        }
        if (std::find(inputs_[i].begin(), inputs_[i].end(), it->second) != inputs_[i].end()) {
          return Error(node, input.pos, absl::StrCat("input '", input.text, "' is listed twice"));
        }
        inputs_[i].push_back(it->second);
        consumers_[it->second].push_back(static_cast<int>(i));
      }
      if (node.op == NodeOp::kUnion) {
        if (node.inputs.size() < 2) {
          return Error(node, node.inputs[0].pos,
                       absl::StrCat("union '", node.name.text, "' needs at least two inputs"));
        }
      } else if (node.op == NodeOp::kJoin) {
        if (node.inputs.size() != 2) {
          return Error(node, node.inputs.size() < 2 ? node.inputs[0].pos : node.inputs[2].pos,
                       absl::StrCat("join '", node.name.text,
                                    "' takes two inputs: inputs: [left, right]"));
        }
      } else if (node.inputs.size() != 1) {
        return Error(node, node.inputs[1].pos,
                     absl::StrCat(Describe(node),
                                  " takes one input (use a union to merge several)"));
      }
    }
    return absl::OkStatus();
  }

  // Kahn's algorithm; ready nodes are taken sources first, then operators, then sinks, each in
  // declaration order, so both front ends give the same order for the same job.
  absl::Status SortNodes() {
    auto rank = [&](int i) {
      const NodeOp op = plan_.nodes[i].op;
      return std::make_pair(IsSource(op) ? 0 : IsSink(op) ? 2 : 1, i);
    };
    std::vector<size_t> pending(n_);
    std::set<std::pair<int, int>> ready;
    for (size_t i = 0; i < n_; ++i) {
      pending[i] = inputs_[i].size();
      if (pending[i] == 0) ready.insert(rank(static_cast<int>(i)));
    }
    while (!ready.empty()) {
      const int i = ready.begin()->second;
      ready.erase(ready.begin());
      order_.push_back(i);
      for (int c : consumers_[i]) {
        if (--pending[c] == 0) ready.insert(rank(c));
      }
    }
    if (order_.size() == n_) return absl::OkStatus();

    // A cycle: walk upstream through unsorted nodes until one repeats.
    std::vector<int> path;
    std::vector<int> seen_at(n_, -1);
    int at = 0;
    while (pending[at] == 0) ++at;
    while (seen_at[at] < 0) {
      seen_at[at] = static_cast<int>(path.size());
      path.push_back(at);
      for (int in : inputs_[at]) {
        if (pending[in] > 0) {
          at = in;
          break;
        }
      }
    }
    // path[seen_at[at]..] walks against the data flow; reverse it and start at the node
    // declared first.
    std::vector<int> cycle(path.begin() + seen_at[at], path.end());
    std::reverse(cycle.begin(), cycle.end());
    std::rotate(cycle.begin(), std::min_element(cycle.begin(), cycle.end()), cycle.end());
    std::vector<std::string> names;
    for (int i : cycle) names.push_back(plan_.nodes[i].name.text);
    names.push_back(names.front());
    // Point at the reference that closes the cycle: the first node's input naming the last.
    const LogicalNode& first = plan_.nodes[cycle.front()];
    Position pos = first.pos;
    for (const Located& input : first.inputs) {
      if (input.text == plan_.nodes[cycle.back()].name.text) pos = input.pos;
    }
    return Error(first, pos, absl::StrCat("cycle: ", absl::StrJoin(names, " -> ")));
  }

  static Schema SchemaOf(const std::vector<SchemaColumn>& columns) {
    std::vector<types::Field> fields;
    for (const SchemaColumn& c : columns) fields.push_back({c.name.text, c.type});
    return Schema(std::move(fields));
  }

  absl::StatusOr<Schema> CheckSchema(const LogicalNode& node) const {
    if (node.schema.empty()) {
      return Error(node, node.schema_pos,
                   absl::StrCat(Describe(node), " needs a schema (a map of column: type)"));
    }
    absl::flat_hash_set<std::string> names;
    for (const SchemaColumn& c : node.schema) {
      if (c.name.text.empty()) return Error(node, c.name.pos, "a schema column needs a name");
      if (!names.insert(c.name.text).second) {
        return Error(node, c.name.pos,
                     absl::StrCat("column '", c.name.text, "' appears twice in the schema"));
      }
    }
    return SchemaOf(node.schema);
  }

  // Compiles `expr` against `schema` for its type; errors point inside the expression.
  absl::StatusOr<TypeId> TypeOf(const LogicalNode& node, const Located& expr, const Schema& schema,
                                absl::string_view where) const {
    expr::CompileError error;
    absl::StatusOr<std::unique_ptr<expr::CompiledExpr>> compiled =
        expr::Compile(expr.text, schema, &error);
    if (!compiled.ok()) {
      return Error(node, expr.At(error.offset),
                   WithContext(compiled.status().message(), where));
    }
    return (*compiled)->result_type();
  }

  std::string ResolvePath(const std::string& path) const {
    std::filesystem::path p(path);
    if (p.is_relative()) {
      std::filesystem::path base = plan_.base_dir.empty() ? std::filesystem::current_path()
                                                          : std::filesystem::path(plan_.base_dir);
      p = std::filesystem::absolute(base) / p;
    }
    return p.lexically_normal().string();
  }

  absl::StatusOr<proto::FormatSpec> PlanFormat(const LogicalNode& node) const {
    proto::FormatSpec format;
    const std::string& name = node.format.text;
    const bool kafka = node.op == NodeOp::kKafkaSource || node.op == NodeOp::kKafkaSink;
    const std::string names = kafka ? absl::StrJoin(types::FormatNames(), ", ") : "json or csv";
    if (name.empty()) {
      return Error(node, node.pos, absl::StrCat(Describe(node), " needs a format (", names, ")"));
    }
    if (!absl::c_linear_search(types::FormatNames(), name)) {
      std::string hint = DidYouMean(name, types::FormatNames());
      if (hint.empty()) hint = absl::StrCat(" (use ", names, ")");
      return Error(node, node.format.pos, absl::StrCat("unknown format '", name, "'", hint));
    }
    if (!kafka) {
      types::FormatOptions options;
      options.name = name;
      if (absl::Status s = types::CheckLineFormat(options, "file"); !s.ok()) {
        return Error(node, node.format.pos, s.message());
      }
    }
    format.set_name(name);
    for (const OptionEntry& option : node.format_options) {
      if (format.options().contains(option.key.text)) {
        return Error(node, option.key.pos,
                     absl::StrCat("format option '", option.key.text, "' is set twice"));
      }
      // Each option alone, so an error points at the option at fault.
      proto::FormatSpec one;
      one.set_name(name);
      (*one.mutable_options())[option.key.text] = option.value.text;
      absl::StatusOr<types::FormatOptions> parsed = types::ParseFormatOptions(one);
      if (!parsed.ok()) return Error(node, option.key.pos, parsed.status().message());
      // Files a format reads (schema_file, proto_file) are relative to the job spec.
      (*format.mutable_options())[option.key.text] = absl::EndsWith(option.key.text, "_file")
                                                         ? ResolvePath(option.value.text)
                                                         : option.value.text;
    }
    if (kafka && !node.kafka.registry.empty()) {
      if (!types::UsesSchemaRegistry(name)) {
        return Error(node, node.kafka.registry.pos,
                     absl::StrCat("registry: applies to format ",
                                  types::SchemaRegistryFormatNames(), ", not ", name));
      }
      if (format.options().contains("registry")) {
        return Error(node, node.kafka.registry.pos,
                     "the registry is given twice (registry: and format_options: registry)");
      }
      (*format.mutable_options())["registry"] = node.kafka.registry.text;
    }
    return format;
  }

  absl::Status PlanFileSource(const LogicalNode& node, proto::OperatorSpec* spec) {
    proto::FileSourceSpec* file = spec->mutable_file_source();
    if (node.path.text.empty()) {
      return Error(node, node.path.pos, absl::StrCat(Describe(node), " needs a path"));
    }
    file->set_path(ResolvePath(node.path.text));
    ASSIGN_OR_RETURN(*file->mutable_format(), PlanFormat(node));
    proto::DeadLetterSpec dead_letter;
    ASSIGN_OR_RETURN(*file->mutable_on_error(), PlanOnError(node, &dead_letter));
    if (file->on_error() == "dead_letter") *file->mutable_dead_letter() = std::move(dead_letter);
    return absl::OkStatus();
  }

  // A source's on_error: fail (the default) | skip | dead_letter, and its dead_letter.
  absl::StatusOr<std::string> PlanOnError(const LogicalNode& node,
                                          proto::DeadLetterSpec* dead_letter) const {
    const std::string on_error = node.on_error.empty() ? "fail" : node.on_error.text;
    if (on_error != "fail" && on_error != "skip" && on_error != "dead_letter") {
      std::string hint = DidYouMean(on_error, {"fail", "skip", "dead_letter"});
      if (hint.empty()) hint = " (use fail, skip or dead_letter)";
      return Error(node, node.on_error.pos,
                   absl::StrCat("unknown on_error '", on_error, "'", hint));
    }
    const DeadLetterDef& d = node.dead_letter;
    if (on_error != "dead_letter") {
      if (d.present) {
        return Error(node, d.pos, "dead_letter: is used by on_error: dead_letter only");
      }
      return on_error;
    }
    if (!d.present) {
      return Error(node, node.on_error.pos,
                   "on_error: dead_letter needs dead_letter: {topic: name} or {path: directory}");
    }
    if (d.topic.empty() == d.path.empty()) {
      return Error(node, d.pos, "dead_letter needs either topic: or path: (one of them)");
    }
    if (!d.path.empty()) {
      if (!d.bootstrap.empty() || !d.properties.empty()) {
        return Error(node, d.pos, "dead_letter: bootstrap and properties apply to a topic");
      }
      dead_letter->set_path(ResolvePath(d.path.text));
      return on_error;
    }
    dead_letter->set_topic(d.topic.text);
    dead_letter->set_bootstrap(d.bootstrap.text);
    for (const OptionEntry& p : d.properties) {
      (*dead_letter->mutable_properties())[p.key.text] = p.value.text;
    }
    return on_error;
  }

  absl::Status PlanKafkaSource(const LogicalNode& node, proto::OperatorSpec* spec) const {
    const KafkaDef& k = node.kafka;
    proto::KafkaSourceSpec* kafka = spec->mutable_kafka_source();
    if (k.topics.empty() && k.topic_pattern.empty()) {
      return Error(node, node.pos,
                   absl::StrCat(Describe(node), " needs a topic (or topics: [...], or topic_pattern)"));
    }
    if (!k.topics.empty() && !k.topic_pattern.empty()) {
      return Error(node, k.topic_pattern.pos, "use either topic(s) or topic_pattern, not both");
    }
    for (const Located& topic : k.topics) {
      if (topic.text.empty()) return Error(node, topic.pos, "a topic name cannot be empty");
      if (std::find(kafka->topics().begin(), kafka->topics().end(), topic.text) !=
          kafka->topics().end()) {
        return Error(node, topic.pos, absl::StrCat("topic '", topic.text, "' is listed twice"));
      }
      kafka->add_topics(topic.text);
    }
    if (!k.topic_pattern.empty()) {
      try {
        std::regex check(k.topic_pattern.text);
      } catch (const std::regex_error& e) {
        return Error(node, k.topic_pattern.pos,
                     absl::StrCat("topic_pattern '", k.topic_pattern.text,
                                  "' is not a valid regular expression: ", e.what()));
      }
      kafka->set_topic_pattern(k.topic_pattern.text);
    }
    kafka->set_bootstrap(k.bootstrap.text);
    kafka->set_group(k.group.text);
    const std::string& start = k.start.text;
    if (start.empty() || start == "earliest" || start == "latest") {
      kafka->set_start(start.empty() ? "earliest" : start);
    } else if (start == "group") {
      if (k.group.empty()) {
        return Error(node, k.start.pos, "start: group needs a group (whose committed offsets to start from)");
      }
      kafka->set_start(start);
    } else if (absl::ascii_isdigit(start[0])) {
      absl::StatusOr<int64_t> us = types::ParseTimestamp(start);
      if (!us.ok()) {
        return Error(node, k.start.pos,
                     absl::StrCat("start must be earliest, latest, group or an RFC 3339 timestamp, "
                                  "got '", start, "' (", us.status().message(), ")"));
      }
      kafka->set_start("timestamp");
      kafka->set_start_timestamp_ms(*us / 1000);
    } else {
      std::string hint = DidYouMean(start, {"earliest", "latest", "group"});
      if (hint.empty()) hint = " (use earliest, latest, group or an RFC 3339 timestamp)";
      return Error(node, k.start.pos, absl::StrCat("unknown start '", start, "'", hint));
    }
    ASSIGN_OR_RETURN(*kafka->mutable_format(), PlanFormat(node));
    proto::DeadLetterSpec dead_letter;
    ASSIGN_OR_RETURN(*kafka->mutable_on_error(), PlanOnError(node, &dead_letter));
    if (kafka->on_error() == "dead_letter") *kafka->mutable_dead_letter() = std::move(dead_letter);
    for (const OptionEntry& p : k.properties) {
      if (p.key.text == "bootstrap.servers" || p.key.text == "group.id") {
        return Error(node, p.key.pos,
                     absl::StrCat("set ", p.key.text == "group.id" ? "group" : "bootstrap",
                                  ": on the source instead of properties: ", p.key.text));
      }
      if (p.key.text == "enable.auto.commit" || p.key.text == "enable.auto.offset.store") {
        return Error(node, p.key.pos,
                     absl::StrCat("properties: ", p.key.text, " is managed by Sluice (offsets "
                                  "are checkpointed and committed on checkpoint completion)"));
      }
      (*kafka->mutable_properties())[p.key.text] = p.value.text;
    }
    ASSIGN_OR_RETURN(int64_t discovery_us,
                     DurationMicros(node, k.discovery_interval, "discovery_interval", false,
                                    kDefaultKafkaDiscoveryIntervalMs * 1000));
    kafka->set_discovery_interval_ms(discovery_us / 1000);
    if (!k.stop_at.empty() && k.stop_at.text != "latest") {
      return Error(node, k.stop_at.pos,
                   absl::StrCat("stop_at must be latest (leave it out for an unbounded source), "
                                "got '", k.stop_at.text, "'"));
    }
    kafka->set_stop_at(k.stop_at.text);
    return absl::OkStatus();
  }

  absl::Status PlanKafkaSink(const LogicalNode& node, const Schema& in,
                             proto::OperatorSpec* spec) const {
    const KafkaDef& k = node.kafka;
    proto::KafkaSinkSpec* kafka = spec->mutable_kafka_sink();
    if (k.topics.size() != 1 || k.topics[0].text.empty()) {
      return Error(node, k.topics.empty() ? node.pos : k.topics[0].pos,
                   absl::StrCat(Describe(node), " needs a topic"));
    }
    kafka->set_topic(k.topics[0].text);
    kafka->set_bootstrap(k.bootstrap.text);
    ASSIGN_OR_RETURN(*kafka->mutable_format(), PlanFormat(node));
    std::vector<std::string> columns;
    for (const types::Field& f : in.fields()) columns.push_back(f.name);
    for (const Located& key : k.key) {
      if (!in.IndexOf(key.text)) {
        return Error(node, key.pos, absl::StrCat("unknown key column '", key.text, "'",
                                                 DidYouMean(key.text, columns)));
      }
      kafka->add_key_columns(key.text);
    }
    const std::string delivery = k.delivery.empty() ? "at_least_once" : k.delivery.text;
    if (delivery != "none" && delivery != "at_least_once" && delivery != "exactly_once") {
      std::string hint = DidYouMean(delivery, {"none", "at_least_once", "exactly_once"});
      if (hint.empty()) hint = " (use none, at_least_once or exactly_once)";
      return Error(node, k.delivery.pos, absl::StrCat("unknown delivery '", delivery, "'", hint));
    }
    if (delivery == "exactly_once") {
      const bool checkpointing =
          std::any_of(plan_.config.begin(), plan_.config.end(), [](const OptionEntry& e) {
            return e.key.text == "checkpointing.interval";
          });
      if (!checkpointing) {
        return Error(node, k.delivery.pos,
                     "delivery: exactly_once commits a Kafka transaction per checkpoint: the job "
                     "needs checkpointing: {interval: ...}");
      }
    }
    kafka->set_delivery(delivery);
    kafka->set_transactional_id_prefix(
        k.transactional_id_prefix.empty() ? absl::StrCat(plan_.name.text, "-", node.name.text)
                                          : k.transactional_id_prefix.text);
    for (const OptionEntry& p : k.properties) {
      if (p.key.text == "bootstrap.servers" || p.key.text == "transactional.id") {
        return Error(node, p.key.pos,
                     absl::StrCat("set ", p.key.text == "transactional.id" ? "transactional_id_prefix"
                                                                            : "bootstrap",
                                  ": on the sink instead of properties: ", p.key.text));
      }
      (*kafka->mutable_properties())[p.key.text] = p.value.text;
    }
    return absl::OkStatus();
  }

  absl::Status CheckChoiceValue(const LogicalNode& node, const DatagenField& field, TypeId type,
                                const Located& value) const {
    bool ok = true;
    switch (type) {
      case TypeId::kInt64: {
        int64_t v;
        ok = absl::SimpleAtoi(value.text, &v);
        break;
      }
      case TypeId::kFloat64: {
        double v;
        ok = absl::SimpleAtod(value.text, &v);
        break;
      }
      case TypeId::kBool:
        ok = value.text == "true" || value.text == "false";
        break;
      case TypeId::kTimestamp:
        ok = types::ParseTimestamp(value.text).ok();
        break;
      case TypeId::kString:
      case TypeId::kBytes:
        break;
    }
    if (ok) return absl::OkStatus();
    return Error(node, value.pos,
                 absl::StrCat("value '", value.text, "' of column '", field.column.text,
                              "' is not a valid ", types::TypeName(type)));
  }

  absl::Status PlanDatagen(const LogicalNode& node, const Schema& schema,
                           proto::OperatorSpec* spec) {
    proto::DatagenSourceSpec* gen = spec->mutable_datagen_source();
    if (node.count.has_value() && *node.count < 0) {
      return Error(node, node.count_pos,
                   absl::StrCat("count must be >= 0 (leave it out for an unbounded source), got ",
                                *node.count));
    }
    gen->set_count(node.count.value_or(-1));
    if (!(node.rows_per_second >= 0)) {
      return Error(node, node.rows_per_second_pos,
                   absl::StrCat("rows_per_second must be >= 0 (0: as fast as possible), got ",
                                node.rows_per_second));
    }
    gen->set_rows_per_second(node.rows_per_second);
    gen->set_seed(node.seed);
    std::vector<std::string> columns;
    for (const types::Field& f : schema.fields()) columns.push_back(f.name);
    for (const DatagenField& field : node.fields) {
      std::optional<int> index = schema.IndexOf(field.column.text);
      if (!index.has_value()) {
        return Error(node, field.column.pos,
                     absl::StrCat("fields: unknown column '", field.column.text, "'",
                                  DidYouMean(field.column.text, columns)));
      }
      if (gen->fields().contains(field.column.text)) {
        return Error(node, field.column.pos,
                     absl::StrCat("fields: column '", field.column.text, "' is set twice"));
      }
      const std::string& kind = field.kind.text;
      if (kind != "sequence" && kind != "random" && kind != "choice") {
        std::string hint = DidYouMean(kind, {"sequence", "random", "choice"});
        if (hint.empty()) hint = " (use sequence, random or choice)";
        return Error(node, field.kind.pos.known() ? field.kind.pos : field.column.pos,
                     kind.empty() ? absl::StrCat("fields: column '", field.column.text,
                                                 "' needs a kind (sequence, random or choice)")
                                  : absl::StrCat("unknown datagen kind '", kind, "'", hint));
      }
      proto::DatagenFieldSpec out;
      out.set_kind(kind);
      if (kind == "choice") {
        if (field.values.empty()) {
          return Error(node, field.kind.pos,
                       absl::StrCat("fields: column '", field.column.text,
                                    "': kind choice needs values: [...]"));
        }
        if (field.min.has_value() || field.max.has_value()) {
          return Error(node, field.kind.pos,
                       absl::StrCat("fields: column '", field.column.text,
                                    "': kind choice takes values, not min/max"));
        }
        for (const Located& v : field.values) {
          RETURN_IF_ERROR(CheckChoiceValue(node, field, schema.field(*index).type, v));
          out.add_values(v.text);
        }
      } else {
        if (!field.values.empty()) {
          return Error(node, field.values[0].pos,
                       absl::StrCat("fields: column '", field.column.text, "': kind ", kind,
                                    " takes min/max, not values (values are for kind choice)"));
        }
        if (field.min.has_value() && field.max.has_value() && *field.min > *field.max) {
          return Error(node, field.kind.pos,
                       absl::StrCat("fields: column '", field.column.text, "': min (", *field.min,
                                    ") is larger than max (", *field.max, ")"));
        }
      }
      if (field.min.has_value()) {
        out.set_min(*field.min);
        out.set_has_min(true);
      }
      if (field.max.has_value()) {
        out.set_max(*field.max);
        out.set_has_max(true);
      }
      (*gen->mutable_fields())[field.column.text] = std::move(out);
    }
    return absl::OkStatus();
  }

  absl::StatusOr<Schema> PlanSelect(const LogicalNode& node, const Schema& in,
                                    proto::OperatorSpec* spec) const {
    if (node.select.empty()) {
      return Error(node, node.select_pos, "select needs at least one column");
    }
    std::vector<types::Field> fields;
    absl::flat_hash_set<std::string> names;
    for (const NamedExpression& column : node.select) {
      if (column.name.text.empty()) return Error(node, column.name.pos, "a select column needs a name");
      if (!names.insert(column.name.text).second) {
        return Error(node, column.name.pos,
                     absl::StrCat("select column '", column.name.text, "' appears twice"));
      }
      if (column.expr.text.empty()) {
        return Error(node, column.name.pos,
                     absl::StrCat("select column '", column.name.text, "' needs an expression"));
      }
      ASSIGN_OR_RETURN(TypeId type,
                       TypeOf(node, column.expr, in,
                              absl::StrCat("in select column '", column.name.text, "'")));
      fields.push_back({column.name.text, type});
      proto::NamedExpr* out = spec->mutable_select()->add_columns();
      out->set_name(column.name.text);
      out->set_expr(column.expr.text);
    }
    return Schema(std::move(fields));
  }

  // A duration of the spec in µs; `what` names it in errors. Empty text: `absent`.
  absl::StatusOr<int64_t> DurationMicros(const LogicalNode& node, const Located& text,
                                         absl::string_view what, bool positive,
                                         int64_t absent = 0) const {
    if (text.empty()) return absent;
    absl::StatusOr<int64_t> ms = ParseDurationMillis(text.text);
    if (!ms.ok()) {
      return Error(node, text.pos, absl::StrCat(what, ": ", ms.status().message()));
    }
    if (*ms < 0 || (positive && *ms == 0)) {
      return Error(node, text.pos, absl::StrCat(what, " must be ", positive ? "> 0" : ">= 0",
                                                ", got '", text.text, "'"));
    }
    return *ms * 1000;
  }

  absl::Status PlanWatermark(const LogicalNode& node, const Schema& schema,
                             proto::OperatorSpec* spec, int i) {
    const WatermarkDef& w = node.watermark;
    if (!w.present) return absl::OkStatus();
    std::optional<int> index = schema.IndexOf(w.column.text);
    if (!index) {
      std::vector<std::string> columns;
      for (const types::Field& f : schema.fields()) columns.push_back(f.name);
      return Error(node, w.column.pos,
                   absl::StrCat("unknown watermark column '", w.column.text, "'",
                                DidYouMean(w.column.text, columns)));
    }
    if (schema.field(*index).type != TypeId::kTimestamp) {
      return Error(node, w.column.pos,
                   absl::StrCat("watermark column '", w.column.text, "' is ",
                                types::TypeName(schema.field(*index).type),
                                ", but event time needs a timestamp column"));
    }
    proto::WatermarkSpec* out = spec->mutable_watermark();
    out->set_column(w.column.text);
    ASSIGN_OR_RETURN(int64_t delay, DurationMicros(node, w.max_delay, "max_delay", false));
    ASSIGN_OR_RETURN(int64_t idle, DurationMicros(node, w.idle_timeout, "idle_timeout", true));
    out->set_max_delay_us(delay);
    out->set_idle_timeout_ms(idle / 1000);
    time_column_[i] = w.column.text;
    return absl::OkStatus();
  }

  // A window's kind and bounds (size and slide, or gap) into `out`.
  absl::Status PlanWindowShape(const LogicalNode& node, proto::WindowSpec* out) const {
    const WindowDef& w = node.window;
    out->set_kind(w.kind.text);
    const std::string what = absl::StrCat(w.kind.text, " window ", w.kind.text == "session" ? "gap" : "size");
    ASSIGN_OR_RETURN(int64_t size, DurationMicros(node, w.size, what, true));
    if (w.kind.text == "session") {
      out->set_gap_us(size);
      return absl::OkStatus();
    }
    out->set_size_us(size);
    out->set_slide_us(size);
    if (w.kind.text == "slide") {
      ASSIGN_OR_RETURN(int64_t every, DurationMicros(node, w.every, "every", true));
      if (every > size) {
        return Error(node, w.every.pos,
                     absl::StrCat("every (", w.every.text, ") is longer than the window (",
                                  w.size.text, "): records between windows would be lost"));
      }
      out->set_slide_us(every);
    }
    return absl::OkStatus();
  }

  // The window of an aggregate: spec->aggregate().window and the time column.
  absl::Status PlanWindow(const LogicalNode& node, const Schema& in, int i,
                          proto::AggregateSpec* agg) const {
    const WindowDef& w = node.window;
    if (node.key_by.empty()) {
      return Error(node, w.pos, "a window needs a keyed stream: add key_by: [columns]");
    }
    proto::WindowSpec* out = agg->mutable_window();
    RETURN_IF_ERROR(PlanWindowShape(node, out));
    ASSIGN_OR_RETURN(int64_t lateness,
                     DurationMicros(node, w.allowed_lateness, "allowed_lateness", false));
    out->set_allowed_lateness_us(lateness);
    std::string column = w.on.text;
    if (column.empty()) {
      column = time_column_[inputs_[i][0]];
      if (column.empty()) {
        return Error(node, w.pos,
                     "the window needs event time: give the source a watermark: {column: ...} "
                     "(or name a timestamp column with window: {on: column})");
      }
    }
    std::optional<int> index = in.IndexOf(column);
    if (!index || in.field(*index).type != TypeId::kTimestamp) {
      return Error(node, w.on.empty() ? w.pos : w.on.pos,
                   absl::StrCat("window time column '", column, "' ",
                                index ? absl::StrCat("is ", types::TypeName(in.field(*index).type),
                                                     ", not a timestamp")
                                      : "does not exist"));
    }
    out->set_time_column(column);
    return absl::OkStatus();
  }

  absl::StatusOr<Schema> PlanAggregate(const LogicalNode& node, const Schema& in, int i,
                                       proto::OperatorSpec* spec) const {
    proto::AggregateSpec* agg = spec->mutable_aggregate();
    if (node.window.present) RETURN_IF_ERROR(PlanWindow(node, in, i, agg));
    if (node.key_by.empty()) {
      return Error(node, node.aggregates_pos,
                   "aggregate needs key_by: [columns] (a running aggregate per key)");
    }
    std::vector<std::string> columns;
    for (const types::Field& f : in.fields()) columns.push_back(f.name);
    std::vector<types::Field> fields;
    absl::flat_hash_set<std::string> names;
    for (const Located& key : node.key_by) {
      std::optional<int> index = in.IndexOf(key.text);
      if (!index.has_value()) {
        return Error(node, key.pos,
                     absl::StrCat("unknown key column '", key.text, "'", DidYouMean(key.text, columns)));
      }
      if (!names.insert(key.text).second) {
        return Error(node, key.pos, absl::StrCat("key column '", key.text, "' is listed twice"));
      }
      fields.push_back(in.field(*index));
      agg->add_key_columns(key.text);
    }
    if (node.window.present) {
      for (const char* column : {"window_start", "window_end"}) {
        names.insert(column);
        fields.push_back({column, TypeId::kTimestamp});
      }
    }
    if (node.aggregates.empty()) {
      return Error(node, node.aggregates_pos, "aggregate needs at least one output column");
    }
    for (const AggregateCallSpec& call : node.aggregates) {
      const std::string& name = call.name.text;
      if (name.empty()) return Error(node, call.name.pos, "an aggregate column needs a name");
      if (!names.insert(name).second) {
        return Error(node, call.name.pos,
                     absl::StrCat("output column '", name, "' appears twice (key columns come first",
                                  node.window.present ? ", then window_start and window_end)" : ")"));
      }
      const std::string function = absl::AsciiStrToLower(call.function.text);
      static const std::vector<std::string> kFunctions = {
          "count", "sum", "min", "max", "avg", "first", "last", "count_distinct"};
      if (std::find(kFunctions.begin(), kFunctions.end(), function) == kFunctions.end()) {
        std::string hint = DidYouMean(function, kFunctions);
        if (hint.empty()) hint = " (use count, sum, min, max, avg, first, last or count_distinct)";
        return Error(node, call.function.pos,
                     absl::StrCat("unknown aggregate function '", call.function.text, "'", hint));
      }
      TypeId type = TypeId::kInt64;
      std::string argument = call.argument.text;
      if (function == "count") {
        if (!argument.empty() && argument != "*") {
          return Error(node, call.argument.pos,
                       absl::StrCat("count takes *: write count(*) for '", name, "'"));
        }
        argument.clear();
      } else {
        if (argument.empty()) {
          return Error(node, call.function.pos,
                       absl::StrCat(function, " needs an argument: ", function, "(expression)"));
        }
        ASSIGN_OR_RETURN(TypeId arg,
                         TypeOf(node, call.argument, in,
                                absl::StrCat("in ", function, "() of '", name, "'")));
        if ((function == "sum" || function == "avg") && !IsNumeric(arg)) {
          return Error(node, call.argument.pos,
                       absl::StrCat(function, "() needs a number, but '", argument, "' is ",
                                    types::TypeName(arg)));
        }
        if (function == "avg") {
          type = TypeId::kFloat64;
        } else if (function == "count_distinct") {
          type = TypeId::kInt64;
        } else if (function == "sum") {
          type = arg == TypeId::kFloat64 ? TypeId::kFloat64 : TypeId::kInt64;
        } else {
          type = arg;
        }
      }
      fields.push_back({name, type});
      proto::AggregateCall* out = agg->add_calls();
      out->set_name(name);
      out->set_function(function);
      out->set_argument(argument);
    }
    return Schema(std::move(fields));
  }

  // A signed duration ("-5m", "10m") in µs.
  absl::StatusOr<int64_t> SignedDurationMicros(const LogicalNode& node, const Located& text,
                                               absl::string_view what) const {
    const bool negative = !text.text.empty() && text.text[0] == '-';
    Located magnitude = negative ? text.Sub(1, text.text.size() - 1) : text;
    ASSIGN_OR_RETURN(int64_t us, DurationMicros(node, magnitude, what, false));
    return negative ? -us : us;
  }

  // A join (interval or window) of inputs_[i][0] (left) and inputs_[i][1] (right) on
  // node.key_by.
  absl::StatusOr<Schema> PlanJoin(const LogicalNode& node, int i, proto::OperatorSpec* spec) const {
    proto::JoinSpec* join = spec->mutable_join();
    const Schema& left = output_[inputs_[i][0]];
    const Schema& right = output_[inputs_[i][1]];
    const std::string& right_name = node.inputs[1].text;
    if (node.key_by.empty()) return Error(node, node.key_by_pos, "join needs at least one on: column");
    absl::flat_hash_set<std::string> keys;
    for (const Located& key : node.key_by) {
      for (const auto& [schema, input] : {std::pair<const Schema*, const Located*>{&left, &node.inputs[0]},
                                          {&right, &node.inputs[1]}}) {
        if (!schema->IndexOf(key.text)) {
          std::vector<std::string> columns;
          for (const types::Field& f : schema->fields()) columns.push_back(f.name);
          return Error(node, key.pos,
                       absl::StrCat("join column '", key.text, "' is not a column of '", input->text,
                                    "'", DidYouMean(key.text, columns)));
        }
      }
      const TypeId lt = left.field(*left.IndexOf(key.text)).type;
      const TypeId rt = right.field(*right.IndexOf(key.text)).type;
      if (lt != rt) {
        return Error(node, key.pos,
                     absl::StrCat("join column '", key.text, "' is ", types::TypeName(lt), " in '",
                                  node.inputs[0].text, "' but ", types::TypeName(rt), " in '",
                                  right_name, "'"));
      }
      if (!keys.insert(key.text).second) {
        return Error(node, key.pos, absl::StrCat("join column '", key.text, "' is listed twice"));
      }
      join->add_key_columns(key.text);
    }
    if (node.window.present) {
      RETURN_IF_ERROR(PlanJoinWindow(node, join));
    } else {
      RETURN_IF_ERROR(PlanJoinInterval(node, join));
    }
    for (int side = 0; side < 2; ++side) {
      const std::string& column = time_column_[inputs_[i][side]];
      if (column.empty()) {
        return Error(node, node.inputs[side].pos,
                     absl::StrCat("join input '", node.inputs[side].text,
                                  "' has no event time: give its source a watermark: {column: ...}"));
      }
      if (side == 0) join->set_left_time_column(column);
      else join->set_right_time_column(column);
    }
    *join->mutable_right_schema() = right.ToProto();
    // Output: the left columns, then the right ones that are not keys.
    std::vector<types::Field> fields = left.fields();
    absl::flat_hash_set<std::string> names;
    for (const types::Field& f : fields) names.insert(f.name);
    for (const types::Field& f : right.fields()) {
      if (keys.contains(f.name)) continue;
      std::string name = names.contains(f.name) ? absl::StrCat(right_name, "_", f.name) : f.name;
      if (!names.insert(name).second) {
        return Error(node, node.inputs[1].pos,
                     absl::StrCat("joined column '", name, "' would appear twice (rename a column "
                                  "with a select before the join)"));
      }
      fields.push_back({name, f.type});
    }
    return Schema(std::move(fields));
  }

  // A window join: tumble or slide windows, inner.
  absl::Status PlanJoinWindow(const LogicalNode& node, proto::JoinSpec* join) const {
    const JoinDef& j = node.join;
    const WindowDef& w = node.window;
    if (!j.within.empty() || !j.lower.empty() || !j.upper.empty()) {
      return Error(node, w.pos, "a join has either a window or within / lower + upper, not both");
    }
    if (w.kind.text == "session") {
      return Error(node, w.kind.pos, "a window join takes tumble or slide windows");
    }
    for (const Located* option : {&w.allowed_lateness, &w.on, &w.late_output}) {
      if (!option->empty()) {
        return Error(node, option->pos, "a window join takes no allowed_lateness, on or late_output");
      }
    }
    if (!j.type.empty() && j.type.text != "inner") {
      return Error(node, j.type.pos, "a window join is inner only");
    }
    join->set_type("inner");
    return PlanWindowShape(node, join->mutable_window());
  }

  // An interval join: bounds of right.time - left.time, and the join type.
  absl::Status PlanJoinInterval(const LogicalNode& node, proto::JoinSpec* join) const {
    const JoinDef& j = node.join;
    if (!j.within.empty() && (!j.lower.empty() || !j.upper.empty())) {
      return Error(node, j.within.pos, "use either within or lower + upper, not both");
    }
    int64_t lower = 0, upper = 0;
    if (!j.within.empty()) {
      ASSIGN_OR_RETURN(upper, DurationMicros(node, j.within, "within", false));
      lower = -upper;
    } else if (!j.lower.empty() && !j.upper.empty()) {
      ASSIGN_OR_RETURN(lower, SignedDurationMicros(node, j.lower, "lower"));
      ASSIGN_OR_RETURN(upper, SignedDurationMicros(node, j.upper, "upper"));
      if (lower > upper) {
        return Error(node, j.lower.pos,
                     absl::StrCat("lower (", j.lower.text, ") is after upper (", j.upper.text, ")"));
      }
    } else {
      return Error(node, j.pos,
                   "an interval join needs within: D (|right.time - left.time| <= D) or lower: D "
                   "and upper: D (bounds of right.time - left.time)");
    }
    join->set_lower_us(lower);
    join->set_upper_us(upper);
    const std::string type = j.type.empty() ? "inner" : j.type.text;
    if (type != "inner" && type != "left") {
      return Error(node, j.type.pos,
                   absl::StrCat("unknown join type '", type, "' (use inner or left)"));
    }
    join->set_type(type);
    return absl::OkStatus();
  }

  // A user C++ operator: its registered name, options (plus key_by, comma-separated, when
  // keyed) and the output schema the builder declared.
  absl::StatusOr<Schema> PlanUser(const LogicalNode& node, const Schema& in,
                                  proto::OperatorSpec* spec) const {
    proto::UserOperatorSpec* user = spec->mutable_user();
    if (node.registered_name.empty()) {
      return Error(node, node.pos, "a user operator needs the name it is registered under");
    }
    user->set_registered_name(node.registered_name.text);
    for (const OptionEntry& option : node.user_options) {
      (*user->mutable_options())[option.key.text] = option.value.text;
    }
    std::vector<std::string> keys;
    for (const Located& key : node.key_by) {
      if (!in.IndexOf(key.text)) {
        std::vector<std::string> columns;
        for (const types::Field& f : in.fields()) columns.push_back(f.name);
        return Error(node, key.pos, absl::StrCat("unknown key column '", key.text, "'",
                                                 DidYouMean(key.text, columns)));
      }
      keys.push_back(key.text);
    }
    if (!keys.empty()) (*user->mutable_options())["key_by"] = absl::StrJoin(keys, ",");
    return CheckSchema(node);
  }

  // A CEP pattern over the keyed input (pattern_operator.h has the semantics).
  absl::StatusOr<Schema> PlanPattern(const LogicalNode& node, const Schema& in, int i,
                                     proto::OperatorSpec* spec) const {
    const PatternDef& p = node.pattern;
    proto::PatternSpec* pattern = spec->mutable_pattern();
    if (node.key_by.empty()) {
      return Error(node, p.pos, "a pattern needs a keyed stream: add key_by: [columns]");
    }
    std::vector<types::Field> fields;
    absl::flat_hash_set<std::string> names;
    for (const Located& key : node.key_by) {
      std::optional<int> index = in.IndexOf(key.text);
      if (!index) {
        std::vector<std::string> columns;
        for (const types::Field& f : in.fields()) columns.push_back(f.name);
        return Error(node, key.pos, absl::StrCat("unknown key column '", key.text, "'",
                                                 DidYouMean(key.text, columns)));
      }
      fields.push_back(in.field(*index));
      names.insert(key.text);
      pattern->add_key_columns(key.text);
    }
    const std::string& time = time_column_[inputs_[i][0]];
    if (time.empty()) {
      return Error(node, p.pos,
                   "a pattern needs event time: give the source a watermark: {column: ...}");
    }
    pattern->set_time_column(time);
    // Conditions see the event's columns and those of the steps before them.
    std::vector<types::Field> visible = in.fields();
    absl::flat_hash_set<std::string> step_names;
    for (size_t k = 0; k < p.steps.size(); ++k) {
      const PatternStepDef& step = p.steps[k];
      if (!IsValidStepName(step.name.text)) {
        return Error(node, step.name.pos,
                     absl::StrCat("step name '", step.name.text,
                                  "' must be letters, digits and '_', starting with a letter"));
      }
      if (!step_names.insert(step.name.text).second) {
        return Error(node, step.name.pos, absl::StrCat("step '", step.name.text, "' appears twice"));
      }
      proto::PatternStep* out = pattern->add_steps();
      out->set_name(step.name.text);
      const std::string after = step.after.empty() ? "followed_by" : step.after.text;
      static const std::vector<std::string> kAfter = {"followed_by", "next", "not_next",
                                                      "not_followed_by"};
      if (std::find(kAfter.begin(), kAfter.end(), after) == kAfter.end()) {
        std::string hint = DidYouMean(after, kAfter);
        if (hint.empty()) hint = " (use followed_by, next, not_next or not_followed_by)";
        return Error(node, step.after.pos, absl::StrCat("unknown after '", after, "'", hint));
      }
      out->set_after(after);
      const bool negative = after == "not_next" || after == "not_followed_by";
      int times = 1;
      if (!step.times.empty() && (!absl::SimpleAtoi(step.times.text, &times) || times < 1)) {
        return Error(node, step.times.pos,
                     absl::StrCat("times must be a count >= 1, got '", step.times.text, "'"));
      }
      if (negative && (!step.times.empty() || step.one_or_more || step.optional)) {
        return Error(node, step.name.pos,
                     absl::StrCat("negative step '", step.name.text, "' takes no times, "
                                  "one_or_more or optional"));
      }
      if (step.one_or_more && !step.times.empty()) {
        return Error(node, step.times.pos, "use either times or one_or_more, not both");
      }
      out->set_min(step.optional ? 0 : times);
      out->set_max(step.one_or_more ? -1 : times);
      const bool fixed = !step.optional && !step.one_or_more;
      if (k == 0 && (negative || step.optional)) {
        return Error(node, step.name.pos, "the first step must match an event (not optional, "
                                          "not negative)");
      }
      if (k + 1 == p.steps.size() && (negative || !fixed)) {
        return Error(node, step.name.pos, "the last step must match a fixed number of events "
                                          "(not optional, one_or_more or negative)");
      }
      if (negative && k > 0) {
        const PatternStepDef& prev = p.steps[k - 1];
        const std::string prev_after = prev.after.empty() ? "followed_by" : prev.after.text;
        if (prev.optional || prev.one_or_more || prev_after == "not_next" ||
            prev_after == "not_followed_by") {
          return Error(node, step.name.pos,
                       absl::StrCat("negative step '", step.name.text,
                                    "' must follow a step that matches a fixed number of events"));
        }
      }
      if (step.condition.text.empty()) {
        return Error(node, step.name.pos, absl::StrCat("step '", step.name.text, "' needs a condition"));
      }
      ASSIGN_OR_RETURN(TypeId type,
                       TypeOf(node, step.condition, Schema(visible),
                              absl::StrCat("in step '", step.name.text, "'")));
      if (type != TypeId::kBool) {
        return Error(node, step.condition.pos,
                     absl::StrCat("the condition of step '", step.name.text, "' is ",
                                  types::TypeName(type), ", not bool"));
      }
      out->set_condition(step.condition.text);
      for (const types::Field& f : in.fields()) {
        visible.push_back({absl::StrCat(step.name.text, ".", f.name), f.type});
      }
    }
    ASSIGN_OR_RETURN(int64_t within, DurationMicros(node, p.within, "within", true));
    pattern->set_within_us(within);
    const std::string skip = p.skip.empty() ? "no_skip" : p.skip.text;
    if (skip != "no_skip" && skip != "skip_past_last_event") {
      return Error(node, p.skip.pos, absl::StrCat("unknown skip '", skip,
                                                  "' (use no_skip or skip_past_last_event)"));
    }
    pattern->set_skip(skip);
    if (p.emit.empty()) {
      return Error(node, p.pos, "a pattern needs emit: {column: expression} (e.g. "
                                "first_amount: small.amount)");
    }
    const Schema match(visible);
    for (const NamedExpression& e : p.emit) {
      if (!names.insert(e.name.text).second) {
        return Error(node, e.name.pos,
                     absl::StrCat("output column '", e.name.text, "' appears twice (the key "
                                  "columns come first)"));
      }
      ASSIGN_OR_RETURN(TypeId type, TypeOf(node, e.expr, match,
                                           absl::StrCat("in emit '", e.name.text, "'")));
      fields.push_back({e.name.text, type});
      proto::NamedExpr* out = pattern->add_emit();
      out->set_name(e.name.text);
      out->set_expr(e.expr.text);
    }
    return Schema(std::move(fields));
  }

  static bool IsValidStepName(absl::string_view name) {
    if (name.empty() || !absl::ascii_isalpha(name[0])) return false;
    for (char c : name) {
      if (!absl::ascii_isalnum(c) && c != '_') return false;
    }
    return true;
  }

  // Union inputs must have the schema of the first input.
  absl::Status CheckUnion(const LogicalNode& node, int i) const {
    const Schema& first = output_[inputs_[i][0]];
    const std::string& first_name = node.inputs[0].text;
    for (size_t k = 1; k < inputs_[i].size(); ++k) {
      const Schema& other = output_[inputs_[i][k]];
      const Located& input = node.inputs[k];
      for (size_t c = 0; c < std::max(first.size(), other.size()); ++c) {
        if (c >= first.size() || c >= other.size()) {
          return Error(node, input.pos,
                       absl::StrCat("union input '", input.text, "' has ", other.size(),
                                    " columns (", other.ToString(), ") but '", first_name,
                                    "' has ", first.size(), " (", first.ToString(), ")"));
        }
        const types::Field& a = first.field(c);
        const types::Field& b = other.field(c);
        if (a != b) {
          return Error(node, input.pos,
                       absl::StrCat("union input '", input.text, "' column ", c + 1, " is '",
                                    b.name, " ", types::TypeName(b.type), "' but in '", first_name,
                                    "' it is '", a.name, " ", types::TypeName(a.type), "'"));
        }
      }
    }
    return absl::OkStatus();
  }

  absl::Status PlanNode(int i) {
    const LogicalNode& node = plan_.nodes[i];
    proto::OperatorSpec& spec = specs_[i];
    spec.set_name(node.name.text);
    spec.set_yaml_line(node.pos.line);
    parallelism_[i] = node.parallelism > 0 ? node.parallelism : plan_.parallelism;
    if (!node.key_by.empty() && node.op != NodeOp::kAggregate && node.op != NodeOp::kJoin &&
        node.op != NodeOp::kPattern && node.op != NodeOp::kUser) {
      return Error(node, node.key_by_pos,
                   "key_by needs an aggregate (key_by alone is not supported yet)");
    }
    Schema in;
    if (!IsSource(node.op)) {
      in = output_[inputs_[i][0]];
      *spec.mutable_input_schema() = in.ToProto();
    }
    Schema out;
    switch (node.op) {
      case NodeOp::kFileSource: {
        ASSIGN_OR_RETURN(out, CheckSchema(node));
        RETURN_IF_ERROR(PlanFileSource(node, &spec));
        RETURN_IF_ERROR(PlanWatermark(node, out, &spec, i));
        break;
      }
      case NodeOp::kKafkaSource: {
        ASSIGN_OR_RETURN(out, CheckSchema(node));
        RETURN_IF_ERROR(PlanKafkaSource(node, &spec));
        RETURN_IF_ERROR(PlanWatermark(node, out, &spec, i));
        break;
      }
      case NodeOp::kDatagenSource: {
        ASSIGN_OR_RETURN(out, CheckSchema(node));
        RETURN_IF_ERROR(PlanDatagen(node, out, &spec));
        RETURN_IF_ERROR(PlanWatermark(node, out, &spec, i));
        break;
      }
      case NodeOp::kFilter: {
        if (node.predicate.text.empty()) {
          return Error(node, node.predicate.pos, "filter needs a predicate");
        }
        ASSIGN_OR_RETURN(TypeId type, TypeOf(node, node.predicate, in, "in filter"));
        if (type != TypeId::kBool) {
          return Error(node, node.predicate.pos,
                       absl::StrCat("filter must be a bool expression, but '", node.predicate.text,
                                    "' is ", types::TypeName(type)));
        }
        spec.mutable_filter()->set_predicate(node.predicate.text);
        out = in;
        time_column_[i] = time_column_[inputs_[i][0]];
        break;
      }
      case NodeOp::kSelect: {
        ASSIGN_OR_RETURN(out, PlanSelect(node, in, &spec));
        // Event time goes on under the name of a column that just passes it on.
        for (const NamedExpression& column : node.select) {
          if (column.expr.text == time_column_[inputs_[i][0]]) time_column_[i] = column.name.text;
        }
        break;
      }
      case NodeOp::kAggregate: {
        ASSIGN_OR_RETURN(out, PlanAggregate(node, in, i, &spec));
        break;
      }
      case NodeOp::kJoin: {
        ASSIGN_OR_RETURN(out, PlanJoin(node, i, &spec));
        break;
      }
      case NodeOp::kPattern: {
        ASSIGN_OR_RETURN(out, PlanPattern(node, in, i, &spec));
        break;
      }
      case NodeOp::kUser: {
        ASSIGN_OR_RETURN(out, PlanUser(node, in, &spec));
        break;
      }
      case NodeOp::kLateOutput: {  // the window's input rows, in its vertex
        const int window = inputs_[i][0];
        out = output_[inputs_[window][0]];
        proto::WindowSpec* w = specs_[window].mutable_aggregate()->mutable_window();
        w->set_late_output(node.name.text);
        time_column_[i] = w->time_column();
        parallelism_[i] = parallelism_[window];
        break;
      }
      case NodeOp::kUnion: {
        RETURN_IF_ERROR(CheckUnion(node, i));
        spec.mutable_union_op();
        out = in;
        // Event time when every input has it in the same column.
        time_column_[i] = time_column_[inputs_[i][0]];
        for (int input : inputs_[i]) {
          if (time_column_[input] != time_column_[i]) time_column_[i].clear();
        }
        break;
      }
      case NodeOp::kFileSink: {
        proto::FileSinkSpec* file = spec.mutable_file_sink();
        if (node.path.text.empty()) {
          return Error(node, node.path.pos,
                       absl::StrCat(Describe(node), " needs a path (a directory)"));
        }
        file->set_path(ResolvePath(node.path.text));
        ASSIGN_OR_RETURN(*file->mutable_format(), PlanFormat(node));
        break;
      }
      case NodeOp::kKafkaSink:
        RETURN_IF_ERROR(PlanKafkaSink(node, in, &spec));
        break;
      case NodeOp::kPrintSink:
        spec.mutable_print_sink();
        break;
      case NodeOp::kBlackholeSink:
        if (!(node.rows_per_second >= 0)) {
          return Error(node, node.rows_per_second_pos,
                       absl::StrCat("rows_per_second must be >= 0 (0: no limit), got ",
                                    node.rows_per_second));
        }
        spec.mutable_blackhole_sink()->set_rows_per_second(node.rows_per_second);
        break;
    }
    if (!IsSink(node.op)) *spec.mutable_output_schema() = out.ToProto();
    output_[i] = std::move(out);
    return absl::OkStatus();
  }

  absl::Status CheckOutputsUsed() const {
    for (size_t i = 0; i < n_; ++i) {
      const LogicalNode& node = plan_.nodes[i];
      if (!IsSink(node.op) && MainConsumers(static_cast<int>(i)) == 0) {
        return Error(node, node.name.pos,
                     absl::StrCat("the output of ", Describe(node),
                                  " is not used (add a sink that reads it, or remove it)"));
      }
    }
    return absl::OkStatus();
  }

  bool Chains(int i) const {
    const LogicalNode& node = plan_.nodes[i];
    if (IsSource(node.op) || node.op == NodeOp::kUnion || !node.key_by.empty()) return false;
    if (inputs_[i].size() != 1) return false;
    const int in = inputs_[i][0];
    if (IsLateOutput(in)) return false;  // an edge from the middle of the window's chain
    return MainConsumers(in) == 1 && parallelism_[in] == parallelism_[i];
  }

  void BuildVertices(proto::JobGraph* graph) {
    std::vector<int> vertex_of(n_, -1);
    for (int i : order_) {
      const LogicalNode& node = plan_.nodes[i];
      if (IsLateOutput(i)) {  // a side output of its window's vertex
        vertex_of[i] = vertex_of[inputs_[i][0]];
        continue;
      }
      if (Chains(i)) {
        const int v = vertex_of[inputs_[i][0]];
        proto::JobVertex* vertex = graph->mutable_vertices(v);
        vertex->set_name(absl::StrCat(vertex->name(), " -> ", node.name.text));
        *vertex->add_chain() = std::move(specs_[i]);
        vertex_of[i] = v;
        continue;
      }
      const int v = graph->vertices_size();
      proto::JobVertex* vertex = graph->add_vertices();
      vertex->set_id(v);
      vertex->set_name(node.name.text);
      vertex->set_parallelism(parallelism_[i]);
      *vertex->add_chain() = std::move(specs_[i]);
      vertex_of[i] = v;
      for (int in : inputs_[i]) {
        proto::JobEdge* edge = graph->add_edges();
        edge->set_id(graph->edges_size() - 1);
        edge->set_source_vertex(vertex_of[in]);
        edge->set_target_vertex(v);
        if (IsLateOutput(in)) edge->set_side_output(plan_.nodes[in].name.text);
        *edge->mutable_schema() = output_[in].ToProto();
        if (!node.key_by.empty()) {
          edge->set_partitioning(proto::HASH);
          for (const Located& key : node.key_by) {
            edge->add_key_indexes(*output_[in].IndexOf(key.text));
          }
        } else if (parallelism_[in] != parallelism_[i]) {
          edge->set_partitioning(proto::REBALANCE);
        } else {
          edge->set_partitioning(proto::FORWARD);
        }
      }
    }
  }

  const LogicalPlan plan_;  // with the late output nodes
  const size_t n_;
  absl::flat_hash_map<std::string, int> index_;  // node name -> index in plan_.nodes
  std::vector<std::vector<int>> inputs_;         // per node, in input order
  std::vector<std::vector<int>> consumers_;
  std::vector<int> order_;  // topological
  std::vector<Schema> output_;
  // Per node: the TIMESTAMP column of its output that carries event time (from a source's
  // watermark, kept through filters, unions and selects that pass it on); "" when none.
  std::vector<std::string> time_column_;
  std::vector<proto::OperatorSpec> specs_;
  std::vector<int> parallelism_;
};

}  // namespace

absl::StatusOr<proto::JobGraph> PlanJob(const LogicalPlan& plan) { return Planner(plan).Run(); }

}  // namespace sluice::jobgraph
