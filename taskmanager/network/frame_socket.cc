#include "taskmanager/network/frame_socket.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace sluice::network {
namespace {

// Sets every field of `to` but `data` and `more` from `from`: a frame's envelope.
void CopyEnvelope(const proto::Buffer& from, proto::Buffer* to) {
  to->set_channel_id(from.channel_id());
  to->set_seq(from.seq());
  to->set_backlog(from.backlog());
  to->set_kind(from.kind());
  to->set_error(from.error());
  to->set_error_code(from.error_code());
  to->set_checkpoint_id(from.checkpoint_id());
  to->set_savepoint_dir(from.savepoint_dir());
  to->set_watermark(from.watermark());
  to->set_idle(from.idle());
}

constexpr char kHello[8] = {'S', 'L', 'X', 'C', 'H', 'G', '0', '2'};
// The read-ahead holds burst headers and envelopes (and small frames): the bytes after a
// burst's data are read with it (readv), so that a burst usually costs one or two reads,
// while the data itself lands in place, not copied out of the read-ahead.
constexpr size_t kReadAhead = 512;
// Larger reads go straight into the destination, not through the read-ahead.
constexpr size_t kDirectRead = 1024;
// A burst claiming more frames is a corrupt stream (the producer sends at most 64).
constexpr uint32_t kMaxBurstFrames = 1024;
// A frame claiming more is a corrupt stream (rpc.max_message_size is 64 MiB by default).
constexpr uint32_t kMaxFrame = 1u << 30;
// A peer's hello that is not ours: "" when it is not a Sluice exchange at all, else why
// (another version of the wire: TaskManagers of different Sluice versions).
std::string OtherVersion(const char* hello) {
  if (std::memcmp(hello, kHello, 6) != 0) return "";
  return absl::StrCat("the peer speaks exchange wire ", std::string(hello, sizeof(kHello)),
                      ", this TaskManager ", std::string(kHello, sizeof(kHello)),
                      ": run the same Sluice version on every TaskManager");
}

// How long a producer waits for a new connection's hello.
constexpr int kHelloTimeoutMs = 10'000;

void PutU32(char* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

uint32_t GetU32(const char* in) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<unsigned char>(in[i])) << (8 * i);
  return v;
}

std::string PeerName(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return "?";
  char host[NI_MAXHOST], port[NI_MAXSERV];
  if (getnameinfo(reinterpret_cast<sockaddr*>(&addr), len, host, sizeof(host), port,
                  sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    return "?";
  }
  return addr.ss_family == AF_INET6 ? absl::StrCat("[", host, "]:", port)
                                    : absl::StrCat(host, ":", port);
}

void SetReceiveTimeout(int fd, int ms) {
  timeval tv{};
  tv.tv_sec = ms / 1000;
  tv.tv_usec = (ms % 1000) * 1000;
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

// Splits "host:port" / "[v6]:port".
bool SplitHostPort(const std::string& address, std::string* host, std::string* port) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon + 1 == address.size()) return false;
  *host = address.substr(0, colon);
  *port = address.substr(colon + 1);
  if (host->size() >= 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  int unused = 0;
  return !host->empty() && absl::SimpleAtoi(*port, &unused);
}

}  // namespace

FrameSocket::FrameSocket(int fd) : fd_(fd), peer_(PeerName(fd)), in_(kReadAhead, '\0') {
  const int one = 1;
  // Frames are whole buffers written at once: no Nagle delay for the small ones (credits).
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

FrameSocket::~FrameSocket() { ::close(fd_); }

namespace {

// connect() that gives up after `timeout_ms` or when `*canceled` turns true (checked every
// 100 ms): a peer that vanished without a reset (a deleted pod) would otherwise hold the
// caller for the kernel's SYN retries, about two minutes. 0 or an errno.
int ConnectWithin(int fd, const sockaddr* addr, socklen_t len, int timeout_ms,
                  const std::atomic<bool>* canceled) {
  const int flags = fcntl(fd, F_GETFL, 0);
  fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  int error = 0;
  if (connect(fd, addr, len) != 0) {
    error = errno;
    for (int waited = 0; error == EINPROGRESS;) {
      if (canceled != nullptr && canceled->load()) return ECANCELED;
      if (waited >= timeout_ms) return ETIMEDOUT;
      pollfd p{fd, POLLOUT, 0};
      const int slice = std::min(100, timeout_ms - waited);
      const int ready = poll(&p, 1, slice);
      waited += slice;
      if (ready < 0 && errno != EINTR) return errno;
      if (ready <= 0) continue;
      socklen_t size = sizeof(error);
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size);
    }
  }
  fcntl(fd, F_SETFL, flags);
  return error;
}

}  // namespace

absl::StatusOr<std::unique_ptr<FrameSocket>> FrameSocket::Connect(
    const std::string& address, int timeout_ms, const std::atomic<bool>* canceled) {
  auto unavailable = [&address](absl::string_view why) {
    return absl::UnavailableError(
        absl::StrCat("cannot open the data connection to ", address, ": ", why));
  };
  std::string host, port;
  if (!SplitHostPort(address, &host, &port)) return unavailable("not a host:port address");
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return unavailable(gai_strerror(rc));
  }
  std::string last_error = "no address";
  int fd = -1;
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      last_error = std::strerror(errno);
      continue;
    }
    if (int error = ConnectWithin(fd, a->ai_addr, a->ai_addrlen, timeout_ms, canceled)) {
      last_error = error == ETIMEDOUT ? absl::StrCat("no answer within ", timeout_ms, " ms")
                                      : std::strerror(error);
      ::close(fd);
      fd = -1;
      if (error == ECANCELED) break;
    }
  }
  freeaddrinfo(found);
  if (fd < 0) return unavailable(last_error);
  if (canceled != nullptr && canceled->load()) {
    ::close(fd);
    return absl::CancelledError(absl::StrCat("connecting to ", address, " was canceled"));
  }
  auto socket = std::make_unique<FrameSocket>(fd);
  SetReceiveTimeout(fd, timeout_ms);  // the hello's answer, within the same time
  char answer[sizeof(kHello)];
  if (send(fd, kHello, sizeof(kHello), MSG_NOSIGNAL) != sizeof(kHello) ||
      !socket->ReadExact(answer, sizeof(answer))) {
    return unavailable(
        "the peer did not answer the exchange hello (is it a TaskManager data port with "
        "taskmanager.network.transport: tcp?)");
  }
  if (std::memcmp(answer, kHello, sizeof(kHello)) != 0) {
    const std::string other = OtherVersion(answer);
    return unavailable(other.empty() ? "the peer answered the exchange hello with something "
                                       "else (is it a TaskManager data port?)"
                                     : other);
  }
  SetReceiveTimeout(fd, 0);
  return socket;
}

bool FrameSocket::AcceptHello(std::string* error) {
  SetReceiveTimeout(fd_, kHelloTimeoutMs);
  char hello[sizeof(kHello)];
  if (!ReadExact(hello, sizeof(hello))) {
    *error = "not a Sluice exchange connection (no hello)";
    return false;
  }
  const bool ours = std::memcmp(hello, kHello, sizeof(kHello)) == 0;
  const std::string other = ours ? "" : OtherVersion(hello);
  if (!ours && other.empty()) {
    *error = "not a Sluice exchange connection (no hello)";
    return false;
  }
  SetReceiveTimeout(fd_, 0);
  // Answered even to another version, so that its consumer can say which one we speak.
  if (send(fd_, kHello, sizeof(kHello), MSG_NOSIGNAL) != sizeof(kHello)) {
    *error = std::strerror(errno);
    return false;
  }
  if (!other.empty()) {
    *error = other;
    return false;
  }
  return true;
}

bool FrameSocket::Fail(const std::string& what) {
  if (error_.empty()) error_ = what;
  return false;
}

bool FrameSocket::ReadExact(char* out, size_t n) {
  iovec iov{out, n};
  return ReadExactV(&iov, 1);
}

bool FrameSocket::ReadExactV(iovec* iov, size_t count) {
  size_t first = 0;  // iov[first] is the next one to fill
  auto advance = [&](size_t n) {
    while (n > 0) {
      const size_t take = std::min(n, iov[first].iov_len);
      iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + take;
      iov[first].iov_len -= take;
      n -= take;
      if (iov[first].iov_len == 0) ++first;
    }
  };
  while (true) {
    while (first < count && iov[first].iov_len == 0) ++first;
    if (first == count) return true;
    if (in_begin_ < in_end_) {
      const size_t take = std::min(iov[first].iov_len, in_end_ - in_begin_);
      std::memcpy(iov[first].iov_base, in_.data() + in_begin_, take);
      in_begin_ += take;
      advance(take);
      continue;
    }
    size_t wanted = 0;
    for (size_t i = first; i < count; ++i) wanted += iov[i].iov_len;
    // Small reads go through the read-ahead; large ones into the destinations, with what
    // follows them into the read-ahead (empty here).
    const bool direct = wanted >= kDirectRead;
    ssize_t got;
    if (direct) {
      read_iov_.assign(iov + first, iov + count);
      read_iov_.push_back({in_.data(), in_.size()});
      const size_t n = std::min<size_t>(read_iov_.size(), IOV_MAX);
      got = readv(fd_, read_iov_.data(), static_cast<int>(n));
    } else {
      got = recv(fd_, in_.data(), in_.size(), 0);
    }
    if (got == 0) return Fail("connection closed");
    if (got < 0) {
      if (errno == EINTR) continue;
      return Fail(errno == EAGAIN ? "timed out" : std::strerror(errno));
    }
    if (!direct) {
      in_begin_ = 0;
      in_end_ = static_cast<size_t>(got);
    } else if (static_cast<size_t>(got) <= wanted) {
      advance(static_cast<size_t>(got));
    } else {
      advance(wanted);
      in_begin_ = 0;
      in_end_ = static_cast<size_t>(got) - wanted;
    }
  }
}

// Writes every byte of `iov` (advancing it over partial writes).
bool FrameSocket::Send(std::vector<iovec>& iov) {
  size_t first = 0;
  while (first < iov.size()) {
    msghdr msg{};
    msg.msg_iov = iov.data() + first;
    msg.msg_iovlen = std::min<size_t>(iov.size() - first, IOV_MAX);
    const ssize_t sent = sendmsg(fd_, &msg, MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) continue;
      return Fail(std::strerror(errno));
    }
    size_t left = static_cast<size_t>(sent);
    while (first < iov.size() && left >= iov[first].iov_len) left -= iov[first++].iov_len;
    if (left > 0) {
      iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + left;
      iov[first].iov_len -= left;
    }
  }
  return true;
}

bool FrameSocket::WriteRequest(const proto::ExchangeRequest& request) {
  request_out_.assign(4, '\0');
  request.AppendToString(&request_out_);
  PutU32(request_out_.data(), static_cast<uint32_t>(request_out_.size() - 4));
  iov_.assign(1, {request_out_.data(), request_out_.size()});
  return Send(iov_);
}

bool FrameSocket::ReadRequest(proto::ExchangeRequest* request) {
  char header[4];
  if (!ReadExact(header, sizeof(header))) return false;
  const uint32_t size = GetU32(header);
  if (size > kMaxFrame) return Fail(absl::StrCat("corrupt stream: a request of ", size, " bytes"));
  request_in_.resize(size);
  if (!ReadExact(request_in_.data(), size)) return false;
  if (!request->ParseFromString(request_in_)) return Fail("corrupt stream: a bad request");
  return true;
}

bool FrameSocket::WriteBuffers(const proto::Buffer& message) {
  const int count = 1 + message.more_size();
  auto buffer = [&message](int i) -> const proto::Buffer& {
    return i == 0 ? message : message.more(i - 1);
  };
  // The burst header (count, then each frame's envelope and data lengths), then every
  // envelope: one string. Then the data of each frame, straight from its buffer.
  const size_t header = 4 + 8 * static_cast<size_t>(count);
  burst_out_.assign(header, '\0');
  PutU32(burst_out_.data(), static_cast<uint32_t>(count));
  for (int i = 0; i < count; ++i) {
    const proto::Buffer& b = buffer(i);
    CopyEnvelope(b, &envelope_out_);
    const size_t before = burst_out_.size();
    envelope_out_.AppendToString(&burst_out_);
    PutU32(burst_out_.data() + 4 + 8 * i, static_cast<uint32_t>(burst_out_.size() - before));
    PutU32(burst_out_.data() + 8 + 8 * i, static_cast<uint32_t>(b.data().size()));
  }
  std::vector<iovec>& iov = iov_;
  iov.assign(1, {burst_out_.data(), burst_out_.size()});
  for (int i = 0; i < count; ++i) {
    const std::string& data = buffer(i).data();
    if (!data.empty()) iov.push_back({const_cast<char*>(data.data()), data.size()});
  }
  return Send(iov);
}

bool FrameSocket::ReadBuffers(proto::Buffer* message) {
  char head[4];
  if (!ReadExact(head, sizeof(head))) return false;
  const uint32_t count = GetU32(head);
  if (count == 0 || count > kMaxBurstFrames) {
    return Fail(absl::StrCat("corrupt stream: a burst of ", count, " buffers"));
  }
  sizes_in_.resize(8 * static_cast<size_t>(count));
  if (!ReadExact(sizes_in_.data(), sizes_in_.size())) return false;
  // (envelope, data) lengths of each frame. The whole burst is bounded too, not only each
  // frame: the receive strings are sized before the data is read, so a corrupt header must
  // not make the reader allocate a gigabyte per frame.
  frame_sizes_.resize(count);
  uint64_t envelopes = 0, total = 0;
  for (uint32_t i = 0; i < count; ++i) {
    frame_sizes_[i] = {GetU32(sizes_in_.data() + 8 * i), GetU32(sizes_in_.data() + 8 * i + 4)};
    const auto [envelope, data] = frame_sizes_[i];
    if (envelope > kMaxFrame || data > kMaxFrame) {
      return Fail(absl::StrCat("corrupt stream: a buffer frame of ", envelope, " + ", data,
                               " bytes"));
    }
    envelopes += envelope;
    total += uint64_t{envelope} + data;
  }
  if (total > kMaxFrame) {
    return Fail(absl::StrCat("corrupt stream: a burst of ", count, " buffers and ", total,
                             " bytes"));
  }
  envelope_in_.resize(envelopes);
  if (!ReadExact(envelope_in_.data(), envelope_in_.size())) return false;

  // The first frame into `message`, the others into its `more`, whose elements are reused
  // as they are (never cleared): their data strings keep their size, so resizing them does
  // not zero-fill them again. Not message->Parse either, which would clear `data` and `more`.
  auto* more = message->mutable_more();
  const int more_count = static_cast<int>(count) - 1;
  while (more->size() > more_count) unused_more_.emplace_back(more->ReleaseLast());
  while (more->size() < more_count) {
    if (unused_more_.empty()) {
      more->Add();
    } else {
      more->AddAllocated(unused_more_.back().release());
      unused_more_.pop_back();
    }
  }
  read_iov_data_.clear();
  size_t offset = 0;
  for (uint32_t i = 0; i < count; ++i) {
    proto::Buffer* target = i == 0 ? message : more->Mutable(static_cast<int>(i) - 1);
    const auto [envelope, data_size] = frame_sizes_[i];
    if (!envelope_in_message_.ParseFromArray(envelope_in_.data() + offset,
                                             static_cast<int>(envelope))) {
      return Fail("corrupt stream: a bad buffer envelope");
    }
    offset += envelope;
    CopyEnvelope(envelope_in_message_, target);
    std::string& data = *target->mutable_data();
    data.resize(data_size);
    if (!data.empty()) read_iov_data_.push_back({data.data(), data.size()});
  }
  return ReadExactV(read_iov_data_.data(), read_iov_data_.size());
}

void FrameSocket::Shutdown() { ::shutdown(fd_, SHUT_RDWR); }

}  // namespace sluice::network
