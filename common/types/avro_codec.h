// Avro binary encoding of rows. AvroRowReader decodes records written with a writer schema
// into the columns of a Sluice schema (the reader), resolving by field name as Avro's schema
// resolution does: writer fields without a column are skipped, columns without a writer field
// are null, and values are promoted (int -> long, int/long/float -> double, string <-> bytes,
// enum -> string; long with logicalType timestamp-millis/-micros, or a plain int/long in the
// format's timestamp_unit, -> timestamp). AvroRowWriter encodes rows with the schema
// DeriveAvroSchema gives their columns.
//
// The binary layer is written here rather than through Avro C's generic values: decoding
// goes straight into columns without a per-value allocation. Schemas are the registry's parsed
// graphs (common/schema_registry/avro_schema.h: validated by Avro C, named types resolved). Reading a record bounds-checks every length and varint, so a
// truncated or corrupt record is an error message, never a crash.
//
// Plans are immutable once built; a reader or writer is used by one thread at a time.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/schema_registry/avro_schema.h"
#include "common/types/avro_schema.h"
#include "common/types/format.h"
#include "common/types/record_batch.h"

namespace sluice::types {

class AvroRowReader {
 public:
  // Plans reading records of `writer` (a record schema) into `columns`. InvalidArgument when a
  // column's writer field has a type it cannot be read as ("column 'amount': the writer's
  // field is string, which cannot be read as float64").
  static absl::StatusOr<AvroRowReader> Plan(
      std::shared_ptr<const schema_registry::AvroSchema> writer,
                                            SchemaPtr columns, TimestampUnit unit);

  // Decodes one record (exactly `data`; bytes left over are an error) and appends it as a row
  // to `out`. False with `error` set (nothing appended) when the record is malformed.
  bool Read(absl::string_view data, RecordBatch* out, std::string* error) const;

 private:
  struct Step {
    const schema_registry::AvroNode* type;  // the writer field's type (a node of writer_)
    int column;            // -1: skip the value
    std::string field;     // for messages
  };
  std::shared_ptr<const schema_registry::AvroSchema> writer_;
  SchemaPtr columns_;
  int64_t micros_per_unit_ = 1000;
  std::vector<Step> steps_;
  std::vector<int> missing_;  // columns the writer does not have: null
};

class AvroRowWriter {
 public:
  explicit AvroRowWriter(SchemaPtr columns) : columns_(std::move(columns)) {}
  // Appends the Avro encoding of row `row` of `batch` (whose schema is the writer's columns).
  void Write(const RecordBatch& batch, size_t row, std::string* out) const;

 private:
  SchemaPtr columns_;
};

// Zigzag varint encoding of a long, as Avro writes int and long.
void AppendAvroLong(int64_t v, std::string* out);

}  // namespace sluice::types
