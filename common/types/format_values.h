// Typed value <-> text conversions shared by the record formats (JSON, CSV) and the datagen
// source: number and timestamp parsing/printing, the wording of value errors, and column
// rollback for a record that failed half-way. Stateless functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "common/types/format.h"
#include "common/types/record_batch.h"

namespace sluice::types {

// "s", "ms", "us".
absl::string_view TimestampUnitName(TimestampUnit unit);
int64_t MicrosPerUnit(TimestampUnit unit);
// `value` units since the epoch -> microseconds; false on int64 overflow.
bool EpochToMicros(int64_t value, TimestampUnit unit, int64_t* micros);

// RFC 3339 ("2026-11-28T12:00:00Z", "2026-11-28T12:00:00.123456+01:00", "2026-11-28 12:00:00",
// no zone = UTC; fractions beyond microseconds are truncated). A fast path handles the common
// shapes; anything else goes through ParseTimestamp (timestamp.h). False when not a timestamp.
bool ParseRfc3339(absl::string_view text, int64_t* micros);
// Appends the timestamp as RFC 3339 in UTC with six fractional digits and a 'Z', like
// AppendTimestamp (timestamp.h) but without allocating, and with 4-digit years 0000..0999
// (absl prints "1-01-01T..."); outside years 0000..9999 it falls back to AppendTimestamp.
void AppendRfc3339(int64_t micros, std::string* out);

// Decimal text of an integer.
void AppendInt64(int64_t v, std::string* out);
// Shortest text that parses back to exactly `v` ("12.5", "0.1", "3", "-0"; exponent notation
// from 1e16 up: "1.5e+20"); non-finite values as "nan", "inf", "-inf".
void AppendDouble(double v, std::string* out);

// Parses `text` as a value of `type` and appends it to `column`. Integers: optional sign and
// digits; floats: decimal or exponent notation, "nan", "inf"; bools: true/false (any case)
// or 1/0; timestamps: an integer in `unit` since the epoch or RFC 3339; bytes: base64; strings:
// verbatim. Returns false, appending nothing, when `text` is not such a value.
bool AppendParsedText(TypeId type, absl::string_view text, TimestampUnit unit, Column* column);

// The message of a value that does not fit its column:
// "column 'amount': expected float64, got \"abc\"". `got` is shown as given (JSON passes the
// raw token); long values are cut to 64 bytes followed by "...".
std::string ValueErrorMessage(absl::string_view column, TypeId type, TimestampUnit unit,
                              absl::string_view got);
// `text` in double quotes with '"', '\\' and control characters escaped, cut to 64 bytes.
std::string QuoteForMessage(absl::string_view text);

// Drops the values of `column` beyond its first `rows` (rolls back a record that failed after
// some of its columns were appended).
void TruncateColumn(Column* column, size_t rows);

}  // namespace sluice::types
