// ClusterSecurity: the security.* settings of a JobManager or TaskManager process, read and
// checked once at start-up (a missing or unreadable file, a key that is not the
// certificate's: one line naming the key and the file, exit 2): the gRPC credentials of its
// server and client channels, the HTTPS certificate of its REST / metrics endpoint and the
// bearer token that guards REST and the client-facing gRPC calls (docs/security.md).
// Built on the main thread, then immutable: safe to share between threads.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/config.h"
#include "common/http/http_server.h"
#include "common/rpc/credentials.h"
#include "common/security/bearer_token.h"

namespace sluice {

struct ClusterSecurity {
  rpc::RpcCredentials rpc;                     // security.tls.*
  http::HttpTls rest_tls;                      // security.rest.tls.* (empty: plain HTTP)
  std::optional<security::BearerToken> token;  // security.auth.token_file
  // Settings that work but leave something open (logged as warnings at start; no secrets).
  std::vector<std::string> warnings;

  static absl::StatusOr<ClusterSecurity> FromConfig(const Config& config);
};

}  // namespace sluice
