#include "common/types/proto_format.h"

#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/schema_registry/registry_client.h"
#include "common/types/confluent_wire.h"
#include "common/types/message_format.h"
#include "common/types/proto_codec.h"
#include "common/types/proto_schema.h"
#include "common/types/varint.h"
#include "google/protobuf/descriptor.h"

namespace sluice::types {
namespace {

using schema_registry::SchemaRegistryClient;
using schema_registry::SchemaType;

constexpr int64_t kMaxMessageIndexes = 32;  // nesting depth; more is a corrupt record

std::string Prefixed(const FormatOptions& options, const absl::Status& status) {
  return absl::StrCat("format ", options.name, ": ", status.message());
}

// The message the format reads and writes: proto_file's, or the columns' derived one.
absl::StatusOr<std::shared_ptr<const ProtoSchema>> FormatSchema(const FormatOptions& options,
                                                                const Schema& columns) {
  if (options.proto_file.empty()) {
    if (!options.message.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "format ", options.name, ": message: picks a message of proto_file, which is not set "
          "(record_name names the message derived from the columns)"));
    }
    absl::StatusOr<std::shared_ptr<const ProtoSchema>> derived =
        ProtoSchema::Derive(columns, options.record_name);
    if (!derived.ok()) return absl::InvalidArgumentError(Prefixed(options, derived.status()));
    return derived;
  }
  if (!options.record_name.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "format ", options.name, ": record_name names the message derived from the columns; "
        "with proto_file, pick its message with message:"));
  }
  absl::StatusOr<std::shared_ptr<const ProtoSchema>> schema =
      ProtoSchema::FromFile(options.proto_file, options.message);
  if (!schema.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("format ", options.name, ": proto_file ",
                                                   options.proto_file, ": ",
                                                   schema.status().message()));
  }
  return schema;
}

// A registry schema and the readers of the messages records of it named so far.
struct RegistrySchema {
  struct Reader {
    std::vector<int> indexes;
    std::optional<ProtoRowReader> reader;
    std::string error;
  };
  std::shared_ptr<const ProtoSchema> schema;
  std::vector<Reader> readers;  // usually one: [0]
};

class ConfluentProtobufDecoder : public BatchDecoder {
 public:
  ConfluentProtobufDecoder(std::shared_ptr<SchemaRegistryClient> registry, SchemaPtr columns,
                           TimestampUnit unit)
      : schemas_(std::move(registry), SchemaType::kProtobuf,
                 [](const std::string& text) -> absl::StatusOr<RegistrySchema> {
                   absl::StatusOr<std::shared_ptr<const ProtoSchema>> schema =
                       ProtoSchema::FromText(text);
                   if (!schema.ok()) return schema.status();
                   return RegistrySchema{*std::move(schema), {}};
                 }),
        columns_(std::move(columns)),
        unit_(unit) {}

  void DecodeLines(const std::vector<absl::string_view>& records, RecordBatch* out,
                   std::vector<DecodeError>* errors) override {
    for (size_t i = 0; i < records.size(); ++i) {
      int32_t id = 0;
      absl::string_view payload;
      RegistrySchema* schema = schemas_.ForRecord(records[i], i, &id, &payload, errors);
      if (schema == nullptr) continue;
      if (!ReadMessageIndexes(&payload, &indexes_, &error_)) {
        errors->push_back({i, absl::StrCat("schema id ", id, ": ", error_)});
        continue;
      }
      RegistrySchema::Reader* reader = ReaderFor(schema);
      if (reader == nullptr || !reader->reader) {
        errors->push_back(
            {i, absl::StrCat("schema id ", id, ": ", reader == nullptr ? error_ : reader->error)});
        continue;
      }
      if (!reader->reader->Read(payload, out, &error_)) {
        errors->push_back({i, absl::StrCat("schema id ", id, ": ", error_)});
      }
    }
  }

 private:
  // The reader of the message indexes_ name, planned on first use; null with error_ set when
  // they name no message (not cached: only real messages are, so records cannot grow it).
  RegistrySchema::Reader* ReaderFor(RegistrySchema* schema) {
    for (RegistrySchema::Reader& r : schema->readers) {
      if (r.indexes == indexes_) return &r;
    }
    absl::StatusOr<const google::protobuf::Descriptor*> message =
        schema->schema->MessageAt(indexes_);
    if (!message.ok()) {
      error_ = std::string(message.status().message());
      return nullptr;
    }
    RegistrySchema::Reader& r = schema->readers.emplace_back();
    r.indexes = indexes_;
    absl::StatusOr<ProtoRowReader> reader =
        ProtoRowReader::Plan(schema->schema, **message, columns_, unit_);
    if (reader.ok()) {
      r.reader = *std::move(reader);
    } else {
      r.error = std::string(reader.status().message());
    }
    return &r;
  }

  ConfluentSchemaCache<RegistrySchema> schemas_;
  SchemaPtr columns_;
  TimestampUnit unit_;
  std::vector<int> indexes_;
  std::string error_;
};

// Registers `schema` under options.subject; the header records of it start with.
absl::StatusOr<std::string> RegisterSchema(const FormatOptions& options,
                                           const ProtoSchema& schema) {
  absl::StatusOr<std::shared_ptr<SchemaRegistryClient>> registry = ConfluentRegistry(options);
  if (!registry.ok()) return registry.status();
  if (options.subject.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("format ", options.name, ": no subject to register under"));
  }
  if (!options.proto_file.empty() && options.message.empty() &&
      options.subject_strategy != "topic_name") {
    return absl::InvalidArgumentError(absl::StrCat(
        "format ", options.name, ": subject_strategy ", options.subject_strategy,
        " names the subject after the message: set message: to its full name"));
  }
  const google::protobuf::FileDescriptor& file = *schema.message().file();
  for (int i = 0; i < file.dependency_count(); ++i) {
    if (!absl::StartsWith(file.dependency(i)->name(), "google/protobuf/")) {
      return absl::InvalidArgumentError(absl::StrCat(
          "format ", options.name, ": proto_file imports ", file.dependency(i)->name(),
          ", which the registry would need as a schema reference (not supported: only the "
          "well-known google/protobuf/*.proto imports)"));
    }
  }
  absl::StatusOr<int32_t> id =
      (*registry)->Register(options.subject, schema.text(), SchemaType::kProtobuf);
  if (!id.ok()) return id.status();
  std::string header = ConfluentHeader(*id);
  AppendMessageIndexes(schema.indexes(), &header);
  return header;
}

}  // namespace

void AppendMessageIndexes(const std::vector<int>& indexes, std::string* out) {
  if (indexes.size() == 1 && indexes[0] == 0) {
    out->push_back(0);
    return;
  }
  AppendVarint(ZigZagEncode(static_cast<int64_t>(indexes.size())), out);
  for (int index : indexes) AppendVarint(ZigZagEncode(index), out);
}

bool ReadMessageIndexes(absl::string_view* data, std::vector<int>* indexes, std::string* error) {
  const char* p = data->data();
  const char* end = p + data->size();
  uint64_t raw = 0;
  if (!ReadProtoVarint(&p, end, &raw, error)) {
    *error = absl::StrCat("message indexes: ", *error);
    return false;
  }
  const int64_t count = ZigZagDecode(raw);
  indexes->clear();
  if (count == 0) {
    indexes->push_back(0);
  } else if (count < 0 || count > kMaxMessageIndexes) {
    *error = absl::StrCat("bad message indexes: a count of ", count);
    return false;
  }
  for (int64_t i = 0; i < count; ++i) {
    if (!ReadProtoVarint(&p, end, &raw, error)) {
      *error = absl::StrCat("message indexes: ", *error);
      return false;
    }
    const int64_t index = ZigZagDecode(raw);
    if (index < 0 || index > INT32_MAX) {
      *error = absl::StrCat("bad message indexes: index ", index);
      return false;
    }
    indexes->push_back(static_cast<int>(index));
  }
  data->remove_prefix(static_cast<size_t>(p - data->data()));
  return true;
}

absl::StatusOr<std::unique_ptr<BatchDecoder>> MakeProtobufDecoder(const FormatOptions& options,
                                                                  SchemaPtr schema) {
  if (options.uses_registry()) {
    if (!options.proto_file.empty() || !options.message.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "format ", options.name, ": proto_file and message apply to writing; records are "
          "read with the schema their id names in the registry"));
    }
    absl::StatusOr<std::shared_ptr<SchemaRegistryClient>> registry = ConfluentRegistry(options);
    if (!registry.ok()) return registry.status();
    return std::make_unique<ConfluentProtobufDecoder>(*registry, std::move(schema),
                                                      options.timestamp_unit);
  }
  absl::StatusOr<std::shared_ptr<const ProtoSchema>> proto = FormatSchema(options, *schema);
  if (!proto.ok()) return proto.status();
  absl::StatusOr<ProtoRowReader> reader =
      ProtoRowReader::Plan(*proto, (*proto)->message(), std::move(schema), options.timestamp_unit);
  if (!reader.ok()) return absl::InvalidArgumentError(Prefixed(options, reader.status()));
  return std::make_unique<MessageDecoder<ProtoRowReader>>(*std::move(reader));
}

absl::StatusOr<std::unique_ptr<BatchEncoder>> MakeProtobufEncoder(const FormatOptions& options,
                                                                  SchemaPtr schema) {
  absl::StatusOr<std::shared_ptr<const ProtoSchema>> proto = FormatSchema(options, *schema);
  if (!proto.ok()) return proto.status();
  absl::StatusOr<ProtoRowWriter> writer =
      ProtoRowWriter::Plan(*proto, (*proto)->message(), std::move(schema), options.timestamp_unit);
  if (!writer.ok()) return absl::InvalidArgumentError(Prefixed(options, writer.status()));
  std::string header;
  if (options.uses_registry()) {
    absl::StatusOr<std::string> registered = RegisterSchema(options, **proto);
    if (!registered.ok()) return registered.status();
    header = *std::move(registered);
  }
  return std::make_unique<MessageEncoder<ProtoRowWriter>>(*std::move(writer), std::move(header));
}

}  // namespace sluice::types
