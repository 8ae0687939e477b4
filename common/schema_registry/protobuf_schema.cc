#include "common/schema_registry/protobuf_schema.h"

#include <google/protobuf/compiler/importer.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/schema_registry/registry_errors.h"

namespace sluice::schema_registry {

namespace pb = google::protobuf;

namespace {

constexpr char kSchemaFile[] = "schema.proto";
constexpr char kSystemIncludeDir[] = "/usr/include";

// The first error the parser reports, as "LINE:COLUMN: message" (1-based).
class FirstErrorCollector : public pb::compiler::MultiFileErrorCollector {
 public:
  void AddError(const std::string& filename, int line, int column,
                const std::string& message) override {
    if (!error_.empty()) return;
    const std::string where = filename == kSchemaFile ? "" : absl::StrCat(filename, ":");
    error_ = line >= 0 ? absl::StrCat(where, line + 1, ":", column + 1, ": ", message)
                       : absl::StrCat(where, message);
  }
  const std::string& error() const { return error_; }

 private:
  std::string error_;
};

// The wire-compatible type groups of the protobuf language guide ("Updating a message").
int TypeGroup(const pb::FieldDescriptor& field) {
  switch (field.type()) {
    case pb::FieldDescriptor::TYPE_INT32:
    case pb::FieldDescriptor::TYPE_UINT32:
    case pb::FieldDescriptor::TYPE_INT64:
    case pb::FieldDescriptor::TYPE_UINT64:
    case pb::FieldDescriptor::TYPE_BOOL:
    case pb::FieldDescriptor::TYPE_ENUM:
      return 1;
    case pb::FieldDescriptor::TYPE_SINT32:
    case pb::FieldDescriptor::TYPE_SINT64:
      return 2;
    case pb::FieldDescriptor::TYPE_FIXED32:
    case pb::FieldDescriptor::TYPE_SFIXED32:
      return 3;
    case pb::FieldDescriptor::TYPE_FIXED64:
    case pb::FieldDescriptor::TYPE_SFIXED64:
      return 4;
    case pb::FieldDescriptor::TYPE_STRING:
    case pb::FieldDescriptor::TYPE_BYTES:
      return 5;
    default:
      return 100 + field.type();  // message, group, float, double: only themselves
  }
}

// "int64", or the full name of a message or enum type.
std::string TypeName(const pb::FieldDescriptor& field) {
  if (field.message_type() != nullptr) return field.message_type()->full_name();
  if (field.enum_type() != nullptr) return field.enum_type()->full_name();
  return field.type_name();
}

std::string FieldChange(const pb::FieldDescriptor& reader, const pb::FieldDescriptor& writer) {
  if (reader.is_repeated() != writer.is_repeated()) {
    return reader.is_repeated() ? "changed from singular to repeated"
                                : "changed from repeated to singular";
  }
  const bool messages = reader.message_type() != nullptr || writer.message_type() != nullptr;
  const bool enums = reader.enum_type() != nullptr && writer.enum_type() != nullptr;
  const bool compatible = messages || enums ? TypeName(reader) == TypeName(writer)
                                            : TypeGroup(reader) == TypeGroup(writer);
  if (compatible) return "";
  return absl::StrCat("type changed from ", TypeName(writer), " to ", TypeName(reader));
}

void CheckMessage(const pb::Descriptor& writer, const pb::DescriptorPool& reader_pool,
                  std::vector<std::string>* reasons) {
  const pb::Descriptor* reader = reader_pool.FindMessageTypeByName(writer.full_name());
  if (reader == nullptr) {
    reasons->push_back(absl::StrCat("message '", writer.full_name(),
                                    "' of the writer schema is missing from the reader schema"));
    return;
  }
  for (int i = 0; i < writer.field_count(); ++i) {
    const pb::FieldDescriptor& wf = *writer.field(i);
    const pb::FieldDescriptor* rf = reader->FindFieldByNumber(wf.number());
    if (rf == nullptr) continue;  // a removed field: readers skip it
    if (std::string change = FieldChange(*rf, wf); !change.empty()) {
      reasons->push_back(absl::StrCat("field '", reader->full_name(), ".", rf->name(), "' (number ",
                                      wf.number(), "): ", change));
    }
  }
  for (int i = 0; i < writer.nested_type_count(); ++i) {
    CheckMessage(*writer.nested_type(i), reader_pool, reasons);
  }
}

}  // namespace

// The schema text as kSchemaFile; google/protobuf/*.proto from the system include directory.
class ProtobufSourceTree : public pb::compiler::SourceTree {
 public:
  explicit ProtobufSourceTree(std::string text) : text_(std::move(text)) {
    system_.MapPath("google/protobuf/", absl::StrCat(kSystemIncludeDir, "/google/protobuf/"));
  }
  pb::io::ZeroCopyInputStream* Open(const std::string& filename) override {
    if (filename == kSchemaFile) {
      return new pb::io::ArrayInputStream(text_.data(), static_cast<int>(text_.size()));
    }
    if (absl::StartsWith(filename, "google/protobuf/")) return system_.Open(filename);
    last_error_ = "only google/protobuf/*.proto imports are supported (no schema references)";
    return nullptr;
  }
  std::string GetLastErrorMessage() override { return last_error_; }

 private:
  std::string text_;
  pb::compiler::DiskSourceTree system_;
  std::string last_error_ = "File not found.";
};

ProtobufSchema::ProtobufSchema() = default;
ProtobufSchema::~ProtobufSchema() = default;

absl::StatusOr<std::unique_ptr<ProtobufSchema>> ProtobufSchema::Parse(absl::string_view text) {
  std::unique_ptr<ProtobufSchema> schema(new ProtobufSchema());
  schema->source_tree_ = std::make_unique<ProtobufSourceTree>(std::string(text));
  FirstErrorCollector errors;
  schema->importer_ = std::make_unique<pb::compiler::Importer>(schema->source_tree_.get(), &errors);
  schema->file_ = schema->importer_->Import(kSchemaFile);
  if (schema->file_ == nullptr || !errors.error().empty()) {
    return RegistryError(
        kInvalidSchema,
        absl::StrCat("Invalid schema: ",
                     errors.error().empty() ? "cannot parse the .proto text" : errors.error()));
  }
  schema->canonical_ = schema->file_->DebugString();
  return schema;
}

std::vector<std::string> ProtobufSchema::ReadIncompatibilities(const ParsedSchema& writer) const {
  const auto& w = static_cast<const ProtobufSchema&>(writer);
  std::vector<std::string> reasons;
  for (int i = 0; i < w.file_->message_type_count(); ++i) {
    CheckMessage(*w.file_->message_type(i), *file_->pool(), &reasons);
  }
  return reasons;
}

}  // namespace sluice::schema_registry
