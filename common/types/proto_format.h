// Protobuf record formats, one record per message (Kafka), through proto_codec.h:
//   protobuf            plain protobuf binary. Messages are read and written as the message
//                       `message` (default: the first) of the .proto file `proto_file`, or,
//                       without it, as the message the columns derive (ProtoSchema::Derive,
//                       named by `record_name`, default sluice.Row).
//   protobuf-confluent  Confluent's wire format: byte 0, the schema's registry id as 4
//                       big-endian bytes, the message indexes (a zigzag varint count, then
//                       that many zigzag varint indexes; the single byte 0 stands for [0],
//                       the file's first message), then the protobuf message. The decoder
//                       fetches each schema by id from the registry (option `registry`,
//                       cached), parses its .proto text and reads the message the indexes
//                       name. The encoder registers its schema (the derived one, or
//                       proto_file's text) as PROTOBUF under option `subject` (filled by the
//                       connector from the subject naming strategy) and writes its id.
//                       Schema references (imports of other subjects) are not supported;
//                       the well-known google/protobuf/*.proto imports are.
// Bad records (truncated, a bad varint, a known field with the wrong wire type, wrong magic
// byte, unknown schema id, bad message indexes) are DecodeErrors; a registry that cannot be
// reached is a fatal DecodeError. A column whose field cannot be read (repeated, map, another
// message) is an error when the decoder is made.
// Not thread-safe (one per subtask).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/types/format.h"

namespace sluice::types {

absl::StatusOr<std::unique_ptr<BatchDecoder>> MakeProtobufDecoder(const FormatOptions& options,
                                                                  SchemaPtr schema);
absl::StatusOr<std::unique_ptr<BatchEncoder>> MakeProtobufEncoder(const FormatOptions& options,
                                                                  SchemaPtr schema);

// Confluent's message indexes: appends the encoding of `indexes` ([0] as the single byte 0).
void AppendMessageIndexes(const std::vector<int>& indexes, std::string* out);
// Reads message indexes from the front of `*data` (advancing it) into `indexes`; false with
// `error` set when they are truncated or malformed.
bool ReadMessageIndexes(absl::string_view* data, std::vector<int>* indexes, std::string* error);

}  // namespace sluice::types
