// Vocabulary of the schema registry (common/schema_registry/): the schema types it accepts
// and the compatibility levels of Confluent Schema Registry, with their names on the wire
// ("AVRO", "BACKWARD_TRANSITIVE", ...). Used by the store, the compatibility checks and the
// HTTP service. Plain values and pure functions: safe from any thread.
#pragma once

#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace sluice::schema_registry {

enum class SchemaType { kAvro, kProtobuf };

// "AVRO" / "PROTOBUF".
const char* SchemaTypeName(SchemaType type);
// Case-sensitive, as Confluent: "AVRO" or "PROTOBUF"; nullopt for anything else.
std::optional<SchemaType> ParseSchemaType(absl::string_view name);

enum class CompatibilityLevel {
  kNone,
  kBackward,
  kBackwardTransitive,
  kForward,
  kForwardTransitive,
  kFull,
  kFullTransitive,
};

inline constexpr CompatibilityLevel kDefaultCompatibility = CompatibilityLevel::kBackward;

// "NONE", "BACKWARD", ...
const char* CompatibilityLevelName(CompatibilityLevel level);
// Case-insensitive ("full" is FULL); nullopt for an unknown name.
std::optional<CompatibilityLevel> ParseCompatibilityLevel(absl::string_view name);

}  // namespace sluice::schema_registry
