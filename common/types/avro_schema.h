// The Avro side of Sluice columns: DeriveAvroSchema writes the Avro schema of a column list,
// a record whose fields are ["null", T] unions with default null (every Sluice column is
// nullable), so that adding a column later is a backward-compatible change. Avro schemas
// themselves are parsed by the schema registry's AvroSchema
// (common/schema_registry/avro_schema.h), which the codec (avro_codec.h) walks.
//
// Type mapping (Sluice -> Avro): bool boolean, int64 long, float64 double, string string,
// bytes bytes, timestamp long with logicalType timestamp-micros.
//
// Stateless functions; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/types/schema.h"

namespace sluice::types {

// The Avro name of a column: characters Avro does not allow in names become '_'.
std::string AvroFieldName(absl::string_view column);

// The Avro schema (JSON text) of rows of `schema`, as a record named `record_name` (a full
// name such as "sluice.Txn"; characters Avro does not allow in names become '_').
std::string DeriveAvroSchema(const Schema& schema, absl::string_view record_name);

}  // namespace sluice::types
