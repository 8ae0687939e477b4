// The Avro side of Sluice columns: DeriveAvroSchema writes the Avro schema of a column list,
// a record whose fields are ["null", T] unions with default null (every Sluice column is
// nullable), so that adding a column later is a backward-compatible change. Avro schemas
// themselves are parsed by the schema registry's AvroSchema
// (common/schema_registry/avro_schema.h), which the codec (avro_codec.h) walks.
// ColumnsOfAvroSchema goes the other way, for sources that take their columns from a
// registry (RegistryColumns, which blocks on the registry).
//
// Type mapping (Sluice -> Avro): bool boolean, int64 long, float64 double, string string,
// bytes bytes, timestamp long with logicalType timestamp-micros.
//
// Thread-safe.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/types/schema.h"

namespace sluice::types {

// The Avro name of a column: characters Avro does not allow in names ([A-Za-z_][A-Za-z0-9_]*,
// so also '.') become '_'.
std::string AvroFieldName(absl::string_view column);

// The Avro schema (JSON text) of rows of `schema`, as a record named `record_name` (a full
// name such as "sluice.Txn"; in each dot-separated part, characters Avro does not allow in
// names become '_').
std::string DeriveAvroSchema(const Schema& schema, absl::string_view record_name);

// The columns of an Avro record schema, the inverse of DeriveAvroSchema: each field whose type
// (or, for a ["null", T] union, T) maps to a Sluice type becomes a column of that name:
// boolean bool, int/long int64, long with a timestamp logical type timestamp, float/double
// float64, string/enum string, bytes/fixed bytes. Fields of other types (records, arrays,
// maps, unions of several types) are left out. InvalidArgument when the schema is not a
// record or no field maps.
absl::StatusOr<Schema> ColumnsOfAvroSchema(absl::string_view avro_json);

// The columns of the latest schema of `subject` in the registry at `registry` (Avro only).
absl::StatusOr<Schema> RegistryColumns(const std::string& registry, const std::string& subject);

}  // namespace sluice::types
