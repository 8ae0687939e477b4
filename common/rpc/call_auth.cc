#include "common/rpc/call_auth.h"

#include <string>

namespace sluice::rpc {

grpc::Status CallAuthenticator::Check(const grpc::ServerContext& context) const {
  if (!token_.has_value()) return grpc::Status::OK;
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "missing bearer token: this JobManager requires one (sluice "
                        "--token-file FILE, the file of its security.auth.token_file)");
  }
  if (!token_->MatchesAuthorization(absl::string_view(it->second.data(), it->second.size()))) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "wrong bearer token (sluice --token-file FILE must hold the token of "
                        "the JobManager's security.auth.token_file)");
  }
  return grpc::Status::OK;
}

void AttachToken(const security::BearerToken& token, grpc::ClientContext* context) {
  context->AddMetadata("authorization", token.AuthorizationValue());
}

}  // namespace sluice::rpc
