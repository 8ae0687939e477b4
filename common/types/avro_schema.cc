#include "common/types/avro_schema.h"

#include <avro.h>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"

namespace sluice::types {

using Kind = AvroType::Kind;

std::string AvroKindName(const AvroType& type) {
  static const char* const kNames[] = {"null",   "boolean", "int",   "long",  "float",
                                       "double", "bytes",   "string", "record", "enum",
                                       "array",  "map",     "union", "fixed"};
  std::string name = kNames[static_cast<int>(type.kind)];
  if (!type.name.empty()) absl::StrAppend(&name, " ", type.name);
  if (!type.logical_type.empty()) absl::StrAppend(&name, " (", type.logical_type, ")");
  return name;
}

// Reads a validated schema's JSON into AvroType nodes, resolving named types.
class AvroSchemaReader {
 public:
  explicit AvroSchemaReader(AvroSchema* out) : out_(out) {}

  absl::StatusOr<const AvroType*> Read(const nlohmann::json& json, const std::string& space) {
    if (json.is_string()) return Named(json.get<std::string>(), space);
    if (json.is_array()) {
      AvroType* u = New(Kind::kUnion);
      for (const nlohmann::json& branch : json) {
        absl::StatusOr<const AvroType*> b = Read(branch, space);
        if (!b.ok()) return b.status();
        u->branches.push_back(*b);
      }
      return u;
    }
    if (!json.is_object() || !json.contains("type")) {
      return absl::InvalidArgumentError(absl::StrCat("not an Avro type: ", json.dump()));
    }
    const nlohmann::json& type = json["type"];
    if (!type.is_string()) return Read(type, space);  // {"type": {...}} or {"type": [...]}
    const std::string kind = type.get<std::string>();
    const std::string logical = json.value("logicalType", "");
    if (kind == "record" || kind == "error" || kind == "enum" || kind == "fixed") {
      const std::string full = FullName(json, space);
      const std::string inner_space = full.substr(0, full.rfind('.') == std::string::npos ? 0 : full.rfind('.'));
      AvroType* t = New(kind == "enum" ? Kind::kEnum : kind == "fixed" ? Kind::kFixed : Kind::kRecord);
      t->name = full;
      t->logical_type = logical;
      named_[full] = t;
      if (t->kind == Kind::kRecord) {
        for (const nlohmann::json& f : json.value("fields", nlohmann::json::array())) {
          absl::StatusOr<const AvroType*> ft = Read(f.at("type"), inner_space);
          if (!ft.ok()) return ft.status();
          t->fields.push_back({f.at("name").get<std::string>(), *ft});
        }
      } else if (t->kind == Kind::kEnum) {
        for (const nlohmann::json& s : json.value("symbols", nlohmann::json::array())) {
          t->symbols.push_back(s.get<std::string>());
        }
      } else {
        t->fixed_size = json.value("size", 0);
      }
      return t;
    }
    if (kind == "array" || kind == "map") {
      AvroType* t = New(kind == "array" ? Kind::kArray : Kind::kMap);
      absl::StatusOr<const AvroType*> items = Read(json.at(kind == "array" ? "items" : "values"), space);
      if (!items.ok()) return items.status();
      t->items = *items;
      return t;
    }
    absl::StatusOr<const AvroType*> primitive = Named(kind, space);
    if (!primitive.ok() || logical.empty()) return primitive;
    AvroType* t = New((*primitive)->kind);  // a primitive with a logical type
    t->logical_type = logical;
    return t;
  }

 private:
  AvroType* New(Kind kind) {
    AvroType& t = out_->types_.emplace_back();
    t.kind = kind;
    return &t;
  }

  static std::string FullName(const nlohmann::json& json, const std::string& space) {
    const std::string name = json.value("name", "");
    if (name.find('.') != std::string::npos) return name;
    const std::string ns = json.contains("namespace") && json["namespace"].is_string()
                               ? json["namespace"].get<std::string>()
                               : space;
    return ns.empty() ? name : absl::StrCat(ns, ".", name);
  }

  absl::StatusOr<const AvroType*> Named(const std::string& name, const std::string& space) {
    static const auto* const kPrimitives = new absl::flat_hash_map<std::string, Kind>{
        {"null", Kind::kNull},     {"boolean", Kind::kBoolean}, {"int", Kind::kInt},
        {"long", Kind::kLong},     {"float", Kind::kFloat},     {"double", Kind::kDouble},
        {"bytes", Kind::kBytes},   {"string", Kind::kString}};
    if (auto it = kPrimitives->find(name); it != kPrimitives->end()) return New(it->second);
    if (!space.empty()) {
      if (auto it = named_.find(absl::StrCat(space, ".", name)); it != named_.end()) return it->second;
    }
    if (auto it = named_.find(name); it != named_.end()) return it->second;
    return absl::InvalidArgumentError(absl::StrCat("unknown Avro type name '", name, "'"));
  }

  AvroSchema* out_;
  absl::flat_hash_map<std::string, const AvroType*> named_;
};

absl::StatusOr<std::shared_ptr<const AvroSchema>> AvroSchema::Parse(absl::string_view json) {
  avro_schema_t validated = nullptr;
  if (avro_schema_from_json_length(json.data(), json.size(), &validated) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid Avro schema: ", absl::StripTrailingAsciiWhitespace(avro_strerror())));
  }
  avro_schema_decref(validated);
  nlohmann::json parsed = nlohmann::json::parse(json.begin(), json.end(), nullptr, false);
  if (parsed.is_discarded()) return absl::InvalidArgumentError("invalid Avro schema: not JSON");
  std::shared_ptr<AvroSchema> schema(new AvroSchema());
  schema->json_ = std::string(json);
  try {
    AvroSchemaReader reader(schema.get());
    absl::StatusOr<const AvroType*> root = reader.Read(parsed, "");
    if (!root.ok()) return root.status();
    schema->root_ = *root;
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("invalid Avro schema: ", e.what()));
  }
  return std::shared_ptr<const AvroSchema>(std::move(schema));
}

namespace {

std::string AvroName(absl::string_view name) {
  std::string out(name);
  for (size_t i = 0; i < out.size(); ++i) {
    const char c = out[i];
    const bool ok = absl::ascii_isalpha(c) || c == '_' || (i > 0 && absl::ascii_isdigit(c)) ||
                    (c == '.' && i > 0 && i + 1 < out.size());
    if (!ok) out[i] = '_';
  }
  return out.empty() ? "_" : out;
}

}  // namespace

std::string AvroFieldName(absl::string_view column) { return AvroName(column); }

namespace {

nlohmann::json AvroTypeOf(TypeId type) {
  switch (type) {
    case TypeId::kBool: return "boolean";
    case TypeId::kInt64: return "long";
    case TypeId::kFloat64: return "double";
    case TypeId::kString: return "string";
    case TypeId::kBytes: return "bytes";
    case TypeId::kTimestamp: return {{"type", "long"}, {"logicalType", "timestamp-micros"}};
  }
  return "null";
}

}  // namespace

std::string DeriveAvroSchema(const Schema& schema, absl::string_view record_name) {
  std::string full = AvroName(record_name);
  nlohmann::json record = {{"type", "record"}};
  if (const size_t dot = full.rfind('.'); dot != std::string::npos) {
    record["name"] = full.substr(dot + 1);
    record["namespace"] = full.substr(0, dot);
  } else {
    record["name"] = full;
  }
  nlohmann::json fields = nlohmann::json::array();
  for (const Field& f : schema.fields()) {
    fields.push_back({{"name", AvroFieldName(f.name)},
                      {"type", nlohmann::json::array({"null", AvroTypeOf(f.type)})},
                      {"default", nullptr}});
  }
  record["fields"] = std::move(fields);
  return record.dump();
}

}  // namespace sluice::types
