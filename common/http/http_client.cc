#include "common/http/http_client.h"

#include "absl/strings/str_cat.h"
#include "httplib.h"

namespace sluice::http {

absl::StatusOr<HttpResult> HttpCall(const std::string& method, const std::string& address,
                                    const std::string& path, const std::string& body,
                                    int timeout_seconds) {
  const size_t colon = address.rfind(':');
  int port = 0;
  if (colon == std::string::npos || (port = std::atoi(address.c_str() + colon + 1)) <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("bad address '", address, "' (host:port)"));
  }
  std::string host = address.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  httplib::Client client(host, port);
  client.set_connection_timeout(timeout_seconds, 0);
  client.set_read_timeout(timeout_seconds, 0);
  client.set_write_timeout(timeout_seconds, 0);
  httplib::Request req;
  req.method = method;
  req.path = path;
  req.body = body;
  if (!body.empty()) req.set_header("Content-Type", "application/json");
  httplib::Result res = client.send(req);
  if (!res) {
    return absl::UnavailableError(absl::StrCat(method, " http://", address, path,
                                               " failed: ", httplib::to_string(res.error())));
  }
  HttpResult out;
  out.status = res->status;
  out.body = res->body;
  for (const auto& [k, v] : res->headers) out.headers.emplace(k, v);
  return out;
}

}  // namespace sluice::http
