// PEM files of a TLS set-up (CA bundle, certificate, private key), read and checked once
// at start-up with OpenSSL so that a wrong file is one clear line naming the file and the
// setting it came from, not a handshake failure later. Used by the gRPC credentials
// (common/rpc/credentials.h), the HTTPS servers and the CLI. Thread-safe (no shared state).
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace sluice::security {

// A file and the name the user gave it by (a config key or a CLI flag), for errors.
struct PemFile {
  std::string path;  // empty: not configured
  std::string name;  // "security.tls.key_file", "--tls-key"
};

// The contents of the files (empty strings for files not configured).
struct PemMaterial {
  std::string ca_pem;
  std::string cert_pem;
  std::string key_pem;
};

// Reads the configured files and checks them: the CA bundle holds at least one certificate,
// the certificate parses, the key parses and is the certificate's private key. A
// certificate without its key (or the reverse) is an error. InvalidArgument with a message
// naming the setting and the file, e.g.
//   "security.tls.key_file /etc/sluice/tls.key: cannot read (No such file or directory)"
//   "security.tls.cert_file /a.crt does not match security.tls.key_file /b.key (...)".
absl::StatusOr<PemMaterial> LoadPemMaterial(const PemFile& ca, const PemFile& cert,
                                            const PemFile& key);

}  // namespace sluice::security
