// A minimal blocking HTTP/1.1 client (cpp-httplib underneath) for tools and tests that talk
// to the JobManager's REST API or a /metrics endpoint, over HTTP or HTTPS (server verified
// against a CA file) and with an optional bearer token. Thread-safe (no shared state).
#pragma once

#include <map>
#include <string>

#include "absl/status/statusor.h"

namespace sluice::http {

struct HttpResult {
  int status = 0;
  std::string body;
  std::multimap<std::string, std::string> headers;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct HttpClientOptions {
  int timeout_seconds = 10;
  // HTTPS, verifying the server's certificate (and that it names the host dialed) against
  // the CA certificates in this PEM file. Empty: plain HTTP.
  std::string tls_ca_file;
  // Sent as the Authorization header when not empty ("Bearer <token>"). Never logged.
  std::string authorization;
};

// Sends `method` `path` (with query string, sent as given) to `address` ("host:port").
// Unavailable when the server cannot be reached, the TLS handshake fails or the connection
// breaks; any HTTP status is a result, not an error.
absl::StatusOr<HttpResult> HttpCall(const std::string& method, const std::string& address,
                                    const std::string& path, const std::string& body,
                                    const HttpClientOptions& options);
inline absl::StatusOr<HttpResult> HttpCall(const std::string& method, const std::string& address,
                                           const std::string& path, const std::string& body = "",
                                           int timeout_seconds = 10) {
  HttpClientOptions options;
  options.timeout_seconds = timeout_seconds;
  return HttpCall(method, address, path, body, options);
}

}  // namespace sluice::http
