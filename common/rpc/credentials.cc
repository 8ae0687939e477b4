#include "common/rpc/credentials.h"

#include "absl/strings/str_cat.h"

namespace sluice::rpc {

TlsSettings TlsSettingsFromConfig(const Config& config) {
  TlsSettings s;
  s.enabled = config.GetBool("security.tls.enabled");
  s.mutual = config.GetBool("security.tls.mutual");
  s.needs_own_certificate = true;
  s.server_name = config.GetString("security.tls.server_name");
  s.ca = {config.GetString("security.tls.ca_file"), "security.tls.ca_file"};
  s.cert = {config.GetString("security.tls.cert_file"), "security.tls.cert_file"};
  s.key = {config.GetString("security.tls.key_file"), "security.tls.key_file"};
  return s;
}

absl::StatusOr<RpcCredentials> RpcCredentials::Load(const TlsSettings& settings) {
  RpcCredentials out;
  if (!settings.enabled) return out;
  auto require = [](const security::PemFile& file, absl::string_view why) -> absl::Status {
    if (!file.path.empty()) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrCat(file.name, " is not set (", why, ")"));
  };
  if (absl::Status s =
          require(settings.ca, "TLS needs the CA bundle that signs the cluster's certificates");
      !s.ok())
    return s;
  if (settings.needs_own_certificate || settings.mutual) {
    const char* why = settings.mutual ? "mutual TLS needs a certificate and key of this process"
                                      : "a TLS server needs its certificate and key";
    if (absl::Status s = require(settings.cert, why); !s.ok()) return s;
    if (absl::Status s = require(settings.key, why); !s.ok()) return s;
  }
  absl::StatusOr<security::PemMaterial> material =
      security::LoadPemMaterial(settings.ca, settings.cert, settings.key);
  if (!material.ok()) return material.status();
  out.material_ = std::make_shared<const security::PemMaterial>(*std::move(material));
  out.mutual_ = settings.mutual;
  out.server_name_ = settings.server_name;
  return out;
}

std::shared_ptr<grpc::ServerCredentials> RpcCredentials::ServerCredentials() const {
  if (!tls()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions options(
      mutual_ ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
              : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  options.pem_root_certs = material_->ca_pem;
  options.pem_key_cert_pairs.push_back({material_->key_pem, material_->cert_pem});
  return grpc::SslServerCredentials(options);
}

std::shared_ptr<grpc::ChannelCredentials> RpcCredentials::ChannelCredentials() const {
  if (!tls()) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = material_->ca_pem;
  if (mutual_ && !material_->cert_pem.empty()) {
    options.pem_private_key = material_->key_pem;
    options.pem_cert_chain = material_->cert_pem;
  }
  return grpc::SslCredentials(options);
}

std::shared_ptr<grpc::Channel> RpcCredentials::CreateChannel(const std::string& address,
                                                             grpc::ChannelArguments args) const {
  if (tls() && !server_name_.empty()) args.SetSslTargetNameOverride(server_name_);
  return grpc::CreateCustomChannel(address, ChannelCredentials(), args);
}

}  // namespace sluice::rpc
