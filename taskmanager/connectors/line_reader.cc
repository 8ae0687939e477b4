#include "taskmanager/connectors/line_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace sluice::taskmanager::connectors {

absl::StatusOr<std::unique_ptr<SplitLineReader>> SplitLineReader::Open(const FileSplit& split,
                                                                       size_t buffer_bytes) {
  int fd = ::open(split.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    std::string text = std::error_code(err, std::generic_category()).message();
    if (err == ENOENT) {
      return absl::NotFoundError(absl::StrCat("no such file or directory: ", split.path));
    }
    return absl::PermissionDeniedError(absl::StrCat("cannot open ", split.path, ": ", text));
  }
  ::posix_fadvise(fd, split.start, 0, POSIX_FADV_SEQUENTIAL);
  std::unique_ptr<SplitLineReader> reader(
      new SplitLineReader(split, fd, std::max<size_t>(buffer_bytes, 16)));
  absl::Status s = reader->SkipToFirstLine();
  if (!s.ok()) return s;
  return reader;
}

SplitLineReader::SplitLineReader(FileSplit split, int fd, size_t buffer_bytes)
    : split_(std::move(split)),
      fd_(fd),
      buffer_(std::make_unique_for_overwrite<char[]>(buffer_bytes)),
      capacity_(buffer_bytes) {}

SplitLineReader::~SplitLineReader() { ::close(fd_); }

absl::Status SplitLineReader::IoError(absl::string_view what, int err) const {
  return absl::InternalError(absl::StrCat(what, " ", split_.path, ": ",
                                          std::error_code(err, std::generic_category()).message()));
}

absl::Status SplitLineReader::Fill() {
  if (begin_ > 0) {
    std::memmove(buffer_.get(), buffer_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == capacity_) {
    if (capacity_ >= kMaxLineBytes) {
      return absl::InvalidArgumentError(absl::StrCat("file ", split_.path, ": a line at byte ",
                                                     line_offset_, " is longer than ",
                                                     kMaxLineBytes >> 20, " MiB"));
    }
    size_t grown = std::min(capacity_ * 2, kMaxLineBytes);
    auto bigger = std::make_unique_for_overwrite<char[]>(grown);
    std::memcpy(bigger.get(), buffer_.get(), end_);
    buffer_ = std::move(bigger);
    capacity_ = grown;
  }
  while (true) {
    ssize_t n = ::pread(fd_, buffer_.get() + end_, capacity_ - end_, read_offset_);
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("cannot read", errno);
    }
    if (n == 0) eof_ = true;
    end_ += n;
    read_offset_ += n;
    return absl::OkStatus();
  }
}

absl::Status SplitLineReader::SkipToFirstLine() {
  if (split_.start == 0) return absl::OkStatus();
  // Start one byte early: if that byte is '\n', a line starts exactly at split_.start.
  read_offset_ = line_offset_ = split_.start - 1;
  while (true) {
    const char* nl =
        static_cast<const char*>(std::memchr(buffer_.get() + begin_, '\n', end_ - begin_));
    if (nl != nullptr) {
      size_t skipped = nl - (buffer_.get() + begin_) + 1;
      begin_ += skipped;
      line_offset_ += skipped;
      first_line_offset_ = line_offset_;
      return absl::OkStatus();
    }
    line_offset_ += end_ - begin_;
    begin_ = end_ = 0;
    if (eof_) {
      done_ = true;
      first_line_offset_ = line_offset_;
      return absl::OkStatus();
    }
    if (line_offset_ >= split_.end) {  // no line starts inside this split
      done_ = true;
      first_line_offset_ = line_offset_;
      return absl::OkStatus();
    }
    absl::Status s = Fill();
    if (!s.ok()) return s;
  }
}

absl::Status SplitLineReader::Next(size_t max_lines, std::vector<absl::string_view>* lines,
                                   bool* at_end) {
  size_t returned = 0;
  while (!done_ && returned < max_lines) {
    if (line_offset_ >= split_.end) {
      done_ = true;
      break;
    }
    char* start = buffer_.get() + begin_;
    const char* nl = static_cast<const char*>(std::memchr(start, '\n', end_ - begin_));
    size_t len;
    size_t consumed;
    if (nl != nullptr) {
      len = nl - start;
      consumed = len + 1;
    } else if (eof_) {
      if (begin_ == end_) {
        done_ = true;
        break;
      }
      len = consumed = end_ - begin_;  // last line without '\n'
    } else {
      if (returned > 0) break;  // refilling would move the lines returned by this call
      absl::Status s = Fill();
      if (!s.ok()) return s;
      continue;
    }
    if (len > 0 && start[len - 1] == '\r') --len;
    lines->emplace_back(start, len);
    begin_ += consumed;
    line_offset_ += consumed;
    ++returned;
  }
  lines_returned_ += returned;
  *at_end = done_;
  return absl::OkStatus();
}

absl::StatusOr<int64_t> SplitLineReader::LinesBeforeSplit() {
  if (lines_before_split_ >= 0) return lines_before_split_;
  int64_t count = 0;
  std::unique_ptr<char[]> chunk = std::make_unique_for_overwrite<char[]>(1 << 20);
  for (int64_t offset = 0; offset < first_line_offset_;) {
    size_t want = static_cast<size_t>(std::min<int64_t>(1 << 20, first_line_offset_ - offset));
    ssize_t n = ::pread(fd_, chunk.get(), want, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return IoError("cannot read", errno);
    if (n == 0) break;
    count += std::count(chunk.get(), chunk.get() + n, '\n');
    offset += n;
  }
  lines_before_split_ = count;
  return count;
}

}  // namespace sluice::taskmanager::connectors
