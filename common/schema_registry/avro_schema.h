// AvroSchema: an Avro schema (JSON text) validated by Avro C and turned into a graph of
// nodes that the compatibility rules (avro_compatibility.h) and the avro record formats
// (common/types/avro_codec.h) walk. Named types (record, enum,
// fixed) are nodes of their own, referenced by index, so recursive types are a cycle of
// indexes. Docs and field order do not matter for reading and are not kept (logical types are, for
// decoding);
// the canonical text is the JSON with sorted keys and no white space. Immutable after
// Parse: safe to share between threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/schema_registry/parsed_schema.h"

namespace sluice::schema_registry {

enum class AvroKind {
  kNull,
  kBoolean,
  kInt,
  kLong,
  kFloat,
  kDouble,
  kBytes,
  kString,
  kRecord,
  kEnum,
  kFixed,
  kArray,
  kMap,
  kUnion,
};

// "int", "record", ... as in the Avro specification.
const char* AvroKindName(AvroKind kind);

struct AvroField {
  std::string name;
  std::vector<std::string> aliases;
  int type = -1;  // node index
  bool has_default = false;
};

struct AvroNode {
  AvroKind kind = AvroKind::kNull;
  std::string full_name;             // record, enum, fixed: "ns.Name"
  std::string logical_type;          // primitives: "timestamp-millis", "date", ... ("" = none)
  std::vector<std::string> aliases;  // full names
  std::vector<AvroField> fields;     // record
  std::vector<std::string> symbols;  // enum
  bool has_enum_default = false;     // enum
  int64_t size = 0;                  // fixed
  int element = -1;                  // array items, map values
  std::vector<int> branches;         // union
};

class AvroSchema final : public ParsedSchema {
 public:
  // RegistryError(kInvalidSchema, "Invalid schema: <Avro C's message>") when invalid.
  static absl::StatusOr<std::unique_ptr<AvroSchema>> Parse(absl::string_view text);

  SchemaType type() const override { return SchemaType::kAvro; }
  const std::string& canonical() const override { return canonical_; }
  std::vector<std::string> ReadIncompatibilities(const ParsedSchema& writer) const override;

  int root() const { return root_; }
  const AvroNode& node(int index) const { return nodes_[index]; }
  // For a node in a message: "int", "record 'ns.Order'", "union [null, string]".
  std::string Describe(int index) const;

 private:
  friend class AvroSchemaBuilder;
  AvroSchema() = default;

  std::vector<AvroNode> nodes_;
  int root_ = -1;
  std::string canonical_;
};

// The part of a full name after its last dot.
absl::string_view UnqualifiedName(absl::string_view full_name);

}  // namespace sluice::schema_registry
