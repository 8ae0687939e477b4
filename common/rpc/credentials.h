// RpcCredentials: the one place where gRPC transport security is built. From the cluster
// Config (security.tls.*) or the CLI's flags it yields the server credentials of the
// JobManager's and TaskManagers' ports and the channel credentials of every client channel
// (CLI -> JobManager, TaskManager -> JobManager, JobManager -> TaskManager, TaskManager ->
// TaskManager data exchange), plus the expected server name override. Plaintext when TLS is
// off (the default). PEM files are read and checked once (common/security/pem_files.h).
// Immutable and cheap to copy (shared contents): safe to use from any thread.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/config.h"
#include "common/security/pem_files.h"
#include "grpcpp/grpcpp.h"

namespace sluice::rpc {

struct TlsSettings {
  bool enabled = false;
  // Servers require and verify a client certificate; clients present `cert`/`key`.
  bool mutual = true;
  // A process that serves (JobManager, TaskManager) needs its own certificate; a client
  // (the CLI) only with mutual TLS.
  bool needs_own_certificate = true;
  std::string server_name;  // expected name in server certificates; empty: the host dialed
  security::PemFile ca;     // required when enabled
  security::PemFile cert;
  security::PemFile key;
};

// security.tls.* of a JobManager or TaskManager (file names are the config keys).
TlsSettings TlsSettingsFromConfig(const Config& config);

class RpcCredentials {
 public:
  // Plaintext.
  RpcCredentials() = default;

  // Checks the settings and reads the PEM files. InvalidArgument with a one-line reason
  // naming the setting and file ("security.tls.enabled is true but security.tls.ca_file is
  // not set", "security.tls.key_file /x: cannot read (...)").
  static absl::StatusOr<RpcCredentials> Load(const TlsSettings& settings);
  static absl::StatusOr<RpcCredentials> FromConfig(const Config& config) {
    return Load(TlsSettingsFromConfig(config));
  }

  bool tls() const { return material_ != nullptr; }
  bool mutual() const { return tls() && mutual_; }
  // "mutual TLS", "TLS" or "plaintext", for start-up log lines.
  const char* ModeName() const { return mutual() ? "mutual TLS" : tls() ? "TLS" : "plaintext"; }

  std::shared_ptr<grpc::ServerCredentials> ServerCredentials() const;
  std::shared_ptr<grpc::ChannelCredentials> ChannelCredentials() const;
  // A channel to `address` with these credentials; `args` gets the server name override.
  std::shared_ptr<grpc::Channel> CreateChannel(const std::string& address,
                                               grpc::ChannelArguments args) const;

 private:
  std::shared_ptr<const security::PemMaterial> material_;  // null: plaintext
  bool mutual_ = false;
  std::string server_name_;
};

}  // namespace sluice::rpc
