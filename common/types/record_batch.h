// RecordBatch: the unit in which records move through operators and over the network.
// Columnar: one Column per schema field, each a few flat vectors, so an operator processes a
// batch with tight loops and no per-record virtual call or allocation. A batch is owned by
// one task thread at a time (external synchronization required).
#pragma once

#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "common/types/schema.h"

namespace sluice::types {

class Column {
 public:
  explicit Column(TypeId type) : type_(type) {
    if (IsStringStored(type_)) offsets_.push_back(0);
  }

  TypeId type() const { return type_; }
  size_t size() const { return valid_.size(); }

  bool IsNull(size_t row) const { return valid_[row] == 0; }
  // BOOL (0/1), INT64 and TIMESTAMP (µs since epoch) values. Undefined when null.
  int64_t Int(size_t row) const { return ints_[row]; }
  double Double(size_t row) const { return doubles_[row]; }
  absl::string_view Str(size_t row) const {
    return absl::string_view(chars_.data() + offsets_[row], offsets_[row + 1] - offsets_[row]);
  }

  void AppendNull();
  void AppendInt(int64_t v) {
    valid_.push_back(1);
    ints_.push_back(v);
  }
  void AppendDouble(double v) {
    valid_.push_back(1);
    doubles_.push_back(v);
  }
  void AppendString(absl::string_view v) {
    valid_.push_back(1);
    chars_.append(v.data(), v.size());
    offsets_.push_back(static_cast<uint32_t>(chars_.size()));
  }
  // Appends row `row` of `other` (same type).
  void AppendFrom(const Column& other, size_t row);

  void Reserve(size_t rows);
  void Clear();
  // Bytes this column occupies when serialized (see batch_serde.h).
  size_t SerializedSize() const;

  // Raw access for vectorized code and the serializer.
  const std::vector<uint8_t>& valid() const { return valid_; }
  const std::vector<int64_t>& ints() const { return ints_; }
  const std::vector<double>& doubles() const { return doubles_; }
  const std::vector<uint32_t>& offsets() const { return offsets_; }
  const std::string& chars() const { return chars_; }
  std::vector<uint8_t>& mutable_valid() { return valid_; }
  std::vector<int64_t>& mutable_ints() { return ints_; }
  std::vector<double>& mutable_doubles() { return doubles_; }
  std::vector<uint32_t>& mutable_offsets() { return offsets_; }
  std::string& mutable_chars() { return chars_; }

 private:
  TypeId type_;
  std::vector<uint8_t> valid_;    // 1 = value, 0 = null; one per row
  std::vector<int64_t> ints_;     // BOOL, INT64, TIMESTAMP (a null holds 0)
  std::vector<double> doubles_;   // FLOAT64 (a null holds 0)
  std::vector<uint32_t> offsets_; // STRING, BYTES: rows + 1 offsets into chars_
  std::string chars_;
};

class RecordBatch {
 public:
  explicit RecordBatch(SchemaPtr schema);

  const SchemaPtr& schema() const { return schema_; }
  size_t num_rows() const { return num_rows_; }
  size_t num_columns() const { return columns_.size(); }
  const Column& column(size_t i) const { return columns_[i]; }
  Column& mutable_column(size_t i) { return columns_[i]; }
  std::vector<Column>& mutable_columns() { return columns_; }

  // After appending one value to every column, records the new row count. Checks (debug)
  // that every column has that many values.
  void SetNumRows(size_t rows);
  // Appends row `row` of `src` (same schema).
  void AppendRow(const RecordBatch& src, size_t row);
  // Appends the rows of `src` selected by `rows` (indexes into src).
  void AppendRows(const RecordBatch& src, const std::vector<uint32_t>& rows);
  // Keeps only the rows whose selection byte is non-zero, in place.
  void Filter(const std::vector<uint8_t>& keep);

  void Reserve(size_t rows);
  void Clear();
  size_t SerializedSize() const;

  // One row as "a=1, b=x" for messages and the print sink.
  std::string RowToString(size_t row) const;

 private:
  SchemaPtr schema_;
  std::vector<Column> columns_;
  size_t num_rows_ = 0;
};

}  // namespace sluice::types
