#include "common/types/proto_codec.h"

#include <cstdint>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "common/types/format_values.h"
#include "common/types/varint.h"
#include "google/protobuf/descriptor.h"

namespace sluice::types {
namespace {

namespace pb = google::protobuf;
using FD = pb::FieldDescriptor;

enum WireType { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kStartGroup = 3,
                kEndGroup = 4, kFixed32 = 5 };

constexpr uint32_t kMaxDenseNumber = 4096;  // field numbers looked up in a vector
constexpr int kMaxGroupDepth = 64;
constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kMaxNanos = 999'999'999;

int WireTypeOf(int type) {
  switch (type) {
    case FD::TYPE_DOUBLE:
    case FD::TYPE_FIXED64:
    case FD::TYPE_SFIXED64: return kFixed64;
    case FD::TYPE_FLOAT:
    case FD::TYPE_FIXED32:
    case FD::TYPE_SFIXED32: return kFixed32;
    case FD::TYPE_STRING:
    case FD::TYPE_BYTES:
    case FD::TYPE_MESSAGE: return kLengthDelimited;
    case FD::TYPE_GROUP: return kStartGroup;
    default: return kVarint;
  }
}

const char* WireTypeName(int wire_type) {
  switch (wire_type) {
    case kVarint: return "varint";
    case kFixed64: return "64-bit";
    case kLengthDelimited: return "length-delimited";
    case kStartGroup: return "group";
    case kEndGroup: return "end group";
    case kFixed32: return "32-bit";
    default: return "invalid";
  }
}

bool IsInteger(int type) {
  switch (type) {
    case FD::TYPE_INT32: case FD::TYPE_INT64: case FD::TYPE_UINT32: case FD::TYPE_UINT64:
    case FD::TYPE_SINT32: case FD::TYPE_SINT64: case FD::TYPE_FIXED32: case FD::TYPE_FIXED64:
    case FD::TYPE_SFIXED32: case FD::TYPE_SFIXED64: return true;
    default: return false;
  }
}

bool IsTimestamp(const FD& field) {
  return field.type() == FD::TYPE_MESSAGE &&
         field.message_type()->full_name() == "google.protobuf.Timestamp";
}

// "repeated string", "map<string, int64>", "message acme.Meta", "int32".
std::string FieldTypeText(const FD& field) {
  if (field.is_map()) return "a map";
  std::string text = field.is_repeated() ? "repeated " : "";
  if (field.type() == FD::TYPE_MESSAGE || field.type() == FD::TYPE_GROUP) {
    absl::StrAppend(&text, "message ", field.message_type()->full_name());
  } else if (field.type() == FD::TYPE_ENUM) {
    absl::StrAppend(&text, "enum ", field.enum_type()->full_name());
  } else {
    absl::StrAppend(&text, field.type_name());
  }
  return text;
}

// Whether a singular field can be read into a column of type `t`.
bool Readable(const FD& field, TypeId t) {
  if (field.is_repeated()) return false;
  const int type = field.type();
  switch (t) {
    case TypeId::kBool: return type == FD::TYPE_BOOL;
    case TypeId::kInt64: return IsInteger(type);
    case TypeId::kFloat64:
      return IsInteger(type) || type == FD::TYPE_FLOAT || type == FD::TYPE_DOUBLE;
    case TypeId::kString:
      return type == FD::TYPE_STRING || type == FD::TYPE_BYTES || type == FD::TYPE_ENUM;
    case TypeId::kBytes: return type == FD::TYPE_BYTES || type == FD::TYPE_STRING;
    case TypeId::kTimestamp:
      return IsInteger(type) || type == FD::TYPE_STRING || IsTimestamp(field);
  }
  return false;
}

// Whether a column of type `t` can be written to a singular field without loss.
bool Writable(const FD& field, TypeId t) {
  if (field.is_repeated()) return false;
  const int type = field.type();
  const bool int64 =
      type == FD::TYPE_INT64 || type == FD::TYPE_SINT64 || type == FD::TYPE_SFIXED64;
  switch (t) {
    case TypeId::kBool: return type == FD::TYPE_BOOL;
    case TypeId::kInt64: return int64;
    case TypeId::kFloat64: return type == FD::TYPE_DOUBLE || type == FD::TYPE_FLOAT;
    case TypeId::kString: return type == FD::TYPE_STRING;
    case TypeId::kBytes: return type == FD::TYPE_BYTES;
    case TypeId::kTimestamp: return int64 || IsTimestamp(field);
  }
  return false;
}

// The default of a field as the raw value the scanner would have read.
uint64_t DefaultRaw(const FD& field) {
  switch (field.cpp_type()) {
    case FD::CPPTYPE_INT32: return static_cast<uint64_t>(static_cast<int64_t>(field.default_value_int32()));
    case FD::CPPTYPE_INT64: return static_cast<uint64_t>(field.default_value_int64());
    case FD::CPPTYPE_UINT32: return field.default_value_uint32();
    case FD::CPPTYPE_UINT64: return field.default_value_uint64();
    case FD::CPPTYPE_BOOL: return field.default_value_bool() ? 1 : 0;
    case FD::CPPTYPE_ENUM:
      return static_cast<uint64_t>(static_cast<int64_t>(field.default_value_enum()->number()));
    case FD::CPPTYPE_FLOAT: {
      const float f = field.default_value_float();
      uint32_t bits;
      std::memcpy(&bits, &f, 4);
      return bits;
    }
    case FD::CPPTYPE_DOUBLE: {
      const double d = field.default_value_double();
      uint64_t bits;
      std::memcpy(&bits, &d, 8);
      return bits;
    }
    default: return 0;
  }
}

// An integer field's value: signed, or (uint64/fixed64) unsigned.
struct Integer {
  int64_t value;
  bool too_big;  // an unsigned value above the int64 maximum (`value` is meaningless)
  uint64_t unsigned_value;
};

Integer IntegerOf(int type, uint64_t raw) {
  switch (type) {
    case FD::TYPE_INT32:
    case FD::TYPE_SFIXED32:
      return {static_cast<int32_t>(static_cast<uint32_t>(raw)), false, 0};
    case FD::TYPE_UINT32:
    case FD::TYPE_FIXED32: return {static_cast<uint32_t>(raw), false, 0};
    case FD::TYPE_SINT32: {
      const uint32_t z = static_cast<uint32_t>(raw);
      return {static_cast<int32_t>(z >> 1) ^ -static_cast<int32_t>(z & 1), false, 0};
    }
    case FD::TYPE_SINT64:
      return {ZigZagDecode(raw), false, 0};
    case FD::TYPE_UINT64:
    case FD::TYPE_FIXED64:
      return {static_cast<int64_t>(raw), raw > static_cast<uint64_t>(INT64_MAX), raw};
    default: return {static_cast<int64_t>(raw), false, 0};  // int64, sfixed64
  }
}

double DoubleOf(int type, uint64_t raw) {
  if (type == FD::TYPE_DOUBLE) {
    double d;
    std::memcpy(&d, &raw, 8);
    return d;
  }
  if (type == FD::TYPE_FLOAT) {
    const uint32_t bits = static_cast<uint32_t>(raw);
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
  }
  const Integer i = IntegerOf(type, raw);
  return i.too_big ? static_cast<double>(i.unsigned_value) : static_cast<double>(i.value);
}

// Bounds-checked reads of protobuf's wire format.
class Cursor {
 public:
  explicit Cursor(absl::string_view data) : p_(data.data()), end_(data.data() + data.size()) {}
  bool done() const { return p_ == end_; }

  bool Varint(uint64_t* v, std::string* error) { return ReadProtoVarint(&p_, end_, v, error); }

  bool Fixed(int bytes, uint64_t* v, std::string* error) {
    if (end_ - p_ < bytes) return Fail(error, "truncated");
    uint64_t raw = 0;
    for (int i = bytes - 1; i >= 0; --i) raw = raw << 8 | static_cast<uint8_t>(p_[i]);
    p_ += bytes;
    *v = raw;
    return true;
  }

  bool Delimited(absl::string_view* v, std::string* error) {
    uint64_t n = 0;
    if (!Varint(&n, error)) return false;
    if (n > static_cast<uint64_t>(end_ - p_)) {
      return Fail(error, absl::StrCat("truncated (a length of ", n, " with ", end_ - p_,
                                      " bytes left)"));
    }
    *v = absl::string_view(p_, n);
    p_ += n;
    return true;
  }

  // Reads a field key; false at a bad one.
  bool Key(uint32_t* number, int* wire_type, std::string* error) {
    uint64_t key = 0;
    if (!Varint(&key, error)) return false;
    *wire_type = static_cast<int>(key & 7);
    if (key >> 3 == 0 || key >> 3 > 536'870'911) {
      return Fail(error, absl::StrCat("invalid field number ", key >> 3));
    }
    *number = static_cast<uint32_t>(key >> 3);
    return true;
  }

  // Reads (and drops) the value of a field of `number` with `wire_type`.
  bool Skip(uint32_t number, int wire_type, std::string* error, int depth = 0) {
    uint64_t v = 0;
    absl::string_view bytes;
    switch (wire_type) {
      case kVarint: return Varint(&v, error);
      case kFixed64: return Fixed(8, &v, error);
      case kFixed32: return Fixed(4, &v, error);
      case kLengthDelimited: return Delimited(&bytes, error);
      case kStartGroup: {
        if (depth >= kMaxGroupDepth) return Fail(error, "groups nested too deeply");
        while (true) {
          uint32_t inner = 0;
          int inner_wire = 0;
          if (!Key(&inner, &inner_wire, error)) return false;
          if (inner_wire == kEndGroup) {
            return inner == number || Fail(error, "mismatched end of group");
          }
          if (!Skip(inner, inner_wire, error, depth + 1)) return false;
        }
      }
      case kEndGroup: return Fail(error, "end of group without a start");
      default: return Fail(error, absl::StrCat("invalid wire type ", wire_type));
    }
  }

 private:
  static bool Fail(std::string* error, std::string message) {
    *error = std::move(message);
    return false;
  }
  const char* p_;
  const char* end_;
};

// Merges a google.protobuf.Timestamp message into `seconds` and `nanos`.
bool ReadTimestamp(absl::string_view data, int64_t* seconds, int64_t* nanos, std::string* error) {
  Cursor in(data);
  while (!in.done()) {
    uint32_t number = 0;
    int wire_type = 0;
    if (!in.Key(&number, &wire_type, error)) return false;
    if (number != 1 && number != 2) {
      if (!in.Skip(number, wire_type, error)) return false;
      continue;
    }
    if (wire_type != kVarint) {
      *error = absl::StrCat("Timestamp.", number == 1 ? "seconds" : "nanos", " has wire type ",
                            WireTypeName(wire_type), ", not varint");
      return false;
    }
    uint64_t raw = 0;
    if (!in.Varint(&raw, error)) return false;
    if (number == 1) {
      *seconds = static_cast<int64_t>(raw);
    } else {
      *nanos = static_cast<int32_t>(static_cast<uint32_t>(raw));
    }
  }
  return true;
}

void AppendFixed(uint64_t v, int bytes, std::string* out) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

int64_t FloorDiv(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

}  // namespace

bool ReadProtoVarint(const char** p, const char* end, uint64_t* v, std::string* error) {
  uint64_t raw = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (*p == end) {
      *error = "truncated";
      return false;
    }
    const uint8_t b = static_cast<uint8_t>(*(*p)++);
    if (shift < 64) raw |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      *v = raw;
      return true;
    }
  }
  *error = "bad varint (more than 10 bytes)";
  return false;
}

absl::StatusOr<ProtoRowReader> ProtoRowReader::Plan(std::shared_ptr<const ProtoSchema> schema,
                                                    const pb::Descriptor& message,
                                                    SchemaPtr columns, TimestampUnit unit) {
  ProtoRowReader reader;
  reader.message_name_ = message.full_name();
  reader.unit_ = unit;
  uint32_t max_dense = 0;
  for (size_t c = 0; c < columns->size(); ++c) {
    const Field& column = columns->field(c);
    const FD* field = message.FindFieldByName(ProtoFieldName(column.name));
    if (field == nullptr) {
      reader.missing_.push_back(static_cast<int>(c));
      continue;
    }
    if (!Readable(*field, column.type)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "column '", column.name, "': field ", field->name(), " of ", message.full_name(),
          " is ", FieldTypeText(*field), ", which cannot be read as ", TypeName(column.type)));
    }
    Slot slot;
    slot.field = field;
    slot.column = static_cast<int>(c);
    slot.column_type = column.type;
    slot.type = field->type();
    slot.wire_type = WireTypeOf(field->type());
    slot.timestamp = IsTimestamp(*field);
    slot.presence = field->has_presence();
    slot.required = field->is_required();
    if (const pb::OneofDescriptor* oneof = field->real_containing_oneof()) {
      slot.oneof = oneof->index();
    }
    slot.default_raw = DefaultRaw(*field);
    if (field->cpp_type() == FD::CPPTYPE_STRING) slot.default_bytes = field->default_value_string();
    const uint32_t number = static_cast<uint32_t>(field->number());
    if (number < kMaxDenseNumber && number >= max_dense) max_dense = number + 1;
    reader.slots_.push_back(std::move(slot));
  }
  reader.by_number_.assign(max_dense, -1);
  for (size_t s = 0; s < reader.slots_.size(); ++s) {
    const uint32_t number = static_cast<uint32_t>(reader.slots_[s].field->number());
    if (number < kMaxDenseNumber) {
      reader.by_number_[number] = static_cast<int>(s);
    } else {
      reader.by_big_number_[number] = static_cast<int>(s);
    }
  }
  reader.schema_ = std::move(schema);
  reader.columns_ = std::move(columns);
  return reader;
}

ProtoRowReader::Slot* ProtoRowReader::Find(uint32_t number) {
  if (number < by_number_.size()) {
    const int s = by_number_[number];
    return s < 0 ? nullptr : &slots_[s];
  }
  if (by_big_number_.empty()) return nullptr;
  auto it = by_big_number_.find(number);
  return it == by_big_number_.end() ? nullptr : &slots_[it->second];
}

bool ProtoRowReader::Scan(absl::string_view data, std::string* error) {
  for (Slot& slot : slots_) slot.seen = false;
  Cursor in(data);
  while (!in.done()) {
    uint32_t number = 0;
    int wire_type = 0;
    if (!in.Key(&number, &wire_type, error)) return false;
    Slot* slot = Find(number);
    if (slot == nullptr) {
      if (!in.Skip(number, wire_type, error)) {
        *error = absl::StrCat("field ", number, ": ", *error);
        return false;
      }
      continue;
    }
    const std::string& name = slot->field->name();
    if (wire_type > kFixed32) {
      *error = absl::StrCat("field '", name, "' (", number, "): invalid wire type ", wire_type);
      return false;
    }
    if (wire_type != slot->wire_type) {
      *error = absl::StrCat("field '", name, "' (", number, "): wire type ",
                            WireTypeName(wire_type), ", expected ",
                            WireTypeName(slot->wire_type), " for ", FieldTypeText(*slot->field));
      return false;
    }
    bool ok = true;
    switch (wire_type) {
      case kVarint: ok = in.Varint(&slot->raw, error); break;
      case kFixed64: ok = in.Fixed(8, &slot->raw, error); break;
      case kFixed32: ok = in.Fixed(4, &slot->raw, error); break;
      default:
        ok = in.Delimited(&slot->bytes, error);
        if (ok && slot->timestamp) {
          if (!slot->seen) slot->seconds = slot->nanos = 0;  // a later occurrence merges
          ok = ReadTimestamp(slot->bytes, &slot->seconds, &slot->nanos, error);
        }
        break;
    }
    if (!ok) {
      *error = absl::StrCat("field '", name, "' (", number, "): ", *error);
      return false;
    }
    if (slot->oneof >= 0) {
      for (Slot& other : slots_) {
        if (other.oneof == slot->oneof) other.seen = false;
      }
    }
    slot->seen = true;
  }
  return true;
}

bool ProtoRowReader::Append(const Slot& slot, Column* col, std::string* error) const {
  if (!slot.seen && slot.required) {
    *error = absl::StrCat("required field '", slot.field->name(), "' is missing");
    return false;
  }
  if (!slot.seen && slot.presence) {
    col->AppendNull();
    return true;
  }
  const uint64_t raw = slot.seen ? slot.raw : slot.default_raw;
  const absl::string_view bytes = slot.seen ? slot.bytes : absl::string_view(slot.default_bytes);
  const int type = slot.type;
  switch (slot.column_type) {
    case TypeId::kBool:
      col->AppendInt(raw != 0 ? 1 : 0);
      return true;
    case TypeId::kFloat64:
      col->AppendDouble(DoubleOf(type, raw));
      return true;
    case TypeId::kString:
      if (type != FD::TYPE_ENUM) {
        col->AppendString(bytes);
        return true;
      }
      if (const pb::EnumValueDescriptor* value = slot.field->enum_type()->FindValueByNumber(
              static_cast<int32_t>(static_cast<uint32_t>(raw)))) {
        col->AppendString(value->name());
      } else {
        col->AppendString(absl::StrCat(static_cast<int32_t>(static_cast<uint32_t>(raw))));
      }
      return true;
    case TypeId::kBytes:
      col->AppendString(bytes);
      return true;
    case TypeId::kInt64:
    case TypeId::kTimestamp:
      break;
  }
  int64_t value = 0;
  if (slot.timestamp) {
    if (slot.nanos < 0 || slot.nanos > kMaxNanos) {
      *error = absl::StrCat("field '", slot.field->name(), "': Timestamp.nanos ", slot.nanos,
                            " is out of range (0 to 999999999)");
      return false;
    }
    if (__builtin_mul_overflow(slot.seconds, kMicrosPerSecond, &value) ||
        __builtin_add_overflow(value, slot.nanos / 1000, &value)) {
      *error = absl::StrCat("field '", slot.field->name(), "': Timestamp of ", slot.seconds,
                            " seconds is out of range");
      return false;
    }
    col->AppendInt(value);
    return true;
  }
  if (type == FD::TYPE_STRING) {  // an RFC 3339 timestamp
    if (!ParseRfc3339(bytes, &value)) {
      *error = absl::StrCat("field '", slot.field->name(), "': expected an RFC 3339 timestamp, got ",
                            QuoteForMessage(bytes));
      return false;
    }
    col->AppendInt(value);
    return true;
  }
  const Integer integer = IntegerOf(type, raw);
  if (integer.too_big) {
    *error = absl::StrCat("field '", slot.field->name(), "': ", integer.unsigned_value,
                          " does not fit ", TypeName(slot.column_type), " (above ", INT64_MAX,
                          ")");
    return false;
  }
  value = integer.value;
  if (slot.column_type == TypeId::kTimestamp && !EpochToMicros(integer.value, unit_, &value)) {
    *error = absl::StrCat("field '", slot.field->name(), "': timestamp ", integer.value,
                          " is out of range");
    return false;
  }
  col->AppendInt(value);
  return true;
}

bool ProtoRowReader::Read(absl::string_view data, RecordBatch* out, std::string* error) {
  const size_t rows = out->num_rows();
  bool ok = Scan(data, error);
  for (size_t s = 0; ok && s < slots_.size(); ++s) {
    ok = Append(slots_[s], &out->mutable_column(slots_[s].column), error);
  }
  if (!ok) {
    *error = absl::StrCat("invalid protobuf message for ", message_name_, " (", data.size(),
                          " bytes): ", *error);
    for (Column& col : out->mutable_columns()) TruncateColumn(&col, rows);
    return false;
  }
  for (int c : missing_) out->mutable_column(c).AppendNull();
  out->SetNumRows(rows + 1);
  return true;
}

absl::StatusOr<ProtoRowWriter> ProtoRowWriter::Plan(std::shared_ptr<const ProtoSchema> schema,
                                                    const pb::Descriptor& message,
                                                    SchemaPtr columns, TimestampUnit unit) {
  ProtoRowWriter writer;
  writer.micros_per_unit_ = MicrosPerUnit(unit);
  for (size_t c = 0; c < columns->size(); ++c) {
    const Field& column = columns->field(c);
    const FD* field = message.FindFieldByName(ProtoFieldName(column.name));
    if (field == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("column '", column.name, "': ",
                                                     message.full_name(), " has no field ",
                                                     ProtoFieldName(column.name)));
    }
    if (!Writable(*field, column.type)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "column '", column.name, "': a ", TypeName(column.type), " cannot be written to field ",
          field->name(), " of ", message.full_name(), ", which is ", FieldTypeText(*field)));
    }
    Target target{static_cast<int>(c), field->type(), IsTimestamp(*field), ""};
    AppendVarint(static_cast<uint64_t>(field->number()) << 3 | WireTypeOf(field->type()),
                      &target.tag);
    writer.targets_.push_back(std::move(target));
  }
  writer.schema_ = std::move(schema);
  return writer;
}

void ProtoRowWriter::Write(const RecordBatch& batch, size_t row, std::string* out) const {
  for (const Target& t : targets_) {
    const Column& col = batch.column(t.column);
    if (col.IsNull(row)) continue;
    out->append(t.tag);
    switch (col.type()) {
      case TypeId::kBool: out->push_back(col.Int(row) != 0 ? 1 : 0); break;
      case TypeId::kFloat64: {
        const double d = col.Double(row);
        uint64_t bits;
        if (t.type == FD::TYPE_FLOAT) {
          const float f = static_cast<float>(d);
          uint32_t bits32;
          std::memcpy(&bits32, &f, 4);
          AppendFixed(bits32, 4, out);
        } else {
          std::memcpy(&bits, &d, 8);
          AppendFixed(bits, 8, out);
        }
        break;
      }
      case TypeId::kString:
      case TypeId::kBytes: {
        const absl::string_view s = col.Str(row);
        AppendVarint(s.size(), out);
        out->append(s.data(), s.size());
        break;
      }
      case TypeId::kInt64:
      case TypeId::kTimestamp: {
        int64_t v = col.Int(row);
        if (t.timestamp) {
          const int64_t seconds = FloorDiv(v, kMicrosPerSecond);
          const int64_t nanos = (v - seconds * kMicrosPerSecond) * 1000;
          std::string* message = &timestamp_;  // reused: no allocation per record
          message->clear();
          if (seconds != 0) {
            message->push_back(1 << 3 | kVarint);
            AppendVarint(static_cast<uint64_t>(seconds), message);
          }
          if (nanos != 0) {
            message->push_back(2 << 3 | kVarint);
            AppendVarint(static_cast<uint64_t>(nanos), message);
          }
          AppendVarint(message->size(), out);
          out->append(*message);
          break;
        }
        if (col.type() == TypeId::kTimestamp) v = FloorDiv(v, micros_per_unit_);
        if (t.type == FD::TYPE_SINT64) {
          AppendVarint(ZigZagEncode(v), out);
        } else if (t.type == FD::TYPE_SFIXED64) {
          AppendFixed(static_cast<uint64_t>(v), 8, out);
        } else {
          AppendVarint(static_cast<uint64_t>(v), out);
        }
        break;
      }
    }
  }
}

}  // namespace sluice::types
