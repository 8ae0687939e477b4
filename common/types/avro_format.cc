#include "common/types/avro_format.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "common/schema_registry/registry_client.h"
#include "common/types/avro_codec.h"
#include "common/types/confluent_wire.h"

namespace sluice::types {
namespace {

using schema_registry::SchemaRegistryClient;
using schema_registry::SchemaType;

std::string RecordName(const FormatOptions& options) {
  return options.record_name.empty() ? "sluice.Row" : options.record_name;
}

absl::StatusOr<std::shared_ptr<const AvroSchema>> ReaderSchema(const FormatOptions& options,
                                                               const Schema& columns) {
  if (options.schema_file.empty()) return AvroSchema::Parse(DeriveAvroSchema(columns, RecordName(options)));
  absl::StatusOr<std::string> text = ReadFile(options.schema_file);
  if (!text.ok()) return text.status();
  absl::StatusOr<std::shared_ptr<const AvroSchema>> schema = AvroSchema::Parse(*text);
  if (!schema.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("format avro: schema_file ", options.schema_file, ": ", schema.status().message()));
  }
  return schema;
}

class AvroDecoder : public BatchDecoder {
 public:
  explicit AvroDecoder(AvroRowReader reader) : reader_(std::move(reader)) {}

  void DecodeLines(const std::vector<absl::string_view>& records, RecordBatch* out,
                   std::vector<DecodeError>* errors) override {
    for (size_t i = 0; i < records.size(); ++i) {
      if (!reader_.Read(records[i], out, &error_)) errors->push_back({i, std::move(error_)});
    }
  }

 private:
  AvroRowReader reader_;
  std::string error_;
};

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
      if (!ReadConfluentHeader(records[i], &id, &payload, &error_)) {
        errors->push_back({i, std::move(error_)});
        continue;
      }
      const ConfluentSchemaCache<AvroRowReader>::Entry& entry = readers_.For(id);
      if (!entry.value) {
        errors->push_back({i, entry.error, entry.fatal});
        continue;
      }
      if (!entry.value->Read(payload, out, &error_)) {
        errors->push_back({i, absl::StrCat("schema id ", id, ": ", error_)});
      }
    }
  }

 private:
  ConfluentSchemaCache<AvroRowReader> readers_;
  std::string error_;
};

class AvroEncoder : public BatchEncoder {
 public:
  AvroEncoder(SchemaPtr columns, std::optional<int32_t> confluent_id)
      : writer_(std::move(columns)) {
    if (confluent_id) header_ = ConfluentHeader(*confluent_id);
  }

  void EncodeBatch(const RecordBatch& batch, std::string* out,
                   std::vector<size_t>* record_ends) override {
    for (size_t r = 0; r < batch.num_rows(); ++r) {
      out->append(header_);
      writer_.Write(batch, r, out);
      if (record_ends != nullptr) record_ends->push_back(out->size());
    }
  }
  bool newline_terminated() const override { return false; }

 private:
  AvroRowWriter writer_;
  std::string header_;
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
  return std::make_unique<AvroDecoder>(*std::move(reader));
}

absl::StatusOr<std::unique_ptr<BatchEncoder>> MakeAvroEncoder(const FormatOptions& options,
                                                              SchemaPtr schema) {
  if (!options.schema_file.empty()) {
    return absl::InvalidArgumentError(
        "format avro: schema_file applies to reading; records are written with the schema "
        "their columns derive");
  }
  std::optional<int32_t> id;
  if (options.name == "avro-confluent") {
    absl::StatusOr<std::shared_ptr<SchemaRegistryClient>> registry = ConfluentRegistry(options);
    if (!registry.ok()) return registry.status();
    if (options.subject.empty()) {
      return absl::InvalidArgumentError("format avro-confluent: no subject to register under");
    }
    absl::StatusOr<int32_t> registered = (*registry)->Register(
        options.subject, DeriveAvroSchema(*schema, RecordName(options)), SchemaType::kAvro);
    if (!registered.ok()) return registered.status();
    id = *registered;
  }
  return std::make_unique<AvroEncoder>(std::move(schema), id);
}

}  // namespace sluice::types
