// FrameSocket: one connected TCP socket carrying the data exchange's messages
// (exchange.proto) as length-prefixed frames - the wire of `taskmanager.network.transport:
// tcp`. The messages are the gRPC transport's; only the framing differs:
//   hello    both ways, once: the 8 bytes "SLXCHG01" (a wrong peer fails at once)
//   request  consumer -> producer: u32 length, then an ExchangeRequest
//   buffer   producer -> consumer: u32 envelope length, u32 data length, then a Buffer
//            without `data` and `more` (the envelope), then the data bytes
// (integers little-endian). A buffer's data is written from the producer's network buffer
// with writev (no copy) and read into the consumer's receive string (no copy beyond the
// kernel's). One reader and one writer at a time; Shutdown may be called from any thread
// and makes blocked reads and writes return false.
#pragma once

#include <sys/uio.h>

#include <atomic>
#include <cstdint>
#include <string>
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
  // Writes `message` and each of its `more` as one buffer frame each, in one writev.
  bool WriteBuffers(const proto::Buffer& message);
  // Reads one buffer frame into `buffer`: sets every field but `more`, and reuses its `data`
  // string without zero-filling it (only growth beyond its current size is zeroed).
  bool ReadBuffer(proto::Buffer* buffer);
  // True when a read would not block (bytes are buffered or waiting in the socket).
  bool ReadableNow() const;

  // Ends the connection both ways; blocked calls return false. Idempotent, any thread.
  void Shutdown();
  // "ip:port" of the peer.
  const std::string& peer() const { return peer_; }
  // Why the last read or write failed ("" if none did, "connection closed" at EOF).
  const std::string& error() const { return error_; }

 private:
  bool ReadExact(char* out, size_t n);
  bool Send(std::vector<iovec>& iov);
  bool Fail(const std::string& what);

  const int fd_;
  std::string peer_;
  std::string error_;
  // Read-ahead for headers and small frames; large data is received in place.
  std::string in_;
  size_t in_begin_ = 0, in_end_ = 0;
  // Scratch of the writer and the reader.
  std::string envelopes_, request_out_, request_in_, envelope_in_;
  std::vector<size_t> starts_;  // of each buffer's header in envelopes_
  std::vector<iovec> iov_;       // of the writer
  proto::Buffer envelope_out_, envelope_in_message_;
};

}  // namespace sluice::network
