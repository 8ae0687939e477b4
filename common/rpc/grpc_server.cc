#include "common/rpc/grpc_server.h"

#include "absl/strings/str_cat.h"

namespace sluice::rpc {

std::string JoinHostPort(absl::string_view host, int port) {
  if (host.find(':') != absl::string_view::npos) return absl::StrCat("[", host, "]:", port);
  return absl::StrCat(host, ":", port);
}

absl::StatusOr<RunningServer> StartServer(const std::string& host, int port,
                                          const std::vector<grpc::Service*>& services,
                                          int64_t max_message_size,
                                          const RpcCredentials& credentials) {
  grpc::ServerBuilder builder;
  RunningServer result;
  const std::string requested = JoinHostPort(host, port);
  builder.AddListeningPort(requested, credentials.ServerCredentials(), &result.port);
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(static_cast<int>(max_message_size));
  builder.SetMaxSendMessageSize(static_cast<int>(max_message_size));
  for (grpc::Service* service : services) builder.RegisterService(service);
  result.server = builder.BuildAndStart();
  if (result.server == nullptr || result.port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", requested, " (address in use?)"));
  }
  result.address = JoinHostPort(host, result.port);
  return result;
}

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address, int64_t max_message_size,
                                           const RpcCredentials& credentials) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(static_cast<int>(max_message_size));
  args.SetMaxSendMessageSize(static_cast<int>(max_message_size));
  return credentials.CreateChannel(address, std::move(args));
}

absl::Status ToAbsl(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

grpc::Status ToGrpc(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

}  // namespace sluice::rpc
