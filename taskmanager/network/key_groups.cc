#include "taskmanager/network/key_groups.h"

#include <cmath>
#include <cstring>

namespace sluice::network {
namespace {

uint32_t LongHash(int64_t v) {
  const uint64_t u = static_cast<uint64_t>(v);
  return static_cast<uint32_t>(u ^ (u >> 32));
}

uint32_t DoubleHash(double d) {
  uint64_t bits;
  if (d == 0.0) {
    bits = 0;  // folds -0.0 into 0.0: equal keys must hash equally
  } else if (std::isnan(d)) {
    bits = 0x7ff8000000000000ULL;  // Java's canonical NaN
  } else {
    std::memcpy(&bits, &d, sizeof bits);
  }
  return static_cast<uint32_t>(bits ^ (bits >> 32));
}

uint32_t BytesHash(const char* data, size_t size) {
  uint32_t h = 0;
  for (size_t i = 0; i < size; ++i) h = 31 * h + static_cast<uint8_t>(data[i]);
  return h;
}

// Value hash of every row of one column into `out` (as unsigned 32-bit codes).
void ColumnHashes(const types::Column& col, uint32_t* out) {
  const size_t n = col.size();
  const std::vector<uint8_t>& valid = col.valid();
  switch (col.type()) {
    case types::TypeId::kBool:
      for (size_t r = 0; r < n; ++r) out[r] = valid[r] ? (col.ints()[r] ? 1231 : 1237) : 0;
      break;
    case types::TypeId::kInt64:
    case types::TypeId::kTimestamp:
      for (size_t r = 0; r < n; ++r) out[r] = valid[r] ? LongHash(col.ints()[r]) : 0;
      break;
    case types::TypeId::kFloat64:
      for (size_t r = 0; r < n; ++r) out[r] = valid[r] ? DoubleHash(col.doubles()[r]) : 0;
      break;
    case types::TypeId::kString:
    case types::TypeId::kBytes: {
      const std::vector<uint32_t>& offsets = col.offsets();
      const char* chars = col.chars().data();
      for (size_t r = 0; r < n; ++r) {
        out[r] = valid[r] ? BytesHash(chars + offsets[r], offsets[r + 1] - offsets[r]) : 0;
      }
      break;
    }
  }
}

}  // namespace

int32_t HashValue(const types::Column& column, size_t row) {
  if (column.IsNull(row)) return 0;
  switch (column.type()) {
    case types::TypeId::kBool:
      return column.Int(row) ? 1231 : 1237;
    case types::TypeId::kInt64:
    case types::TypeId::kTimestamp:
      return static_cast<int32_t>(LongHash(column.Int(row)));
    case types::TypeId::kFloat64:
      return static_cast<int32_t>(DoubleHash(column.Double(row)));
    case types::TypeId::kString:
    case types::TypeId::kBytes: {
      absl::string_view s = column.Str(row);
      return static_cast<int32_t>(BytesHash(s.data(), s.size()));
    }
  }
  return 0;
}

int32_t HashKey(const types::RecordBatch& batch, size_t row, const std::vector<int>& key_indexes) {
  if (key_indexes.size() == 1) return HashValue(batch.column(key_indexes[0]), row);
  uint32_t h = 1;
  for (int k : key_indexes) h = 31 * h + static_cast<uint32_t>(HashValue(batch.column(k), row));
  return static_cast<int32_t>(h);
}

void HashKeys(const types::RecordBatch& batch, const std::vector<int>& key_indexes,
              std::vector<int32_t>* hashes) {
  const size_t n = batch.num_rows();
  hashes->resize(n);
  uint32_t* out = reinterpret_cast<uint32_t*>(hashes->data());
  if (key_indexes.size() == 1) {
    ColumnHashes(batch.column(key_indexes[0]), out);
    return;
  }
  std::vector<uint32_t> column_hashes(n);
  std::fill(out, out + n, 1u);
  for (int k : key_indexes) {
    ColumnHashes(batch.column(k), column_hashes.data());
    for (size_t r = 0; r < n; ++r) out[r] = 31 * out[r] + column_hashes[r];
  }
}

}  // namespace sluice::network
