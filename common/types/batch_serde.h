// Binary layout of a RecordBatch on the wire (the payload of one network buffer).
// Little-endian: u32 magic "SLB1", u32 rows, u16 columns, then per column: u8 type,
// u8 has_nulls, [rows validity bytes if has_nulls], values: BOOL 1 byte/row, INT64 and
// TIMESTAMP 8 bytes/row, FLOAT64 8 bytes/row, STRING/BYTES (rows+1) u32 offsets + chars.
// Decoding validates every length, so a corrupt buffer is an error, never a crash.
// Stateless functions; thread-safe.
#pragma once

#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "common/types/record_batch.h"

namespace sluice::types {

// Appends the serialized batch to `out`.
void SerializeBatch(const RecordBatch& batch, std::string* out);
// Decodes one batch; its column types must match `schema`.
absl::StatusOr<RecordBatch> DeserializeBatch(const SchemaPtr& schema, absl::string_view bytes);

}  // namespace sluice::types
