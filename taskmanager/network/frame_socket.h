// FrameSocket: one connected TCP socket carrying the data exchange's messages
// (exchange.proto) as length-prefixed frames - the wire of `taskmanager.network.transport:
// tcp`. The messages are the gRPC transport's; only the framing differs:
//   hello    both ways, once: the 8 bytes "SLXCHG02" (a wrong peer or version fails at once)
//   request  consumer -> producer: u32 length, then an ExchangeRequest
//   burst    producer -> consumer: the buffers of one message (a Buffer and its `more`):
//            u32 count, then per buffer u32 envelope length + u32 data length, then every
//            envelope (a Buffer without `data` and `more`), then every buffer's data bytes
// (integers little-endian). A buffer's data is written from the producer's network buffer
// with writev (no copy) and a whole burst is read with readv straight into the consumer's
// receive strings (no copy beyond the kernel's, one system call per burst rather than per
// buffer when it has arrived). One reader and one writer at a time; Shutdown may be called
// from any thread and makes blocked reads and writes return false.
#pragma once

#include <sys/uio.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/exchange.pb.h"

namespace sluice::network {

class FrameSocket {
 public:
  // Takes ownership of a connected socket.
  explicit FrameSocket(int fd);
  ~FrameSocket();
  FrameSocket(const FrameSocket&) = delete;
  FrameSocket& operator=(const FrameSocket&) = delete;

  // Connects to "host:port" and exchanges the hello; Unavailable naming the address and the
  // reason (refused, no answer within `timeout_ms`, no hello: not a tcp data port).
  // Cancelled soon after `*canceled` turns true.
  static absl::StatusOr<std::unique_ptr<FrameSocket>> Connect(
      const std::string& address, int timeout_ms = 10'000,
      const std::atomic<bool>* canceled = nullptr);
  // The producer's side of the hello: false (and why in `error`) for a peer that is not a
  // Sluice consumer.
  bool AcceptHello(std::string* error);

  bool WriteRequest(const proto::ExchangeRequest& request);
  bool ReadRequest(proto::ExchangeRequest* request);
  // Writes `message` and each of its `more` as one burst, in one writev.
  bool WriteBuffers(const proto::Buffer& message);
  // Reads one burst: its first buffer into `message`, the others into `message.more`. Sets
  // every field but `more` of each, and reuses their `data` strings without zero-filling
  // them (only growth beyond a string's current size is zeroed).
  bool ReadBuffers(proto::Buffer* message);

  // Ends the connection both ways; blocked calls return false. Idempotent, any thread.
  void Shutdown();
  // "ip:port" of the peer.
  const std::string& peer() const { return peer_; }
  // Why the last read or write failed ("" if none did, "connection closed" at EOF).
  const std::string& error() const { return error_; }

 private:
  bool ReadExact(char* out, size_t n);
  // Fills every iovec (advancing them), the bytes that follow into the read-ahead.
  bool ReadExactV(iovec* iov, size_t count);
  bool Send(std::vector<iovec>& iov);
  bool Fail(const std::string& what);

  const int fd_;
  std::string peer_;
  std::string error_;
  // Read-ahead for headers and small frames; large data is received in place.
  std::string in_;
  size_t in_begin_ = 0, in_end_ = 0;
  // Scratch of the writer.
  std::string burst_out_, request_out_;
  std::vector<iovec> iov_;
  proto::Buffer envelope_out_;
  // Scratch of the reader.
  std::string request_in_, sizes_in_, envelope_in_;
  std::vector<std::pair<uint32_t, uint32_t>> frame_sizes_;  // (envelope, data) per frame
  std::vector<iovec> read_iov_, read_iov_data_;
  proto::Buffer envelope_in_message_;
  // Elements of a message's `more` the last burst did not need, with their strings.
  std::vector<std::unique_ptr<proto::Buffer>> unused_more_;
};

}  // namespace sluice::network
