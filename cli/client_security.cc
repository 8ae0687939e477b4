#include "cli/client_security.h"

#include "absl/strings/str_cat.h"
#include "common/rpc/credentials.h"

namespace sluice::cli {

absl::Status ApplyClientSecurity(const ClientSecurityFlags& flags,
                                 JobManagerClientOptions* options) {
  if (flags.tls_ca.empty()) {
    for (const auto& [value, name] :
         {std::pair{&flags.tls_cert, "--tls-cert"}, std::pair{&flags.tls_key, "--tls-key"},
          std::pair{&flags.tls_server_name, "--tls-server-name"}}) {
      if (!value->empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat(name, " needs --tls-ca (the CA of the JobManager's certificate)"));
      }
    }
  } else {
    rpc::TlsSettings settings;
    settings.enabled = true;
    settings.mutual = !flags.tls_cert.empty() || !flags.tls_key.empty();
    settings.needs_own_certificate = false;
    settings.server_name = flags.tls_server_name;
    settings.ca = {flags.tls_ca, "--tls-ca"};
    settings.cert = {flags.tls_cert, "--tls-cert"};
    settings.key = {flags.tls_key, "--tls-key"};
    absl::StatusOr<rpc::RpcCredentials> credentials = rpc::RpcCredentials::Load(settings);
    if (!credentials.ok()) return credentials.status();
    options->credentials = *std::move(credentials);
  }
  if (!flags.token_file.empty()) {
    absl::StatusOr<security::BearerToken> token =
        security::BearerToken::ReadFile(flags.token_file, "--token-file");
    if (!token.ok()) return token.status();
    options->token = *std::move(token);
  }
  return absl::OkStatus();
}

}  // namespace sluice::cli
