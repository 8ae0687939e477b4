// Bearer-token authentication of gRPC calls: the JobManager checks the `authorization`
// metadata of the calls a client (the CLI) makes (CallAuthenticator), and the CLI attaches
// it (AttachToken). Calls between cluster processes are not token-checked: with
// security.tls.mutual they are authenticated by their client certificates
// (docs/security.md). Thread-safe (immutable).
#pragma once

#include <optional>

#include "common/security/bearer_token.h"
#include "grpcpp/grpcpp.h"

namespace sluice::rpc {

class CallAuthenticator {
 public:
  // No token: every call passes.
  CallAuthenticator() = default;
  explicit CallAuthenticator(std::optional<security::BearerToken> token)
      : token_(std::move(token)) {}

  bool enabled() const { return token_.has_value(); }
  // OK, or UNAUTHENTICATED "missing or wrong bearer token ..." (the token is never echoed).
  grpc::Status Check(const grpc::ServerContext& context) const;

 private:
  std::optional<security::BearerToken> token_;
};

// Adds `authorization: Bearer <token>` to the call's metadata.
void AttachToken(const security::BearerToken& token, grpc::ClientContext* context);

}  // namespace sluice::rpc
