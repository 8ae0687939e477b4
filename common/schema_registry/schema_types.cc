#include "common/schema_registry/schema_types.h"

#include <array>
#include <utility>

#include "absl/strings/match.h"

namespace sluice::schema_registry {
namespace {

constexpr std::array<std::pair<CompatibilityLevel, const char*>, 7> kLevels = {{
    {CompatibilityLevel::kNone, "NONE"},
    {CompatibilityLevel::kBackward, "BACKWARD"},
    {CompatibilityLevel::kBackwardTransitive, "BACKWARD_TRANSITIVE"},
    {CompatibilityLevel::kForward, "FORWARD"},
    {CompatibilityLevel::kForwardTransitive, "FORWARD_TRANSITIVE"},
    {CompatibilityLevel::kFull, "FULL"},
    {CompatibilityLevel::kFullTransitive, "FULL_TRANSITIVE"},
}};

}  // namespace

const char* SchemaTypeName(SchemaType type) {
  return type == SchemaType::kProtobuf ? "PROTOBUF" : "AVRO";
}

std::optional<SchemaType> ParseSchemaType(absl::string_view name) {
  if (name == "AVRO") return SchemaType::kAvro;
  if (name == "PROTOBUF") return SchemaType::kProtobuf;
  return std::nullopt;
}

const char* CompatibilityLevelName(CompatibilityLevel level) {
  for (const auto& [value, name] : kLevels) {
    if (value == level) return name;
  }
  return "BACKWARD";
}

std::optional<CompatibilityLevel> ParseCompatibilityLevel(absl::string_view name) {
  for (const auto& [value, level_name] : kLevels) {
    if (absl::EqualsIgnoreCase(name, level_name)) return value;
  }
  return std::nullopt;
}

}  // namespace sluice::schema_registry
