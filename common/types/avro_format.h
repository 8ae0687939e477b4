// Avro record formats, one record per message (Kafka), through avro_codec.h:
//   avro            plain Avro binary. Records are read with the writer schema of the format
//                   option `schema_file` (an .avsc file), or, without it, with the schema the
//                   columns derive (DeriveAvroSchema); written with the derived schema.
//   avro-confluent  Confluent's wire format: byte 0, the writer schema's registry id as 4
//                   big-endian bytes, then the Avro binary record. The decoder fetches each
//                   writer schema by id from the registry (option `registry`, cached) and
//                   resolves it against the columns by field name, so records of an evolved
//                   schema are read as long as every column it still has keeps a readable type.
//                   The encoder registers the derived schema under option `subject` (filled by
//                   the connector from the subject naming strategy) and writes its id.
// Bad records (truncated, bad varint or union index, wrong magic byte, unknown schema id, a
// writer field of an unreadable type) are DecodeErrors; a registry that cannot be reached is
// a fatal DecodeError (the source fails and restarts from its checkpoint instead of applying
// on_error to records that are not bad).
// Not thread-safe (one per subtask).
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "common/types/format.h"

namespace sluice::types {

absl::StatusOr<std::unique_ptr<BatchDecoder>> MakeAvroDecoder(const FormatOptions& options,
                                                              SchemaPtr schema);
absl::StatusOr<std::unique_ptr<BatchEncoder>> MakeAvroEncoder(const FormatOptions& options,
                                                              SchemaPtr schema);

}  // namespace sluice::types
