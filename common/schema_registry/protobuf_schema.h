// ProtobufSchema: a .proto file (the text of a PROTOBUF schema) parsed with libprotoc's
// Importer from an in-memory source tree; imports of google/protobuf/*.proto (the well-known
// types) are read from the system's protobuf include directory, other imports (Confluent
// schema references) are not supported. Its canonical text is the descriptor printed back
// (comments, white space and option layout normalized).
//
// Compatibility (ReadIncompatibilities) checks a documented subset of Confluent's rules,
// comparing each message of the writer with the reader's message of the same full name:
//   - a message of the writer missing from the reader (removed or renamed) is incompatible;
//   - a field number in both whose type changed is incompatible, unless both types are in
//     one wire-compatible group: {int32, uint32, int64, uint64, bool, enum},
//     {sint32, sint64}, {fixed32, sfixed32}, {fixed64, sfixed64}, {string, bytes};
//     a message or enum field whose type name changed is incompatible;
//   - a field that changed between repeated and singular is incompatible.
// Added or removed fields, renamed fields, enum values, oneofs, options and syntax changes
// are not checked (accepted). Immutable after Parse: safe to share between threads.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/schema_registry/parsed_schema.h"

namespace google::protobuf {
class FileDescriptor;
namespace compiler {
class Importer;
}
}  // namespace google::protobuf

namespace sluice::schema_registry {

class ProtobufSourceTree;

class ProtobufSchema final : public ParsedSchema {
 public:
  // RegistryError(kInvalidSchema, "Invalid schema: LINE:COLUMN: <the parser's message>")
  // when the text is not a valid .proto file.
  static absl::StatusOr<std::unique_ptr<ProtobufSchema>> Parse(absl::string_view text);
  ~ProtobufSchema() override;

  SchemaType type() const override { return SchemaType::kProtobuf; }
  const std::string& canonical() const override { return canonical_; }
  std::vector<std::string> ReadIncompatibilities(const ParsedSchema& writer) const override;

  const google::protobuf::FileDescriptor* file() const { return file_; }

 private:
  ProtobufSchema();

  std::unique_ptr<ProtobufSourceTree> source_tree_;
  std::unique_ptr<google::protobuf::compiler::Importer> importer_;
  const google::protobuf::FileDescriptor* file_ = nullptr;
  std::string canonical_;
};

}  // namespace sluice::schema_registry
