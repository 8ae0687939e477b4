#include "common/jobgraph/job_builder.h"

#include "absl/strings/str_cat.h"
#include "common/jobgraph/planner.h"

namespace sluice::jobgraph {
namespace {

Located Text(absl::string_view text) { return Located{std::string(text), Position{}, false}; }

std::vector<SchemaColumn> Columns(const types::Schema& schema) {
  std::vector<SchemaColumn> columns;
  for (const types::Field& f : schema.fields()) columns.push_back(SchemaColumn{Text(f.name), f.type});
  return columns;
}

std::vector<OptionEntry> Options(const std::map<std::string, std::string>& options) {
  std::vector<OptionEntry> entries;
  for (const auto& [key, value] : options) entries.push_back(OptionEntry{Text(key), Text(value)});
  return entries;
}

}  // namespace

JobBuilder::JobBuilder(absl::string_view job_name) { plan_.name = Text(job_name); }

JobBuilder& JobBuilder::Parallelism(int parallelism) {
  plan_.parallelism = parallelism;
  return *this;
}

JobBuilder& JobBuilder::MaxParallelism(int max_parallelism) {
  plan_.max_parallelism = max_parallelism;
  return *this;
}

JobBuilder& JobBuilder::Restart(absl::string_view strategy,
                                const std::vector<std::pair<std::string, std::string>>& options) {
  plan_.restart_strategy = Text(strategy);
  plan_.restart_options.clear();
  for (const auto& [key, value] : options) {
    plan_.restart_options.push_back(OptionEntry{Text(key), Text(value)});
  }
  return *this;
}

JobBuilder& JobBuilder::Config(absl::string_view key, absl::string_view value) {
  plan_.config.push_back(OptionEntry{Text(key), Text(value)});
  return *this;
}

JobBuilder& JobBuilder::NodeParallelism(absl::string_view node, int parallelism) {
  node_parallelism_.emplace_back(std::string(node), parallelism);
  return *this;
}

namespace {

WatermarkDef WatermarkOf(const std::optional<WatermarkOptions>& options) {
  WatermarkDef w;
  if (!options) return w;
  w.present = true;
  w.column = Text(options->column);
  w.max_delay = Text(options->max_delay);
  w.idle_timeout = Text(options->idle_timeout);
  return w;
}

WindowDef WindowOf(const WindowOptions& options) {
  WindowDef w;
  w.present = true;
  w.kind = Text(options.kind);
  w.size = Text(options.size);
  w.every = Text(options.every);
  w.allowed_lateness = Text(options.allowed_lateness);
  w.late_output = Text(options.late_output);
  w.on = Text(options.on);
  return w;
}

}  // namespace

LogicalNode& JobBuilder::AddNode(NodeOp op, absl::string_view name,
                                 const std::vector<std::string>& inputs) {
  LogicalNode& node = plan_.nodes.emplace_back();
  node.op = op;
  node.name = Text(name);
  for (const std::string& input : inputs) node.inputs.push_back(Text(input));
  return node;
}

JobBuilder& JobBuilder::FileSource(absl::string_view name, absl::string_view path,
                                   absl::string_view format, const types::Schema& schema,
                                   const FileSourceOptions& options) {
  LogicalNode& node = AddNode(NodeOp::kFileSource, name, {});
  node.path = Text(path);
  node.format = Text(format);
  node.format_options = Options(options.format_options);
  node.on_error = Text(options.on_error);
  node.schema = Columns(schema);
  node.watermark = WatermarkOf(options.watermark);
  return *this;
}

JobBuilder& JobBuilder::KafkaSource(absl::string_view name, absl::string_view format,
                                    const types::Schema& schema,
                                    const KafkaSourceOptions& options) {
  LogicalNode& node = AddNode(NodeOp::kKafkaSource, name, {});
  node.format = Text(format);
  node.format_options = Options(options.format_options);
  node.on_error = Text(options.on_error);
  node.schema = Columns(schema);
  node.watermark = WatermarkOf(options.watermark);
  KafkaDef& k = node.kafka;
  for (const std::string& topic : options.topics) k.topics.push_back(Text(topic));
  k.topic_pattern = Text(options.topic_pattern);
  k.bootstrap = Text(options.bootstrap);
  k.group = Text(options.group);
  k.start = Text(options.start);
  k.properties = Options(options.properties);
  k.discovery_interval = Text(options.discovery_interval);
  k.stop_at = Text(options.stop_at);
  return *this;
}

JobBuilder& JobBuilder::Datagen(absl::string_view name, const types::Schema& schema,
                                const DatagenOptions& options) {
  LogicalNode& node = AddNode(NodeOp::kDatagenSource, name, {});
  node.schema = Columns(schema);
  node.count = options.count;
  node.rows_per_second = options.rows_per_second;
  node.seed = options.seed;
  for (const auto& [column, spec] : options.fields) {
    DatagenField field;
    field.column = Text(column);
    field.kind = Text(spec.kind);
    field.min = spec.min;
    field.max = spec.max;
    for (const std::string& v : spec.values) field.values.push_back(Text(v));
    node.fields.push_back(std::move(field));
  }
  node.watermark = WatermarkOf(options.watermark);
  return *this;
}

JobBuilder& JobBuilder::Filter(absl::string_view name, absl::string_view input,
                               absl::string_view predicate) {
  AddNode(NodeOp::kFilter, name, {std::string(input)}).predicate = Text(predicate);
  return *this;
}

JobBuilder& JobBuilder::Select(absl::string_view name, absl::string_view input,
                               const std::vector<std::pair<std::string, std::string>>& columns) {
  LogicalNode& node = AddNode(NodeOp::kSelect, name, {std::string(input)});
  for (const auto& [column, expr] : columns) {
    node.select.push_back(NamedExpression{Text(column), Text(expr)});
  }
  return *this;
}

JobBuilder& JobBuilder::Aggregate(absl::string_view name, absl::string_view input,
                                  const std::vector<std::string>& key_by,
                                  const std::vector<AggregateCall>& calls) {
  LogicalNode& node = AddNode(NodeOp::kAggregate, name, {std::string(input)});
  for (const std::string& key : key_by) node.key_by.push_back(Text(key));
  for (const AggregateCall& call : calls) {
    node.aggregates.push_back(
        AggregateCallSpec{Text(call.name), Text(call.function), Text(call.argument)});
  }
  return *this;
}

JobBuilder& JobBuilder::WindowAggregate(absl::string_view name, absl::string_view input,
                                        const std::vector<std::string>& key_by,
                                        const WindowOptions& window,
                                        const std::vector<AggregateCall>& calls) {
  Aggregate(name, input, key_by, calls);
  plan_.nodes.back().window = WindowOf(window);
  return *this;
}

JobBuilder& JobBuilder::Join(absl::string_view name, absl::string_view left,
                             absl::string_view right, const JoinOptions& join) {
  LogicalNode& node = AddNode(NodeOp::kJoin, name, {std::string(left), std::string(right)});
  for (const std::string& key : join.on) node.key_by.push_back(Text(key));
  node.join.present = true;
  node.join.within = Text(join.within);
  node.join.lower = Text(join.lower);
  node.join.upper = Text(join.upper);
  node.join.type = Text(join.type);
  if (join.window) node.window = WindowOf(*join.window);
  return *this;
}

JobBuilder& JobBuilder::KeyedProcess(absl::string_view name, absl::string_view input,
                                     const std::vector<std::string>& key_by,
                                     absl::string_view registered_name,
                                     const types::Schema& output,
                                     const std::map<std::string, std::string>& options) {
  LogicalNode& node = AddNode(NodeOp::kUser, name, {std::string(input)});
  for (const std::string& key : key_by) node.key_by.push_back(Text(key));
  node.registered_name = Text(registered_name);
  node.user_options = Options(options);
  node.schema = Columns(output);
  return *this;
}

JobBuilder& JobBuilder::Union(absl::string_view name, const std::vector<std::string>& inputs) {
  AddNode(NodeOp::kUnion, name, inputs);
  return *this;
}

JobBuilder& JobBuilder::FileSink(absl::string_view name, absl::string_view input,
                                 absl::string_view path, absl::string_view format,
                                 const std::map<std::string, std::string>& format_options) {
  LogicalNode& node = AddNode(NodeOp::kFileSink, name, {std::string(input)});
  node.path = Text(path);
  node.format = Text(format);
  node.format_options = Options(format_options);
  return *this;
}

JobBuilder& JobBuilder::KafkaSink(absl::string_view name, absl::string_view input,
                                  absl::string_view topic, absl::string_view format,
                                  const KafkaSinkOptions& options) {
  LogicalNode& node = AddNode(NodeOp::kKafkaSink, name, {std::string(input)});
  node.format = Text(format);
  node.format_options = Options(options.format_options);
  KafkaDef& k = node.kafka;
  k.topics.push_back(Text(topic));
  k.bootstrap = Text(options.bootstrap);
  for (const std::string& key : options.key) k.key.push_back(Text(key));
  k.delivery = Text(options.delivery);
  k.transactional_id_prefix = Text(options.transactional_id_prefix);
  k.properties = Options(options.properties);
  return *this;
}

JobBuilder& JobBuilder::PrintSink(absl::string_view name, absl::string_view input) {
  AddNode(NodeOp::kPrintSink, name, {std::string(input)});
  return *this;
}

JobBuilder& JobBuilder::BlackholeSink(absl::string_view name, absl::string_view input,
                                      double rows_per_second) {
  AddNode(NodeOp::kBlackholeSink, name, {std::string(input)}).rows_per_second = rows_per_second;
  return *this;
}

absl::StatusOr<proto::JobGraph> JobBuilder::Build() const {
  LogicalPlan plan = plan_;
  for (const auto& [name, parallelism] : node_parallelism_) {
    LogicalNode* found = nullptr;
    for (LogicalNode& node : plan.nodes) {
      if (node.name.text == name) found = &node;
    }
    if (found == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("NodeParallelism: no node named '", name, "'"));
    }
    if (parallelism < 1) {
      return SpecError(plan, Position{}, name,
                       absl::StrCat("parallelism must be at least 1, got ", parallelism));
    }
    found->parallelism = parallelism;
  }
  return PlanJob(plan);
}

}  // namespace sluice::jobgraph
