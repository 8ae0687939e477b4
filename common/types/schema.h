// Schema: the typed column list of a stream. Built once per operator at deployment and shared
// (immutable) by every batch of that stream; safe to read from any thread.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/statusor.h"
#include "proto/jobgraph.pb.h"

namespace sluice::types {

enum class TypeId : uint8_t { kBool, kInt64, kFloat64, kString, kBytes, kTimestamp };

// Lower-case name as written in job specs: bool, int64, float64, string, bytes, timestamp.
absl::string_view TypeName(TypeId type);
// Parses a type name of a job spec (also accepts the aliases int, long, double, float, boolean).
absl::StatusOr<TypeId> ParseTypeName(absl::string_view name);

// True when values of this type are stored in Column::ints (BOOL, INT64, TIMESTAMP).
inline bool IsIntegerStored(TypeId t) {
  return t == TypeId::kBool || t == TypeId::kInt64 || t == TypeId::kTimestamp;
}
inline bool IsStringStored(TypeId t) { return t == TypeId::kString || t == TypeId::kBytes; }

struct Field {
  std::string name;
  TypeId type;
  bool operator==(const Field&) const = default;
};

class Schema {
 public:
  Schema() = default;
  explicit Schema(std::vector<Field> fields) : fields_(std::move(fields)) {}

  const std::vector<Field>& fields() const { return fields_; }
  size_t size() const { return fields_.size(); }
  const Field& field(size_t i) const { return fields_[i]; }
  // Index of a column by name, or nullopt.
  std::optional<int> IndexOf(absl::string_view name) const;
  // "card int64, amount float64"
  std::string ToString() const;

  bool operator==(const Schema&) const = default;

  proto::Schema ToProto() const;
  static absl::StatusOr<Schema> FromProto(const proto::Schema& proto);

 private:
  std::vector<Field> fields_;
};

using SchemaPtr = std::shared_ptr<const Schema>;

proto::FieldType ToProtoType(TypeId t);
TypeId FromProtoType(proto::FieldType t);

}  // namespace sluice::types
