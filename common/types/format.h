// Record formats: a BatchDecoder turns records (text lines, or one Kafka message each) into
// RecordBatch rows, a BatchEncoder turns rows into records. Line formats, which the file
// connector reads and writes: JSON lines (json_format.h) and CSV (csv_format.h). Message
// formats, one record per Kafka message: avro and avro-confluent (avro_format.h), protobuf and
// protobuf-confluent (proto_format.h).
// MakeDecoder/MakeEncoder pick one from a FormatSpec of the job graph.
//
// Format options (FormatSpec.options), validated by ParseFormatOptions:
//   every format: timestamp_unit: s | ms | us   unit of integer timestamps (default ms)
//   csv only:     delimiter: one character, or "\t" / "tab"   (default ",")
//                 header: true | false   the first line of each file is a header, skipped by
//                                        the file source (not by the decoder) (default false)
//   avro:         schema_file: an .avsc file, the writer schema of the records read (default:
//                              the schema the columns derive, avro_schema.h)
//   avro, avro-confluent: record_name: the Avro record name of written records (sluice.Row)
//   protobuf, protobuf-confluent: proto_file: a .proto file whose message records are read
//                                 (protobuf) and written as (default: the message the
//                                 columns derive, proto_schema.h)
//                                 message: the full name of proto_file's message (default:
//                                          its first)
//                                 record_name: the name of the derived message (sluice.Row)
//   registry formats (avro-confluent, protobuf-confluent; UsesSchemaRegistry):
//                   registry: the schema registry URL (the Kafka connector's `registry:`, or
//                             the cluster's kafka.registry)
//                   subject: the subject written records register under (default: from
//                            subject_strategy: topic_name (<topic>-value, <topic>-key),
//                            record_name (<record_name>), topic_record_name
//                            (<topic>-<record_name>), as Confluent's serializers name them)
// An unknown format name or option, or a bad option value, is an InvalidArgument error.
//
// Decoders and encoders are per subtask and not thread-safe (external synchronization
// required); the free functions are thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/types/record_batch.h"
#include "common/types/schema.h"
#include "proto/jobgraph.pb.h"

namespace sluice::types {

// A record that could not be decoded. `line_index` is the index into the decoded `lines`;
// `message` names the column when one is at fault:
// "column 'amount': expected float64, got \"abc\"".
struct DecodeError {
  size_t line_index;
  std::string message;
  // Not the record's fault (the schema registry cannot be reached): the source fails (and
  // restarts from its checkpoint) whatever its on_error says.
  bool fatal = false;
};

class BatchDecoder {  // one per source subtask; not thread-safe
 public:
  virtual ~BatchDecoder() = default;
  // Decodes records (line formats: one per line, newline-free; a trailing '\r' is the caller's
  // to strip) and appends each good one as a row to `out`, whose schema is the decoder's
  // schema. A bad record appends nothing and is reported in `errors` (the caller applies
  // on_error). Line formats skip empty (or all-whitespace) lines silently: no row, no error.
  virtual void DecodeLines(const std::vector<absl::string_view>& lines, RecordBatch* out,
                           std::vector<DecodeError>* errors) = 0;
};

class BatchEncoder {  // one per sink subtask; not thread-safe
 public:
  virtual ~BatchEncoder() = default;
  // Appends one record per row to `out` (line formats: a line terminated by '\n'). With
  // `record_ends`, also appends where each row's record ends in `out` (line formats: the
  // offset of its '\n'), for connectors that send each record on its own (a Kafka message
  // per row): the next record starts after the '\n' when newline_terminated().
  virtual void EncodeBatch(const RecordBatch& batch, std::string* out,
                           std::vector<size_t>* record_ends) = 0;
  virtual bool newline_terminated() const { return true; }
  void EncodeBatch(const RecordBatch& batch, std::string* out) { EncodeBatch(batch, out, nullptr); }
};

enum class TimestampUnit : uint8_t { kSeconds, kMillis, kMicros };

// The validated options of a FormatSpec.
struct FormatOptions {
  std::string name;  // one of FormatNames()
  TimestampUnit timestamp_unit = TimestampUnit::kMillis;
  char delimiter = ',';  // csv
  bool header = false;   // csv: the source skips the first line of every file
  std::string schema_file;                      // avro
  std::string record_name;                      // avro*, protobuf* ("" = sluice.Row)
  std::string proto_file;                       // protobuf*
  std::string message;                          // protobuf*
  std::string registry;                         // registry formats
  std::string subject;                          // registry formats
  std::string subject_strategy = "topic_name";  // registry formats
  // json and csv: one record per line (the file connector's formats).
  bool line_delimited() const { return name == "json" || name == "csv"; }
  // avro-confluent and protobuf-confluent: records carry a schema registry id.
  bool uses_registry() const;
  // The name records are written under: record_name, else message, else "sluice.Row".
  std::string RecordName() const;
  // What the file source needs: whether the first line of each file is not a record.
  bool SkipsFirstLine() const { return header; }
  // File name extension of part files written in this format: "json", "csv".
  const std::string& extension() const { return name; }
};

absl::StatusOr<FormatOptions> ParseFormatOptions(const proto::FormatSpec& format);

// OK for a line format; otherwise InvalidArgument: "format avro writes one record per message:
// the <connector> connector takes json or csv".
absl::Status CheckLineFormat(const FormatOptions& options, absl::string_view connector);

// The format names, for messages and suggestions.
const std::vector<std::string>& FormatNames();

// Whether format `name` writes Confluent's wire format through a schema registry (and so
// takes a `registry` option): avro-confluent, protobuf-confluent.
bool UsesSchemaRegistry(absl::string_view name);
// The names of the registry formats, for messages: "avro-confluent or protobuf-confluent".
std::string SchemaRegistryFormatNames();

// The registry subject a record of `topic` (its key, or its value) registers under, from the
// options' subject or subject_strategy.
std::string ConfluentSubject(const FormatOptions& options, absl::string_view topic, bool key);

// The options that encode a Kafka message key (the key columns) in the format of `options`:
// the schema the key columns derive, named after the value's record name + "Key"
// (sluice.RowKey), never a value's proto_file.
FormatOptions KeyFormatOptions(const FormatOptions& options);

absl::StatusOr<std::unique_ptr<BatchDecoder>> MakeDecoder(const proto::FormatSpec& format,
                                                          SchemaPtr schema);
absl::StatusOr<std::unique_ptr<BatchEncoder>> MakeEncoder(const proto::FormatSpec& format,
                                                          SchemaPtr schema);
absl::StatusOr<std::unique_ptr<BatchDecoder>> MakeDecoder(const FormatOptions& options,
                                                          SchemaPtr schema);
absl::StatusOr<std::unique_ptr<BatchEncoder>> MakeEncoder(const FormatOptions& options,
                                                          SchemaPtr schema);
// Line formats only (options.line_delimited()): these cannot fail.
std::unique_ptr<BatchDecoder> MakeLineDecoder(const FormatOptions& options, SchemaPtr schema);
std::unique_ptr<BatchEncoder> MakeLineEncoder(const FormatOptions& options, SchemaPtr schema);

}  // namespace sluice::types
