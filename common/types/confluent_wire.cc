#include "common/types/confluent_wire.h"

namespace sluice::types {

bool ReadConfluentHeader(absl::string_view record, int32_t* id, absl::string_view* payload,
                         std::string* error) {
  if (record.size() < kConfluentHeaderSize) {
    *error = absl::StrCat("a ", record.size(), "-byte message is too short for the Confluent "
                          "wire format (5-byte header)");
    return false;
  }
  if (record[0] != 0) {
    *error = absl::StrCat("wrong magic byte 0x",
                          absl::Hex(static_cast<uint8_t>(record[0]), absl::kZeroPad2),
                          " (the Confluent wire format starts with 0x00)");
    return false;
  }
  uint32_t raw = 0;
  for (size_t i = 1; i < kConfluentHeaderSize; ++i) {
    raw = raw << 8 | static_cast<uint8_t>(record[i]);
  }
  *id = static_cast<int32_t>(raw);
  *payload = record.substr(kConfluentHeaderSize);
  return true;
}

std::string ConfluentHeader(int32_t id) {
  const uint32_t raw = static_cast<uint32_t>(id);
  return {0, static_cast<char>(raw >> 24), static_cast<char>(raw >> 16),
          static_cast<char>(raw >> 8), static_cast<char>(raw)};
}

absl::StatusOr<std::shared_ptr<schema_registry::SchemaRegistryClient>> ConfluentRegistry(
    const FormatOptions& options) {
  if (options.registry.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "format ", options.name, " needs a schema registry: set registry: on the connector, or "
        "kafka.registry in the cluster configuration"));
  }
  return schema_registry::SchemaRegistryClient::ForUrl(options.registry);
}

}  // namespace sluice::types
