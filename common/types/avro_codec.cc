#include "common/types/avro_codec.h"

#include <cstring>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/types/format_values.h"
#include "common/types/varint.h"

namespace sluice::types {
namespace {

using schema_registry::AvroKind;
using schema_registry::AvroNode;
using schema_registry::AvroSchema;
using Kind = AvroKind;

// "long", "array", "record 'acme.Txn'", "long (timestamp-millis)": for messages.
std::string KindName(const AvroNode& n) {
  std::string name = schema_registry::AvroKindName(n.kind);
  if (!n.full_name.empty()) absl::StrAppend(&name, " '", n.full_name, "'");
  if (!n.logical_type.empty()) absl::StrAppend(&name, " (", n.logical_type, ")");
  return name;
}

// Bounds-checked reads of Avro's binary primitives. Each returns false on a truncated or
// malformed value and leaves the reason in `error`.
class Cursor {
 public:
  Cursor(const AvroSchema& schema, absl::string_view data)
      : schema_(schema), p_(data.data()), end_(data.data() + data.size()) {}

  size_t remaining() const { return static_cast<size_t>(end_ - p_); }

  bool Long(int64_t* v, std::string* error) {
    uint64_t raw = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) return Fail(error, "truncated record");
      const uint8_t b = static_cast<uint8_t>(*p_++);
      raw |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        *v = ZigZagDecode(raw);
        return true;
      }
    }
    return Fail(error, "bad varint (more than 10 bytes)");
  }

  bool Bytes(absl::string_view* v, std::string* error) {
    int64_t n = 0;
    if (!Long(&n, error)) return false;
    if (n < 0) return Fail(error, absl::StrCat("negative length ", n));
    if (static_cast<uint64_t>(n) > remaining()) {
      return Fail(error, absl::StrCat("truncated record (a length of ", n, " with ", remaining(),
                                      " bytes left)"));
    }
    *v = absl::string_view(p_, static_cast<size_t>(n));
    p_ += n;
    return true;
  }

  bool Raw(size_t n, const char** v, std::string* error) {
    if (n > remaining()) return Fail(error, "truncated record");
    *v = p_;
    p_ += n;
    return true;
  }

  bool Double(double* v, std::string* error) {
    const char* raw = nullptr;
    if (!Raw(8, &raw, error)) return false;
    std::memcpy(v, raw, 8);
    return true;
  }

  bool Float(double* v, std::string* error) {
    const char* raw = nullptr;
    if (!Raw(4, &raw, error)) return false;
    float f;
    std::memcpy(&f, raw, 4);
    *v = f;
    return true;
  }

  bool Bool(bool* v, std::string* error) {
    const char* raw = nullptr;
    if (!Raw(1, &raw, error)) return false;
    if (*raw != 0 && *raw != 1) return Fail(error, "bad boolean byte");
    *v = *raw == 1;
    return true;
  }

  // Skips one value of `type`.
  bool Skip(const AvroNode& type, std::string* error) {
    int64_t n = 0;
    absl::string_view bytes;
    double d;
    bool b;
    const char* raw = nullptr;
    switch (type.kind) {
      case Kind::kNull: return true;
      case Kind::kBoolean: return Bool(&b, error);
      case Kind::kInt:
      case Kind::kLong:
      case Kind::kEnum: return Long(&n, error);
      case Kind::kFloat: return Float(&d, error);
      case Kind::kDouble: return Double(&d, error);
      case Kind::kBytes:
      case Kind::kString: return Bytes(&bytes, error);
      case Kind::kFixed: return Raw(type.size, &raw, error);
      case Kind::kRecord:
        for (const schema_registry::AvroField& f : type.fields) {
          if (!Skip(schema_.node(f.type), error)) return false;
        }
        return true;
      case Kind::kUnion: {
        const AvroNode* branch;
        return Branch(type, &branch, error) && Skip(*branch, error);
      }
      case Kind::kArray:
      case Kind::kMap:
        while (true) {  // blocks: count (negative: followed by the block's byte size), items
          if (!Long(&n, error)) return false;
          if (n == 0) return true;
          if (n < 0) {
            int64_t size;
            if (!Long(&size, error)) return false;
            if (size < 0 || static_cast<uint64_t>(size) > remaining()) {
              return Fail(error, "truncated record");
            }
            p_ += size;
            continue;
          }
          if (static_cast<uint64_t>(n) > remaining()) return Fail(error, "truncated record");
          for (int64_t i = 0; i < n; ++i) {
            if (type.kind == Kind::kMap && !Bytes(&bytes, error)) return false;
            if (!Skip(schema_.node(type.element), error)) return false;
          }
        }
    }
    return Fail(error, "unknown type");
  }

  bool Branch(const AvroNode& u, const AvroNode** branch, std::string* error) {
    int64_t index = 0;
    if (!Long(&index, error)) return false;
    if (index < 0 || static_cast<size_t>(index) >= u.branches.size()) {
      return Fail(error, absl::StrCat("union branch ", index, " out of range (the union has ",
                                      u.branches.size(), ")"));
    }
    *branch = &schema_.node(u.branches[index]);
    return true;
  }

 private:
  static bool Fail(std::string* error, std::string message) {
    *error = std::move(message);
    return false;
  }
  const AvroSchema& schema_;
  const char* p_;
  const char* end_;
};

// Whether a value of writer type `w` (not a union) can be read into a column of type `t`.
bool Readable(const AvroNode& w, TypeId t) {
  switch (t) {
    case TypeId::kBool: return w.kind == Kind::kBoolean;
    case TypeId::kInt64: return w.kind == Kind::kInt || w.kind == Kind::kLong;
    case TypeId::kFloat64:
      return w.kind == Kind::kInt || w.kind == Kind::kLong || w.kind == Kind::kFloat ||
             w.kind == Kind::kDouble;
    case TypeId::kString:
      return w.kind == Kind::kString || w.kind == Kind::kBytes || w.kind == Kind::kEnum;
    case TypeId::kBytes:
      return w.kind == Kind::kBytes || w.kind == Kind::kString || w.kind == Kind::kFixed;
    case TypeId::kTimestamp:
      return w.kind == Kind::kInt || w.kind == Kind::kLong || w.kind == Kind::kString;
  }
  return false;
}

// The factor from the writer's integer time to microseconds.
int64_t MicrosPerValue(const AvroNode& w, int64_t micros_per_unit) {
  if (w.logical_type == "timestamp-micros" || w.logical_type == "local-timestamp-micros") return 1;
  if (w.logical_type == "timestamp-millis" || w.logical_type == "local-timestamp-millis") {
    return 1000;
  }
  return micros_per_unit;
}

// Reads one value of writer type `w` (a union resolved to its branch) into `col`.
bool ReadValue(Cursor& in, const AvroNode& w, TypeId t, int64_t micros_per_unit, Column* col,
               std::string* error) {
  const AvroNode* type = &w;
  if (w.kind == Kind::kUnion && !in.Branch(w, &type, error)) return false;
  if (type->kind == Kind::kNull) {
    col->AppendNull();
    return true;
  }
  if (!Readable(*type, t)) {  // a branch of a union that has readable branches too
    *error = absl::StrCat("a ", KindName(*type), " value cannot be read as ", TypeName(t));
    return false;
  }
  int64_t n = 0;
  double d = 0;
  bool b = false;
  absl::string_view bytes;
  const char* raw = nullptr;
  switch (type->kind) {
    case Kind::kBoolean:
      if (!in.Bool(&b, error)) return false;
      col->AppendInt(b ? 1 : 0);
      return true;
    case Kind::kInt:
    case Kind::kLong:
      if (!in.Long(&n, error)) return false;
      if (t == TypeId::kFloat64) {
        col->AppendDouble(static_cast<double>(n));
      } else if (t == TypeId::kTimestamp) {
        const int64_t factor = MicrosPerValue(*type, micros_per_unit);
        int64_t micros;
        if (__builtin_mul_overflow(n, factor, &micros)) {
          *error = absl::StrCat("timestamp ", n, " is out of range");
          return false;
        }
        col->AppendInt(micros);
      } else {
        col->AppendInt(n);
      }
      return true;
    case Kind::kFloat:
    case Kind::kDouble:
      if (!(type->kind == Kind::kFloat ? in.Float(&d, error) : in.Double(&d, error))) return false;
      col->AppendDouble(d);
      return true;
    case Kind::kString:
    case Kind::kBytes:
      if (!in.Bytes(&bytes, error)) return false;
      if (t == TypeId::kTimestamp) {
        int64_t micros;
        if (!ParseRfc3339(bytes, &micros)) {
          *error = absl::StrCat("expected an RFC 3339 timestamp, got ", QuoteForMessage(bytes));
          return false;
        }
        col->AppendInt(micros);
        return true;
      }
      col->AppendString(bytes);
      return true;
    case Kind::kEnum:
      if (!in.Long(&n, error)) return false;
      if (n < 0 || static_cast<size_t>(n) >= type->symbols.size()) {
        *error = absl::StrCat("enum index ", n, " out of range");
        return false;
      }
      col->AppendString(type->symbols[n]);
      return true;
    case Kind::kFixed:
      if (!in.Raw(type->size, &raw, error)) return false;
      col->AppendString(absl::string_view(raw, type->size));
      return true;
    default:
      *error = absl::StrCat("a ", KindName(*type), " value cannot be read as ", TypeName(t));
      return false;
  }
}

}  // namespace

absl::StatusOr<AvroRowReader> AvroRowReader::Plan(std::shared_ptr<const AvroSchema> writer,
                                                  SchemaPtr columns, TimestampUnit unit) {
  const AvroNode& root = writer->node(writer->root());
  if (root.kind != Kind::kRecord) {
    return absl::InvalidArgumentError(
        absl::StrCat("the Avro schema is a ", KindName(root), ", not a record"));
  }
  AvroRowReader reader;
  reader.micros_per_unit_ = MicrosPerUnit(unit);
  std::vector<bool> found(columns->size(), false);
  // Columns by their Avro name (what DeriveAvroSchema calls them).
  absl::flat_hash_map<std::string, int> by_name;
  for (size_t c = 0; c < columns->size(); ++c) {
    by_name.emplace(AvroFieldName(columns->field(c).name), static_cast<int>(c));
  }
  for (const schema_registry::AvroField& f : root.fields) {
    const AvroNode& ftype = writer->node(f.type);
    Step step{&ftype, -1, f.name};
    std::optional<int> column;
    if (auto it = by_name.find(f.name); it != by_name.end()) column = it->second;
    if (column) {
      const TypeId t = columns->field(*column).type;
      bool readable = false;
      if (ftype.kind == Kind::kUnion) {
        for (int b : ftype.branches) {
          const AvroNode& branch = writer->node(b);
          readable |= branch.kind != Kind::kNull && Readable(branch, t);
        }
        // A union of only null is readable (always null).
        readable |= ftype.branches.size() == 1 && writer->node(ftype.branches[0]).kind == Kind::kNull;
      } else {
        readable = ftype.kind == Kind::kNull || Readable(ftype, t);
      }
      if (!readable) {
        return absl::InvalidArgumentError(absl::StrCat(
            "column '", f.name, "': the writer's field is ", KindName(ftype),
            ", which cannot be read as ", TypeName(t)));
      }
      step.column = *column;
      found[*column] = true;
    }
    reader.steps_.push_back(std::move(step));
  }
  for (size_t c = 0; c < found.size(); ++c) {
    if (!found[c]) reader.missing_.push_back(static_cast<int>(c));
  }
  reader.writer_ = std::move(writer);
  reader.columns_ = std::move(columns);
  return reader;
}

bool AvroRowReader::Read(absl::string_view data, RecordBatch* out, std::string* error) const {
  const size_t rows = out->num_rows();
  Cursor in(*writer_, data);
  for (const Step& step : steps_) {
    bool ok;
    if (step.column < 0) {
      ok = in.Skip(*step.type, error);
    } else {
      ok = ReadValue(in, *step.type, columns_->field(step.column).type, micros_per_unit_,
                     &out->mutable_column(step.column), error);
    }
    if (!ok) {
      *error = absl::StrCat("field '", step.field, "': ", *error);
      for (Column& col : out->mutable_columns()) TruncateColumn(&col, rows);
      return false;
    }
  }
  if (in.remaining() != 0) {
    *error = absl::StrCat(in.remaining(), " bytes left over after the record (written with "
                          "another schema?)");
    for (Column& col : out->mutable_columns()) TruncateColumn(&col, rows);
    return false;
  }
  for (int c : missing_) out->mutable_column(c).AppendNull();
  out->SetNumRows(rows + 1);
  return true;
}

void AppendAvroLong(int64_t v, std::string* out) { AppendVarint(ZigZagEncode(v), out); }

void AvroRowWriter::Write(const RecordBatch& batch, size_t row, std::string* out) const {
  for (size_t c = 0; c < columns_->size(); ++c) {
    const Column& col = batch.column(c);
    if (col.IsNull(row)) {
      out->push_back(0);  // union branch 0: null
      continue;
    }
    out->push_back(2);  // union branch 1 (zigzag)
    switch (col.type()) {
      case TypeId::kBool: out->push_back(col.Int(row) != 0 ? 1 : 0); break;
      case TypeId::kInt64:
      case TypeId::kTimestamp: AppendAvroLong(col.Int(row), out); break;
      case TypeId::kFloat64: {
        const double d = col.Double(row);
        char raw[8];
        std::memcpy(raw, &d, 8);
        out->append(raw, 8);
        break;
      }
      case TypeId::kString:
      case TypeId::kBytes: {
        const absl::string_view s = col.Str(row);
        AppendAvroLong(static_cast<int64_t>(s.size()), out);
        out->append(s.data(), s.size());
        break;
      }
    }
  }
}

}  // namespace sluice::types
