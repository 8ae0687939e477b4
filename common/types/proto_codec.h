// Protobuf binary encoding of rows, driven by a message descriptor (proto_schema.h).
// ProtoRowReader decodes messages into the columns of a Sluice schema, matching columns to
// fields by name (ProtoFieldName): integer fields (int32/64, uint32/64, sint32/64,
// fixed32/64, sfixed32/64) -> int64 (a uint64 above the int64 maximum is a bad record),
// float/double and integers -> float64, bool -> bool, string/bytes -> string or bytes,
// enum -> string (the value's name; an unknown number as its decimal text),
// google.protobuf.Timestamp, an integer in the format's timestamp_unit or an RFC 3339 string ->
// timestamp. An absent field reads as its default when it has no presence (proto3 plain
// fields) and as null when it has (proto2 optional, proto3 `optional`, oneof members,
// messages); an absent proto2 `required` field is a bad record; the last occurrence of a
// field wins (messages merge), as protobuf parses. Columns the message lacks are null;
// fields without a column are skipped whatever their type. ProtoRowWriter encodes rows into
// the same message type: every column needs a field it can be written to without loss
// (bool -> bool, int64 -> int64/sint64/sfixed64, float64 -> double/float, string -> string,
// bytes/string -> bytes, timestamp -> google.protobuf.Timestamp or int64/sint64/sfixed64 in
// timestamp_unit); a null leaves the field unset.
//
// The wire format is read here rather than through DynamicMessage: decoding goes straight
// into columns without building a message per record, and a malformed message (truncated,
// a bad varint, a known field with the wrong wire type) is an error message, never a crash.
//
// Plans are immutable once built (the reader keeps per-record scratch state); a reader or
// writer is used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/types/format.h"
#include "common/types/proto_schema.h"
#include "common/types/record_batch.h"

namespace google::protobuf {
class FieldDescriptor;
}  // namespace google::protobuf

namespace sluice::types {

class ProtoRowReader {
 public:
  // Plans reading messages of `message` (a message of `schema`) into `columns`.
  // InvalidArgument naming the column when its field has a type it cannot be read as
  // ("column 'tags': field tags is repeated string, which cannot be read as string").
  static absl::StatusOr<ProtoRowReader> Plan(std::shared_ptr<const ProtoSchema> schema,
                                             const google::protobuf::Descriptor& message,
                                             SchemaPtr columns, TimestampUnit unit);

  // Decodes one message (exactly `data`) and appends it as a row to `out`. False with `error`
  // set ("invalid protobuf message for acme.Txn (12 bytes): field 'amount' (2): truncated"),
  // nothing appended, when the message is malformed.
  bool Read(absl::string_view data, RecordBatch* out, std::string* error);

 private:
  // A column's field, and what the message being read holds for it.
  struct Slot {
    const google::protobuf::FieldDescriptor* field;
    int column;
    TypeId column_type;
    int type;               // google::protobuf::FieldDescriptor::Type
    int wire_type;          // the one the field's type is encoded with
    bool timestamp = false;  // a google.protobuf.Timestamp message
    bool presence = false;  // absent reads as null (otherwise as the default)
    bool required = false;  // proto2 required: absent is a bad record
    int oneof = -1;         // members of one oneof clear each other
    // The default, as a scanned value (fields without presence).
    uint64_t default_raw = 0;
    std::string default_bytes;
    // The current message's value: a varint or fixed value, a length-delimited one, or a
    // Timestamp's parts.
    bool seen = false;
    uint64_t raw = 0;
    absl::string_view bytes;
    int64_t seconds = 0;
    int64_t nanos = 0;
  };
  bool Scan(absl::string_view data, std::string* error);
  bool Append(const Slot& slot, Column* col, std::string* error) const;
  Slot* Find(uint32_t number);

  std::shared_ptr<const ProtoSchema> schema_;
  std::string message_name_;
  SchemaPtr columns_;
  TimestampUnit unit_ = TimestampUnit::kMillis;
  std::vector<Slot> slots_;                         // one per column the message has
  std::vector<int> by_number_;                      // field number -> slot (small numbers)
  absl::flat_hash_map<uint32_t, int> by_big_number_;  // the others
  std::vector<int> missing_;                        // columns the message lacks: null
};

class ProtoRowWriter {
 public:
  // Plans writing rows of `columns` as messages of `message`. InvalidArgument naming the
  // column when the message has no field of its name, or one it cannot be written to.
  static absl::StatusOr<ProtoRowWriter> Plan(std::shared_ptr<const ProtoSchema> schema,
                                             const google::protobuf::Descriptor& message,
                                             SchemaPtr columns, TimestampUnit unit);
  // Appends the encoding of row `row` of `batch` (whose schema is the planned columns).
  void Write(const RecordBatch& batch, size_t row, std::string* out) const;

 private:
  struct Target {
    int column;
    int type;               // google::protobuf::FieldDescriptor::Type
    bool timestamp = false;  // a google.protobuf.Timestamp message
    std::string tag;        // the encoded key (field number and wire type)
  };
  std::shared_ptr<const ProtoSchema> schema_;
  int64_t micros_per_unit_ = 1000;
  std::vector<Target> targets_;
  mutable std::string timestamp_;  // scratch: a Timestamp message being written
};

// Reads a varint at `*p` (advancing it) before `end`; false when truncated or longer than 10
// bytes, with `error` set.
bool ReadProtoVarint(const char** p, const char* end, uint64_t* v, std::string* error);

}  // namespace sluice::types
