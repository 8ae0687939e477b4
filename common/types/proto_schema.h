// ProtoSchema: a protobuf message type, with the descriptor pool that owns it, for the
// protobuf record formats (proto_format.h, proto_codec.h). It comes from one of:
//   FromFile    a .proto file (option proto_file), parsed by libprotoc; imports are resolved
//               relative to the file's directory;
//   FromText    the .proto text of a schema registry entry (an in-memory source tree; schema
//               references to other registry subjects are not supported);
//   Derive      the columns of a Sluice schema: a proto3 message (default sluice.Row) whose
//               fields are the columns in order, numbered 1..n, each `optional` (every
//               Sluice column is nullable). Types: bool bool, int64 int64, float64 double,
//               string string, bytes bytes, timestamp google.protobuf.Timestamp.
// The well-known types (google/protobuf/timestamp.proto, wrappers.proto, ...) are always
// importable: they come from the descriptors compiled into libprotobuf.
// text() is the schema as .proto text (what the Confluent encoder registers).
//
// Immutable after it is made; safe to share between threads.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/types/schema.h"

namespace google::protobuf {
class Descriptor;
class DescriptorPool;
}  // namespace google::protobuf

namespace sluice::types {

class ProtoSchema {
 public:
  ~ProtoSchema();

  // The message `message` (a full name such as "acme.Txn"; "" = the file's first message) of
  // the .proto file at `path`. InvalidArgument with libprotoc's "file:line:column: message"
  // when the file does not parse, or naming the message that is not there.
  static absl::StatusOr<std::shared_ptr<const ProtoSchema>> FromFile(const std::string& path,
                                                                     absl::string_view message);
  // The .proto text `text` (a schema registry entry); message() is its first message.
  static absl::StatusOr<std::shared_ptr<const ProtoSchema>> FromText(absl::string_view text);
  // The message of rows of `columns`, named `record_name` ("" = sluice.Row; a full name whose
  // last part is the message and the rest the package; characters protobuf does not allow in
  // names become '_'). InvalidArgument when two columns get the same field name.
  static absl::StatusOr<std::shared_ptr<const ProtoSchema>> Derive(const Schema& columns,
                                                                   absl::string_view record_name);

  const google::protobuf::Descriptor& message() const { return *message_; }
  // The message's Confluent message indexes: the index of its top-level message in the file,
  // then of each nested message down to it ([0]: the file's first message).
  std::vector<int> indexes() const;
  // The message of the file at Confluent message indexes `indexes`; InvalidArgument when the
  // file has no such message.
  absl::StatusOr<const google::protobuf::Descriptor*> MessageAt(
      const std::vector<int>& indexes) const;
  // The whole file as .proto text.
  const std::string& text() const { return text_; }

 private:
  struct Pool;
  ProtoSchema() = default;
  // Builds `file` in `pool` and picks `message` of it ("" = the first).
  static absl::StatusOr<std::shared_ptr<const ProtoSchema>> Load(std::unique_ptr<Pool> pool,
                                                                 const std::string& file,
                                                                 absl::string_view message,
                                                                 std::string text);

  std::unique_ptr<Pool> pool_;
  const google::protobuf::Descriptor* message_ = nullptr;
  std::string text_;
};

// The protobuf field name of a column: characters outside [A-Za-z0-9_] become '_', and a
// leading digit gets a '_' before it. Columns are matched to message fields by this name.
std::string ProtoFieldName(absl::string_view column);

}  // namespace sluice::types
