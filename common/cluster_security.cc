#include "common/cluster_security.h"

#include "absl/strings/str_cat.h"
#include "common/security/pem_files.h"

namespace sluice {
namespace {

// security.rest.tls.<what>, falling back to security.tls.<what>.
security::PemFile RestFile(const Config& config, const std::string& what) {
  const std::string own = absl::StrCat("security.rest.tls.", what);
  if (!config.GetString(own).empty()) return {config.GetString(own), own};
  const std::string shared = absl::StrCat("security.tls.", what);
  return {config.GetString(shared), shared};
}

}  // namespace

absl::StatusOr<ClusterSecurity> ClusterSecurity::FromConfig(const Config& config) {
  ClusterSecurity out;
  absl::StatusOr<rpc::RpcCredentials> rpc = rpc::RpcCredentials::FromConfig(config);
  if (!rpc.ok()) return rpc.status();
  out.rpc = *std::move(rpc);

  if (config.GetBool("security.rest.tls.enabled")) {
    const security::PemFile cert = RestFile(config, "cert_file");
    const security::PemFile key = RestFile(config, "key_file");
    if (cert.path.empty() || key.path.empty()) {
      return absl::InvalidArgumentError(
          "security.rest.tls.enabled is true but no certificate and key are set "
          "(security.rest.tls.cert_file/key_file, or security.tls.cert_file/key_file)");
    }
    absl::StatusOr<security::PemMaterial> checked = security::LoadPemMaterial({}, cert, key);
    if (!checked.ok()) return checked.status();
    out.rest_tls = {cert.path, key.path};
  }

  if (const std::string path = config.GetString("security.auth.token_file"); !path.empty()) {
    absl::StatusOr<security::BearerToken> token =
        security::BearerToken::ReadFile(path, "security.auth.token_file");
    if (!token.ok()) return token.status();
    out.token = *std::move(token);
    if (!out.rest_tls.enabled()) {
      out.warnings.push_back(
          "security.auth.token_file is set but security.rest.tls.enabled is false: REST "
          "clients send the token in clear text");
    }
    if (!out.rpc.tls()) {
      out.warnings.push_back(
          "security.auth.token_file is set but security.tls.enabled is false: the CLI sends "
          "the token over plaintext gRPC");
    }
  }
  if (out.rpc.tls() && !out.rpc.mutual()) {
    out.warnings.push_back(
        "security.tls.mutual is false: TaskManager ports and the JobManager's TaskManager "
        "calls accept any client that can connect (docs/security.md)");
  }
  return out;
}

}  // namespace sluice
