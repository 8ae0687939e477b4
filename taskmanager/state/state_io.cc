#include "taskmanager/state/state_io.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <filesystem>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace sluice::state {
namespace {

std::string Err() { return std::strerror(errno); }

std::string RandomSuffix() {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  return absl::StrFormat("%016x", rng());
}

}  // namespace

std::string JoinPath(absl::string_view a, absl::string_view b) {
  if (a.empty()) return std::string(b);
  if (b.empty()) return std::string(a);
  while (a.size() > 1 && a.back() == '/') a.remove_suffix(1);
  while (!b.empty() && b.front() == '/') b.remove_prefix(1);
  return absl::StrCat(a, "/", b);
}

absl::Status CreateDirs(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) {
    return absl::InternalError(absl::StrCat("cannot create directory ", path, ": ", ec.message()));
  }
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::InternalError(absl::StrCat("cannot create directory ", path, ": not a directory"));
  }
  return absl::OkStatus();
}

void RemoveAll(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

absl::Status SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return absl::InternalError(absl::StrCat("cannot open directory ", dir, ": ", Err()));
  int rc = ::fsync(fd);
  std::string err = rc != 0 ? Err() : "";
  ::close(fd);
  if (rc != 0) return absl::InternalError(absl::StrCat("cannot fsync directory ", dir, ": ", err));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> ListDir(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return absl::NotFoundError(absl::StrCat("cannot list ", dir, ": ", Err()));
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  ::closedir(d);
  return names;
}

absl::StatusOr<int64_t> FileSize(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat(path, ": no such file"));
    return absl::InternalError(absl::StrCat("cannot stat ", path, ": ", Err()));
  }
  return static_cast<int64_t>(st.st_size);
}

DurableFileWriter::~DurableFileWriter() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(tmp_.c_str());
  }
}

absl::Status DurableFileWriter::Open(const std::string& path) {
  path_ = path;
  tmp_ = absl::StrCat(path, ".tmp-", RandomSuffix());
  fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) return absl::InternalError(absl::StrCat("cannot create ", tmp_, ": ", Err()));
  written_ = 0;
  return absl::OkStatus();
}

absl::Status DurableFileWriter::Append(absl::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd_, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(absl::StrCat("cannot write ", tmp_, ": ", Err()));
    }
    data.remove_prefix(static_cast<size_t>(n));
    written_ += n;
  }
  return absl::OkStatus();
}

absl::Status DurableFileWriter::Finish() {
  if (::fsync(fd_) != 0) return absl::InternalError(absl::StrCat("cannot fsync ", tmp_, ": ", Err()));
  int rc = ::close(fd_);
  fd_ = -1;
  if (rc != 0) {
    std::string err = Err();
    ::unlink(tmp_.c_str());
    return absl::InternalError(absl::StrCat("cannot close ", tmp_, ": ", err));
  }
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
    std::string err = Err();
    ::unlink(tmp_.c_str());
    return absl::InternalError(absl::StrCat("cannot rename ", tmp_, " to ", path_, ": ", err));
  }
  std::string dir = std::filesystem::path(path_).parent_path().string();
  return SyncDir(dir.empty() ? "." : dir);
}

absl::StatusOr<int64_t> CopyFileDurably(const std::string& from, const std::string& to) {
  RandomAccessFile in;
  if (absl::Status s = in.Open(from); !s.ok()) return s;
  DurableFileWriter out;
  if (absl::Status s = out.Open(to); !s.ok()) return s;
  std::string buf;
  constexpr int64_t kChunk = 1 << 20;
  for (int64_t off = 0; off < in.size(); off += kChunk) {
    size_t n = static_cast<size_t>(std::min(kChunk, in.size() - off));
    if (absl::Status s = in.ReadAt(off, n, &buf); !s.ok()) return s;
    if (absl::Status s = out.Append(buf); !s.ok()) return s;
  }
  if (absl::Status s = out.Finish(); !s.ok()) return s;
  return in.size();
}

absl::Status LinkOrCopy(const std::string& from, const std::string& to) {
  if (::link(from.c_str(), to.c_str()) == 0) return absl::OkStatus();
  if (errno == ENOENT) return absl::NotFoundError(absl::StrCat(from, ": no such file"));
  absl::StatusOr<int64_t> copied = CopyFileDurably(from, to);
  return copied.status();
}

RandomAccessFile::~RandomAccessFile() {
  if (fd_ >= 0) ::close(fd_);
}

absl::Status RandomAccessFile::Open(const std::string& path) {
  path_ = path;
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) {
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat(path, ": no such file"));
    return absl::InternalError(absl::StrCat("cannot open ", path, ": ", Err()));
  }
  struct stat st;
  if (::fstat(fd_, &st) != 0) return absl::InternalError(absl::StrCat("cannot stat ", path, ": ", Err()));
  size_ = st.st_size;
  return absl::OkStatus();
}

absl::Status RandomAccessFile::ReadAt(int64_t offset, size_t n, std::string* out) const {
  if (offset < 0 || offset + static_cast<int64_t>(n) > size_) {
    return absl::DataLossError(absl::StrCat(path_, ": truncated (need bytes ", offset, "..",
                                            offset + static_cast<int64_t>(n), ", file has ",
                                            size_, ")"));
  }
  out->resize(n);
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::pread(fd_, out->data() + done, n - done, offset + static_cast<int64_t>(done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(absl::StrCat("cannot read ", path_, ": ", Err()));
    }
    if (r == 0) return absl::DataLossError(absl::StrCat(path_, ": truncated while reading"));
    done += static_cast<size_t>(r);
  }
  return absl::OkStatus();
}

uint32_t Crc32(absl::string_view data) {
  uLong crc = crc32(0L, Z_NULL, 0);
  // zlib takes uInt lengths; feed in chunks.
  while (!data.empty()) {
    uInt n = static_cast<uInt>(std::min<size_t>(data.size(), 1u << 30));
    crc = crc32(crc, reinterpret_cast<const Bytef*>(data.data()), n);
    data.remove_prefix(n);
  }
  return static_cast<uint32_t>(crc);
}

}  // namespace sluice::state
