#include "common/jobgraph/job_spec.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/jobgraph/logical_plan.h"
#include "common/jobgraph/planner.h"
#include "common/suggest.h"
#include "common/types/avro_schema.h"
#include "common/status_macros.h"
#include "yaml-cpp/yaml.h"

namespace sluice::jobgraph {
namespace {

bool IsIdentifier(absl::string_view s) {
  if (s.empty() || !(absl::ascii_isalpha(s[0]) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return absl::ascii_isalnum(c) || c == '_'; });
}

// Offsets of `s` without surrounding whitespace: [begin, end).
std::pair<size_t, size_t> Trimmed(absl::string_view s, size_t begin, size_t end) {
  while (begin < end && absl::ascii_isspace(s[begin])) ++begin;
  while (end > begin && absl::ascii_isspace(s[end - 1])) --end;
  return {begin, end};
}

// One key of a YAML map, in document order.
struct Entry {
  std::string key;
  Position key_pos;
  YAML::Node value;
};

// The entries of a YAML map, checked for duplicate keys.
class Map {
 public:
  std::vector<Entry> entries;
  const Entry* Find(absl::string_view key) const {
    for (const Entry& e : entries) {
      if (e.key == key) return &e;
    }
    return nullptr;
  }
};

// Reads a YAML document into a LogicalPlan: only the shape (keys, value types, syntax of
// aggregate calls and select items); every semantic check is the planner's.
class SpecReader {
 public:
  SpecReader(absl::string_view text, absl::string_view file_name, const SpecOptions& options)
      : text_(text), file_name_(file_name), options_(options) {}

  absl::StatusOr<LogicalPlan> Read() {
    YAML::Node root;
    try {
      root = YAML::Load(std::string(text_));
    } catch (const YAML::Exception& e) {
      Position pos{e.mark.line + 1, e.mark.column + 1};
      if (e.mark.is_null()) pos = Position{};
      return Error(pos, absl::StrCat("invalid YAML: ", e.msg));
    }
    if (root.IsNull() || (root.IsScalar() && root.Scalar().empty())) {
      return Error(Position{1, 1}, "the job spec is empty");
    }
    if (!root.IsMap()) {
      return Error(PosOf(root, Position{1, 1}),
                   "a job spec must be a map with name, sources, operators and sinks");
    }
    LogicalPlan plan;
    plan.file_name = std::string(file_name_);
    plan.base_dir = options_.base_dir;
    ASSIGN_OR_RETURN(Map top, ReadMap(root, Position{1, 1}, "the job spec"));
    RETURN_IF_ERROR(CheckKeys(top, "the job spec",
                              {"name", "parallelism", "max_parallelism", "restart", "checkpointing",
                               "state", "config", "sources", "operators", "sinks"}));
    const Entry* name = top.Find("name");
    if (name == nullptr) return Error(PosOf(root, Position{1, 1}), "the job spec needs a name");
    ASSIGN_OR_RETURN(plan.name, ScalarValue(*name));
    if (const Entry* e = top.Find("parallelism")) {
      ASSIGN_OR_RETURN(plan.parallelism, IntValue(*e));
      plan.parallelism_pos = ValuePos(*e);
    }
    if (options_.parallelism_override > 0) {
      plan.parallelism = options_.parallelism_override;
      plan.parallelism_pos = Position{};
      plan.parallelism_from_flag = true;
    }
    if (const Entry* e = top.Find("max_parallelism")) {
      ASSIGN_OR_RETURN(plan.max_parallelism, IntValue(*e));
      plan.max_parallelism_pos = ValuePos(*e);
    }
    if (const Entry* e = top.Find("restart")) RETURN_IF_ERROR(ReadRestart(*e, &plan));
    for (absl::string_view section : {"checkpointing", "state", "config"}) {
      if (const Entry* e = top.Find(section)) {
        ASSIGN_OR_RETURN(Map settings, ReadMap(*e, "a map"));
        const std::string prefix = section == "config" ? "" : absl::StrCat(section, ".");
        RETURN_IF_ERROR(ReadSettings(settings, prefix, &plan.config));
      }
    }
    struct Section {
      absl::string_view key;
      absl::Status (SpecReader::*read)(const YAML::Node&, LogicalPlan*);
    };
    for (const Section& section : {Section{"sources", &SpecReader::ReadSource},
                                   Section{"operators", &SpecReader::ReadOperator},
                                   Section{"sinks", &SpecReader::ReadSink}}) {
      const Entry* e = top.Find(section.key);
      if (e == nullptr || e->value.IsNull()) continue;
      if (!e->value.IsSequence()) {
        return Error(ValuePos(*e), absl::StrCat(section.key, " must be a list (- name: ...)"));
      }
      for (const YAML::Node& item : e->value) {
        if (!item.IsMap()) {
          return Error(PosOf(item, ValuePos(*e)),
                       absl::StrCat("each entry of ", section.key,
                                    " must be a map (name: ..., input: ...)"));
        }
        RETURN_IF_ERROR((this->*section.read)(item, &plan));
      }
    }
    return plan;
  }

 private:
  absl::Status Error(Position pos, absl::string_view message) const {
    return SpecError(file_name_, pos, message);
  }

  static Position PosOf(const YAML::Node& node, Position fallback) {
    const YAML::Mark mark = node.Mark();
    if (mark.is_null() || mark.line < 0) return fallback;
    return Position{mark.line + 1, mark.column + 1};
  }
  // The value's position; the key's when the value is empty.
  static Position ValuePos(const Entry& e) {
    return e.value.IsNull() ? e.key_pos : PosOf(e.value, e.key_pos);
  }

  // A scalar with its position; exact when the raw text at its position is the value itself
  // (one line, no escapes), after an opening quote.
  Located ScalarOf(const YAML::Node& node, Position fallback) const {
    Located out;
    out.text = node.Scalar();
    out.pos = PosOf(node, fallback);
    const YAML::Mark mark = node.Mark();
    if (mark.is_null() || mark.pos < 0 || static_cast<size_t>(mark.pos) >= text_.size()) {
      return out;
    }
    size_t start = static_cast<size_t>(mark.pos);
    const bool quoted = text_[start] == '"' || text_[start] == '\'';
    if (quoted) {
      ++start;
      ++out.pos.column;
    }
    out.exact = out.text.find('\n') == std::string::npos && text_.substr(start, out.text.size()) == out.text;
    return out;
  }

  static absl::string_view KindOf(const YAML::Node& node) {
    if (node.IsMap()) return "a map";
    if (node.IsSequence()) return "a list";
    if (node.IsNull()) return "nothing";
    return "a scalar";
  }

  absl::StatusOr<Map> ReadMap(const YAML::Node& node, Position pos, absl::string_view what) const {
    if (!node.IsMap()) {
      return Error(PosOf(node, pos), absl::StrCat(what, " must be a map, got ", KindOf(node)));
    }
    Map map;
    for (const auto& pair : node) {
      const YAML::Node key = pair.first;
      if (!key.IsScalar()) {
        return Error(PosOf(key, pos), absl::StrCat("a key of ", what, " must be a plain name"));
      }
      Entry entry{key.Scalar(), PosOf(key, pos), pair.second};
      if (map.Find(entry.key) != nullptr) {
        return Error(entry.key_pos, absl::StrCat("duplicate key '", entry.key, "' in ", what));
      }
      map.entries.push_back(std::move(entry));
    }
    return map;
  }
  // The value of `e` as a map; `expected` describes it for the error message.
  absl::StatusOr<Map> ReadMap(const Entry& e, absl::string_view expected) const {
    if (!e.value.IsMap()) {
      return Error(ValuePos(e),
                   absl::StrCat(e.key, " must be ", expected, ", got ", KindOf(e.value)));
    }
    return ReadMap(e.value, e.key_pos, e.key);
  }

  absl::Status CheckKeys(const Map& map, absl::string_view what,
                         std::initializer_list<absl::string_view> allowed) const {
    for (const Entry& e : map.entries) {
      if (std::find(allowed.begin(), allowed.end(), e.key) == allowed.end()) {
        return Error(e.key_pos, absl::StrCat("unknown key '", e.key, "' in ", what,
                                             DidYouMean(e.key, allowed)));
      }
    }
    return absl::OkStatus();
  }

  absl::StatusOr<Located> ScalarValue(const Entry& e, absl::string_view expected = "a string") const {
    if (e.value.IsNull()) return Error(e.key_pos, absl::StrCat(e.key, " needs a value"));
    if (!e.value.IsScalar()) {
      return Error(ValuePos(e),
                   absl::StrCat(e.key, " must be ", expected, ", got ", KindOf(e.value)));
    }
    return ScalarOf(e.value, e.key_pos);
  }

  absl::StatusOr<int> IntValue(const Entry& e) const {
    ASSIGN_OR_RETURN(Located v, ScalarValue(e, "an integer"));
    int n = 0;
    if (!absl::SimpleAtoi(v.text, &n)) {
      return Error(v.pos, absl::StrCat(e.key, " must be an integer, got '", v.text, "'"));
    }
    return n;
  }

  absl::StatusOr<double> DoubleValue(const Entry& e) const {
    ASSIGN_OR_RETURN(Located v, ScalarValue(e, "a number"));
    double d = 0;
    if (!absl::SimpleAtod(v.text, &d)) {
      return Error(v.pos, absl::StrCat(e.key, " must be a number, got '", v.text, "'"));
    }
    return d;
  }

  // A list of names; a single name is a list of one.
  absl::StatusOr<std::vector<Located>> NameList(const Entry& e) const {
    std::vector<Located> out;
    if (e.value.IsScalar()) {
      ASSIGN_OR_RETURN(Located v, ScalarValue(e));
      out.push_back(std::move(v));
      return out;
    }
    if (!e.value.IsSequence()) {
      return Error(ValuePos(e), absl::StrCat(e.key, " must be a list of names, got ", KindOf(e.value)));
    }
    for (const YAML::Node& item : e.value) {
      if (!item.IsScalar()) {
        return Error(PosOf(item, e.key_pos),
                     absl::StrCat(e.key, " must be a list of names, got ", KindOf(item),
                                  " in the list"));
      }
      out.push_back(ScalarOf(item, e.key_pos));
    }
    return out;
  }

  // A map of scalar values (options); nested maps are flattened into dotted keys.
  absl::Status ReadSettings(const Map& map, const std::string& prefix,
                            std::vector<OptionEntry>* out) const {
    for (const Entry& e : map.entries) {
      const std::string key = absl::StrCat(prefix, e.key);
      if (e.value.IsMap()) {
        ASSIGN_OR_RETURN(Map inner, ReadMap(e.value, e.key_pos, key));
        RETURN_IF_ERROR(ReadSettings(inner, absl::StrCat(key, "."), out));
        continue;
      }
      ASSIGN_OR_RETURN(Located value, ScalarValue(e, "a single value"));
      out->push_back(OptionEntry{Located{key, e.key_pos, false}, std::move(value)});
    }
    return absl::OkStatus();
  }

  absl::Status ReadRestart(const Entry& e, LogicalPlan* plan) const {
    ASSIGN_OR_RETURN(Map map, ReadMap(e, "a map (strategy: ...)"));
    plan->restart_pos = e.key_pos;
    for (const Entry& option : map.entries) {
      ASSIGN_OR_RETURN(Located value, ScalarValue(option, "a single value"));
      if (option.key == "strategy") {
        plan->restart_strategy = std::move(value);
      } else {
        plan->restart_options.push_back(
            OptionEntry{Located{option.key, option.key_pos, false}, std::move(value)});
      }
    }
    return absl::OkStatus();
  }

  // Reads `name`; `role` is "source", "operator" or "sink".
  absl::Status ReadName(const Map& map, const YAML::Node& item, absl::string_view role,
                        LogicalNode* node) const {
    node->pos = PosOf(item, Position{});
    const Entry* name = map.Find("name");
    if (name == nullptr) return Error(node->pos, absl::StrCat("a ", role, " needs a name"));
    ASSIGN_OR_RETURN(node->name, ScalarValue(*name));
    return absl::OkStatus();
  }

  // connector: one of `available`, or a clear error for the ones that are not yet.
  absl::StatusOr<std::string> ReadConnector(const Map& map, const LogicalNode& node,
                                            absl::string_view role,
                                            std::initializer_list<absl::string_view> available,
                                            std::initializer_list<absl::string_view> later) const {
    const std::string list = absl::StrJoin(available, ", ");
    const Entry* e = map.Find("connector");
    if (e == nullptr) {
      return Error(node.pos, absl::StrCat(role, " '", node.name.text, "' needs a connector (",
                                          list, ")"));
    }
    ASSIGN_OR_RETURN(Located connector, ScalarValue(*e));
    if (std::find(available.begin(), available.end(), connector.text) != available.end()) {
      return connector.text;
    }
    if (std::find(later.begin(), later.end(), connector.text) != later.end()) {
      return Error(connector.pos, absl::StrCat("connector '", connector.text,
                                               "' is not available yet (use ", list, ")"));
    }
    std::vector<std::string> all;
    for (absl::string_view c : available) all.emplace_back(c);
    for (absl::string_view c : later) all.emplace_back(c);
    std::string hint = DidYouMean(connector.text, all);
    if (hint.empty()) hint = absl::StrCat(" (use ", list, ")");
    return Error(connector.pos, absl::StrCat("unknown ", role, " connector '", connector.text, "'", hint));
  }

  absl::Status ReadParallelism(const Map& map, LogicalNode* node) const {
    if (const Entry* e = map.Find("parallelism")) {
      ASSIGN_OR_RETURN(node->parallelism, IntValue(*e));
      node->parallelism_pos = ValuePos(*e);
      if (node->parallelism < 1) {
        return Error(node->parallelism_pos,
                     absl::StrCat("parallelism must be at least 1, got ", node->parallelism));
      }
    }
    return absl::OkStatus();
  }

  absl::Status ReadSchema(const Entry& e, LogicalNode* node) const {
    ASSIGN_OR_RETURN(Map map, ReadMap(e, "a map of column: type"));
    node->schema_pos = ValuePos(e);
    for (const Entry& column : map.entries) {
      ASSIGN_OR_RETURN(Located type, ScalarValue(column, "a type name"));
      absl::StatusOr<types::TypeId> id = types::ParseTypeName(type.text);
      if (!id.ok()) {
        return Error(type.pos, absl::StrCat("column '", column.key, "': ", id.status().message()));
      }
      node->schema.push_back(SchemaColumn{Located{column.key, column.key_pos, false}, *id});
    }
    return absl::OkStatus();
  }

  // format, format_options, csv (and for sources timestamp_unit).
  absl::Status ReadFormat(const Map& map, LogicalNode* node) const {
    if (const Entry* e = map.Find("format")) {
      ASSIGN_OR_RETURN(node->format, ScalarValue(*e));
    }
    if (const Entry* e = map.Find("format_options")) {
      ASSIGN_OR_RETURN(Map options, ReadMap(*e, "a map of option: value"));
      RETURN_IF_ERROR(ReadSettings(options, "", &node->format_options));
    }
    if (const Entry* e = map.Find("timestamp_unit")) {
      ASSIGN_OR_RETURN(Located unit, ScalarValue(*e));
      node->format_options.push_back(OptionEntry{Located{e->key, e->key_pos, false}, unit});
    }
    if (const Entry* e = map.Find("csv")) {
      if (node->format.text != "csv") {
        return Error(e->key_pos, "csv options need format: csv");
      }
      ASSIGN_OR_RETURN(Map options, ReadMap(*e, "a map of option: value"));
      RETURN_IF_ERROR(ReadSettings(options, "", &node->format_options));
    }
    return absl::OkStatus();
  }

  absl::Status ReadDatagenFields(const Entry& e, LogicalNode* node) const {
    ASSIGN_OR_RETURN(Map columns, ReadMap(e, "a map of column: {kind: ...}"));
    for (const Entry& column : columns.entries) {
      const std::string what = absl::StrCat("fields of column '", column.key, "'");
      ASSIGN_OR_RETURN(Map spec, ReadMap(column, "a map {kind: sequence|random|choice, ...}"));
      RETURN_IF_ERROR(CheckKeys(spec, what, {"kind", "min", "max", "values"}));
      DatagenField field;
      field.column = Located{column.key, column.key_pos, false};
      if (const Entry* k = spec.Find("kind")) {
        ASSIGN_OR_RETURN(field.kind, ScalarValue(*k));
      }
      if (const Entry* k = spec.Find("min")) {
        ASSIGN_OR_RETURN(field.min, DoubleValue(*k));
      }
      if (const Entry* k = spec.Find("max")) {
        ASSIGN_OR_RETURN(field.max, DoubleValue(*k));
      }
      if (const Entry* k = spec.Find("values")) {
        if (!k->value.IsSequence()) {
          return Error(ValuePos(*k), absl::StrCat("values must be a list, got ", KindOf(k->value)));
        }
        ASSIGN_OR_RETURN(field.values, NameList(*k));
      }
      node->fields.push_back(std::move(field));
    }
    return absl::OkStatus();
  }

  // A Kafka source without `schema:` whose format reads from a registry named by `registry:`
  // takes its columns from the latest schema of its topic's value subject (types::
  // RegistryColumns maps the Avro fields to columns). Anything else is left to the planner,
  // which asks for a schema.
  absl::Status ColumnsFromRegistry(LogicalNode* node) const {
    if (node->format.text != "avro-confluent" || node->kafka.registry.empty() ||
        !options_.registry_columns) {
      return absl::OkStatus();
    }
    std::string subject;
    for (const OptionEntry& o : node->format_options) {
      if (o.key.text == "subject") subject = o.value.text;
    }
    if (subject.empty()) {
      if (node->kafka.topics.size() != 1) {
        return Error(node->kafka.registry.pos,
                     "taking the columns from the registry needs one topic (or format_options: "
                     "{subject: ...}); give schema: otherwise");
      }
      subject = node->kafka.topics[0].text + "-value";
    }
    absl::StatusOr<types::Schema> columns =
        options_.registry_columns(node->kafka.registry.text, subject);
    if (!columns.ok()) {
      return Error(node->kafka.registry.pos,
                   absl::StrCat("no schema: and the registry's columns of subject '", subject,
                                "' are not available: ", columns.status().message()));
    }
    node->schema_pos = node->kafka.registry.pos;
    for (const types::Field& f : columns->fields()) {
      node->schema.push_back(SchemaColumn{Located{f.name, node->kafka.registry.pos, false}, f.type});
    }
    return absl::OkStatus();
  }

  // dead_letter: {topic, bootstrap, properties: {..}} or {path}.
  absl::Status ReadDeadLetter(const Entry& e, LogicalNode* node) const {
    DeadLetterDef& d = node->dead_letter;
    d.present = true;
    d.pos = e.key_pos;
    ASSIGN_OR_RETURN(Map map, ReadMap(e, "a map: {topic: name} or {path: directory}"));
    RETURN_IF_ERROR(CheckKeys(map, "dead_letter", {"topic", "bootstrap", "properties", "path"}));
    for (auto [key, field] : {std::pair<const char*, Located*>{"topic", &d.topic},
                              {"bootstrap", &d.bootstrap}, {"path", &d.path}}) {
      if (const Entry* f = map.Find(key)) {
        ASSIGN_OR_RETURN(*field, ScalarValue(*f));
      }
    }
    if (const Entry* f = map.Find("properties")) {
      ASSIGN_OR_RETURN(Map properties, ReadMap(*f, "a map of librdkafka setting: value"));
      RETURN_IF_ERROR(ReadSettings(properties, "", &d.properties));
    }
    return absl::OkStatus();
  }

  // The Kafka keys: topic | topics: [..] | topic_pattern, bootstrap, group, start,
  // properties: {librdkafka setting: value}, discovery_interval, stop_at (a sink's CheckKeys
  // allows only topic, bootstrap and properties of these).
  absl::Status ReadKafka(const Map& map, LogicalNode* node) const {
    KafkaDef& k = node->kafka;
    const Entry* topic = map.Find("topic");
    const Entry* topics = map.Find("topics");
    if (topic != nullptr && topics != nullptr) {
      return Error(topics->key_pos, "use either topic or topics, not both");
    }
    if (topic != nullptr) {
      ASSIGN_OR_RETURN(Located name, ScalarValue(*topic, "a topic name (use topics: [...] for several)"));
      k.topics.push_back(std::move(name));
      k.topics_pos = ValuePos(*topic);
    }
    if (topics != nullptr) {
      if (!topics->value.IsSequence()) {
        return Error(ValuePos(*topics),
                     absl::StrCat("topics must be a list of topic names, got ", KindOf(topics->value)));
      }
      ASSIGN_OR_RETURN(k.topics, NameList(*topics));
      k.topics_pos = ValuePos(*topics);
    }
    for (auto [key, field] : {std::pair<const char*, Located*>{"topic_pattern", &k.topic_pattern},
                              {"bootstrap", &k.bootstrap}, {"registry", &k.registry},
                              {"group", &k.group},
                              {"start", &k.start}, {"discovery_interval", &k.discovery_interval},
                              {"stop_at", &k.stop_at}}) {
      if (const Entry* e = map.Find(key)) {
        ASSIGN_OR_RETURN(*field, ScalarValue(*e));
      }
    }
    if (const Entry* e = map.Find("properties")) {
      ASSIGN_OR_RETURN(Map properties, ReadMap(*e, "a map of librdkafka setting: value"));
      RETURN_IF_ERROR(ReadSettings(properties, "", &k.properties));
    }
    return absl::OkStatus();
  }

  // watermark: {column: ts, max_delay: 2s, idle_timeout: 30s}
  absl::Status ReadWatermark(const Entry& e, LogicalNode* node) const {
    ASSIGN_OR_RETURN(Map map, ReadMap(e, "a map {column, max_delay, idle_timeout}"));
    RETURN_IF_ERROR(CheckKeys(map, "watermark", {"column", "max_delay", "idle_timeout"}));
    WatermarkDef& w = node->watermark;
    w.present = true;
    w.pos = e.key_pos;
    const Entry* column = map.Find("column");
    if (column == nullptr) {
      return Error(e.key_pos, "watermark needs a column (the timestamp column of event time)");
    }
    ASSIGN_OR_RETURN(w.column, ScalarValue(*column, "a column name"));
    if (const Entry* d = map.Find("max_delay")) {
      ASSIGN_OR_RETURN(w.max_delay, ScalarValue(*d, "a duration like 2s"));
    }
    if (const Entry* d = map.Find("idle_timeout")) {
      ASSIGN_OR_RETURN(w.idle_timeout, ScalarValue(*d, "a duration like 30s"));
    }
    return absl::OkStatus();
  }

  // window: {tumble: 1m} | {slide: 5m, every: 1m} | {session: 30s}, + allowed_lateness, on.
  absl::Status ReadWindow(const Entry& e, LogicalNode* node) const {
    ASSIGN_OR_RETURN(Map map, ReadMap(e, "a map like {tumble: 1m}, {slide: 5m, every: 1m} or "
                                         "{session: 30s}"));
    RETURN_IF_ERROR(CheckKeys(map, "window", {"tumble", "slide", "session", "every",
                                              "allowed_lateness", "late_output", "on"}));
    WindowDef& w = node->window;
    w.present = true;
    w.pos = e.key_pos;
    for (const Entry& k : map.entries) {
      if (k.key != "tumble" && k.key != "slide" && k.key != "session") continue;
      if (!w.kind.empty()) {
        return Error(k.key_pos, absl::StrCat("window has both ", w.kind.text, " and ", k.key,
                                             "; use one"));
      }
      w.kind = Located{k.key, k.key_pos, false};
      ASSIGN_OR_RETURN(w.size, ScalarValue(k, "a duration like 1m"));
    }
    if (w.kind.empty()) {
      return Error(e.key_pos, "window needs one of tumble: D, slide: D (with every: D) or "
                              "session: D");
    }
    const Entry* every = map.Find("every");
    if (every != nullptr) {
      if (w.kind.text != "slide") {
        return Error(every->key_pos, absl::StrCat("every belongs to slide windows, not ",
                                                  w.kind.text));
      }
      ASSIGN_OR_RETURN(w.every, ScalarValue(*every, "a duration like 1m"));
    } else if (w.kind.text == "slide") {
      return Error(w.kind.pos, "a slide window needs every: D (how often a window starts)");
    }
    if (const Entry* k = map.Find("allowed_lateness")) {
      ASSIGN_OR_RETURN(w.allowed_lateness, ScalarValue(*k, "a duration like 30s"));
    }
    if (const Entry* k = map.Find("on")) {
      ASSIGN_OR_RETURN(w.on, ScalarValue(*k, "a column name"));
    }
    if (const Entry* k = map.Find("late_output")) {
      ASSIGN_OR_RETURN(w.late_output, ScalarValue(*k, "a node name"));
    }
    return absl::OkStatus();
  }

  // join: {on: [cols], within: D} | {on: [cols], lower: D, upper: D}, + type: inner|left;
  // or a window join: {on: [cols], window: {tumble: D} | {slide: D, every: D}}.
  absl::Status ReadJoin(const Entry& e, LogicalNode* node) const {
    ASSIGN_OR_RETURN(Map map, ReadMap(e, "a map like {on: [card], within: 10m}"));
    RETURN_IF_ERROR(CheckKeys(map, "join", {"on", "within", "lower", "upper", "type", "window"}));
    if (const Entry* w = map.Find("window")) RETURN_IF_ERROR(ReadWindow(*w, node));
    JoinDef& j = node->join;
    j.present = true;
    j.pos = e.key_pos;
    const Entry* on = map.Find("on");
    if (on == nullptr) return Error(e.key_pos, "join needs on: [columns] (the join keys)");
    ASSIGN_OR_RETURN(node->key_by, NameList(*on));
    node->key_by_pos = ValuePos(*on);
    for (auto [key, field] : {std::pair<const char*, Located*>{"within", &j.within},
                              {"lower", &j.lower}, {"upper", &j.upper}, {"type", &j.type}}) {
      if (const Entry* k = map.Find(key)) {
        ASSIGN_OR_RETURN(*field, ScalarValue(*k));
      }
    }
    return absl::OkStatus();
  }

  // pattern: {sequence: [{name: "condition", after: .., times: N, one_or_more: true,
  //           optional: true}, ...], within: D, skip: .., emit: {column: expression}}
  absl::Status ReadPattern(const Entry& e, LogicalNode* node) const {
    ASSIGN_OR_RETURN(Map map, ReadMap(e, "a map {sequence: [...], within, skip, emit}"));
    RETURN_IF_ERROR(CheckKeys(map, "pattern", {"sequence", "within", "skip", "emit"}));
    PatternDef& p = node->pattern;
    p.present = true;
    p.pos = e.key_pos;
    const Entry* sequence = map.Find("sequence");
    if (sequence == nullptr || !sequence->value.IsSequence() || sequence->value.size() == 0) {
      return Error(sequence == nullptr ? e.key_pos : ValuePos(*sequence),
                   "pattern needs sequence: a list of steps like {small: \"amount < 5\"}");
    }
    p.sequence_pos = ValuePos(*sequence);
    for (const YAML::Node& item : sequence->value) {
      ASSIGN_OR_RETURN(Map step_map, ReadMap(item, p.sequence_pos, "a pattern step"));
      PatternStepDef step;
      step.pos = PosOf(item, p.sequence_pos);
      for (size_t i = 0; i < step_map.entries.size(); ++i) {
        const Entry& k = step_map.entries[i];
        if (i == 0) {
          step.name = Located{k.key, k.key_pos, false};
          ASSIGN_OR_RETURN(step.condition, ScalarValue(k, "a condition"));
        } else if (k.key == "after") {
          ASSIGN_OR_RETURN(step.after, ScalarValue(k));
        } else if (k.key == "times") {
          ASSIGN_OR_RETURN(step.times, ScalarValue(k, "a count"));
        } else if (k.key == "one_or_more" || k.key == "optional") {
          ASSIGN_OR_RETURN(Located flag, ScalarValue(k, "true or false"));
          if (flag.text != "true" && flag.text != "false") {
            return Error(flag.pos, absl::StrCat(k.key, " must be true or false"));
          }
          (k.key == "optional" ? step.optional : step.one_or_more) = flag.text == "true";
        } else {
          return Error(k.key_pos, absl::StrCat("unknown step option '", k.key,
                                               "' (the first entry names the step; then after, "
                                               "times, one_or_more, optional)"));
        }
      }
      p.steps.push_back(std::move(step));
    }
    if (const Entry* k = map.Find("within")) {
      ASSIGN_OR_RETURN(p.within, ScalarValue(*k, "a duration like 10m"));
    }
    if (const Entry* k = map.Find("skip")) {
      ASSIGN_OR_RETURN(p.skip, ScalarValue(*k));
    }
    if (const Entry* k = map.Find("emit")) {
      p.emit_pos = ValuePos(*k);
      ASSIGN_OR_RETURN(Map emit, ReadMap(*k, "a map of column: expression"));
      for (const Entry& column : emit.entries) {
        ASSIGN_OR_RETURN(Located expr, ScalarValue(column, "an expression"));
        p.emit.push_back(NamedExpression{Located{column.key, column.key_pos, false}, expr});
      }
    }
    return absl::OkStatus();
  }

  absl::Status ReadSource(const YAML::Node& item, LogicalPlan* plan) {
    ASSIGN_OR_RETURN(Map map, ReadMap(item, Position{}, "a source"));
    LogicalNode node;
    RETURN_IF_ERROR(ReadName(map, item, "source", &node));
    const std::string what = absl::StrCat("source '", node.name.text, "'");
    ASSIGN_OR_RETURN(std::string connector,
                     ReadConnector(map, node, "source", {"file", "datagen", "kafka"}, {"nexmark"}));
    if (connector == "file") {
      node.op = NodeOp::kFileSource;
      RETURN_IF_ERROR(CheckKeys(map, what,
                                {"name", "connector", "path", "format", "schema", "format_options",
                                 "timestamp_unit", "csv", "on_error", "dead_letter", "parallelism",
                                 "watermark"}));
    } else if (connector == "kafka") {
      node.op = NodeOp::kKafkaSource;
      RETURN_IF_ERROR(CheckKeys(map, what,
                                {"name", "connector", "topic", "topics", "topic_pattern",
                                 "bootstrap", "registry", "group", "start", "properties",
                                 "discovery_interval",
                                 "stop_at", "format", "schema", "format_options", "timestamp_unit",
                                 "csv", "on_error", "dead_letter", "parallelism", "watermark"}));
    } else {
      node.op = NodeOp::kDatagenSource;
      RETURN_IF_ERROR(CheckKeys(map, what,
                                {"name", "connector", "schema", "count", "rows_per_second", "seed",
                                 "fields", "parallelism", "watermark"}));
    }
    if (const Entry* e = map.Find("watermark")) RETURN_IF_ERROR(ReadWatermark(*e, &node));
    RETURN_IF_ERROR(ReadParallelism(map, &node));
    if (const Entry* e = map.Find("schema")) RETURN_IF_ERROR(ReadSchema(*e, &node));
    if (node.op == NodeOp::kFileSource || node.op == NodeOp::kKafkaSource) {
      if (const Entry* e = map.Find("path")) {
        ASSIGN_OR_RETURN(node.path, ScalarValue(*e));
      }
      RETURN_IF_ERROR(ReadFormat(map, &node));
      if (const Entry* e = map.Find("on_error")) {
        ASSIGN_OR_RETURN(node.on_error, ScalarValue(*e));
      }
      if (const Entry* e = map.Find("dead_letter")) RETURN_IF_ERROR(ReadDeadLetter(*e, &node));
      if (node.op == NodeOp::kKafkaSource) {
        RETURN_IF_ERROR(ReadKafka(map, &node));
        if (node.schema.empty()) RETURN_IF_ERROR(ColumnsFromRegistry(&node));
      }
    } else {
      if (const Entry* e = map.Find("count")) {
        ASSIGN_OR_RETURN(Located v, ScalarValue(*e, "an integer"));
        int64_t count = 0;
        if (!absl::SimpleAtoi(v.text, &count)) {
          return Error(v.pos, absl::StrCat("count must be an integer, got '", v.text, "'"));
        }
        node.count = count;
        node.count_pos = v.pos;
      }
      if (const Entry* e = map.Find("rows_per_second")) {
        ASSIGN_OR_RETURN(node.rows_per_second, DoubleValue(*e));
        node.rows_per_second_pos = ValuePos(*e);
      }
      if (const Entry* e = map.Find("seed")) {
        ASSIGN_OR_RETURN(Located v, ScalarValue(*e, "an integer"));
        if (!absl::SimpleAtoi(v.text, &node.seed)) {
          return Error(v.pos, absl::StrCat("seed must be an integer >= 0, got '", v.text, "'"));
        }
      }
      if (const Entry* e = map.Find("fields")) RETURN_IF_ERROR(ReadDatagenFields(*e, &node));
    }
    plan->nodes.push_back(std::move(node));
    return absl::OkStatus();
  }

  absl::Status ReadInputs(const Map& map, LogicalNode* node) const {
    const Entry* input = map.Find("input");
    const Entry* inputs = map.Find("inputs");
    if (input != nullptr && inputs != nullptr) {
      return Error(inputs->key_pos, "use either input or inputs, not both");
    }
    if (input != nullptr) {
      ASSIGN_OR_RETURN(Located name, ScalarValue(*input, "a node name (use inputs: [...] for several)"));
      node->inputs.push_back(std::move(name));
    }
    if (inputs != nullptr) {
      if (!inputs->value.IsSequence()) {
        return Error(ValuePos(*inputs),
                     absl::StrCat("inputs must be a list of node names, got ", KindOf(inputs->value)));
      }
      ASSIGN_OR_RETURN(node->inputs, NameList(*inputs));
    }
    return absl::OkStatus();
  }

  // select: {name: expr, ...} in document order, or [column, "expr as name", ...].
  absl::Status ReadSelect(const Entry& e, LogicalNode* node) const {
    node->select_pos = ValuePos(e);
    if (e.value.IsMap()) {
      ASSIGN_OR_RETURN(Map map, ReadMap(e.value, e.key_pos, "select"));
      for (const Entry& column : map.entries) {
        ASSIGN_OR_RETURN(Located expr, ScalarValue(column, "an expression"));
        node->select.push_back(NamedExpression{Located{column.key, column.key_pos, false}, expr});
      }
      return absl::OkStatus();
    }
    if (!e.value.IsSequence()) {
      return Error(ValuePos(e), "select must be a map (name: expression) or a list of columns "
                                "and \"expression as name\" items");
    }
    for (const YAML::Node& item : e.value) {
      if (!item.IsScalar()) {
        return Error(PosOf(item, e.key_pos),
                     "select list items must be column names or \"expression as name\"");
      }
      Located text = ScalarOf(item, e.key_pos);
      auto [begin, end] = Trimmed(text.text, 0, text.text.size());
      absl::string_view s(text.text);
      if (IsIdentifier(s.substr(begin, end - begin))) {
        Located column = text.Sub(begin, end - begin);
        node->select.push_back(NamedExpression{column, column});
        continue;
      }
      // "<expr> as <name>": the last word is the name, the word before it "as".
      size_t name_begin = end;
      while (name_begin > begin && !absl::ascii_isspace(s[name_begin - 1])) --name_begin;
      auto [rest_begin, rest_end] = Trimmed(s, begin, name_begin);
      const bool has_as = rest_end - rest_begin > 2 &&
                          absl::AsciiStrToLower(s.substr(rest_end - 2, 2)) == "as" &&
                          absl::ascii_isspace(s[rest_end - 3]);
      if (!has_as || !IsIdentifier(s.substr(name_begin, end - name_begin))) {
        return Error(text.pos, absl::StrCat("select item '", text.text,
                                            "' needs a name: write '", text.text, " as <name>'"));
      }
      auto [expr_begin, expr_end] = Trimmed(s, rest_begin, rest_end - 2);
      node->select.push_back(NamedExpression{text.Sub(name_begin, end - name_begin),
                                             text.Sub(expr_begin, expr_end - expr_begin)});
    }
    return absl::OkStatus();
  }

  // aggregate: {name: "function(argument)", ...}; count(*) has an empty argument.
  absl::Status ReadAggregate(const Entry& e, LogicalNode* node) const {
    node->aggregates_pos = ValuePos(e);
    ASSIGN_OR_RETURN(Map map, ReadMap(e, "a map of column: \"function(expression)\""));
    for (const Entry& column : map.entries) {
      ASSIGN_OR_RETURN(Located call, ScalarValue(column, "a call like count(*) or sum(amount)"));
      absl::string_view s(call.text);
      auto [begin, end] = Trimmed(s, 0, s.size());
      size_t fn_end = begin;
      while (fn_end < end && (absl::ascii_isalnum(s[fn_end]) || s[fn_end] == '_')) ++fn_end;
      size_t open = fn_end;
      while (open < end && absl::ascii_isspace(s[open])) ++open;
      if (fn_end == begin || open >= end || s[open] != '(' || s[end - 1] != ')') {
        return Error(call.pos,
                     absl::StrCat("aggregate '", column.key, "' must be a call like count(*), "
                                  "sum(expr), min(expr), max(expr) or avg(expr), got '",
                                  call.text, "'"));
      }
      auto [arg_begin, arg_end] = Trimmed(s, open + 1, end - 1);
      AggregateCallSpec spec{Located{column.key, column.key_pos, false},
                             call.Sub(begin, fn_end - begin),
                             call.Sub(arg_begin, arg_end - arg_begin)};
      if (spec.argument.text == "*") spec.argument.text.clear();
      node->aggregates.push_back(std::move(spec));
    }
    return absl::OkStatus();
  }

  absl::Status ReadOperator(const YAML::Node& item, LogicalPlan* plan) {
    ASSIGN_OR_RETURN(Map map, ReadMap(item, Position{}, "an operator"));
    LogicalNode node;
    RETURN_IF_ERROR(ReadName(map, item, "operator", &node));
    const std::string what = absl::StrCat("operator '", node.name.text, "'");
    RETURN_IF_ERROR(CheckKeys(map, what,
                              {"name", "input", "inputs", "parallelism", "filter", "select",
                               "key_by", "aggregate", "union", "window", "join", "pattern"}));
    const Entry* kind = nullptr;
    for (const Entry& e : map.entries) {
      if (e.key != "filter" && e.key != "select" && e.key != "aggregate" && e.key != "union" &&
          e.key != "join" && e.key != "pattern") {
        continue;
      }
      if (kind != nullptr) {
        return Error(e.key_pos, absl::StrCat(what, " has both ", kind->key, " and ", e.key,
                                             "; use one per operator"));
      }
      kind = &e;
    }
    const Entry* key_by = map.Find("key_by");
    if (kind == nullptr) {
      if (key_by != nullptr) {
        return Error(key_by->key_pos, "key_by needs an aggregate (key_by alone is not supported yet)");
      }
      return Error(node.pos, absl::StrCat(what, " needs one of filter, select, key_by + aggregate, "
                                                "union, join or key_by + pattern"));
    }
    RETURN_IF_ERROR(ReadInputs(map, &node));
    RETURN_IF_ERROR(ReadParallelism(map, &node));
    if (key_by != nullptr) {
      ASSIGN_OR_RETURN(node.key_by, NameList(*key_by));
      node.key_by_pos = ValuePos(*key_by);
    }
    if (const Entry* window = map.Find("window")) {
      if (kind->key != "aggregate") {
        return Error(window->key_pos, "window needs key_by + aggregate (the aggregates computed "
                                      "per key and window)");
      }
      RETURN_IF_ERROR(ReadWindow(*window, &node));
    }
    if (kind->key == "filter") {
      node.op = NodeOp::kFilter;
      ASSIGN_OR_RETURN(node.predicate, ScalarValue(*kind, "an expression"));
    } else if (kind->key == "select") {
      node.op = NodeOp::kSelect;
      RETURN_IF_ERROR(ReadSelect(*kind, &node));
    } else if (kind->key == "aggregate") {
      node.op = NodeOp::kAggregate;
      RETURN_IF_ERROR(ReadAggregate(*kind, &node));
    } else if (kind->key == "pattern") {
      node.op = NodeOp::kPattern;
      RETURN_IF_ERROR(ReadPattern(*kind, &node));
    } else if (kind->key == "join") {
      if (key_by != nullptr) {
        return Error(key_by->key_pos, "a join is keyed by its on: [columns], not key_by");
      }
      node.op = NodeOp::kJoin;
      RETURN_IF_ERROR(ReadJoin(*kind, &node));
    } else {
      node.op = NodeOp::kUnion;
      ASSIGN_OR_RETURN(Located flag, ScalarValue(*kind, "true"));
      if (flag.text != "true") {
        return Error(flag.pos, "union must be true (and the inputs listed in inputs: [...])");
      }
    }
    plan->nodes.push_back(std::move(node));
    return absl::OkStatus();
  }

  absl::Status ReadSink(const YAML::Node& item, LogicalPlan* plan) {
    ASSIGN_OR_RETURN(Map map, ReadMap(item, Position{}, "a sink"));
    LogicalNode node;
    RETURN_IF_ERROR(ReadName(map, item, "sink", &node));
    const std::string what = absl::StrCat("sink '", node.name.text, "'");
    ASSIGN_OR_RETURN(std::string connector,
                     ReadConnector(map, node, "sink", {"file", "print", "blackhole", "kafka"}, {}));
    if (connector == "file") {
      node.op = NodeOp::kFileSink;
      RETURN_IF_ERROR(CheckKeys(map, what, {"name", "input", "connector", "path", "format",
                                            "format_options", "csv", "parallelism"}));
      if (const Entry* e = map.Find("path")) {
        ASSIGN_OR_RETURN(node.path, ScalarValue(*e));
      }
      RETURN_IF_ERROR(ReadFormat(map, &node));
    } else if (connector == "kafka") {
      node.op = NodeOp::kKafkaSink;
      RETURN_IF_ERROR(CheckKeys(map, what, {"name", "input", "connector", "topic", "bootstrap",
                                            "registry", "properties", "key", "delivery",
                                            "transactional_id_prefix", "format", "format_options",
                                            "timestamp_unit", "csv", "parallelism"}));
      RETURN_IF_ERROR(ReadFormat(map, &node));
      RETURN_IF_ERROR(ReadKafka(map, &node));
      KafkaDef& k = node.kafka;
      if (const Entry* e = map.Find("key")) {
        if (!e->value.IsSequence()) {
          return Error(ValuePos(*e), absl::StrCat("key must be a list of columns, got ",
                                                  KindOf(e->value)));
        }
        ASSIGN_OR_RETURN(k.key, NameList(*e));
        k.key_pos = ValuePos(*e);
      }
      for (auto [key, field] : {std::pair<const char*, Located*>{"delivery", &k.delivery},
                                {"transactional_id_prefix", &k.transactional_id_prefix}}) {
        if (const Entry* e = map.Find(key)) {
          ASSIGN_OR_RETURN(*field, ScalarValue(*e));
        }
      }
    } else if (connector == "print") {
      node.op = NodeOp::kPrintSink;
      RETURN_IF_ERROR(CheckKeys(map, what, {"name", "input", "connector", "parallelism"}));
    } else {
      node.op = NodeOp::kBlackholeSink;
      RETURN_IF_ERROR(CheckKeys(map, what, {"name", "input", "connector", "parallelism",
                                            "rows_per_second"}));
      if (const Entry* e = map.Find("rows_per_second")) {
        ASSIGN_OR_RETURN(node.rows_per_second, DoubleValue(*e));
        node.rows_per_second_pos = ValuePos(*e);
      }
    }
    const Entry* input = map.Find("input");
    if (input == nullptr) return Error(node.pos, absl::StrCat(what, " needs an input"));
    ASSIGN_OR_RETURN(Located name, ScalarValue(*input, "a node name"));
    node.inputs.push_back(std::move(name));
    RETURN_IF_ERROR(ReadParallelism(map, &node));
    plan->nodes.push_back(std::move(node));
    return absl::OkStatus();
  }

  absl::string_view text_;
  absl::string_view file_name_;
  const SpecOptions& options_;
};

}  // namespace

absl::StatusOr<proto::JobGraph> ParseJobSpec(absl::string_view yaml_text,
                                             absl::string_view file_name,
                                             const SpecOptions& options) {
  ASSIGN_OR_RETURN(LogicalPlan plan, SpecReader(yaml_text, file_name, options).Read());
  return PlanJob(plan);
}

absl::StatusOr<proto::JobGraph> LoadJobSpecFile(const std::string& path, SpecOptions options) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return absl::NotFoundError(absl::StrCat("job spec ", path, ": no such file"));
  }
  if (std::filesystem::is_directory(path, ec)) {
    return absl::InvalidArgumentError(absl::StrCat("job spec ", path, ": is a directory"));
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) {
    return absl::InvalidArgumentError(absl::StrCat("job spec ", path, ": cannot be read"));
  }
  if (options.base_dir.empty()) {
    options.base_dir =
        std::filesystem::absolute(std::filesystem::path(path)).parent_path().string();
  }
  return ParseJobSpec(text.str(), path, options);
}

absl::StatusOr<proto::JobGraph> LoadJobSpecToSubmit(const std::string& path,
                                                    int parallelism_override) {
  return LoadJobSpecFile(path, SpecOptions{.parallelism_override = parallelism_override,
                                           .registry_columns = types::RegistryColumns});
}

}  // namespace sluice::jobgraph
