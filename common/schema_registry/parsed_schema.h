// ParsedSchema: a registered or candidate schema after parsing, whatever its type: its
// canonical text (what "the same schema" means for ids) and the reader/writer compatibility
// question the compatibility levels are built from. ParseSchema validates the text and picks
// the implementation (AvroSchema, ProtobufSchema). Immutable after parsing: safe to share
// between threads.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/schema_registry/schema_types.h"

namespace sluice::schema_registry {

class ParsedSchema {
 public:
  virtual ~ParsedSchema() = default;

  virtual SchemaType type() const = 0;
  // A normalized form: two texts of the same schema (other white space, key order, ...)
  // have the same canonical text, and so the same id.
  virtual const std::string& canonical() const = 0;
  // Why a reader using this schema cannot read data written with `writer` (of the same
  // type), one reason per problem naming its field or type; empty when it can.
  virtual std::vector<std::string> ReadIncompatibilities(const ParsedSchema& writer) const = 0;
};

// Parses and validates `text` as a schema of `type`. An invalid schema is
// RegistryError(kInvalidSchema, "Invalid schema: <the parser's reason>").
absl::StatusOr<std::shared_ptr<const ParsedSchema>> ParseSchema(SchemaType type,
                                                                absl::string_view text);

}  // namespace sluice::schema_registry
