// Confluent's wire format, shared by the `*-confluent` record formats (avro_format.h,
// proto_format.h): a record is byte 0, the writer schema's registry id as 4 big-endian bytes,
// then the payload (protobuf puts its message indexes first, see proto_format.h).
// ConfluentRegistry opens the format's registry client; ConfluentSchemaCache keeps, per schema
// id, what a decoder built from the registry's schema text (a reader, or why there is none),
// telling bad records (unknown id, a schema of another type or one that cannot be read) from
// a registry outage (fatal: retried on the next record).
// The functions are thread-safe; a ConfluentSchemaCache belongs to one decoder (one thread).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/schema_registry/registry_client.h"
#include "common/types/format.h"

namespace sluice::types {

inline constexpr size_t kConfluentHeaderSize = 5;  // magic byte 0 + 4-byte schema id

// Splits `record` into its schema id and payload. False with `error` set when it is too short
// or does not start with the magic byte 0.
bool ReadConfluentHeader(absl::string_view record, int32_t* id, absl::string_view* payload,
                         std::string* error);
// The 5-byte header of records written with schema `id`.
std::string ConfluentHeader(int32_t id);

// The process-wide registry client of options.registry; InvalidArgument naming how to set it
// when the format has none.
absl::StatusOr<std::shared_ptr<schema_registry::SchemaRegistryClient>> ConfluentRegistry(
    const FormatOptions& options);

// Per-id results of building a T from the registry's schema text.
template <typename T>
class ConfluentSchemaCache {
 public:
  struct Entry {
    std::optional<T> value;
    std::string error;   // when !value: why (a record error, or fatal)
    bool fatal = false;  // the registry could not be reached
  };
  // Builds a T from a schema of `type`; an error is reported as "schema id N: <message>".
  using Build = std::function<absl::StatusOr<T>(const std::string& schema_text)>;

  ConfluentSchemaCache(std::shared_ptr<schema_registry::SchemaRegistryClient> registry,
                       schema_registry::SchemaType type, Build build)
      : registry_(std::move(registry)), type_(type), build_(std::move(build)) {}

  // The T of the schema `record` (record `index` of a batch) was written with, and in
  // `payload` what follows its header; null, with the error appended to `errors`, when the
  // header is bad or there is no T for its schema id.
  T* ForRecord(absl::string_view record, size_t index, int32_t* id, absl::string_view* payload,
               std::vector<DecodeError>* errors) {
    std::string error;
    if (!ReadConfluentHeader(record, id, payload, &error)) {
      errors->push_back({index, std::move(error)});
      return nullptr;
    }
    Entry& entry = For(*id);
    if (!entry.value) {
      errors->push_back({index, entry.error, entry.fatal});
      return nullptr;
    }
    return &*entry.value;
  }

  // The entry of `id`, fetched and built on first use (again after an outage).
  Entry& For(int32_t id) {
    if (auto it = entries_.find(id); it != entries_.end() && !it->second.fatal) return it->second;
    Entry& entry = entries_[id];
    entry = Entry();
    absl::StatusOr<schema_registry::RegisteredSchema> registered = registry_->GetById(id);
    if (!registered.ok()) {
      entry.error = std::string(registered.status().message());
      entry.fatal = absl::IsUnavailable(registered.status());  // an outage, not a bad record
      return entry;
    }
    if (registered->type != type_) {
      entry.error = absl::StrCat("schema id ", id, " is a ", SchemaTypeName(registered->type),
                                 " schema, not ", SchemaTypeName(type_));
      return entry;
    }
    absl::StatusOr<T> value = build_(registered->schema);
    if (!value.ok()) {
      entry.error = absl::StrCat("schema id ", id, ": ", value.status().message());
      return entry;
    }
    entry.value = *std::move(value);
    return entry;
  }

 private:
  std::shared_ptr<schema_registry::SchemaRegistryClient> registry_;
  schema_registry::SchemaType type_;
  Build build_;
  absl::flat_hash_map<int32_t, Entry> entries_;
};

}  // namespace sluice::types
