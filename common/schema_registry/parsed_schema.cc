#include "common/schema_registry/parsed_schema.h"

#include "common/schema_registry/avro_schema.h"
#include "common/schema_registry/protobuf_schema.h"

namespace sluice::schema_registry {

absl::StatusOr<std::shared_ptr<const ParsedSchema>> ParseSchema(SchemaType type,
                                                                absl::string_view text) {
  if (type == SchemaType::kProtobuf) {
    absl::StatusOr<std::unique_ptr<ProtobufSchema>> parsed = ProtobufSchema::Parse(text);
    if (!parsed.ok()) return parsed.status();
    return std::shared_ptr<const ParsedSchema>(*std::move(parsed));
  }
  absl::StatusOr<std::unique_ptr<AvroSchema>> parsed = AvroSchema::Parse(text);
  if (!parsed.ok()) return parsed.status();
  return std::shared_ptr<const ParsedSchema>(*std::move(parsed));
}

}  // namespace sluice::schema_registry
