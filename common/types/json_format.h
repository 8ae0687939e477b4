// JSON lines format: one JSON object per line, fields matched to schema columns by name.
// Decoding (simdjson DOM parser, reused across lines; runtime-dispatched SIMD kernels):
//   - a missing field or a JSON null -> null; fields not in the schema are ignored; when a key
//     repeats, the first occurrence wins;
//   - int64: a JSON integer; float64: any JSON number; bool: true/false; string: a JSON
//     string; bytes: a base64 string; timestamp: an RFC 3339 string or a JSON number of
//     `timestamp_unit`s since the epoch (fractions allowed);
//   - anything else is a DecodeError naming the column ("column 'amount': expected float64,
//     got \"abc\""), as is invalid JSON, a line that is not an object, or trailing text.
// Encoding: {"card":1,"amount":12.5,"country":"NL","ts":"2026-11-28T12:00:00.000000Z"}, keys in
// schema order; strings escaped per RFC 8259 (", \, control characters; UTF-8 passed
// through); doubles in the shortest text that reads back exactly; non-finite doubles and nulls
// as null; bools true/false; bytes as base64 strings; timestamps as RFC 3339 UTC strings.
// Not thread-safe (one per subtask).
#pragma once

#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "common/types/format.h"

namespace sluice::types {

std::unique_ptr<BatchDecoder> MakeJsonDecoder(SchemaPtr schema, TimestampUnit unit);
std::unique_ptr<BatchEncoder> MakeJsonEncoder(SchemaPtr schema);

// Appends `s` as a JSON string literal (quotes included).
void AppendJsonString(absl::string_view s, std::string* out);

}  // namespace sluice::types
