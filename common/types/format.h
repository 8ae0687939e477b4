// Record formats of line-based connectors (file source/sink, print sink): a BatchDecoder turns
// text lines into RecordBatch rows, a BatchEncoder turns rows into text lines. JSON lines
// (json_format.h) and CSV (csv_format.h) implement them; MakeDecoder/MakeEncoder pick one from a
// FormatSpec of the job graph.
//
// Format options (FormatSpec.options), validated by ParseFormatOptions:
//   every format: timestamp_unit: s | ms | us   unit of integer timestamps (default ms)
//   csv only:     delimiter: one character, or "\t" / "tab"   (default ",")
//                 header: true | false   the first line of each file is a header, skipped by
//                                        the file source (not by the decoder) (default false)
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
};

class BatchDecoder {  // one per source subtask; not thread-safe
 public:
  virtual ~BatchDecoder() = default;
  // Decodes newline-free records (one per line; a trailing '\r' is the caller's to strip) and
  // appends each good one as a row to `out`, whose schema is the decoder's schema. A bad
  // record appends nothing and is reported in `errors` (the caller applies on_error:
  // fail|skip). Empty (or all-whitespace) lines are skipped silently: no row, no error.
  virtual void DecodeLines(const std::vector<absl::string_view>& lines, RecordBatch* out,
                           std::vector<DecodeError>* errors) = 0;
};

class BatchEncoder {  // one per sink subtask; not thread-safe
 public:
  virtual ~BatchEncoder() = default;
  // Appends one line per row (terminated by '\n') to `out`. With `record_ends`, also appends
  // where each row's record ends in `out` (the offset of its '\n'), for connectors that send
  // each record on its own (a Kafka message per row).
  virtual void EncodeBatch(const RecordBatch& batch, std::string* out,
                           std::vector<size_t>* record_ends) = 0;
  void EncodeBatch(const RecordBatch& batch, std::string* out) { EncodeBatch(batch, out, nullptr); }
};

enum class TimestampUnit : uint8_t { kSeconds, kMillis, kMicros };

// The validated options of a FormatSpec.
struct FormatOptions {
  std::string name;  // "json" | "csv"
  TimestampUnit timestamp_unit = TimestampUnit::kMillis;
  char delimiter = ',';  // csv
  bool header = false;   // csv: the source skips the first line of every file
  // What the file source needs: whether the first line of each file is not a record.
  bool SkipsFirstLine() const { return header; }
  // File name extension of part files written in this format: "json", "csv".
  const std::string& extension() const { return name; }
};

absl::StatusOr<FormatOptions> ParseFormatOptions(const proto::FormatSpec& format);

absl::StatusOr<std::unique_ptr<BatchDecoder>> MakeDecoder(const proto::FormatSpec& format,
                                                          SchemaPtr schema);
absl::StatusOr<std::unique_ptr<BatchEncoder>> MakeEncoder(const proto::FormatSpec& format,
                                                          SchemaPtr schema);
std::unique_ptr<BatchDecoder> MakeDecoder(const FormatOptions& options, SchemaPtr schema);
std::unique_ptr<BatchEncoder> MakeEncoder(const FormatOptions& options, SchemaPtr schema);

}  // namespace sluice::types
