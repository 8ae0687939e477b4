// Starting a gRPC server on host:port (port 0 = a free port) with our limits, and client
// channels with the same limits. SO_REUSEPORT is off so a port in use is an error, not a
// silently shared port. Transport security comes from `credentials` (common/rpc/credentials.h;
// default plaintext, which only tests and benchmarks rely on). Thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/rpc/credentials.h"
#include "grpcpp/grpcpp.h"

namespace sluice::rpc {

struct RunningServer {
  std::unique_ptr<grpc::Server> server;
  int port = 0;
  std::string address;  // host:port actually bound
};

// Errors: Unavailable "cannot listen on HOST:PORT (address in use?)".
absl::StatusOr<RunningServer> StartServer(const std::string& host, int port,
                                          const std::vector<grpc::Service*>& services,
                                          int64_t max_message_size,
                                          const RpcCredentials& credentials = RpcCredentials());

// "host:port", with brackets around an IPv6 host.
std::string JoinHostPort(absl::string_view host, int port);

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address, int64_t max_message_size,
                                           const RpcCredentials& credentials = RpcCredentials());

// gRPC status -> absl::Status with the same code and message.
absl::Status ToAbsl(const grpc::Status& status);
grpc::Status ToGrpc(const absl::Status& status);

}  // namespace sluice::rpc
