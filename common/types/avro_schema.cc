#include "common/types/avro_schema.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/schema_registry/avro_schema.h"
#include "common/schema_registry/registry_client.h"
#include "nlohmann/json.hpp"

namespace sluice::types {

std::string AvroFieldName(absl::string_view column) {
  std::string out(column);
  for (size_t i = 0; i < out.size(); ++i) {
    const char c = out[i];
    if (!(absl::ascii_isalpha(c) || c == '_' || (i > 0 && absl::ascii_isdigit(c)))) out[i] = '_';
  }
  return out.empty() ? "_" : out;
}

namespace {

// A full name ("com.acme.Txn"): each dot-separated part an Avro name.
std::string AvroFullName(absl::string_view name) {
  std::vector<std::string> parts;
  for (absl::string_view part : absl::StrSplit(name, '.')) parts.push_back(AvroFieldName(part));
  return absl::StrJoin(parts, ".");
}

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
  std::string full = AvroFullName(record_name);
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

absl::StatusOr<Schema> ColumnsOfAvroSchema(absl::string_view avro_json) {
  using schema_registry::AvroKind;
  using schema_registry::AvroNode;
  absl::StatusOr<std::unique_ptr<schema_registry::AvroSchema>> parsed =
      schema_registry::AvroSchema::Parse(avro_json);
  if (!parsed.ok()) return parsed.status();
  const schema_registry::AvroSchema& avro = **parsed;
  const AvroNode& root = avro.node(avro.root());
  if (root.kind != AvroKind::kRecord) {
    return absl::InvalidArgumentError(
        absl::StrCat("the schema is ", avro.Describe(avro.root()), ", not a record"));
  }
  std::vector<Field> fields;
  for (const schema_registry::AvroField& f : root.fields) {
    const AvroNode* type = &avro.node(f.type);
    if (type->kind == AvroKind::kUnion) {  // ["null", T] or [T, "null"]
      const AvroNode* only = nullptr;
      int others = 0;
      for (int b : type->branches) {
        if (avro.node(b).kind == AvroKind::kNull) continue;
        only = &avro.node(b);
        ++others;
      }
      if (others != 1) continue;
      type = only;
    }
    const bool timestamp = absl::StartsWith(type->logical_type, "timestamp-") ||
                           absl::StartsWith(type->logical_type, "local-timestamp-");
    switch (type->kind) {
      case AvroKind::kBoolean: fields.push_back({f.name, TypeId::kBool}); break;
      case AvroKind::kInt:
      case AvroKind::kLong:
        fields.push_back({f.name, timestamp ? TypeId::kTimestamp : TypeId::kInt64});
        break;
      case AvroKind::kFloat:
      case AvroKind::kDouble: fields.push_back({f.name, TypeId::kFloat64}); break;
      case AvroKind::kString:
      case AvroKind::kEnum: fields.push_back({f.name, TypeId::kString}); break;
      case AvroKind::kBytes:
      case AvroKind::kFixed: fields.push_back({f.name, TypeId::kBytes}); break;
      default: break;  // records, arrays, maps: no column
    }
  }
  if (fields.empty()) {
    return absl::InvalidArgumentError("no field of the schema maps to a Sluice column type");
  }
  return Schema(std::move(fields));
}

absl::StatusOr<Schema> RegistryColumns(const std::string& registry, const std::string& subject) {
  absl::StatusOr<schema_registry::RegisteredSchema> latest =
      schema_registry::SchemaRegistryClient::ForUrl(registry)->Latest(subject);
  if (!latest.ok()) return latest.status();
  if (latest->type != schema_registry::SchemaType::kAvro) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the latest schema of '", subject, "' is ", SchemaTypeName(latest->type),
        "; columns are taken from Avro schemas only (give schema:)"));
  }
  return ColumnsOfAvroSchema(latest->schema);
}

}  // namespace sluice::types
