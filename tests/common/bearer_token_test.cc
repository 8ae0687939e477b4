// BearerToken (file reading, syntax, constant-time comparison, Authorization parsing), the
// HTTP RequireBearerToken wrapper and HTTPS: a TLS HttpServer answers an HttpCall that
// trusts its CA (401 JSON without or with a wrong token, 200 with the right one, public
// paths without), and refuses plain HTTP and clients that trust another CA.
#include "common/security/bearer_token.h"

#include <filesystem>
#include <fstream>

#include "common/http/bearer_auth.h"
#include "common/http/http_client.h"
#include "common/http/http_server.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/test_certs.h"
#include "tests/test_dirs.h"

namespace sluice {
namespace {

using security::BearerToken;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(BearerTokenTest, ReadsTrimmedTokenAndChecksIt) {
  const std::filesystem::path dir = testing::FreshTestDir("sluice-token-test");
  std::filesystem::create_directories(dir);
  const std::string good = (dir / "good").string();
  std::ofstream(good) << "  abc-DEF_123.~+/==\n";
  absl::StatusOr<BearerToken> token = BearerToken::ReadFile(good, "security.auth.token_file");
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(token->AuthorizationValue(), "Bearer abc-DEF_123.~+/==");
  EXPECT_TRUE(token->MatchesAuthorization("Bearer abc-DEF_123.~+/=="));
  EXPECT_TRUE(token->MatchesAuthorization("bearer abc-DEF_123.~+/=="));
  EXPECT_FALSE(token->MatchesAuthorization("Bearer abc-DEF_123.~+/="));
  EXPECT_FALSE(token->MatchesAuthorization("Bearer abc-DEF_123.~+/==x"));
  EXPECT_FALSE(token->MatchesAuthorization("abc-DEF_123.~+/=="));
  EXPECT_FALSE(token->MatchesAuthorization("Basic abc-DEF_123.~+/=="));
  EXPECT_FALSE(token->MatchesAuthorization(""));

  const std::string empty = (dir / "empty").string();
  std::ofstream(empty) << " \n";
  EXPECT_EQ(BearerToken::ReadFile(empty, "security.auth.token_file").status().message(),
            "security.auth.token_file " + empty + ": empty");
  const std::string spaced = (dir / "spaced").string();
  std::ofstream(spaced) << "two words-SECRETPART\n";
  absl::Status bad = BearerToken::ReadFile(spaced, "--token-file").status();
  EXPECT_THAT(std::string(bad.message()), HasSubstr("--token-file " + spaced + ": "));
  EXPECT_THAT(std::string(bad.message()), Not(HasSubstr("SECRETPART")));
  EXPECT_THAT(
      std::string(
          BearerToken::ReadFile((dir / "none").string(), "--token-file").status().message()),
      HasSubstr("cannot read (No such file or directory)"));
  std::filesystem::remove_all(dir);
}

TEST(BearerTokenTest, ConstantTimeEquals) {
  EXPECT_TRUE(security::ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(security::ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(security::ConstantTimeEquals("abc", "abcd"));
  EXPECT_FALSE(security::ConstantTimeEquals("", "a"));
  EXPECT_TRUE(security::ConstantTimeEquals("", ""));
}

http::HttpResponse Ok(const http::HttpRequest& request) {
  http::HttpResponse r;
  r.body = nlohmann::json{{"path", request.path}}.dump();
  return r;
}

class HttpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::FreshTestDir("sluice-https-test");
    testing::MakeTestCerts(dir_);
    absl::StatusOr<BearerToken> token = BearerToken::FromString("the-token");
    ASSERT_TRUE(token.ok());
    http::HttpServerOptions options;
    options.tls = {File("cluster.crt"), File("cluster.key")};
    auto server = http::HttpServer::Start(
        "127.0.0.1", 0, "the test server",
        http::RequireBearerToken(Ok, *token,
                                 [](const http::HttpRequest& r) { return r.path == "/healthz"; }),
        options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string File(const std::string& name) const { return (dir_ / name).string(); }

  absl::StatusOr<http::HttpResult> Get(const std::string& path, const std::string& authorization,
                                       const std::string& ca = "ca.crt") {
    http::HttpClientOptions options;
    options.timeout_seconds = 5;
    options.tls_ca_file = File(ca);
    options.authorization = authorization;
    return http::HttpCall("GET", server_->address(), path, "", options);
  }

  std::filesystem::path dir_;
  std::unique_ptr<http::HttpServer> server_;
};

TEST_F(HttpsTest, TokenRequiredOverHttps) {
  EXPECT_TRUE(server_->tls());
  EXPECT_STREQ(server_->scheme(), "https");
  absl::StatusOr<http::HttpResult> missing = Get("/v1/jobs", "");
  ASSERT_TRUE(missing.ok()) << missing.status();
  EXPECT_EQ(missing->status, 401);
  EXPECT_EQ(missing->header("Content-Type"), "application/json");
  EXPECT_EQ(missing->header("WWW-Authenticate"), "Bearer realm=\"sluice\"");
  EXPECT_THAT(nlohmann::json::parse(missing->body).value("error", ""),
              HasSubstr("missing bearer token"));
  absl::StatusOr<http::HttpResult> wrong = Get("/v1/jobs", "Bearer the-tokem");
  ASSERT_TRUE(wrong.ok());
  EXPECT_EQ(wrong->status, 401);
  EXPECT_EQ(nlohmann::json::parse(wrong->body).value("error", ""), "wrong bearer token");
  absl::StatusOr<http::HttpResult> right = Get("/v1/jobs", "Bearer the-token");
  ASSERT_TRUE(right.ok());
  EXPECT_EQ(right->status, 200);
  EXPECT_EQ(nlohmann::json::parse(right->body).value("path", ""), "/v1/jobs");
  absl::StatusOr<http::HttpResult> health = Get("/healthz", "");
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->status, 200);
}

TEST_F(HttpsTest, RefusesPlainHttpAndUntrustedServers) {
  EXPECT_FALSE(http::HttpCall("GET", server_->address(), "/healthz", "", 5).ok());
  absl::StatusOr<http::HttpResult> other_ca = Get("/healthz", "", "other-ca.crt");
  EXPECT_FALSE(other_ca.ok());
}

TEST_F(HttpsTest, BadCertificateIsAStartError) {
  http::HttpServerOptions options;
  options.tls = {File("cluster.crt"), File("other.key")};
  auto server = http::HttpServer::Start("127.0.0.1", 0, "the REST API", Ok, options);
  ASSERT_FALSE(server.ok());
  EXPECT_THAT(std::string(server.status().message()),
              HasSubstr("cannot serve HTTPS for the REST API"));
}

}  // namespace
}  // namespace sluice
