// AvroSchema: an Avro schema parsed into a tree the Avro codec (avro_codec.h) walks. The text
// is validated by the Avro C library (avro_schema_from_json_length), then read into AvroType
// nodes that keep what Avro C drops (logical types, field defaults) with named types
// resolved. DeriveAvroSchema writes the Avro schema of a Sluice column list: a record whose
// fields are ["null", T] unions with default null (every Sluice column is nullable), so that
// adding a column later is a backward-compatible change.
//
// Type mapping (Sluice -> Avro): bool boolean, int64 long, float64 double, string string,
// bytes bytes, timestamp long with logicalType timestamp-micros.
//
// Immutable after Parse; safe to share between threads.
#pragma once

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/types/schema.h"

namespace sluice::types {

struct AvroType;

struct AvroField {
  std::string name;
  const AvroType* type = nullptr;
};

struct AvroType {
  enum class Kind { kNull, kBoolean, kInt, kLong, kFloat, kDouble, kBytes, kString,
                    kRecord, kEnum, kArray, kMap, kUnion, kFixed };
  Kind kind = Kind::kNull;
  std::string name;          // full name of a record, enum or fixed
  std::string logical_type;  // e.g. "timestamp-millis", "timestamp-micros", "date"
  std::vector<AvroField> fields;           // record
  std::vector<std::string> symbols;        // enum
  std::vector<const AvroType*> branches;   // union
  const AvroType* items = nullptr;         // array items, map values
  size_t fixed_size = 0;                   // fixed
};

// "null", "long", "record com.acme.Txn", "union", ...: for messages.
std::string AvroKindName(const AvroType& type);

class AvroSchema {
 public:
  // Parses and validates `json`. InvalidArgument naming the problem (Avro C's message, or the
  // unsupported construct) when it is not a valid Avro schema.
  static absl::StatusOr<std::shared_ptr<const AvroSchema>> Parse(absl::string_view json);

  const AvroType& root() const { return *root_; }
  const std::string& json() const { return json_; }

 private:
  AvroSchema() = default;
  std::string json_;
  std::deque<AvroType> types_;  // stable addresses: AvroType nodes point at each other
  const AvroType* root_ = nullptr;
  friend class AvroSchemaReader;
};

// The Avro name of a column: characters Avro does not allow in names become '_'.
std::string AvroFieldName(absl::string_view column);

// The Avro schema (JSON text) of rows of `schema`, as a record named `record_name` (a full
// name such as "sluice.Txn"; characters Avro does not allow in names become '_').
std::string DeriveAvroSchema(const Schema& schema, absl::string_view record_name);

}  // namespace sluice::types
