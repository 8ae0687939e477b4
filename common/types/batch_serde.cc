#include "common/types/batch_serde.h"

#include <cstring>

#include "absl/strings/str_cat.h"

namespace sluice::types {
namespace {

constexpr uint32_t kMagic = 0x31424c53;  // "SLB1"

template <typename T>
void Put(std::string* out, T v) {
  out->append(reinterpret_cast<const char*>(&v), sizeof(T));
}

template <typename T>
void PutArray(std::string* out, const std::vector<T>& v) {
  out->append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

class Reader {
 public:
  explicit Reader(absl::string_view bytes) : bytes_(bytes) {}
  bool Read(void* dst, size_t n) {
    if (n > bytes_.size() - pos_) return false;
    std::memcpy(dst, bytes_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  template <typename T>
  bool Get(T* v) { return Read(v, sizeof(T)); }
  size_t remaining() const { return bytes_.size() - pos_; }

 private:
  absl::string_view bytes_;
  size_t pos_ = 0;
};

absl::Status Corrupt(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("corrupt record batch: ", what));
}

}  // namespace

void SerializeBatch(const RecordBatch& batch, std::string* out) {
  out->reserve(out->size() + batch.SerializedSize());
  const uint32_t rows = static_cast<uint32_t>(batch.num_rows());
  Put<uint32_t>(out, kMagic);
  Put<uint32_t>(out, rows);
  Put<uint16_t>(out, static_cast<uint16_t>(batch.num_columns()));
  for (size_t c = 0; c < batch.num_columns(); ++c) {
    const Column& col = batch.column(c);
    Put<uint8_t>(out, static_cast<uint8_t>(col.type()));
    bool has_nulls = false;
    for (uint8_t v : col.valid()) has_nulls |= (v == 0);
    Put<uint8_t>(out, has_nulls ? 1 : 0);
    if (has_nulls) PutArray(out, col.valid());
    if (col.type() == TypeId::kBool) {
      for (int64_t v : col.ints()) Put<uint8_t>(out, v != 0);
    } else if (IsIntegerStored(col.type())) {
      PutArray(out, col.ints());
    } else if (col.type() == TypeId::kFloat64) {
      PutArray(out, col.doubles());
    } else {
      PutArray(out, col.offsets());
      out->append(col.chars());
    }
  }
}

absl::StatusOr<RecordBatch> DeserializeBatch(const SchemaPtr& schema, absl::string_view bytes) {
  Reader in(bytes);
  uint32_t magic = 0, rows = 0;
  uint16_t ncols = 0;
  if (!in.Get(&magic) || magic != kMagic) return Corrupt("bad magic");
  if (!in.Get(&rows) || !in.Get(&ncols)) return Corrupt("truncated header");
  if (ncols != schema->size()) {
    return Corrupt(absl::StrCat(ncols, " columns, the schema has ", schema->size()));
  }
  // Each row takes at least one byte per column: bounds `rows` before any allocation.
  if (ncols > 0 && rows > in.remaining()) return Corrupt("row count exceeds the payload");
  RecordBatch batch(schema);
  for (size_t c = 0; c < ncols; ++c) {
    Column& col = batch.mutable_column(c);
    uint8_t type = 0, has_nulls = 0;
    if (!in.Get(&type) || !in.Get(&has_nulls)) return Corrupt("truncated column header");
    if (type != static_cast<uint8_t>(col.type())) {
      return Corrupt(absl::StrCat("column ", c, " has type ", int{type}, ", expected ",
                                  TypeName(col.type())));
    }
    std::vector<uint8_t>& valid = col.mutable_valid();
    valid.resize(rows, 1);
    if (has_nulls && !in.Read(valid.data(), rows)) return Corrupt("truncated validity");
    if (col.type() == TypeId::kBool) {
      std::vector<uint8_t> b(rows);
      if (!in.Read(b.data(), rows)) return Corrupt("truncated bool values");
      col.mutable_ints().assign(b.begin(), b.end());
    } else if (IsIntegerStored(col.type())) {
      col.mutable_ints().resize(rows);
      if (!in.Read(col.mutable_ints().data(), rows * 8ull)) return Corrupt("truncated int64 values");
    } else if (col.type() == TypeId::kFloat64) {
      col.mutable_doubles().resize(rows);
      if (!in.Read(col.mutable_doubles().data(), rows * 8ull)) return Corrupt("truncated float64 values");
    } else {
      std::vector<uint32_t>& offsets = col.mutable_offsets();
      offsets.resize(rows + 1ull);
      if (!in.Read(offsets.data(), (rows + 1ull) * 4)) return Corrupt("truncated offsets");
      if (offsets[0] != 0) return Corrupt("string offsets do not start at 0");
      for (size_t r = 0; r < rows; ++r) {
        if (offsets[r + 1] < offsets[r]) return Corrupt("string offsets decrease");
      }
      uint32_t len = offsets[rows];
      if (len > in.remaining()) return Corrupt("string bytes exceed the payload");
      col.mutable_chars().resize(len);
      in.Read(col.mutable_chars().data(), len);
    }
  }
  if (in.remaining() != 0) return Corrupt("trailing bytes");
  batch.SetNumRows(rows);
  return batch;
}

}  // namespace sluice::types
