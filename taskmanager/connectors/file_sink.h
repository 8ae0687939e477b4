// FileSink: the `file` sink. `path` is a directory (created with its parents if missing).
// Subtask i writes `<path>/.part-<i>.inprogress` (a fresh file, replacing a leftover of an
// earlier attempt) through a 1 MiB buffer, and Finish() flushes, fsyncs and atomically renames
// it to `<path>/part-<i>.<format>` (part-0.json, part-3.csv), then fsyncs the directory.
// With csv `header: true` every part file starts with the header line (column names).
// Close() without Finish() removes the in-progress file, so nothing half-written is ever
// visible under a final name (an attempt killed with kill -9 leaves only the hidden
// in-progress file, which the next attempt of the subtask replaces). Every I/O error is a
// Status naming the path and the errno text, e.g.
// "file sink 'out': cannot write /data/out/.part-0.inprogress: No space left on device".
// Task thread only.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/types/format.h"
#include "taskmanager/operators/operator.h"

namespace sluice::taskmanager::connectors {

class FileSink : public Operator {
 public:
  // `spec.file_sink()` and `spec.input_schema()`; the format is validated here.
  static absl::StatusOr<std::unique_ptr<FileSink>> Create(const proto::OperatorSpec& spec,
                                                          size_t buffer_bytes = 1 << 20);
  ~FileSink() override;

  absl::Status Open(const OperatorContext& ctx) override;
  absl::Status ProcessBatch(int input, types::RecordBatch& batch, Collector& out) override;
  absl::Status Finish(Collector& out) override;
  absl::Status Close() override;

  // Valid after Open.
  const std::string& in_progress_path() const { return in_progress_path_; }
  const std::string& final_path() const { return final_path_; }

 private:
  FileSink(std::string name, std::string dir, types::FormatOptions format, types::SchemaPtr schema,
           size_t buffer_bytes);
  absl::Status Flush();
  // "file sink '<name>': <what>: <errno text>", with a code matching errno.
  absl::Status IoError(absl::string_view what, int err) const;
  // True while in_progress_path_ still names the file this sink opened (an attempt that
  // runs late must not delete or publish the file of a newer attempt).
  bool PathIsOurs() const;

  std::string name_;
  std::string dir_;
  types::FormatOptions format_;
  types::SchemaPtr schema_;
  size_t buffer_bytes_;
  std::unique_ptr<types::BatchEncoder> encoder_;
  std::string buffer_;
  std::string in_progress_path_;
  std::string final_path_;
  int fd_ = -1;
  bool committed_ = false;
};

}  // namespace sluice::taskmanager::connectors
