// Reads the lines of one FileSplit with large buffered reads (the Hadoop LineRecordReader
// rule): a split that starts mid-line skips to the next line start, and the last line that
// starts inside the split is read to its end even past the split end, so every line of a file
// is read by exactly one split. Lines end at '\n'; a trailing '\r' is dropped; a last line
// without '\n' counts. Owned by one file source (task thread); not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "taskmanager/connectors/file_splits.h"

namespace sluice::taskmanager::connectors {

class SplitLineReader {
 public:
  // Longest line accepted; a longer one is an error naming the file.
  static constexpr size_t kMaxLineBytes = 64 << 20;

  static absl::StatusOr<std::unique_ptr<SplitLineReader>> Open(const FileSplit& split,
                                                               size_t buffer_bytes = 1 << 20);
  ~SplitLineReader();
  SplitLineReader(const SplitLineReader&) = delete;
  SplitLineReader& operator=(const SplitLineReader&) = delete;

  // Appends up to `max_lines` lines of the split to `lines` (without their line ending). The
  // views stay valid until the next call. Sets `*at_end` once the split has no more lines.
  // May return fewer lines than asked (at a buffer boundary) while not at the end.
  absl::Status Next(size_t max_lines, std::vector<absl::string_view>* lines, bool* at_end);

  // Lines returned so far.
  int64_t lines_returned() const { return lines_returned_; }
  // Number of lines of the file before the split's first line (counts the newlines in front
  // of it, reading that part of the file on the first call only).
  absl::StatusOr<int64_t> LinesBeforeSplit();
  const FileSplit& split() const { return split_; }

 private:
  SplitLineReader(FileSplit split, int fd, size_t buffer_bytes);
  // Moves the unread bytes to the buffer start and reads more; grows the buffer when a line
  // fills it.
  absl::Status Fill();
  absl::Status SkipToFirstLine();
  absl::Status IoError(absl::string_view what, int err) const;

  FileSplit split_;
  int fd_;
  std::unique_ptr<char[]> buffer_;
  size_t capacity_;
  size_t begin_ = 0;         // first unread byte in buffer_
  size_t end_ = 0;           // end of valid data in buffer_
  int64_t read_offset_ = 0;  // file offset of the next read (of buffer_[end_])
  int64_t line_offset_ = 0;  // file offset of buffer_[begin_]: the next line's start
  int64_t first_line_offset_ = 0;
  bool eof_ = false;
  bool done_ = false;
  int64_t lines_returned_ = 0;
  int64_t lines_before_split_ = -1;
};

}  // namespace sluice::taskmanager::connectors
