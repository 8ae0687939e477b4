// Tests of common/http: the HTTP server wrapper and client on loopback, port 0.
#include "common/http/http_server.h"

#include <atomic>
#include <chrono>
#include <string>

#include "common/http/http_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/raw_http_util.h"

namespace sluice::http {
namespace {

using ::testing::HasSubstr;

HttpResponse Echo(const HttpRequest& r) {
  HttpResponse out;
  if (r.path == "/missing") {
    out.status = 404;
    out.body = R"({"error":"missing"})";
    return out;
  }
  nlohmann::json j = {{"method", r.method}, {"path", r.path}, {"body", r.body}};
  for (const auto& [k, v] : r.query) j["query"][k] = v;
  out.body = j.dump();
  return out;
}

using ::sluice::testing::RawExchange;

TEST(HttpServerTest, ServesRequestsDecodesPathsAndQueries) {
  auto server = HttpServer::Start("127.0.0.1", 0, "the test server", Echo);
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_GT((*server)->port(), 0);
  EXPECT_EQ((*server)->address(), "127.0.0.1:" + std::to_string((*server)->port()));

  auto r = HttpCall("GET", (*server)->address(), "/v1/jobs/a%20b?mode=cancel&x=1");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("Content-Type"), "application/json");
  nlohmann::json j = nlohmann::json::parse(r->body);
  EXPECT_EQ(j["method"], "GET");
  EXPECT_EQ(j["path"], "/v1/jobs/a b");
  EXPECT_EQ(j["query"]["mode"], "cancel");

  r = HttpCall("POST", (*server)->address(), "/x", R"({"a":1})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(nlohmann::json::parse(r->body)["body"], R"({"a":1})");

  r = HttpCall("GET", (*server)->address(), "/missing");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->body, R"({"error":"missing"})");
}

TEST(HttpServerTest, MalformedAndOversizedRequestsGet4xxAndTheServerKeepsServing) {
  HttpServerOptions options;
  options.max_body_bytes = 1024;
  auto server = HttpServer::Start("127.0.0.1", 0, "the test server", Echo, options);
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->port();

  // A request line without a version: 400 with a JSON error.
  std::string no_version = RawExchange(port, "GET /x\r\n\r\n");
  EXPECT_THAT(no_version, HasSubstr("HTTP/1.1 400")) << no_version;
  EXPECT_THAT(no_version, HasSubstr(R"({"error":"HTTP 400: bad request"})"));
  // Bytes that are not HTTP at all: cpp-httplib 0.11 closes the connection without an answer
  // (never a 2xx, never a crash).
  std::string garbage = RawExchange(port, "THIS IS NOT HTTP\r\n\r\n");
  EXPECT_THAT(garbage, ::testing::AnyOf("", HasSubstr("HTTP/1.1 400"))) << garbage;

  // A POST or DELETE without a body and without Content-Length (`curl -X POST URL`) is
  // answered at once (not after the read timeout).
  for (const std::string method : {"POST", "DELETE"}) {
    const auto start = std::chrono::steady_clock::now();
    std::string bodyless =
        RawExchange(port, method + " /cancel HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_THAT(bodyless, HasSubstr("HTTP/1.1 200")) << bodyless;
    EXPECT_THAT(bodyless, HasSubstr("\"method\":\"" + method + "\""));
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  }

  auto big = HttpCall("POST", (*server)->address(), "/x", std::string(4096, 'x'));
  ASSERT_TRUE(big.ok()) << big.status();
  EXPECT_EQ(big->status, 413);
  EXPECT_THAT(big->body, HasSubstr("\"error\""));

  auto ok = HttpCall("GET", (*server)->address(), "/still-here");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->status, 200);
}

TEST(HttpServerTest, APortInUseIsAnErrorNamingTheServer) {
  auto first = HttpServer::Start("127.0.0.1", 0, "the test server", Echo);
  ASSERT_TRUE(first.ok());
  auto second = HttpServer::Start("127.0.0.1", (*first)->port(), "the REST API", Echo);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().message(),
            "cannot listen on 127.0.0.1:" + std::to_string((*first)->port()) +
                " for the REST API (address in use?)");
  (*first)->Stop();
  (*first)->Stop();  // idempotent
  auto gone = HttpCall("GET", "127.0.0.1:" + std::to_string((*first)->port()), "/", "", 2);
  EXPECT_FALSE(gone.ok());
}

}  // namespace
}  // namespace sluice::http
