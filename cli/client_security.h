// The CLI's side of cluster security: the --tls-* and --token-file flags (or their
// SLUICE_* environment variables) turned into the JobManagerClient's channel credentials
// and bearer token. Main thread only.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "cli/jobmanager_client.h"

namespace sluice::cli {

struct ClientSecurityFlags {
  std::string tls_ca;           // --tls-ca: CA bundle of the JobManager's certificate; TLS on
  std::string tls_cert;         // --tls-cert: client certificate (mutual TLS)
  std::string tls_key;          // --tls-key: its private key
  std::string tls_server_name;  // --tls-server-name: expected name in the server certificate
  std::string token_file;       // --token-file: bearer token for the JobManager
};

// Reads and checks the files and fills options->credentials / options->token.
// InvalidArgument naming the flag and the file ("--tls-key /x: cannot read (...)");
// "--tls-cert needs --tls-ca" when a TLS flag is given without the CA.
absl::Status ApplyClientSecurity(const ClientSecurityFlags& flags,
                                 JobManagerClientOptions* options);

}  // namespace sluice::cli
