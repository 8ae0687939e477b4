// RpcCredentials, PEM checks and ClusterSecurity: bad settings give one line naming the key
// and the file; a real gRPC server with mutual TLS accepts a client certificate of its CA,
// refuses plaintext, a TLS client without a certificate and a certificate of another CA;
// the server-name override; bearer tokens on gRPC calls (CallAuthenticator + AttachToken).
#include "common/rpc/credentials.h"

#include <filesystem>
#include <fstream>

#include "common/cluster_security.h"
#include "common/rpc/call_auth.h"
#include "common/rpc/grpc_server.h"
#include "common/security/pem_files.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/control.grpc.pb.h"
#include "tests/test_certs.h"

namespace sluice {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class CredentialsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::filesystem::path(std::filesystem::temp_directory_path() /
                                     ("sluice-credentials-test-" + std::to_string(getpid())));
    testing::MakeTestCerts(*dir_);
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }
  static std::string File(const std::string& name) { return (*dir_ / name).string(); }

  // security.tls.* with the cluster certificate and `mutual`.
  static Config TlsConfig(const std::string& cert = "cluster", bool mutual = true) {
    Config config;
    EXPECT_TRUE(config.Set("security.tls.enabled", "true").ok());
    EXPECT_TRUE(config.Set("security.tls.ca_file", File("ca.crt")).ok());
    EXPECT_TRUE(config.Set("security.tls.cert_file", File(cert + ".crt")).ok());
    EXPECT_TRUE(config.Set("security.tls.key_file", File(cert + ".key")).ok());
    EXPECT_TRUE(config.Set("security.tls.mutual", mutual ? "true" : "false").ok());
    return config;
  }

  static std::filesystem::path* dir_;
};
std::filesystem::path* CredentialsTest::dir_ = nullptr;

TEST_F(CredentialsTest, BadSettingsNameTheKeyAndTheFile) {
  Config config = TlsConfig();
  ASSERT_TRUE(config.Set("security.tls.key_file", File("missing.key")).ok());
  absl::StatusOr<rpc::RpcCredentials> c = rpc::RpcCredentials::FromConfig(config);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), "security.tls.key_file " + File("missing.key") +
                                      ": cannot read (No such file or directory)");

  // A certificate with another certificate's key.
  config = TlsConfig();
  ASSERT_TRUE(config.Set("security.tls.key_file", File("other.key")).ok());
  c = rpc::RpcCredentials::FromConfig(config);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()),
              HasSubstr("security.tls.cert_file " + File("cluster.crt") +
                        " does not match security.tls.key_file " + File("other.key")));

  // Not PEM at all.
  config = TlsConfig();
  ASSERT_TRUE(config.Set("security.tls.ca_file", File("token")).ok());
  c = rpc::RpcCredentials::FromConfig(config);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()),
              HasSubstr("security.tls.ca_file " + File("token") + ": not a PEM certificate"));

  config = TlsConfig();
  ASSERT_TRUE(config.Set("security.tls.cert_file", File("token")).ok());
  EXPECT_THAT(std::string(rpc::RpcCredentials::FromConfig(config).status().message()),
              HasSubstr("security.tls.cert_file " + File("token") + ": not a PEM certificate"));
  config = TlsConfig();
  ASSERT_TRUE(config.Set("security.tls.key_file", File("ca.crt")).ok());
  EXPECT_THAT(std::string(rpc::RpcCredentials::FromConfig(config).status().message()),
              HasSubstr("security.tls.key_file " + File("ca.crt") +
                        ": not an unencrypted PEM private key"));

  // Required files.
  Config no_ca = TlsConfig();
  ASSERT_TRUE(no_ca.Set("security.tls.ca_file", "").ok());
  EXPECT_THAT(std::string(rpc::RpcCredentials::FromConfig(no_ca).status().message()),
              HasSubstr("security.tls.ca_file is not set"));
  Config no_key = TlsConfig();
  ASSERT_TRUE(no_key.Set("security.tls.key_file", "").ok());
  EXPECT_THAT(std::string(rpc::RpcCredentials::FromConfig(no_key).status().message()),
              HasSubstr("security.tls.key_file is not set"));

  // Booleans are true or false.
  Config bad_bool;
  EXPECT_THAT(std::string(bad_bool.Set("security.tls.enabled", "yes").message()),
              HasSubstr("'yes' is not true or false"));
}

TEST_F(CredentialsTest, OffByDefaultAndValidWhenConfigured) {
  absl::StatusOr<ClusterSecurity> plain = ClusterSecurity::FromConfig(Config());
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_FALSE(plain->rpc.tls());
  EXPECT_FALSE(plain->rest_tls.enabled());
  EXPECT_FALSE(plain->token.has_value());

  Config config = TlsConfig();
  ASSERT_TRUE(config.Set("security.rest.tls.enabled", "true").ok());
  ASSERT_TRUE(config.Set("security.auth.token_file", File("token")).ok());
  absl::StatusOr<ClusterSecurity> secure = ClusterSecurity::FromConfig(config);
  ASSERT_TRUE(secure.ok()) << secure.status();
  EXPECT_TRUE(secure->rpc.tls());
  EXPECT_TRUE(secure->rpc.mutual());
  // REST falls back to the cluster certificate.
  EXPECT_EQ(secure->rest_tls.cert_file, File("cluster.crt"));
  EXPECT_EQ(secure->rest_tls.key_file, File("cluster.key"));
  EXPECT_TRUE(secure->token.has_value());
  EXPECT_TRUE(secure->warnings.empty());

  Config open = TlsConfig("cluster", /*mutual=*/false);
  ASSERT_TRUE(open.Set("security.auth.token_file", File("token")).ok());
  absl::StatusOr<ClusterSecurity> warned = ClusterSecurity::FromConfig(open);
  ASSERT_TRUE(warned.ok());
  EXPECT_THAT(warned->warnings,
              ::testing::ElementsAre(HasSubstr("REST clients send the token in clear text"),
                                     HasSubstr("security.tls.mutual is false")));

  // A REST certificate of its own, checked like the others.
  ASSERT_TRUE(config.Set("security.rest.tls.cert_file", File("other.crt")).ok());
  absl::StatusOr<ClusterSecurity> mismatch = ClusterSecurity::FromConfig(config);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_THAT(std::string(mismatch.status().message()),
              HasSubstr("security.rest.tls.cert_file " + File("other.crt") +
                        " does not match security.tls.key_file " + File("cluster.key")));

  Config token = Config();
  ASSERT_TRUE(token.Set("security.auth.token_file", File("no-token")).ok());
  EXPECT_THAT(std::string(ClusterSecurity::FromConfig(token).status().message()),
              HasSubstr("security.auth.token_file " + File("no-token") + ": cannot read"));
}

// A JobManagerService whose ListJobs is guarded by a CallAuthenticator (like the real one).
class GuardedService final : public proto::JobManagerService::Service {
 public:
  explicit GuardedService(rpc::CallAuthenticator auth) : auth_(std::move(auth)) {}
  grpc::Status ListJobs(grpc::ServerContext* context, const proto::ListJobsRequest*,
                        proto::ListJobsResponse* response) override {
    if (grpc::Status denied = auth_.Check(*context); !denied.ok()) return denied;
    response->add_jobs()->set_job_id("job-1");
    return grpc::Status::OK;
  }

 private:
  rpc::CallAuthenticator auth_;
};

// ListJobs through a channel with `credentials` to `address`.
grpc::Status CallListJobs(const std::string& address, const rpc::RpcCredentials& credentials,
                          const security::BearerToken* token = nullptr) {
  auto channel = rpc::MakeChannel(address, 1 << 20, credentials);
  auto stub = proto::JobManagerService::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  if (token != nullptr) rpc::AttachToken(*token, &context);
  proto::ListJobsResponse response;
  grpc::Status status = stub->ListJobs(&context, proto::ListJobsRequest(), &response);
  if (status.ok()) {
    EXPECT_EQ(response.jobs_size(), 1);
  }
  return status;
}

TEST_F(CredentialsTest, MutualTlsServerAcceptsOnlyCertificatesOfItsCa) {
  absl::StatusOr<rpc::RpcCredentials> server_credentials =
      rpc::RpcCredentials::FromConfig(TlsConfig());
  ASSERT_TRUE(server_credentials.ok()) << server_credentials.status();
  GuardedService service{rpc::CallAuthenticator()};
  absl::StatusOr<rpc::RunningServer> server =
      rpc::StartServer("127.0.0.1", 0, {&service}, 1 << 20, *server_credentials);
  ASSERT_TRUE(server.ok()) << server.status();

  // The cluster certificate (names 127.0.0.1).
  EXPECT_TRUE(CallListJobs(server->address, *server_credentials).ok());

  // The CLI's client-only certificate.
  rpc::TlsSettings cli;
  cli.enabled = true;
  cli.needs_own_certificate = false;
  cli.ca = {File("ca.crt"), "--tls-ca"};
  cli.cert = {File("cli.crt"), "--tls-cert"};
  cli.key = {File("cli.key"), "--tls-key"};
  absl::StatusOr<rpc::RpcCredentials> cli_credentials = rpc::RpcCredentials::Load(cli);
  ASSERT_TRUE(cli_credentials.ok()) << cli_credentials.status();
  EXPECT_TRUE(CallListJobs(server->address, *cli_credentials).ok());

  // Refused: plaintext, TLS without a client certificate, a certificate of another CA.
  EXPECT_EQ(CallListJobs(server->address, rpc::RpcCredentials()).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  rpc::TlsSettings no_cert = cli;
  no_cert.mutual = false;
  no_cert.cert = {};
  no_cert.key = {};
  absl::StatusOr<rpc::RpcCredentials> anonymous = rpc::RpcCredentials::Load(no_cert);
  ASSERT_TRUE(anonymous.ok()) << anonymous.status();
  EXPECT_EQ(CallListJobs(server->address, *anonymous).error_code(), grpc::StatusCode::UNAVAILABLE);
  rpc::TlsSettings other = cli;
  other.cert = {File("other.crt"), "--tls-cert"};
  other.key = {File("other.key"), "--tls-key"};
  absl::StatusOr<rpc::RpcCredentials> stranger = rpc::RpcCredentials::Load(other);
  ASSERT_TRUE(stranger.ok()) << stranger.status();
  EXPECT_EQ(CallListJobs(server->address, *stranger).error_code(), grpc::StatusCode::UNAVAILABLE);

  // A client that trusts another CA refuses the server.
  rpc::TlsSettings wrong_ca = cli;
  wrong_ca.ca = {File("other-ca.crt"), "--tls-ca"};
  absl::StatusOr<rpc::RpcCredentials> distrustful = rpc::RpcCredentials::Load(wrong_ca);
  ASSERT_TRUE(distrustful.ok());
  EXPECT_EQ(CallListJobs(server->address, *distrustful).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  server->server->Shutdown();
}

TEST_F(CredentialsTest, ServerNameOverride) {
  absl::StatusOr<rpc::RpcCredentials> server_credentials =
      rpc::RpcCredentials::FromConfig(TlsConfig());
  ASSERT_TRUE(server_credentials.ok());
  GuardedService service{rpc::CallAuthenticator()};
  absl::StatusOr<rpc::RunningServer> server =
      rpc::StartServer("127.0.0.1", 0, {&service}, 1 << 20, *server_credentials);
  ASSERT_TRUE(server.ok()) << server.status();
  for (const auto& [name, ok] : {std::pair<std::string, bool>{"sluice-cluster", true},
                                 {"sluice-jobmanager.default.svc", true},
                                 {"not-in-the-certificate.example", false}}) {
    Config config = TlsConfig();
    ASSERT_TRUE(config.Set("security.tls.server_name", name).ok());
    absl::StatusOr<rpc::RpcCredentials> client = rpc::RpcCredentials::FromConfig(config);
    ASSERT_TRUE(client.ok());
    EXPECT_EQ(CallListJobs(server->address, *client).ok(), ok) << name;
  }
  server->server->Shutdown();
}

TEST_F(CredentialsTest, BearerTokenOnGrpcCalls) {
  absl::StatusOr<security::BearerToken> token = security::BearerToken::FromString("s3cret-Token");
  ASSERT_TRUE(token.ok());
  absl::StatusOr<security::BearerToken> wrong = security::BearerToken::FromString("s3cret-Tokem");
  ASSERT_TRUE(wrong.ok());
  GuardedService service{rpc::CallAuthenticator(*token)};
  absl::StatusOr<rpc::RunningServer> server = rpc::StartServer("127.0.0.1", 0, {&service}, 1 << 20);
  ASSERT_TRUE(server.ok());
  grpc::Status missing = CallListJobs(server->address, rpc::RpcCredentials());
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(missing.error_message(), HasSubstr("missing bearer token"));
  grpc::Status bad = CallListJobs(server->address, rpc::RpcCredentials(), &*wrong);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(bad.error_message(), HasSubstr("wrong bearer token"));
  EXPECT_THAT(bad.error_message(), Not(HasSubstr("s3cret")));
  EXPECT_TRUE(CallListJobs(server->address, rpc::RpcCredentials(), &*token).ok());
  server->server->Shutdown();
}

}  // namespace
}  // namespace sluice
