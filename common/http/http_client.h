// A minimal blocking HTTP/1.1 client (cpp-httplib underneath) for tools and tests that talk
// to the JobManager's REST API or a /metrics endpoint. Thread-safe (no shared state).
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

// Sends `method` `path` (with query string, sent as given) to `address` ("host:port").
// Unavailable when the server cannot be reached or the connection breaks; any HTTP status is
// a result, not an error.
absl::StatusOr<HttpResult> HttpCall(const std::string& method, const std::string& address,
                                    const std::string& path, const std::string& body = "",
                                    int timeout_seconds = 10);

}  // namespace sluice::http
