#include "common/http/http_client.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "httplib.h"

namespace sluice::http {

absl::StatusOr<HttpResult> HttpCall(const std::string& method, const std::string& address,
                                    const std::string& path, const std::string& body,
                                    const HttpClientOptions& options) {
  const size_t colon = address.rfind(':');
  int port = 0;
  if (colon == std::string::npos || (port = std::atoi(address.c_str() + colon + 1)) <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("bad address '", address, "' (host:port)"));
  }
  std::string host = address.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  const bool tls = !options.tls_ca_file.empty();
  std::unique_ptr<httplib::ClientImpl> client;
  if (tls) {
    auto ssl = std::make_unique<httplib::SSLClient>(host, port);
    ssl->set_ca_cert_path(options.tls_ca_file.c_str());
    ssl->enable_server_certificate_verification(true);
    client = std::move(ssl);
  } else {
    client = std::make_unique<httplib::ClientImpl>(host, port);
  }
  const int timeout = options.timeout_seconds;
  client->set_connection_timeout(timeout, 0);
  client->set_read_timeout(timeout, 0);
  client->set_write_timeout(timeout, 0);
  httplib::Request req;
  req.method = method;
  req.path = path;
  req.body = body;
  if (!body.empty()) req.set_header("Content-Type", "application/json");
  if (!options.authorization.empty()) req.set_header("Authorization", options.authorization);
  httplib::Result res = client->send(req);
  if (!res) {
    return absl::UnavailableError(absl::StrCat(method, " ", tls ? "https" : "http", "://", address,
                                               path, " failed: ", httplib::to_string(res.error())));
  }
  HttpResult out;
  out.status = res->status;
  out.body = res->body;
  for (const auto& [k, v] : res->headers) out.headers.emplace(k, v);
  return out;
}

}  // namespace sluice::http
