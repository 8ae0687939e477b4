#include "taskmanager/network/exchange_wire.h"

#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"

namespace sluice::network {
namespace {

class GrpcClientWire final : public ExchangeClientWire {
 public:
  GrpcClientWire(const std::string& address, int64_t max_message_size,
                 const rpc::RpcCredentials& credentials) {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(static_cast<int>(max_message_size));
    args.SetMaxSendMessageSize(static_cast<int>(max_message_size));
    // A TCP connection of its own, not shared with control-plane channels to the same peer.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    // HTTP/2 flow control must not throttle below the credits: a large receive window (the
    // credits bound the memory anyway).
    args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 8 << 20);
    channel_ = credentials.CreateChannel(address, std::move(args));
    stub_ = proto::ExchangeService::NewStub(channel_);
  }

  absl::Status Open() override {
    stream_ = stub_->Exchange(&context_);  // connection errors surface in Read
    return absl::OkStatus();
  }
  bool Read(proto::Buffer* message) override { return stream_->Read(message); }
  bool Write(const proto::ExchangeRequest& request) override { return stream_->Write(request); }
  void Cancel() override { context_.TryCancel(); }
  std::string Finish() override { return stream_->Finish().error_message(); }

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<proto::ExchangeService::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<proto::ExchangeRequest, proto::Buffer>> stream_;
};

class TcpClientWire final : public ExchangeClientWire {
 public:
  explicit TcpClientWire(std::string host_port) : host_port_(std::move(host_port)) {}

  absl::Status Open() override {
    absl::StatusOr<std::unique_ptr<FrameSocket>> socket =
        FrameSocket::Connect(host_port_, kConnectTimeoutMs, &canceled_);
    if (!socket.ok()) {
      error_ = std::string(socket.status().message());
      return socket.status();
    }
    absl::MutexLock lock(&mu_);
    socket_ = *std::move(socket);
    if (canceled_.load()) socket_->Shutdown();
    return absl::OkStatus();
  }
  // The buffers of one producer message (a burst): the consumer's gates get them at once,
  // and their tasks are woken once for it rather than per buffer.
  bool Read(proto::Buffer* message) override {
    return socket_ != nullptr && socket_->ReadBuffers(message);
  }
  bool Write(const proto::ExchangeRequest& request) override {
    return socket_ != nullptr && socket_->WriteRequest(request);
  }
  void Cancel() override {
    canceled_.store(true);  // also stops a connect in progress
    absl::MutexLock lock(&mu_);
    if (socket_ != nullptr) socket_->Shutdown();
  }
  std::string Finish() override {
    if (!error_.empty()) return error_;
    return socket_ == nullptr ? "not connected" : socket_->error();
  }

 private:
  static constexpr int kConnectTimeoutMs = 10'000;

  const std::string host_port_;
  std::string error_;  // of Open
  std::atomic<bool> canceled_{false};
  absl::Mutex mu_;  // orders setting socket_ against Cancel
  // Set once by Open (the reader thread) before any Read or Write.
  std::unique_ptr<FrameSocket> socket_;
};

}  // namespace

std::unique_ptr<ExchangeClientWire> ExchangeClientWire::For(
    const std::string& address, int64_t max_message_size,
    const rpc::RpcCredentials& credentials) {
  if (absl::StartsWith(address, kTcpScheme)) {
    return std::make_unique<TcpClientWire>(address.substr(sizeof(kTcpScheme) - 1));
  }
  return std::make_unique<GrpcClientWire>(address, max_message_size, credentials);
}

}  // namespace sluice::network
