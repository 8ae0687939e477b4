#include "common/types/avro_format.h"

#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "common/schema_registry/registry_client.h"
#include "common/types/avro_codec.h"
#include "common/types/confluent_wire.h"
#include "common/types/message_format.h"

namespace sluice::types {
namespace {

using schema_registry::AvroSchema;
using schema_registry::SchemaRegistryClient;
using schema_registry::SchemaType;

absl::StatusOr<std::shared_ptr<const AvroSchema>> ReaderSchema(const FormatOptions& options,
                                                               const Schema& columns) {
  if (options.schema_file.empty()) {
    return AvroSchema::Parse(DeriveAvroSchema(columns, options.RecordName()));
  }
  absl::StatusOr<std::string> text = ReadFile(options.schema_file);
  if (!text.ok()) return text.status();
  absl::StatusOr<std::shared_ptr<const AvroSchema>> schema = AvroSchema::Parse(*text);
  if (!schema.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("format avro: schema_file ", options.schema_file, ": ", schema.status().message()));
  }
  return schema;
}

class ConfluentAvroDecoder : public BatchDecoder {
 public:
  ConfluentAvroDecoder(std::shared_ptr<SchemaRegistryClient> registry, SchemaPtr columns,
                       TimestampUnit unit)
      : readers_(std::move(registry), SchemaType::kAvro,
                 [columns = std::move(columns), unit](const std::string& text)
                     -> absl::StatusOr<AvroRowReader> {
                   absl::StatusOr<std::shared_ptr<const AvroSchema>> writer =
                       AvroSchema::Parse(text);
                   if (!writer.ok()) return writer.status();
                   return AvroRowReader::Plan(*writer, columns, unit);
                 }) {}

  void DecodeLines(const std::vector<absl::string_view>& records, RecordBatch* out,
                   std::vector<DecodeError>* errors) override {
    for (size_t i = 0; i < records.size(); ++i) {
      int32_t id = 0;
      absl::string_view payload;
      AvroRowReader* reader = readers_.ForRecord(records[i], i, &id, &payload, errors);
      if (reader == nullptr) continue;
      if (!reader->Read(payload, out, &error_)) {
        errors->push_back({i, absl::StrCat("schema id ", id, ": ", error_)});
      }
    }
  }

 private:
  ConfluentSchemaCache<AvroRowReader> readers_;
  std::string error_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<BatchDecoder>> MakeAvroDecoder(const FormatOptions& options,
                                                              SchemaPtr schema) {
  if (options.name == "avro-confluent") {
    absl::StatusOr<std::shared_ptr<SchemaRegistryClient>> registry = ConfluentRegistry(options);
    if (!registry.ok()) return registry.status();
    return std::make_unique<ConfluentAvroDecoder>(*registry, std::move(schema),
                                                  options.timestamp_unit);
  }
  absl::StatusOr<std::shared_ptr<const AvroSchema>> writer = ReaderSchema(options, *schema);
  if (!writer.ok()) return writer.status();
  absl::StatusOr<AvroRowReader> reader =
      AvroRowReader::Plan(*writer, std::move(schema), options.timestamp_unit);
  if (!reader.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("format avro: ", reader.status().message()));
  }
  return std::make_unique<MessageDecoder<AvroRowReader>>(*std::move(reader));
}

absl::StatusOr<std::unique_ptr<BatchEncoder>> MakeAvroEncoder(const FormatOptions& options,
                                                              SchemaPtr schema) {
  if (!options.schema_file.empty()) {
    return absl::InvalidArgumentError(
        "format avro: schema_file applies to reading; records are written with the schema "
        "their columns derive");
  }
  std::string header;
  if (options.name == "avro-confluent") {
    absl::StatusOr<std::shared_ptr<SchemaRegistryClient>> registry = ConfluentRegistry(options);
    if (!registry.ok()) return registry.status();
    if (options.subject.empty()) {
      return absl::InvalidArgumentError("format avro-confluent: no subject to register under");
    }
    absl::StatusOr<int32_t> registered = (*registry)->Register(
        options.subject, DeriveAvroSchema(*schema, options.RecordName()), SchemaType::kAvro);
    if (!registered.ok()) return registered.status();
    header = ConfluentHeader(*registered);
  }
  return std::make_unique<MessageEncoder<AvroRowWriter>>(AvroRowWriter(std::move(schema)),
                                                         std::move(header));
}

}  // namespace sluice::types
