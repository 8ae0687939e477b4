#include "taskmanager/connectors/file_sink.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/types/csv_format.h"
#include "taskmanager/connectors/schema_util.h"

namespace sluice::taskmanager::connectors {
namespace {

std::string ErrnoText(int err) { return std::error_code(err, std::generic_category()).message(); }

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

absl::StatusOr<std::unique_ptr<FileSink>> FileSink::Create(const proto::OperatorSpec& spec,
                                                           size_t buffer_bytes) {
  const proto::FileSinkSpec& file = spec.file_sink();
  auto prefix = [&](const absl::Status& s) {
    return absl::Status(s.code(), absl::StrCat("file sink '", spec.name(), "': ", s.message()));
  };
  if (file.path().empty()) return prefix(absl::InvalidArgumentError("no path"));
  auto format = types::ParseFormatOptions(file.format());
  if (!format.ok()) return prefix(format.status());
  if (absl::Status s = types::CheckLineFormat(*format, "file"); !s.ok()) return prefix(s);
  auto schema = SchemaOf(spec.input_schema());
  if (!schema.ok()) return prefix(schema.status());
  return std::unique_ptr<FileSink>(
      new FileSink(spec.name(), file.path(), *std::move(format), *std::move(schema), buffer_bytes));
}

FileSink::FileSink(std::string name, std::string dir, types::FormatOptions format,
                   types::SchemaPtr schema, size_t buffer_bytes)
    : name_(std::move(name)),
      dir_(std::move(dir)),
      format_(std::move(format)),
      schema_(std::move(schema)),
      buffer_bytes_(std::max<size_t>(buffer_bytes, 1)),
      encoder_(types::MakeLineEncoder(format_, schema_)) {}

FileSink::~FileSink() { Close().IgnoreError(); }

absl::Status FileSink::IoError(absl::string_view what, int err) const {
  std::string message = absl::StrCat("file sink '", name_, "': ", what, ": ", ErrnoText(err));
  if (err == EACCES || err == EPERM || err == EROFS) {
    return absl::PermissionDeniedError(message);
  }
  if (err == ENOSPC || err == EDQUOT || err == EFBIG) {
    return absl::ResourceExhaustedError(message);
  }
  return absl::InternalError(message);
}

std::string FileSink::PartName(int subtask, int64_t seq, absl::string_view suffix) const {
  return absl::StrCat(dir_, "/.part-", subtask, "-", seq, ".", suffix);
}

std::string FileSink::FinalName(int subtask, int64_t seq) const {
  return absl::StrCat(dir_, "/part-", subtask, "-", seq, ".", format_.extension());
}

absl::Status FileSink::Open(const OperatorContext& ctx) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) return IoError(absl::StrCat("cannot create directory ", dir_), ec.value());
  subtask_ = ctx.subtask;
  rolling_ = ctx.checkpointing;
  buffer_.reserve(buffer_bytes_ + (64 << 10));
  if (rolling_) return absl::OkStatus();  // parts are numbered from the restored state
  in_progress_path_ = absl::StrCat(dir_, "/.part-", subtask_, ".inprogress");
  final_path_ = absl::StrCat(dir_, "/part-", subtask_, ".", format_.extension());
  return OpenPart();
}

absl::Status FileSink::OpenPart() {
  if (rolling_) {
    in_progress_path_ = PartName(subtask_, next_seq_, "inprogress");
    final_path_ = FinalName(subtask_, next_seq_);
  }
  // A fresh inode: a leftover of an earlier attempt (possibly still held open by a task
  // being canceled) is unlinked, not truncated.
  for (int tries = 0; tries < 2; ++tries) {
    fd_ = ::open(in_progress_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd_ >= 0 || errno != EEXIST) break;
    ::unlink(in_progress_path_.c_str());
  }
  if (fd_ < 0) {
    int err = errno;
    return IoError(absl::StrCat("cannot create ", in_progress_path_), err);
  }
  if (format_.header) types::AppendCsvHeader(*schema_, format_.delimiter, &buffer_);
  return absl::OkStatus();
}

absl::Status FileSink::InitializeState(StateInitContext& ctx) {
  if (!rolling_) return absl::OkStatus();
  bool own_state = false;
  for (const std::string& blob : ctx.operator_state) {
    proto::FileSinkState state;
    if (!state.ParseFromString(blob)) {
      return absl::DataLossError(absl::StrCat("file sink '", name_, "': corrupt checkpointed state"));
    }
    for (const auto& p : state.pending()) RETURN_IF_ERROR(Commit(state.subtask(), p.seq()));
    RETURN_IF_ERROR(DeletePartsFrom(state.subtask(), state.next_seq()));
    if (state.subtask() == subtask_) {
      own_state = true;
      next_seq_ = state.next_seq();
    }
  }
  // A fresh start (or a subtask that did not exist before a rescale): nothing of ours is valid.
  if (!own_state) return DeletePartsFrom(subtask_, 0);
  return absl::OkStatus();
}

absl::Status FileSink::DeletePartsFrom(int subtask, int64_t from_seq) {
  std::error_code ec;
  const std::string prefix = absl::StrCat("part-", subtask, "-");
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    std::string name = entry.path().filename().string();
    const bool hidden = absl::StartsWith(name, ".");
    absl::string_view rest(name);
    if (hidden) rest.remove_prefix(1);
    if (!absl::ConsumePrefix(&rest, prefix)) continue;
    const size_t dot = rest.find('.');
    int64_t seq = 0;
    if (dot == absl::string_view::npos || !absl::SimpleAtoi(rest.substr(0, dot), &seq)) continue;
    const bool in_progress = absl::EndsWith(rest, ".inprogress");
    if (seq < from_seq && !in_progress) continue;
    if (::unlink(entry.path().c_str()) != 0 && errno != ENOENT) {
      int err = errno;
      return IoError(absl::StrCat("cannot delete ", entry.path().string()), err);
    }
  }
  if (ec) return IoError(absl::StrCat("cannot list ", dir_), ec.value());
  return absl::OkStatus();
}

absl::Status FileSink::ProcessBatch(int input, types::RecordBatch& batch, Collector& out) {
  if (fd_ < 0) RETURN_IF_ERROR(OpenPart());
  encoder_->EncodeBatch(batch, &buffer_);
  if (buffer_.size() >= buffer_bytes_) return Flush();
  return absl::OkStatus();
}

absl::Status FileSink::Flush() {
  const char* p = buffer_.data();
  size_t left = buffer_.size();
  while (left > 0) {
    ssize_t n = ::write(fd_, p, left);
    if (n < 0) {
      int err = errno;
      if (err == EINTR) continue;
      return IoError(absl::StrCat("cannot write ", in_progress_path_), err);
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  buffer_.clear();
  return absl::OkStatus();
}

bool FileSink::PathIsOurs() const {
  struct stat ours, named;
  return fd_ >= 0 && ::fstat(fd_, &ours) == 0 && ::stat(in_progress_path_.c_str(), &named) == 0 &&
         ours.st_dev == named.st_dev && ours.st_ino == named.st_ino;
}

absl::Status FileSink::Rename(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    int err = errno;
    return IoError(absl::StrCat("cannot rename ", from, " to ", to), err);
  }
  return absl::OkStatus();
}

void FileSink::SyncDirectory() {
  int dir_fd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);  // make renames durable; best effort
    ::close(dir_fd);
  }
}

absl::Status FileSink::ClosePartAs(const std::string& to) {
  RETURN_IF_ERROR(Flush());
  if (::fsync(fd_) != 0) {
    int err = errno;
    return IoError(absl::StrCat("cannot fsync ", in_progress_path_), err);
  }
  if (!PathIsOurs()) {
    return absl::AbortedError(absl::StrCat("file sink '", name_, "': ", in_progress_path_,
                                           " was replaced by another attempt"));
  }
  RETURN_IF_ERROR(Rename(in_progress_path_, to));
  int fd = fd_;
  fd_ = -1;
  in_progress_path_.clear();
  if (::close(fd) != 0) {
    int err = errno;
    return IoError(absl::StrCat("cannot close ", to), err);
  }
  return absl::OkStatus();
}

absl::Status FileSink::Commit(int subtask, int64_t seq) {
  const std::string pending = PartName(subtask, seq, "pending");
  const std::string final_name = FinalName(subtask, seq);
  if (Exists(pending)) return Rename(pending, final_name);
  if (Exists(final_name)) return absl::OkStatus();  // committed before a failure
  return absl::DataLossError(absl::StrCat("file sink '", name_, "': ", pending,
                                          " of a completed checkpoint is missing"));
}

absl::StatusOr<std::string> FileSink::SnapshotState(int64_t checkpoint_id) {
  if (!rolling_) return std::string();
  if (fd_ >= 0) {
    RETURN_IF_ERROR(ClosePartAs(PartName(subtask_, next_seq_, "pending")));
    proto::FileSinkState::Pending& p = pending_.emplace_back();
    p.set_checkpoint_id(checkpoint_id);
    p.set_seq(next_seq_);
    ++next_seq_;
  }
  proto::FileSinkState state;
  state.set_subtask(subtask_);
  state.set_next_seq(next_seq_);
  for (const auto& p : pending_) *state.add_pending() = p;
  return state.SerializeAsString();
}

absl::Status FileSink::NotifyCheckpointComplete(int64_t checkpoint_id) {
  size_t committed = 0;
  for (; committed < pending_.size() && pending_[committed].checkpoint_id() <= checkpoint_id;
       ++committed) {
    RETURN_IF_ERROR(Commit(subtask_, pending_[committed].seq()));
  }
  if (committed == 0) return absl::OkStatus();
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<ptrdiff_t>(committed));
  SyncDirectory();
  return absl::OkStatus();
}

absl::Status FileSink::Finish(Collector& out) {
  if (!rolling_) {
    if (fd_ < 0) {
      return absl::FailedPreconditionError(absl::StrCat("file sink '", name_, "': not open"));
    }
    RETURN_IF_ERROR(ClosePartAs(final_path_));
    SyncDirectory();
    return absl::OkStatus();
  }
  // End of a bounded stream: everything written so far is final.
  for (const auto& p : pending_) RETURN_IF_ERROR(Commit(subtask_, p.seq()));
  pending_.clear();
  if (fd_ >= 0) {
    RETURN_IF_ERROR(ClosePartAs(FinalName(subtask_, next_seq_)));
    ++next_seq_;
  }
  SyncDirectory();
  return absl::OkStatus();
}

absl::Status FileSink::Close() {
  if (fd_ < 0) return absl::OkStatus();
  if (PathIsOurs()) ::unlink(in_progress_path_.c_str());
  ::close(fd_);
  fd_ = -1;
  buffer_.clear();
  return absl::OkStatus();
}

}  // namespace sluice::taskmanager::connectors
