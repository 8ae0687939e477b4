#include "common/types/avro_format.h"

#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "common/schema_registry/registry_client.h"
#include "common/types/avro_codec.h"

namespace sluice::types {
namespace {

using schema_registry::SchemaRegistryClient;
using schema_registry::SchemaType;

constexpr size_t kConfluentHeader = 5;  // magic byte 0 + 4-byte schema id

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
      : registry_(std::move(registry)), columns_(std::move(columns)), unit_(unit) {}

  void DecodeLines(const std::vector<absl::string_view>& records, RecordBatch* out,
                   std::vector<DecodeError>* errors) override {
    for (size_t i = 0; i < records.size(); ++i) {
      const absl::string_view record = records[i];
      if (record.size() < kConfluentHeader) {
        errors->push_back({i, absl::StrCat("a ", record.size(), "-byte message is too short for "
                                           "the Confluent wire format (5-byte header)")});
        continue;
      }
      if (record[0] != 0) {
        errors->push_back({i, absl::StrCat("wrong magic byte 0x", absl::Hex(static_cast<uint8_t>(record[0]), absl::kZeroPad2),
                                           " (the Confluent wire format starts with 0x00)")});
        continue;
      }
      const int32_t id = static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint8_t>(record[1])) << 24 |
                                              static_cast<uint32_t>(static_cast<uint8_t>(record[2])) << 16 |
                                              static_cast<uint32_t>(static_cast<uint8_t>(record[3])) << 8 |
                                              static_cast<uint32_t>(static_cast<uint8_t>(record[4])));
      const Plan& plan = PlanFor(id);
      if (!plan.reader) {
        errors->push_back({i, plan.error, plan.fatal});
        continue;
      }
      if (!plan.reader->Read(record.substr(kConfluentHeader), out, &error_)) {
        errors->push_back({i, absl::StrCat("schema id ", id, ": ", error_)});
      }
    }
  }

 private:
  struct Plan {
    std::optional<AvroRowReader> reader;
    std::string error;
    bool fatal = false;
  };

  const Plan& PlanFor(int32_t id) {
    if (auto it = plans_.find(id); it != plans_.end() && (it->second.reader || !it->second.fatal)) {
      return it->second;
    }
    Plan& plan = plans_[id];
    plan = Plan();
    absl::StatusOr<schema_registry::RegisteredSchema> registered = registry_->GetById(id);
    if (!registered.ok()) {
      plan.error = std::string(registered.status().message());
      plan.fatal = absl::IsUnavailable(registered.status());  // an outage, not a bad record
      return plan;
    }
    if (registered->type != SchemaType::kAvro) {
      plan.error = absl::StrCat("schema id ", id, " is a ", SchemaTypeName(registered->type),
                                " schema, not Avro");
      return plan;
    }
    absl::StatusOr<std::shared_ptr<const AvroSchema>> writer = AvroSchema::Parse(registered->schema);
    absl::StatusOr<AvroRowReader> reader =
        writer.ok() ? AvroRowReader::Plan(*writer, columns_, unit_)
                    : absl::StatusOr<AvroRowReader>(writer.status());
    if (!reader.ok()) {
      plan.error = absl::StrCat("schema id ", id, ": ", reader.status().message());
      return plan;
    }
    plan.reader = *std::move(reader);
    return plan;
  }

  std::shared_ptr<SchemaRegistryClient> registry_;
  SchemaPtr columns_;
  TimestampUnit unit_;
  absl::flat_hash_map<int32_t, Plan> plans_;
  std::string error_;
};

class AvroEncoder : public BatchEncoder {
 public:
  AvroEncoder(SchemaPtr columns, std::optional<int32_t> confluent_id)
      : writer_(std::move(columns)) {
    if (confluent_id) {
      const uint32_t id = static_cast<uint32_t>(*confluent_id);
      header_ = {0, static_cast<char>(id >> 24), static_cast<char>(id >> 16),
                 static_cast<char>(id >> 8), static_cast<char>(id)};
    }
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

absl::StatusOr<std::shared_ptr<SchemaRegistryClient>> Registry(const FormatOptions& options) {
  if (options.registry.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "format ", options.name, " needs a schema registry: set registry: on the connector, or "
        "kafka.registry in the cluster configuration"));
  }
  return SchemaRegistryClient::ForUrl(options.registry);
}

}  // namespace

absl::StatusOr<std::unique_ptr<BatchDecoder>> MakeAvroDecoder(const FormatOptions& options,
                                                              SchemaPtr schema) {
  if (options.name == "avro-confluent") {
    absl::StatusOr<std::shared_ptr<SchemaRegistryClient>> registry = Registry(options);
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
    absl::StatusOr<std::shared_ptr<SchemaRegistryClient>> registry = Registry(options);
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
