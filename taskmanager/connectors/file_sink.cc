#include "taskmanager/connectors/file_sink.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/types/csv_format.h"
#include "taskmanager/connectors/schema_util.h"

namespace sluice::taskmanager::connectors {
namespace {

std::string ErrnoText(int err) { return std::error_code(err, std::generic_category()).message(); }

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
      encoder_(types::MakeEncoder(format_, schema_)) {}

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

absl::Status FileSink::Open(const OperatorContext& ctx) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) return IoError(absl::StrCat("cannot create directory ", dir_), ec.value());
  in_progress_path_ = absl::StrCat(dir_, "/.part-", ctx.subtask, ".inprogress");
  final_path_ = absl::StrCat(dir_, "/part-", ctx.subtask, ".", format_.extension());
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
  buffer_.reserve(buffer_bytes_ + (64 << 10));
  if (format_.header) types::AppendCsvHeader(*schema_, format_.delimiter, &buffer_);
  return absl::OkStatus();
}

absl::Status FileSink::ProcessBatch(int input, types::RecordBatch& batch, Collector& out) {
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

absl::Status FileSink::Finish(Collector& out) {
  if (fd_ < 0) {
    return absl::FailedPreconditionError(absl::StrCat("file sink '", name_, "': not open"));
  }
  RETURN_IF_ERROR(Flush());
  if (::fsync(fd_) != 0) {
    int err = errno;
    return IoError(absl::StrCat("cannot fsync ", in_progress_path_), err);
  }
  if (!PathIsOurs()) {
    return absl::AbortedError(absl::StrCat("file sink '", name_, "': ", in_progress_path_,
                                           " was replaced by another attempt"));
  }
  if (::rename(in_progress_path_.c_str(), final_path_.c_str()) != 0) {
    int err = errno;
    return IoError(absl::StrCat("cannot rename ", in_progress_path_, " to ", final_path_), err);
  }
  committed_ = true;
  int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {
    int err = errno;
    return IoError(absl::StrCat("cannot close ", final_path_), err);
  }
  int dir_fd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);  // make the rename durable; best effort
    ::close(dir_fd);
  }
  return absl::OkStatus();
}

absl::Status FileSink::Close() {
  if (fd_ < 0) return absl::OkStatus();
  if (!committed_ && PathIsOurs()) ::unlink(in_progress_path_.c_str());
  ::close(fd_);
  fd_ = -1;
  buffer_.clear();
  return absl::OkStatus();
}

}  // namespace sluice::taskmanager::connectors
