// The wire under one exchange stream (one consumer TaskManager <-> one producer TaskManager):
// what ServerStream (producer side) and Connection (consumer side) read and write, over
// either transport of `taskmanager.network.transport`:
//   grpc: the bidirectional ExchangeService.Exchange stream (TLS when security.tls is on);
//   tcp:  a FrameSocket to the producer's data port (frame_socket.h).
// The protocol above (partition requests, credits, buffers, events) is the same on both.
// A data address "tcp://host:port" names a tcp data port; a bare "host:port" the gRPC
// server. Reads and writes each come from one thread at a time; Cancel from any thread.
#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "common/rpc/credentials.h"
#include "grpcpp/grpcpp.h"
#include "proto/exchange.grpc.pb.h"
#include "taskmanager/network/frame_socket.h"

namespace sluice::network {

inline constexpr char kTcpScheme[] = "tcp://";

// Producer side.
class ExchangeServerWire {
 public:
  virtual ~ExchangeServerWire() = default;
  virtual bool Read(proto::ExchangeRequest* request) = 0;
  // Sends `message` and its `more` buffers.
  virtual bool Write(const proto::Buffer& message) = 0;
  // Ends the stream: blocked and later reads and writes fail.
  virtual void Cancel() = 0;
  virtual std::string peer() const = 0;
};

class GrpcServerWire final : public ExchangeServerWire {
 public:
  GrpcServerWire(grpc::ServerContext* context,
                 grpc::ServerReaderWriter<proto::Buffer, proto::ExchangeRequest>* stream)
      : context_(context), stream_(stream) {}
  bool Read(proto::ExchangeRequest* request) override { return stream_->Read(request); }
  // (No buffer_hint: a hinted sync Write completes only once a later write flushes it.)
  bool Write(const proto::Buffer& message) override { return stream_->Write(message); }
  void Cancel() override { context_->TryCancel(); }
  std::string peer() const override { return context_->peer(); }

 private:
  grpc::ServerContext* const context_;
  grpc::ServerReaderWriter<proto::Buffer, proto::ExchangeRequest>* const stream_;
};

class TcpServerWire final : public ExchangeServerWire {
 public:
  explicit TcpServerWire(FrameSocket* socket) : socket_(socket) {}
  bool Read(proto::ExchangeRequest* request) override { return socket_->ReadRequest(request); }
  bool Write(const proto::Buffer& message) override { return socket_->WriteBuffers(message); }
  void Cancel() override { socket_->Shutdown(); }
  std::string peer() const override { return std::string(kTcpScheme) + socket_->peer(); }

 private:
  FrameSocket* const socket_;
};

// Consumer side.
class ExchangeClientWire {
 public:
  virtual ~ExchangeClientWire() = default;
  // Opens the stream (may block connecting); Unavailable naming the address when it cannot.
  virtual absl::Status Open() = 0;
  // The next message (tcp: one buffer, no `more`); false when the stream ended.
  virtual bool Read(proto::Buffer* message) = 0;
  virtual bool Write(const proto::ExchangeRequest& request) = 0;
  virtual void Cancel() = 0;
  // After Read returned false: why the stream ended ("" when it was closed normally).
  virtual std::string Finish() = 0;

  // The wire for `address` ("tcp://host:port" or a gRPC "host:port").
  static std::unique_ptr<ExchangeClientWire> For(const std::string& address,
                                                 int64_t max_message_size,
                                                 const rpc::RpcCredentials& credentials);
};

}  // namespace sluice::network
