#include "common/schema_registry/avro_schema.h"

#include <avro.h>

#include <array>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/schema_registry/avro_compatibility.h"
#include "common/schema_registry/registry_errors.h"
#include "nlohmann/json.hpp"

namespace sluice::schema_registry {
namespace {

using json = nlohmann::json;

constexpr std::array<std::pair<AvroKind, const char*>, 14> kKindNames = {{
    {AvroKind::kNull, "null"},
    {AvroKind::kBoolean, "boolean"},
    {AvroKind::kInt, "int"},
    {AvroKind::kLong, "long"},
    {AvroKind::kFloat, "float"},
    {AvroKind::kDouble, "double"},
    {AvroKind::kBytes, "bytes"},
    {AvroKind::kString, "string"},
    {AvroKind::kRecord, "record"},
    {AvroKind::kEnum, "enum"},
    {AvroKind::kFixed, "fixed"},
    {AvroKind::kArray, "array"},
    {AvroKind::kMap, "map"},
    {AvroKind::kUnion, "union"},
}};

bool IsPrimitive(AvroKind kind) { return kind <= AvroKind::kString; }

// Avro C's verdict first: the message users see for an invalid schema is Avro's own.
absl::Status ValidateWithAvroC(absl::string_view text) {
  avro_schema_t schema = nullptr;
  if (avro_schema_from_json_length(text.data(), text.size(), &schema) != 0) {
    return RegistryError(kInvalidSchema, absl::StrCat("Invalid schema: ", avro_strerror()));
  }
  avro_schema_decref(schema);
  return absl::OkStatus();
}

absl::Status Invalid(absl::string_view why) {
  return RegistryError(kInvalidSchema, absl::StrCat("Invalid schema: ", why));
}

}  // namespace

const char* AvroKindName(AvroKind kind) {
  for (const auto& [value, name] : kKindNames) {
    if (value == kind) return name;
  }
  return "?";
}

absl::string_view UnqualifiedName(absl::string_view full_name) {
  const size_t dot = full_name.rfind('.');
  return dot == absl::string_view::npos ? full_name : full_name.substr(dot + 1);
}

// Builds the node graph of an AvroSchema from its (already Avro C-validated) JSON.
class AvroSchemaBuilder {
 public:
  explicit AvroSchemaBuilder(AvroSchema* schema) : schema_(schema) {}

  absl::StatusOr<int> Build(const json& j, const std::string& ns) {
    if (j.is_string()) return Reference(j.get<std::string>(), ns);
    if (j.is_array()) {
      AvroNode node;
      node.kind = AvroKind::kUnion;
      for (const json& branch : j) {
        absl::StatusOr<int> index = Build(branch, ns);
        if (!index.ok()) return index.status();
        node.branches.push_back(*index);
      }
      return Add(std::move(node));
    }
    if (!j.is_object() || !j.contains("type")) {
      return Invalid(absl::StrCat("not a schema: ", j.dump()));
    }
    const json& type = j["type"];
    if (!type.is_string()) return Build(type, ns);  // {"type": {...}} or {"type": [...]}
    const std::string kind_name = type.get<std::string>();
    if (std::optional<AvroKind> kind = KindOf(kind_name); kind && IsPrimitive(*kind)) {
      // {"type": "long", "logicalType": ...}
      const json& logical = j.contains("logicalType") ? j["logicalType"] : json();
      return Primitive(*kind, logical.is_string() ? logical.get<std::string>() : "");
    }
    if (kind_name == "array" || kind_name == "map") {
      const char* key = kind_name == "array" ? "items" : "values";
      if (!j.contains(key)) return Invalid(absl::StrCat(kind_name, " without '", key, "'"));
      absl::StatusOr<int> element = Build(j[key], ns);
      if (!element.ok()) return element.status();
      AvroNode node;
      node.kind = kind_name == "array" ? AvroKind::kArray : AvroKind::kMap;
      node.element = *element;
      return Add(std::move(node));
    }
    if (kind_name == "record" || kind_name == "error" || kind_name == "enum" ||
        kind_name == "fixed") {
      return Named(j, kind_name, ns);
    }
    return Reference(kind_name, ns);  // {"type": "ns.Name"}
  }

 private:
  static std::optional<AvroKind> KindOf(absl::string_view name) {
    for (const auto& [value, kind_name] : kKindNames) {
      if (name == kind_name) return value;
    }
    return std::nullopt;
  }

  static std::string FullName(const std::string& name, const std::string& ns) {
    if (name.find('.') != std::string::npos || ns.empty()) return name;
    return absl::StrCat(ns, ".", name);
  }

  int Add(AvroNode node) {
    schema_->nodes_.push_back(std::move(node));
    return static_cast<int>(schema_->nodes_.size()) - 1;
  }

  int Primitive(AvroKind kind, const std::string& logical_type = "") {
    auto [it, inserted] = primitives_.try_emplace(std::make_pair(kind, logical_type), -1);
    if (inserted) {
      AvroNode node;
      node.kind = kind;
      node.logical_type = logical_type;
      it->second = Add(std::move(node));
    }
    return it->second;
  }

  absl::StatusOr<int> Reference(const std::string& name, const std::string& ns) {
    if (std::optional<AvroKind> kind = KindOf(name); kind && IsPrimitive(*kind)) {
      return Primitive(*kind);
    }
    for (const std::string& candidate : {FullName(name, ns), name}) {
      if (auto it = names_.find(candidate); it != names_.end()) return it->second;
    }
    return Invalid(absl::StrCat("unknown type '", name, "'"));
  }

  static std::vector<std::string> Aliases(const json& j, const std::string& ns) {
    std::vector<std::string> aliases;
    if (auto it = j.find("aliases"); it != j.end() && it->is_array()) {
      for (const json& alias : *it) {
        if (alias.is_string()) aliases.push_back(FullName(alias.get<std::string>(), ns));
      }
    }
    return aliases;
  }

  absl::StatusOr<int> Named(const json& j, const std::string& kind_name, const std::string& ns) {
    if (!j.contains("name") || !j["name"].is_string()) {
      return Invalid(absl::StrCat(kind_name, " without a name"));
    }
    const std::string name = j["name"].get<std::string>();
    std::string own_ns = ns;
    if (name.find('.') != std::string::npos) {
      own_ns = name.substr(0, name.rfind('.'));
    } else if (auto it = j.find("namespace"); it != j.end() && it->is_string()) {
      own_ns = it->get<std::string>();
    }
    AvroNode node;
    node.full_name = FullName(name, own_ns);
    node.aliases = Aliases(j, own_ns);
    if (kind_name == "enum") {
      node.kind = AvroKind::kEnum;
      for (const json& symbol : j.value("symbols", json::array())) {
        if (symbol.is_string()) node.symbols.push_back(symbol.get<std::string>());
      }
      node.has_enum_default = j.contains("default");
    } else if (kind_name == "fixed") {
      node.kind = AvroKind::kFixed;
      node.size = j.value("size", int64_t{0});
    } else {
      node.kind = AvroKind::kRecord;
    }
    const int index = Add(std::move(node));
    names_[schema_->nodes_[index].full_name] = index;  // before the fields: recursion
    if (kind_name != "record" && kind_name != "error") return index;
    for (const json& f : j.value("fields", json::array())) {
      if (!f.is_object() || !f.contains("name") || !f.contains("type")) {
        return Invalid(absl::StrCat("a field of '", name, "' has no name or type"));
      }
      AvroField field;
      field.name = f["name"].get<std::string>();
      field.has_default = f.contains("default");
      if (auto it = f.find("aliases"); it != f.end() && it->is_array()) {
        for (const json& alias : *it) {
          if (alias.is_string()) field.aliases.push_back(alias.get<std::string>());
        }
      }
      absl::StatusOr<int> type = Build(f["type"], own_ns);
      if (!type.ok()) return type.status();
      field.type = *type;
      schema_->nodes_[index].fields.push_back(std::move(field));
    }
    return index;
  }

  AvroSchema* schema_;
  absl::flat_hash_map<std::pair<AvroKind, std::string>, int> primitives_;  // by logical type
  absl::flat_hash_map<std::string, int> names_;
};

absl::StatusOr<std::unique_ptr<AvroSchema>> AvroSchema::Parse(absl::string_view text) {
  if (absl::Status valid = ValidateWithAvroC(text); !valid.ok()) return valid;
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Invalid("not JSON");
  std::unique_ptr<AvroSchema> schema(new AvroSchema());
  try {
    AvroSchemaBuilder builder(schema.get());
    absl::StatusOr<int> root = builder.Build(j, "");
    if (!root.ok()) return root.status();
    schema->root_ = *root;
  } catch (const json::exception& e) {  // a value of an unexpected JSON type
    return Invalid(e.what());
  }
  schema->canonical_ = j.dump(-1, ' ', false, json::error_handler_t::replace);
  return schema;
}

std::vector<std::string> AvroSchema::ReadIncompatibilities(const ParsedSchema& writer) const {
  return AvroReadIncompatibilities(*this, static_cast<const AvroSchema&>(writer));
}

std::string AvroSchema::Describe(int index) const {
  const AvroNode& n = nodes_[index];
  switch (n.kind) {
    case AvroKind::kRecord:
    case AvroKind::kEnum:
    case AvroKind::kFixed:
      return absl::StrCat(AvroKindName(n.kind), " '", n.full_name, "'");
    case AvroKind::kArray:
      return absl::StrCat("array of ", Describe(n.element));
    case AvroKind::kMap:
      return absl::StrCat("map of ", Describe(n.element));
    case AvroKind::kUnion: {
      std::vector<std::string> branches;
      for (int b : n.branches) {
        const AvroNode& branch = nodes_[b];
        branches.push_back(branch.full_name.empty() ? AvroKindName(branch.kind) : branch.full_name);
      }
      return absl::StrCat("union [", absl::StrJoin(branches, ", "), "]");
    }
    default:
      if (!n.logical_type.empty()) return absl::StrCat(AvroKindName(n.kind), " (", n.logical_type, ")");
      return AvroKindName(n.kind);
  }
}

}  // namespace sluice::schema_registry
