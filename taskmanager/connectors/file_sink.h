// FileSink: the `file` sink. `path` is a directory (created with its parents if missing).
// Two modes, chosen by whether the job checkpoints:
//  - Without checkpoints: subtask i writes `<path>/.part-<i>.inprogress` (a fresh file,
//    replacing a leftover of an earlier attempt) through a 1 MiB buffer, and Finish()
//    flushes, fsyncs and atomically renames it to `<path>/part-<i>.<format>` (part-0.json).
//  - With checkpoints (exactly once, two-phase commit): subtask i writes part files numbered
//    by a sequence kept in its checkpointed state: `.part-<i>-<seq>.inprogress`; when a
//    barrier passes, the file is fsynced and renamed to `.part-<i>-<seq>.pending` (pre-commit,
//    recorded in the checkpoint); when that checkpoint completes it is renamed to
//    `part-<i>-<seq>.<format>` (commit). At the end of a bounded stream the last file and all
//    pending ones are committed. On restore, the pending files of the checkpoint are committed
//    (idempotently) and every file of the subtask numbered at or after the checkpoint's
//    sequence is deleted: it holds records the restored job emits again. A fresh start (no
//    checkpoint) deletes every part file of the subtask. Restored at another parallelism, a
//    subtask also finishes the state of the old subtasks handed to it (commits their pending
//    parts, deletes their later ones) and numbers its own parts after its own old state.
// With csv `header: true` every part file starts with the header line (column names).
// Close() without Finish() removes the in-progress file, so nothing half-written is ever
// visible under a final name. Every I/O error is a Status naming the path and the errno text,
// e.g. "file sink 'out': cannot write /data/out/.part-0.inprogress: No space left on device".
// Task thread only.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/types/format.h"
#include "proto/checkpoint.pb.h"
#include "taskmanager/operators/operator.h"

namespace sluice::taskmanager::connectors {

class FileSink : public Operator {
 public:
  // `spec.file_sink()` and `spec.input_schema()`; the format is validated here.
  static absl::StatusOr<std::unique_ptr<FileSink>> Create(const proto::OperatorSpec& spec,
                                                          size_t buffer_bytes = 1 << 20);
  ~FileSink() override;

  absl::Status Open(const OperatorContext& ctx) override;
  absl::Status InitializeState(StateInitContext& ctx) override;
  absl::Status ProcessBatch(int input, types::RecordBatch& batch, Collector& out) override;
  absl::StatusOr<std::string> SnapshotState(int64_t checkpoint_id) override;
  absl::Status NotifyCheckpointComplete(int64_t checkpoint_id) override;
  absl::Status Finish(Collector& out) override;
  absl::Status Close() override;

  // The file being written now ("" when none is open) and the final name it gets.
  const std::string& in_progress_path() const { return in_progress_path_; }
  const std::string& final_path() const { return final_path_; }

 private:
  FileSink(std::string name, std::string dir, types::FormatOptions format, types::SchemaPtr schema,
           size_t buffer_bytes);
  // Creates the in-progress file of the current part (a fresh inode) and writes the header.
  absl::Status OpenPart();
  absl::Status Flush();
  // Flushes, fsyncs and closes the open part and renames it to `to`.
  absl::Status ClosePartAs(const std::string& to);
  absl::Status Rename(const std::string& from, const std::string& to);
  void SyncDirectory();
  // Rolling mode: names of part `seq` of subtask `subtask`.
  std::string PartName(int subtask, int64_t seq, absl::string_view suffix) const;
  std::string FinalName(int subtask, int64_t seq) const;
  // Commits pending part `seq` of `subtask` (a no-op when it was committed already).
  absl::Status Commit(int subtask, int64_t seq);
  // Deletes the part files of `subtask` numbered >= `from_seq` (and stray in-progress files).
  absl::Status DeletePartsFrom(int subtask, int64_t from_seq);
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
  int subtask_ = 0;
  bool rolling_ = false;  // the job checkpoints: two-phase commit of numbered parts
  int64_t next_seq_ = 0;  // rolling: the part written now (or next)
  std::vector<proto::FileSinkState::Pending> pending_;
  std::string in_progress_path_;
  std::string final_path_;
  int fd_ = -1;
};

}  // namespace sluice::taskmanager::connectors
