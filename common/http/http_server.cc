#include "common/http/http_server.h"

#include <sys/socket.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "httplib.h"
#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"

namespace sluice::http {
namespace {

std::string ErrorJson(const std::string& message) {
  return nlohmann::json{{"error", message}}.dump(-1, ' ', false,
                                                 nlohmann::json::error_handler_t::replace);
}

const char* StatusText(int status) {
  switch (status) {
    case 400:
      return "bad request";
    case 404:
      return "not found";
    case 405:
      return "method not allowed";
    case 413:
      return "request too large";
    case 414:
      return "URI too long";
    case 431:
      return "request header fields too large";
    default:
      return status >= 500 ? "server error" : "request error";
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(const std::string& host, int port,
                                                              const std::string& what,
                                                              HttpHandler handler,
                                                              HttpServerOptions options) {
  if (port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("the port of ", what, " must be between 0 and 65535, got ", port));
  }
  std::unique_ptr<HttpServer> s(new HttpServer());
  if (options.tls.enabled()) {
    auto tls_server = std::make_unique<httplib::SSLServer>(options.tls.cert_file.c_str(),
                                                           options.tls.key_file.c_str());
    if (!tls_server->is_valid()) {
      return absl::InvalidArgumentError(absl::StrCat("cannot serve HTTPS for ", what,
                                                     " with certificate ", options.tls.cert_file,
                                                     " and key ", options.tls.key_file));
    }
    s->server_ = std::move(tls_server);
    s->tls_ = true;
  } else {
    s->server_ = std::make_unique<httplib::Server>();
  }
  httplib::Server& server = *s->server_;
  // SO_REUSEADDR only (no SO_REUSEPORT): a port in use is an error, not a shared port.
  server.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  server.set_payload_max_length(options.max_body_bytes);
  server.set_read_timeout(options.read_timeout_seconds, 0);
  server.set_write_timeout(options.write_timeout_seconds, 0);
  server.set_keep_alive_max_count(100);

  auto serve = [handler = std::move(handler)](const httplib::Request& req, std::string body,
                                              httplib::Response& res) {
    HttpRequest request;
    request.method = req.method;
    request.path = req.path;
    for (const auto& [key, value] : req.params) request.query.emplace(key, value);
    request.body = std::move(body);
    request.host = req.get_header_value("Host");
    request.origin = req.get_header_value("Origin");
    request.authorization = req.get_header_value("Authorization");
    HttpResponse response = handler(request);
    res.status = response.status;
    if (!response.allow.empty()) res.set_header("Allow", response.allow);
    // Every answer: browsers must not guess another type than the one we send.
    res.set_header("X-Content-Type-Options", "nosniff");
    for (const auto& [name, value] : response.headers) res.set_header(name, value);
    res.set_content(response.body, response.content_type.c_str());
  };
  auto route = [serve](const httplib::Request& req, httplib::Response& res) {
    serve(req, req.body, res);
  };
  // Methods that may carry a body read it here, and only when the request declares one:
  // httplib would otherwise wait for the peer to close a body-less `curl -X POST` (no
  // Content-Length) and answer 400 after its read timeout.
  auto route_with_body = [serve](const httplib::Request& req, httplib::Response& res,
                                 const httplib::ContentReader& reader) {
    std::string body;
    if (req.has_header("Content-Length") || req.has_header("Transfer-Encoding")) {
      const bool read = reader([&body](const char* data, size_t length) {
        body.append(data, length);
        return true;
      });
      if (!read) {  // too large (httplib set 413) or broken
        if (res.status != 413) res.status = 400;
        res.set_content(ErrorJson(res.status == 413 ? "request body too large"
                                                    : "cannot read the request body"),
                        "application/json");
        return;
      }
    }
    serve(req, std::move(body), res);
  };
  const std::string any = ".*";
  server.Get(any, route);
  server.Options(any, route);
  server.Post(any, route_with_body);
  server.Put(any, route_with_body);
  server.Patch(any, route_with_body);
  server.Delete(any, route_with_body);
  // Errors httplib answers itself (unparsable request, body too large): JSON too.
  server.set_error_handler(
      httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        res.set_content(ErrorJson(absl::StrCat("HTTP ", res.status, ": ", StatusText(res.status))),
                        "application/json");
        return httplib::Server::HandlerResponse::Handled;
      }));
  server.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        res.status = 500;
        res.set_content(ErrorJson("internal error"), "application/json");
      });

  int bound = port;
  if (port == 0) {
    bound = server.bind_to_any_port(host);
    if (bound < 0) bound = -1;
  } else if (!server.bind_to_port(host, port)) {
    bound = -1;
  }
  if (bound <= 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", host, ":", port, " for ", what, " (address in use?)"));
  }
  s->port_ = bound;
  s->address_ = host.find(':') != std::string::npos ? absl::StrCat("[", host, "]:", bound)
                                                    : absl::StrCat(host, ":", bound);
  HttpServer* raw = s.get();
  s->thread_ = std::thread([raw] { raw->server_->listen_after_bind(); });
  // Stop() only stops a server that is running: wait until it is.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!server.is_running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return s;
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (server_ != nullptr) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace sluice::http
