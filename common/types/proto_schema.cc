#include "common/types/proto_schema.h"

#include <algorithm>
#include <filesystem>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/file_util.h"
#include "google/protobuf/compiler/importer.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/descriptor_database.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/timestamp.pb.h"

namespace sluice::types {
namespace {

namespace pb = google::protobuf;
using pb::compiler::SourceTree;

constexpr char kSchemaFile[] = "schema.proto";        // the name of registry text
constexpr char kDerivedFile[] = "sluice_derived.proto";

// libprotoc's parse and validation errors as "file:line:column: message" lines.
class ParseErrors : public pb::compiler::MultiFileErrorCollector {
 public:
  void AddError(const std::string& file, int line, int column,
                const std::string& message) override {
    if (!text.empty()) text += "; ";
    // libprotoc counts lines and columns from 0.
    absl::StrAppend(&text, file, line >= 0 ? absl::StrCat(":", line + 1, ":", column + 1) : "",
                    ": ", message);
  }
  std::string text;
};

class BuildErrors : public pb::DescriptorPool::ErrorCollector {
 public:
  void AddError(const std::string& file, const std::string& element, const pb::Message*,
                ErrorLocation, const std::string& message) override {
    if (!text.empty()) text += "; ";
    absl::StrAppend(&text, file, ": ", element, ": ", message);
  }
  std::string text;
};

// One in-memory file.
class TextSourceTree : public SourceTree {
 public:
  TextSourceTree(std::string name, std::string text)
      : name_(std::move(name)), text_(std::move(text)) {}
  pb::io::ZeroCopyInputStream* Open(const std::string& filename) override {
    if (filename != name_) return nullptr;
    return new pb::io::ArrayInputStream(text_.data(), static_cast<int>(text_.size()));
  }
  std::string GetLastErrorMessage() override {
    return "not found (schema references are not supported: a registry schema may import "
           "only the well-known google/protobuf/*.proto files)";
  }

 private:
  std::string name_;
  std::string text_;
};

std::string SanitizedName(absl::string_view name) {
  std::string out(name);
  for (char& c : out) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_') c = '_';
  }
  if (out.empty() || absl::ascii_isdigit(static_cast<unsigned char>(out[0]))) {
    out.insert(out.begin(), '_');
  }
  return out;
}

pb::FieldDescriptorProto::Type DerivedType(TypeId type) {
  switch (type) {
    case TypeId::kBool: return pb::FieldDescriptorProto::TYPE_BOOL;
    case TypeId::kInt64: return pb::FieldDescriptorProto::TYPE_INT64;
    case TypeId::kFloat64: return pb::FieldDescriptorProto::TYPE_DOUBLE;
    case TypeId::kString: return pb::FieldDescriptorProto::TYPE_STRING;
    case TypeId::kBytes: return pb::FieldDescriptorProto::TYPE_BYTES;
    case TypeId::kTimestamp: return pb::FieldDescriptorProto::TYPE_MESSAGE;
  }
  return pb::FieldDescriptorProto::TYPE_BYTES;
}

}  // namespace

// A descriptor pool over one source of files (a source tree, or a database of built file
// descriptors) that falls back to the well-known types compiled into libprotobuf. Members are
// declared in the order they depend on each other.
struct ProtoSchema::Pool {
  explicit Pool(std::unique_ptr<SourceTree> source_tree)
      : tree(std::move(source_tree)),
        tree_db(std::make_unique<pb::compiler::SourceTreeDescriptorDatabase>(tree.get(),
                                                                             &generated)) {
    tree_db->RecordErrorsTo(&parse_errors);
    pool = std::make_unique<pb::DescriptorPool>(tree_db.get(),
                                                tree_db->GetValidationErrorCollector());
  }
  explicit Pool(const pb::FileDescriptorProto& file) : merged(&files, &generated) {
    files.Add(file);
    pool = std::make_unique<pb::DescriptorPool>(&merged, &build_errors);
  }
  std::string Errors() const {
    return parse_errors.text.empty() ? build_errors.text : parse_errors.text;
  }

  pb::DescriptorPoolDatabase generated{*pb::DescriptorPool::generated_pool()};
  ParseErrors parse_errors;
  BuildErrors build_errors;
  std::unique_ptr<SourceTree> tree;
  std::unique_ptr<pb::compiler::SourceTreeDescriptorDatabase> tree_db;
  pb::SimpleDescriptorDatabase files;
  pb::MergedDescriptorDatabase merged{&files, &generated};
  std::unique_ptr<pb::DescriptorPool> pool;
};

ProtoSchema::~ProtoSchema() = default;

absl::StatusOr<std::shared_ptr<const ProtoSchema>> ProtoSchema::Load(std::unique_ptr<Pool> pool,
                                                                     const std::string& file,
                                                                     absl::string_view message,
                                                                     std::string text) {
  // The well-known types compiled into libprotobuf must be linked for the fallback to find them.
  (void)pb::Timestamp::descriptor();
  const pb::FileDescriptor* built = pool->pool->FindFileByName(file);
  if (built == nullptr) {
    std::string errors = pool->Errors();
    return absl::InvalidArgumentError(errors.empty() ? absl::StrCat(file, ": cannot be parsed")
                                                     : errors);
  }
  auto schema = std::shared_ptr<ProtoSchema>(new ProtoSchema());
  if (message.empty()) {
    if (built->message_type_count() == 0) {
      return absl::InvalidArgumentError(absl::StrCat(file, " defines no message"));
    }
    schema->message_ = built->message_type(0);
  } else {
    schema->message_ = pool->pool->FindMessageTypeByName(std::string(message));
    if (schema->message_ == nullptr) {
      std::vector<std::string> names;
      for (int i = 0; i < built->message_type_count(); ++i) {
        names.push_back(built->message_type(i)->full_name());
      }
      return absl::InvalidArgumentError(
          absl::StrCat(file, " has no message '", message, "' (it has ",
                       names.empty() ? "none" : absl::StrJoin(names, ", "),
                       "; nested messages are named Outer.Inner)"));
    }
  }
  schema->text_ = text.empty() ? built->DebugString() : std::move(text);
  schema->pool_ = std::move(pool);
  return schema;
}

absl::StatusOr<std::shared_ptr<const ProtoSchema>> ProtoSchema::FromFile(
    const std::string& path, absl::string_view message) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  const std::filesystem::path file(path);
  auto tree = std::make_unique<pb::compiler::DiskSourceTree>();
  tree->MapPath("", file.parent_path().empty() ? "." : file.parent_path().string());
  return Load(std::make_unique<Pool>(std::move(tree)), file.filename().string(), message,
              *std::move(text));
}

absl::StatusOr<std::shared_ptr<const ProtoSchema>> ProtoSchema::FromText(absl::string_view text) {
  auto tree = std::make_unique<TextSourceTree>(kSchemaFile, std::string(text));
  return Load(std::make_unique<Pool>(std::move(tree)), kSchemaFile, "", std::string(text));
}

absl::StatusOr<std::shared_ptr<const ProtoSchema>> ProtoSchema::Derive(
    const Schema& columns, absl::string_view record_name) {
  std::vector<std::string> parts =
      absl::StrSplit(record_name.empty() ? "sluice.Row" : record_name, '.', absl::SkipEmpty());
  for (std::string& part : parts) part = SanitizedName(part);
  pb::FileDescriptorProto file;
  file.set_name(kDerivedFile);
  file.set_syntax("proto3");
  if (parts.size() > 1) {
    file.set_package(absl::StrJoin(parts.begin(), parts.end() - 1, "."));
  }
  pb::DescriptorProto* message = file.add_message_type();
  message->set_name(parts.back());
  absl::flat_hash_set<std::string> names;
  for (size_t c = 0; c < columns.size(); ++c) {
    names.insert(ProtoFieldName(columns.field(c).name));
  }
  absl::flat_hash_set<std::string> taken;
  bool timestamps = false;
  for (size_t c = 0; c < columns.size(); ++c) {
    const Field& column = columns.field(c);
    const std::string name = ProtoFieldName(column.name);
    if (!taken.insert(name).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "column '", column.name, "' and an earlier column both have protobuf field name '",
          name, "' (rename one)"));
    }
    pb::FieldDescriptorProto* field = message->add_field();
    field->set_name(name);
    field->set_number(static_cast<int>(c) + 1);
    field->set_label(pb::FieldDescriptorProto::LABEL_OPTIONAL);
    field->set_type(DerivedType(column.type));
    if (column.type == TypeId::kTimestamp) {
      field->set_type_name(".google.protobuf.Timestamp");
      timestamps = true;
    }
    // proto3 `optional`: a synthetic oneof named like protoc names it.
    std::string oneof = "_" + name;
    while (names.contains(oneof)) oneof = "X" + oneof;
    field->set_proto3_optional(true);
    field->set_oneof_index(message->oneof_decl_size());
    message->add_oneof_decl()->set_name(oneof);
  }
  if (timestamps) file.add_dependency("google/protobuf/timestamp.proto");
  return Load(std::make_unique<Pool>(file), kDerivedFile, "", "");
}

std::vector<int> ProtoSchema::indexes() const {
  std::vector<int> path;
  for (const pb::Descriptor* m = message_; m != nullptr; m = m->containing_type()) {
    path.push_back(m->index());
  }
  std::reverse(path.begin(), path.end());
  return path;
}

absl::StatusOr<const pb::Descriptor*> ProtoSchema::MessageAt(
    const std::vector<int>& indexes) const {
  const pb::FileDescriptor* file = message_->file();
  const pb::Descriptor* m = nullptr;
  for (size_t i = 0; i < indexes.size(); ++i) {
    const int count = i == 0 ? file->message_type_count() : m->nested_type_count();
    if (indexes[i] < 0 || indexes[i] >= count) {
      return absl::InvalidArgumentError(absl::StrCat(
          "message indexes [", absl::StrJoin(indexes, ", "), "] name no message (",
          i == 0 ? "the schema" : m->full_name(), " has ", count, i == 0 ? "" : " nested",
          " message", count == 1 ? "" : "s", ")"));
    }
    m = i == 0 ? file->message_type(indexes[i]) : m->nested_type(indexes[i]);
  }
  if (m == nullptr) return absl::InvalidArgumentError("empty message indexes");
  return m;
}

std::string ProtoFieldName(absl::string_view column) { return SanitizedName(column); }

}  // namespace sluice::types
