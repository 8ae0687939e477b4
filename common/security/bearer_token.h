// BearerToken: the shared secret of `security.auth.token_file` (a mounted Kubernetes Secret
// in production). The JobManager's REST API, /metrics and client-facing gRPC calls check
// it; the CLI sends it. The token itself never appears in an error, a log line or
// DebugString: only the file it came from is named. Comparison is constant-time (both
// sides are hashed with SHA-256 first, so neither the content nor the length leaks through
// timing). Immutable after ReadFile: safe to share between threads.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sluice::security {

class BearerToken {
 public:
  // Reads the token from `path` (surrounding whitespace, e.g. a trailing newline, is
  // ignored). InvalidArgument naming `name` (the setting: "security.auth.token_file" or
  // "--token-file") and the path when the file cannot be read, is empty, or holds characters
  // a bearer token cannot have (RFC 6750: letters, digits, -._~+/ and trailing =).
  static absl::StatusOr<BearerToken> ReadFile(const std::string& path, absl::string_view name);
  // For tests: a token given directly (same character check).
  static absl::StatusOr<BearerToken> FromString(absl::string_view token);

  // True when `authorization` (the value of an Authorization header or gRPC
  // `authorization` metadata) is "Bearer <this token>" (scheme case-insensitive).
  bool MatchesAuthorization(absl::string_view authorization) const;
  // "Bearer <token>": what a client sends. Never log it.
  std::string AuthorizationValue() const { return "Bearer " + token_; }

 private:
  explicit BearerToken(std::string token) : token_(std::move(token)) {}
  std::string token_;
};

// Equality of two secrets in time independent of where they differ and of their lengths.
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

}  // namespace sluice::security
