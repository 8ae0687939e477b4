// HttpServer: a small HTTP/1.1 server (cpp-httplib underneath) that hands every request to one
// handler function. The JobManager serves the REST API and /metrics with it, each
// TaskManager its /metrics. The handler runs on the server's worker threads (several at
// once): it must be thread-safe and must not throw. Requests larger than
// `max_body_bytes` get 413; a request line or headers httplib cannot parse get 400.
// With HttpServerOptions::tls it serves HTTPS only (server certificate; clients are not
// asked for one). Start/Stop from one thread; port() and address() from any thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace httplib {
class Server;
}

namespace sluice::http {

struct HttpRequest {
  std::string method;                             // "GET", "POST", ...
  std::string path;                               // percent-decoded, without the query string
  std::multimap<std::string, std::string> query;  // decoded query parameters
  std::string body;
  std::string host;    // the Host header ("" when absent)
  std::string origin;  // the Origin header a browser sends ("" when absent: curl, scripts)
  std::string authorization;  // the Authorization header ("" when absent); never log it
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // Sent as an Allow header when non-empty (405 answers).
  std::string allow;
  // Further headers (Cache-Control, Content-Security-Policy, ...).
  std::vector<std::pair<std::string, std::string>> headers;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

// The certificate and key of an HTTPS server (PEM files, checked before: see
// common/cluster_security.h). Empty: plain HTTP.
struct HttpTls {
  std::string cert_file;
  std::string key_file;
  bool enabled() const { return !cert_file.empty(); }
};

struct HttpServerOptions {
  HttpTls tls;
  size_t max_body_bytes = 1 << 20;
  int read_timeout_seconds = 5;
  int write_timeout_seconds = 5;
};

class HttpServer {
 public:
  // Binds host:port (0 = a free port) and serves on a background thread. Unavailable
  // "cannot listen on HOST:PORT for WHAT (address in use?)" when the port cannot be bound;
  // `what` names the server in that message ("the REST API").
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(const std::string& host, int port,
                                                           const std::string& what,
                                                           HttpHandler handler,
                                                           HttpServerOptions options = {});
  ~HttpServer();  // Stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const { return port_; }
  bool tls() const { return tls_; }
  // "http" or "https".
  const char* scheme() const { return tls_ ? "https" : "http"; }
  const std::string& address() const { return address_; }  // "host:port"

  // Stops accepting, finishes in-flight requests and joins the thread. Idempotent.
  void Stop();

 private:
  HttpServer() = default;

  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  std::string address_;
  bool stopped_ = false;
  bool tls_ = false;
};

}  // namespace sluice::http
