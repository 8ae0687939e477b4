#include "common/types/record_batch.h"

#include <cassert>

#include "absl/strings/str_cat.h"
#include "common/types/timestamp.h"

namespace sluice::types {

void Column::AppendNull() {
  valid_.push_back(0);
  if (IsIntegerStored(type_)) {
    ints_.push_back(0);
  } else if (type_ == TypeId::kFloat64) {
    doubles_.push_back(0);
  } else {
    offsets_.push_back(static_cast<uint32_t>(chars_.size()));
  }
}

void Column::AppendFrom(const Column& other, size_t row) {
  if (other.IsNull(row)) {
    AppendNull();
  } else if (IsIntegerStored(type_)) {
    AppendInt(other.ints_[row]);
  } else if (type_ == TypeId::kFloat64) {
    AppendDouble(other.doubles_[row]);
  } else {
    AppendString(other.Str(row));
  }
}

void Column::Reserve(size_t rows) {
  valid_.reserve(rows);
  if (IsIntegerStored(type_)) {
    ints_.reserve(rows);
  } else if (type_ == TypeId::kFloat64) {
    doubles_.reserve(rows);
  } else {
    offsets_.reserve(rows + 1);
  }
}

void Column::Clear() {
  valid_.clear();
  ints_.clear();
  doubles_.clear();
  offsets_.clear();
  chars_.clear();
  if (IsStringStored(type_)) offsets_.push_back(0);
}

size_t Column::SerializedSize() const {
  size_t n = size();
  size_t bytes = 2 + n;  // type, has-nulls flag, validity bytes (upper bound)
  if (type_ == TypeId::kBool) return bytes + n;
  if (IsIntegerStored(type_)) return bytes + 8 * n;
  if (type_ == TypeId::kFloat64) return bytes + 8 * n;
  return bytes + 4 * (n + 1) + chars_.size();
}

RecordBatch::RecordBatch(SchemaPtr schema) : schema_(std::move(schema)) {
  columns_.reserve(schema_->size());
  for (const Field& f : schema_->fields()) columns_.emplace_back(f.type);
}

void RecordBatch::SetNumRows(size_t rows) {
#ifndef NDEBUG
  for (const Column& c : columns_) assert(c.size() == rows);
#endif
  num_rows_ = rows;
}

void RecordBatch::AppendRow(const RecordBatch& src, size_t row) {
  for (size_t c = 0; c < columns_.size(); ++c) columns_[c].AppendFrom(src.columns_[c], row);
  ++num_rows_;
}

void RecordBatch::AppendRows(const RecordBatch& src, const std::vector<uint32_t>& rows) {
  for (size_t c = 0; c < columns_.size(); ++c) {
    Column& dst = columns_[c];
    const Column& from = src.columns_[c];
    dst.Reserve(dst.size() + rows.size());
    for (uint32_t r : rows) dst.AppendFrom(from, r);
  }
  num_rows_ += rows.size();
}

void RecordBatch::Filter(const std::vector<uint8_t>& keep) {
  size_t out = 0;
  for (Column& col : columns_) {
    std::vector<uint8_t>& valid = col.mutable_valid();
    out = 0;
    if (IsIntegerStored(col.type())) {
      std::vector<int64_t>& v = col.mutable_ints();
      for (size_t r = 0; r < num_rows_; ++r) {
        v[out] = v[r];
        valid[out] = valid[r];
        out += keep[r] != 0;
      }
      v.resize(out);
    } else if (col.type() == TypeId::kFloat64) {
      std::vector<double>& v = col.mutable_doubles();
      for (size_t r = 0; r < num_rows_; ++r) {
        v[out] = v[r];
        valid[out] = valid[r];
        out += keep[r] != 0;
      }
      v.resize(out);
    } else {
      std::vector<uint32_t>& offsets = col.mutable_offsets();
      std::string& chars = col.mutable_chars();
      uint32_t write = 0;
      for (size_t r = 0; r < num_rows_; ++r) {
        if (!keep[r]) continue;
        uint32_t begin = offsets[r];
        uint32_t len = offsets[r + 1] - begin;
        if (write != begin) chars.replace(write, len, chars, begin, len);
        valid[out] = valid[r];
        offsets[out] = write;
        write += len;
        ++out;
      }
      offsets[out] = write;
      offsets.resize(out + 1);
      chars.resize(write);
    }
    valid.resize(out);
  }
  num_rows_ = columns_.empty() ? 0 : out;
  if (columns_.empty()) {
    for (uint8_t k : keep) num_rows_ += k != 0;
  }
}

void RecordBatch::Reserve(size_t rows) {
  for (Column& c : columns_) c.Reserve(rows);
}

void RecordBatch::Clear() {
  for (Column& c : columns_) c.Clear();
  num_rows_ = 0;
}

size_t RecordBatch::SerializedSize() const {
  size_t bytes = 8;
  for (const Column& c : columns_) bytes += c.SerializedSize();
  return bytes;
}

std::string RecordBatch::RowToString(size_t row) const {
  std::string out;
  for (size_t c = 0; c < columns_.size(); ++c) {
    if (c > 0) out += ", ";
    absl::StrAppend(&out, schema_->field(c).name, "=");
    const Column& col = columns_[c];
    if (col.IsNull(row)) {
      out += "null";
      continue;
    }
    switch (col.type()) {
      case TypeId::kBool: out += col.Int(row) ? "true" : "false"; break;
      case TypeId::kInt64: absl::StrAppend(&out, col.Int(row)); break;
      case TypeId::kFloat64: absl::StrAppend(&out, col.Double(row)); break;
      case TypeId::kTimestamp: out += FormatTimestamp(col.Int(row)); break;
      case TypeId::kString:
      case TypeId::kBytes: absl::StrAppend(&out, col.Str(row)); break;
    }
  }
  return out;
}

}  // namespace sluice::types
