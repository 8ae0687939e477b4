#include "common/types/schema.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace sluice::types {

absl::string_view TypeName(TypeId type) {
  switch (type) {
    case TypeId::kBool: return "bool";
    case TypeId::kInt64: return "int64";
    case TypeId::kFloat64: return "float64";
    case TypeId::kString: return "string";
    case TypeId::kBytes: return "bytes";
    case TypeId::kTimestamp: return "timestamp";
  }
  return "?";
}

absl::StatusOr<TypeId> ParseTypeName(absl::string_view name) {
  std::string n = absl::AsciiStrToLower(name);
  if (n == "bool" || n == "boolean") return TypeId::kBool;
  if (n == "int64" || n == "int" || n == "long" || n == "bigint") return TypeId::kInt64;
  if (n == "float64" || n == "double" || n == "float") return TypeId::kFloat64;
  if (n == "string" || n == "varchar") return TypeId::kString;
  if (n == "bytes") return TypeId::kBytes;
  if (n == "timestamp") return TypeId::kTimestamp;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown type '", name, "' (expected bool, int64, float64, string, bytes or timestamp)"));
}

std::optional<int> Schema::IndexOf(absl::string_view name) const {
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (fields_[i].name == name) return static_cast<int>(i);
  }
  return std::nullopt;
}

std::string Schema::ToString() const {
  return absl::StrJoin(fields_, ", ", [](std::string* out, const Field& f) {
    absl::StrAppend(out, f.name, " ", TypeName(f.type));
  });
}

proto::FieldType ToProtoType(TypeId t) {
  switch (t) {
    case TypeId::kBool: return proto::BOOL;
    case TypeId::kInt64: return proto::INT64;
    case TypeId::kFloat64: return proto::FLOAT64;
    case TypeId::kString: return proto::STRING;
    case TypeId::kBytes: return proto::BYTES;
    case TypeId::kTimestamp: return proto::TIMESTAMP;
  }
  return proto::INT64;
}

TypeId FromProtoType(proto::FieldType t) {
  switch (t) {
    case proto::BOOL: return TypeId::kBool;
    case proto::INT64: return TypeId::kInt64;
    case proto::FLOAT64: return TypeId::kFloat64;
    case proto::STRING: return TypeId::kString;
    case proto::BYTES: return TypeId::kBytes;
    case proto::TIMESTAMP: return TypeId::kTimestamp;
    default: return TypeId::kInt64;
  }
}

proto::Schema Schema::ToProto() const {
  proto::Schema p;
  for (const Field& f : fields_) {
    proto::Field* pf = p.add_fields();
    pf->set_name(f.name);
    pf->set_type(ToProtoType(f.type));
  }
  return p;
}

absl::StatusOr<Schema> Schema::FromProto(const proto::Schema& p) {
  std::vector<Field> fields;
  fields.reserve(p.fields_size());
  for (const proto::Field& pf : p.fields()) {
    if (!proto::FieldType_IsValid(pf.type())) {
      return absl::InvalidArgumentError(absl::StrCat("column '", pf.name(), "' has an invalid type"));
    }
    fields.push_back({pf.name(), FromProtoType(pf.type())});
  }
  return Schema(std::move(fields));
}

}  // namespace sluice::types
