// CSV format (RFC 4180), one record per line, fields in schema order.
// Decoding: fields separated by the delimiter; a field may be quoted ("a,b", "say ""hi""");
// a quoted field cannot span lines (files are read line by line): an unterminated quote is
// a DecodeError saying so. An empty unquoted field is null; "" (quoted empty) is the empty
// string for string/bytes columns and null for other types. Values are parsed like
// AppendParsedText (format_values.h): integers, floats, true/false/1/0, RFC 3339 or integer
// epoch `timestamp_unit` timestamps, base64 bytes, verbatim strings. A record with a different
// number of fields than the schema has columns is an error ("expected 4 fields, got 3"). Empty
// lines are skipped, except with a one-column schema, where an empty line is a null row.
// Encoding: symmetric; a field is quoted when it contains the delimiter, '"', '\r' or '\n'
// (quotes doubled), and an empty string is written as "" so that it reads back as empty, not
// null. Doubles in the shortest exact text ("nan", "inf" for non-finite), timestamps as
// RFC 3339 UTC, bytes as base64. Header lines are neither read nor written by the decoder and
// encoder: with FormatOptions::header the file source skips the first line of each file and
// the file sink starts each part file with AppendCsvHeader.
// Not thread-safe (one per subtask).
#pragma once

#include <memory>
#include <string>

#include "common/types/format.h"

namespace sluice::types {

std::unique_ptr<BatchDecoder> MakeCsvDecoder(SchemaPtr schema, char delimiter, TimestampUnit unit);
std::unique_ptr<BatchEncoder> MakeCsvEncoder(SchemaPtr schema, char delimiter);
// Appends the header line: the column names, quoted where needed, and '\n'.
void AppendCsvHeader(const Schema& schema, char delimiter, std::string* out);

}  // namespace sluice::types
