// FileSource: the bounded `file` source. Reads the lines of the files under `path` (see
// file_splits.h for files and split assignment, line_reader.h for line splitting), decodes
// them with the spec's format (common/types/format.h) into batches of up to ~1024 lines
// (and ~4 MiB of text), and ends (kEnd) when its splits are read. With a csv `header: true`
// the first line of each file is skipped.
// Bad records go by FileSourceSpec.on_error (bad_records.h); their location is
// "file <path> line <n>" (n: 1-based line of the file).
// Open: NotFound "file source '<name>': no such file or directory: <path>" for a missing path.
// Task thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/types/format.h"
#include "taskmanager/connectors/bad_records.h"
#include "taskmanager/connectors/file_splits.h"
#include "taskmanager/connectors/line_reader.h"
#include "taskmanager/operators/operator.h"

namespace sluice::taskmanager::connectors {

class FileSource : public SourceOperator {
 public:
  struct Options {
    int64_t split_bytes = kDefaultSplitBytes;
    size_t read_buffer_bytes = 1 << 20;
    size_t batch_lines = 1024;
  };

  // `spec.file_source()` and `spec.output_schema()`; the format and on_error are validated here.
  static absl::StatusOr<std::unique_ptr<FileSource>> Create(const proto::OperatorSpec& spec,
                                                            Options options);
  static absl::StatusOr<std::unique_ptr<FileSource>> Create(const proto::OperatorSpec& spec) {
    return Create(spec, Options());
  }

  absl::Status Open(const OperatorContext& ctx) override;
  absl::StatusOr<SourcePoll> PollNext(Collector& out) override;
  absl::Status Close() override;
  // Checkpointed position: the split being read and the lines of it already emitted
  // (FileSourceState). Restoring needs the same parallelism (splits depend on it).
  absl::Status InitializeState(StateInitContext& ctx) override;
  absl::StatusOr<std::string> SnapshotState(int64_t checkpoint_id) override;

  BadRecordCounts bad_records() const override {
    return {bad_->skipped(), bad_->dead_lettered()};
  }
  // The splits this subtask reads (after Open).
  const std::vector<FileSplit>& splits() const { return splits_; }

 private:
  FileSource(std::string name, std::string path, std::unique_ptr<BadRecords> bad,
             types::FormatOptions format, types::SchemaPtr schema, Options options);
  absl::Status OpenNextSplit();
  // Applies on_error to the errors of the lines just decoded (`first_line`: index within the
  // split of lines_[0]).
  absl::Status HandleErrors(int64_t first_line);

  int parallelism_ = 1;
  std::string name_;
  std::string path_;
  std::unique_ptr<BadRecords> bad_;
  types::FormatOptions format_;
  types::SchemaPtr schema_;
  Options options_;
  std::unique_ptr<types::BatchDecoder> decoder_;
  std::vector<FileSplit> splits_;
  size_t next_split_ = 0;
  std::unique_ptr<SplitLineReader> reader_;
  types::RecordBatch batch_;
  std::vector<absl::string_view> lines_;
  std::vector<types::DecodeError> errors_;
  int subtask_ = 0;
};

}  // namespace sluice::taskmanager::connectors
