// File and encoding helpers shared by the state backends: directory creation, durable file
// writes (temp + fsync + rename), file copies and hard links for snapshot upload, positional
// reads for restore, little-endian fixed-width encoding and zlib crc32 checksums.
// Every error is a Status naming the path. Stateless; thread-safe.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sluice::state {

// `a/b` with exactly one separator ("" parts are skipped).
std::string JoinPath(absl::string_view a, absl::string_view b);

// mkdir -p; error names the first directory that cannot be created.
absl::Status CreateDirs(const std::string& path);
// rm -rf (best effort; missing is OK).
void RemoveAll(const std::string& path);
// fsync of a directory (so a rename or new file in it survives a crash).
absl::Status SyncDir(const std::string& dir);
// File names (not paths) in `dir`.
absl::StatusOr<std::vector<std::string>> ListDir(const std::string& dir);
// Size of a regular file; NotFound naming it when missing.
absl::StatusOr<int64_t> FileSize(const std::string& path);

// A file written sequentially under `<path>.tmp-<random>`, fsynced and renamed to `path` on
// Finish (and its directory fsynced). Destroying it unfinished removes the temp file.
class DurableFileWriter {
 public:
  DurableFileWriter() = default;
  ~DurableFileWriter();
  DurableFileWriter(const DurableFileWriter&) = delete;
  DurableFileWriter& operator=(const DurableFileWriter&) = delete;

  absl::Status Open(const std::string& path);
  absl::Status Append(absl::string_view data);
  absl::Status Finish();
  int64_t bytes_written() const { return written_; }

 private:
  std::string path_;
  std::string tmp_;
  int fd_ = -1;
  int64_t written_ = 0;
};

// Copies `from` to `to` durably (temp + fsync + rename); returns the bytes copied.
absl::StatusOr<int64_t> CopyFileDurably(const std::string& from, const std::string& to);
// Hard-links `from` to `to`, copying when linking is impossible (other file system).
absl::Status LinkOrCopy(const std::string& from, const std::string& to);

// A read-only file read at offsets (restore reads only the sections it needs).
class RandomAccessFile {
 public:
  RandomAccessFile() = default;
  ~RandomAccessFile();
  RandomAccessFile(const RandomAccessFile&) = delete;
  RandomAccessFile& operator=(const RandomAccessFile&) = delete;

  // NotFound naming the file when it does not exist.
  absl::Status Open(const std::string& path);
  int64_t size() const { return size_; }
  const std::string& path() const { return path_; }
  // Reads exactly `n` bytes at `offset` into `*out`; DataLoss (truncated) when the file is
  // shorter.
  absl::Status ReadAt(int64_t offset, size_t n, std::string* out) const;

 private:
  std::string path_;
  int fd_ = -1;
  int64_t size_ = 0;
};

uint32_t Crc32(absl::string_view data);

// Little-endian fixed-width encoding.
inline void PutFixed32(std::string* dst, uint32_t v) {
  char buf[4];
  std::memcpy(buf, &v, 4);
  dst->append(buf, 4);
}
inline void PutFixed64(std::string* dst, uint64_t v) {
  char buf[8];
  std::memcpy(buf, &v, 8);
  dst->append(buf, 8);
}
inline void PutBytes(std::string* dst, absl::string_view s) {
  PutFixed32(dst, static_cast<uint32_t>(s.size()));
  dst->append(s.data(), s.size());
}

// Bounds-checked reader over an encoded buffer; every Get returns false past the end.
class Decoder {
 public:
  explicit Decoder(absl::string_view data) : data_(data) {}
  bool GetFixed32(uint32_t* v) {
    if (data_.size() < 4) return false;
    std::memcpy(v, data_.data(), 4);
    data_.remove_prefix(4);
    return true;
  }
  bool GetFixed64(uint64_t* v) {
    if (data_.size() < 8) return false;
    std::memcpy(v, data_.data(), 8);
    data_.remove_prefix(8);
    return true;
  }
  bool GetBytes(absl::string_view* s) {
    uint32_t n;
    if (!GetFixed32(&n) || data_.size() < n) return false;
    *s = data_.substr(0, n);
    data_.remove_prefix(n);
    return true;
  }
  bool GetRaw(size_t n, absl::string_view* s) {
    if (data_.size() < n) return false;
    *s = data_.substr(0, n);
    data_.remove_prefix(n);
    return true;
  }
  bool empty() const { return data_.empty(); }

 private:
  absl::string_view data_;
};

}  // namespace sluice::state
