// Cluster security end to end on real processes (docs/security.md): a JobManager and two
// TaskManagers with mutual TLS on every gRPC connection, HTTPS for REST and /metrics and a
// bearer token, certificates made by scripts/dev-certs.sh in the test's directory.
// - `sluice run` with the CA, a client certificate and the token runs a keyed job across
//   both TaskManagers (JobManager -> TaskManager deployment, TaskManager -> TaskManager
//   exchange and TaskManager -> JobManager reports all over mutual TLS) with exact output;
// - the CLI without the token, with a wrong one, without TLS or with a certificate of
//   another CA gets one line and exit code 2;
// - plaintext gRPC clients and client certificates of another CA are refused by the
//   JobManager's and a TaskManager's port, a certificate of the cluster CA is accepted;
// - REST and /metrics: 401 JSON without or with a wrong token, 200 with it, over HTTPS only;
//   the dashboard's static files need no token;
// - the dashboard asks for the token in headless Chromium and then sends it;
// - bad security settings stop a process at start with one line naming key and file, exit 2;
// - the token appears in no log, stdout or stderr of any process (run at log.level debug).
#include <algorithm>
#include <filesystem>
#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "common/http/http_client.h"
#include "common/rpc/call_auth.h"
#include "common/rpc/credentials.h"
#include "common/rpc/grpc_server.h"
#include "gmock/gmock.h"
#include "proto/control.grpc.pb.h"
#include "tests/integration/cluster_harness.h"
#include "tests/integration/keyed_count_job.h"
#include "tests/test_certs.h"
#include "tests/test_dirs.h"

namespace sluice::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class SecurityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cluster_ = new Cluster("security");
    certs_ = new std::filesystem::path(MakeTestCerts(cluster_->dir() / "certs"));
    token_ = new std::string(absl::StripAsciiWhitespace(ReadAll(Cert("token"))));
    ASSERT_EQ(token_->size(), 64u);
    cluster_->WriteFile("wrong-token", std::string(64, 'a') + "\n");
    for (const std::string& setting : std::vector<std::string>{
             "security.tls.enabled=true", "security.tls.ca_file=" + Cert("ca.crt"),
             "security.tls.cert_file=" + Cert("cluster.crt"),
             "security.tls.key_file=" + Cert("cluster.key"), "security.rest.tls.enabled=true",
             "security.auth.token_file=" + Cert("token"), "log.level=debug"}) {
      cluster_->common_settings.push_back(setting);
    }
    cluster_->Start(/*taskmanagers=*/2, /*slots=*/1);
  }
  static void TearDownTestSuite() {
    delete cluster_;
    delete certs_;
    delete token_;
  }

  static std::string Cert(const std::string& name) { return (*certs_ / name).string(); }

  // The CLI flags of a client of this cluster: its CA, the CLI certificate and the token.
  static std::vector<std::string> ClientFlags() {
    return {"--tls-ca",  Cert("ca.crt"),  "--tls-cert",   Cert("cli.crt"),
            "--tls-key", Cert("cli.key"), "--token-file", Cert("token")};
  }
  static std::vector<std::string> With(std::vector<std::string> args,
                                       const std::vector<std::string>& flags) {
    args.insert(args.end(), flags.begin(), flags.end());
    return args;
  }

  static rpc::RpcCredentials Client(const std::string& cert, bool tls = true) {
    if (!tls) return rpc::RpcCredentials();
    rpc::TlsSettings settings;
    settings.enabled = true;
    settings.needs_own_certificate = false;
    settings.ca = {Cert("ca.crt"), "ca"};
    settings.cert = {Cert(cert + ".crt"), "cert"};
    settings.key = {Cert(cert + ".key"), "key"};
    absl::StatusOr<rpc::RpcCredentials> c = rpc::RpcCredentials::Load(settings);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *c : rpc::RpcCredentials();
  }

  static http::HttpClientOptions Https(const std::string& authorization) {
    http::HttpClientOptions options;
    options.timeout_seconds = 5;
    options.tls_ca_file = Cert("ca.crt");
    options.authorization = authorization;
    return options;
  }

  static Cluster* cluster_;
  static std::filesystem::path* certs_;
  static std::string* token_;
};
Cluster* SecurityTest::cluster_ = nullptr;
std::filesystem::path* SecurityTest::certs_ = nullptr;
std::string* SecurityTest::token_ = nullptr;

TEST_F(SecurityTest, RunsAJobAcrossTaskManagersOverMutualTls) {
  KeyedCountJob job;
  job.rows = 5000;
  job.rows_per_second = 1'000'000;
  const std::string spec = cluster_->WriteFile("job.yaml", KeyedCountSpec(job));
  CommandResult run = cluster_->Sluice(With({"run", spec}, ClientFlags()));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const ExactlyOnceCounts counts = CheckKeyedCounts(cluster_->dir() / "out", job.rows, job.keys);
  EXPECT_EQ(counts.checked, job.rows);
  EXPECT_EQ(counts.lost, 0);
  EXPECT_EQ(counts.duplicated, 0);

  CommandResult tms = cluster_->Sluice(With({"taskmanagers", "--output", "json"}, ClientFlags()));
  ASSERT_EQ(tms.exit_code, 0) << tms.output;
  EXPECT_EQ(nlohmann::json::parse(tms.output).size(), 2u) << tms.output;
  CommandResult list = cluster_->Sluice(With({"list"}, ClientFlags()));
  EXPECT_EQ(list.exit_code, 0) << list.output;
  EXPECT_THAT(list.output, HasSubstr("keyed-count"));
}

TEST_F(SecurityTest, CliWithoutOrWithAWrongTokenIsRefused) {
  const std::vector<std::string> tls = {"--tls-ca",      Cert("ca.crt"), "--tls-cert",
                                        Cert("cli.crt"), "--tls-key",    Cert("cli.key")};
  CommandResult missing = cluster_->Sluice(With({"list"}, tls));
  EXPECT_EQ(missing.exit_code, 2) << missing.output;
  EXPECT_THAT(missing.output,
              HasSubstr("sluice list: the JobManager at " + cluster_->jobmanager_address() +
                        " refused the call: missing bearer token"));
  CommandResult wrong = cluster_->Sluice(
      With(With({"run", cluster_->WriteFile("never.yaml", KeyedCountSpec({}))}, tls),
           {"--token-file", (cluster_->dir() / "wrong-token").string()}));
  EXPECT_EQ(wrong.exit_code, 2) << wrong.output;
  EXPECT_THAT(wrong.output, HasSubstr("refused the call: wrong bearer token"));
  EXPECT_EQ(std::count(wrong.output.begin(), wrong.output.end(), '\n'), 1) << wrong.output;
  CommandResult jobs = cluster_->Sluice(With({"list", "--output", "json"}, ClientFlags()));
  ASSERT_EQ(jobs.exit_code, 0) << jobs.output;
  EXPECT_THAT(jobs.output, Not(HasSubstr("never")));  // the refused job was not submitted
}

TEST_F(SecurityTest, CliWithoutTlsOrWithAForeignCertificateCannotConnect) {
  CommandResult plain = cluster_->Sluice({"list", "--token-file", Cert("token")});
  EXPECT_EQ(plain.exit_code, 2) << plain.output;
  EXPECT_THAT(plain.output, HasSubstr("cannot reach the JobManager"));
  CommandResult foreign =
      cluster_->Sluice({"list", "--tls-ca", Cert("ca.crt"), "--tls-cert", Cert("other.crt"),
                        "--tls-key", Cert("other.key"), "--token-file", Cert("token")});
  EXPECT_EQ(foreign.exit_code, 2) << foreign.output;
  EXPECT_THAT(foreign.output, HasSubstr("the TLS handshake failed"));
  CommandResult no_cert =
      cluster_->Sluice({"list", "--tls-ca", Cert("ca.crt"), "--token-file", Cert("token")});
  EXPECT_EQ(no_cert.exit_code, 2) << no_cert.output;
  CommandResult distrust =
      cluster_->Sluice({"list", "--tls-ca", Cert("other-ca.crt"), "--tls-cert", Cert("cli.crt"),
                        "--tls-key", Cert("cli.key"), "--token-file", Cert("token")});
  EXPECT_EQ(distrust.exit_code, 2) << distrust.output;

  // Bad flags: one line naming the flag and the file.
  CommandResult bad_key = cluster_->Sluice({"list", "--tls-ca", Cert("ca.crt"), "--tls-cert",
                                            Cert("cli.crt"), "--tls-key", Cert("cli.missing")});
  EXPECT_EQ(bad_key.exit_code, 2);
  EXPECT_EQ(bad_key.output, "sluice list: --tls-key " + Cert("cli.missing") +
                                ": cannot read (No such file or directory)\n");
  CommandResult mismatch = cluster_->Sluice({"info", "x", "--tls-ca", Cert("ca.crt"), "--tls-cert",
                                             Cert("cli.crt"), "--tls-key", Cert("other.key")});
  EXPECT_EQ(mismatch.exit_code, 2);
  EXPECT_THAT(mismatch.output, HasSubstr("sluice info: --tls-cert " + Cert("cli.crt") +
                                         " does not match --tls-key " + Cert("other.key")));
  CommandResult no_ca = cluster_->Sluice({"list", "--tls-cert", Cert("cli.crt")});
  EXPECT_EQ(no_ca.exit_code, 2);
  EXPECT_THAT(no_ca.output, HasSubstr("--tls-cert needs --tls-ca"));
  CommandResult no_token = cluster_->Sluice({"list", "--token-file", Cert("nope")});
  EXPECT_EQ(no_token.exit_code, 2);
  EXPECT_THAT(no_token.output, HasSubstr("--token-file " + Cert("nope") + ": cannot read"));
}

grpc::StatusCode ListTaskManagers(const std::string& address, const rpc::RpcCredentials& c,
                                  const std::string& token) {
  auto stub = proto::JobManagerService::NewStub(rpc::MakeChannel(address, 1 << 20, c));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  context.AddMetadata("authorization", "Bearer " + token);
  proto::ListTaskManagersResponse response;
  grpc::Status s = stub->ListTaskManagers(&context, proto::ListTaskManagersRequest(), &response);
  if (s.ok()) {
    EXPECT_EQ(response.taskmanagers_size(), 2);
  }
  return s.error_code();
}

grpc::StatusCode CancelNothing(const std::string& address, const rpc::RpcCredentials& c) {
  auto stub = proto::TaskManagerService::NewStub(rpc::MakeChannel(address, 1 << 20, c));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  proto::CancelTaskRequest request;
  request.set_job_id("no-such-job");
  proto::Ack ack;
  return stub->CancelTasks(&context, request, &ack).error_code();
}

TEST_F(SecurityTest, GrpcPortsRefusePlaintextAndForeignCertificates) {
  const std::string jm = cluster_->jobmanager_address();
  EXPECT_EQ(ListTaskManagers(jm, Client("", false), *token_), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(ListTaskManagers(jm, Client("other"), *token_), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(ListTaskManagers(jm, Client("cli"), *token_), grpc::StatusCode::OK);
  EXPECT_EQ(ListTaskManagers(jm, Client("cli"), "bad"), grpc::StatusCode::UNAUTHENTICATED);

  const std::string tm =
      nlohmann::json::parse(ReadAll((cluster_->dir() / "tm0.ready").string()))["address"];
  EXPECT_EQ(CancelNothing(tm, Client("", false)), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(CancelNothing(tm, Client("other")), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(CancelNothing(tm, Client("cluster")), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(SecurityTest, RestAndMetricsNeedTheTokenOverHttps) {
  const std::string rest = cluster_->rest_address();
  for (const std::string path : {"/v1/overview", "/v1/jobs", "/metrics"}) {
    absl::StatusOr<http::HttpResult> missing = http::HttpCall("GET", rest, path, "", Https(""));
    ASSERT_TRUE(missing.ok()) << missing.status();
    EXPECT_EQ(missing->status, 401) << path;
    EXPECT_EQ(missing->header("Content-Type"), "application/json");
    EXPECT_THAT(nlohmann::json::parse(missing->body).value("error", ""),
                HasSubstr("missing bearer token"));
    absl::StatusOr<http::HttpResult> wrong =
        http::HttpCall("GET", rest, path, "", Https("Bearer " + std::string(64, 'a')));
    ASSERT_TRUE(wrong.ok());
    EXPECT_EQ(wrong->status, 401) << path;
    EXPECT_EQ(nlohmann::json::parse(wrong->body).value("error", ""), "wrong bearer token");
    EXPECT_THAT(wrong->body, Not(HasSubstr(*token_)));
    absl::StatusOr<http::HttpResult> right =
        http::HttpCall("GET", rest, path, "", Https("Bearer " + *token_));
    ASSERT_TRUE(right.ok());
    EXPECT_EQ(right->status, 200) << path << ": " << right->body;
  }
  absl::StatusOr<http::HttpResult> dashboard = http::HttpCall("GET", rest, "/", "", Https(""));
  ASSERT_TRUE(dashboard.ok());
  EXPECT_EQ(dashboard->status, 200);
  // Plain HTTP gets no answer from the HTTPS port.
  absl::StatusOr<http::HttpResult> plain = http::HttpCall("GET", rest, "/v1/overview", "", 5);
  EXPECT_TRUE(!plain.ok() || plain->status >= 400);

  const std::string tm_metrics = cluster_->taskmanager_metrics_address(0);
  ASSERT_FALSE(tm_metrics.empty());
  absl::StatusOr<http::HttpResult> tm_missing =
      http::HttpCall("GET", tm_metrics, "/metrics", "", Https(""));
  ASSERT_TRUE(tm_missing.ok()) << tm_missing.status();
  EXPECT_EQ(tm_missing->status, 401);
  absl::StatusOr<http::HttpResult> tm_right =
      http::HttpCall("GET", tm_metrics, "/metrics", "", Https("Bearer " + *token_));
  ASSERT_TRUE(tm_right.ok());
  EXPECT_EQ(tm_right->status, 200);
  EXPECT_THAT(tm_right->body, HasSubstr("sluice_"));
}

// Starts `binary` with `sets` and returns its exit code and output.
CommandResult StartAndExit(Cluster& cluster, const std::string& binary,
                           const std::vector<std::string>& sets, const std::string& name) {
  std::vector<std::string> argv = {BinDir() + "/" + binary, "--jobmanager", "127.0.0.1:1"};
  if (binary == "sluice-jobmanager") argv.resize(1);
  for (const std::string s : {"jobmanager.rpc.port=0", "rest.port=0", "taskmanager.port=0"}) {
    if (binary == "sluice-jobmanager" && absl::StartsWith(s, "taskmanager")) continue;
    if (binary == "sluice-taskmanager" && !absl::StartsWith(s, "taskmanager")) continue;
    argv.push_back("--set");
    argv.push_back(s);
  }
  for (const std::string& s : sets) {
    argv.push_back("--set");
    argv.push_back(s);
  }
  const std::string log = (cluster.dir() / (name + ".log")).string();
  Process p(argv, log);
  CommandResult r;
  r.exit_code = p.Wait();
  r.output = ReadAll(log);
  return r;
}

TEST_F(SecurityTest, BadSecuritySettingsStopAProcessWithOneLine) {
  const std::vector<std::string> tls = {"security.tls.enabled=true",
                                        "security.tls.ca_file=" + Cert("ca.crt"),
                                        "security.tls.cert_file=" + Cert("cluster.crt")};
  CommandResult missing_key =
      StartAndExit(*cluster_, "sluice-jobmanager",
                   With(tls, {"security.tls.key_file=" + Cert("gone.key")}), "bad-jm-1");
  EXPECT_EQ(missing_key.exit_code, 2) << missing_key.output;
  EXPECT_EQ(missing_key.output, "sluice-jobmanager: security.tls.key_file " + Cert("gone.key") +
                                    ": cannot read (No such file or directory)\n");
  CommandResult mismatch =
      StartAndExit(*cluster_, "sluice-taskmanager",
                   With(tls, {"security.tls.key_file=" + Cert("other.key")}), "bad-tm-1");
  EXPECT_EQ(mismatch.exit_code, 2) << mismatch.output;
  EXPECT_THAT(mismatch.output,
              HasSubstr("sluice-taskmanager: security.tls.cert_file " + Cert("cluster.crt") +
                        " does not match security.tls.key_file " + Cert("other.key")));
  CommandResult no_key = StartAndExit(*cluster_, "sluice-jobmanager", tls, "bad-jm-2");
  EXPECT_EQ(no_key.exit_code, 2);
  EXPECT_THAT(no_key.output, HasSubstr("security.tls.key_file is not set"));
  CommandResult token = StartAndExit(*cluster_, "sluice-jobmanager",
                                     {"security.auth.token_file=" + Cert("no-token")}, "bad-jm-3");
  EXPECT_EQ(token.exit_code, 2);
  EXPECT_EQ(token.output, "sluice-jobmanager: security.auth.token_file " + Cert("no-token") +
                              ": cannot read (No such file or directory)\n");
  CommandResult rest =
      StartAndExit(*cluster_, "sluice-jobmanager", {"security.rest.tls.enabled=true"}, "bad-jm-4");
  EXPECT_EQ(rest.exit_code, 2);
  EXPECT_THAT(rest.output, HasSubstr("security.rest.tls.enabled is true but no certificate"));
}

// The dashboard in headless Chromium (tests/web/dashboard_token_test.mjs): it asks for the
// token on the first 401, refuses a wrong one, then sends the right one on every call.
TEST_F(SecurityTest, DashboardAsksForTheTokenInChromium) {
  const std::filesystem::path web_tests = SourceDir() / "tests" / "web";
  ASSERT_TRUE(std::filesystem::exists(web_tests / "node_modules" / "playwright-core"))
      << "run scripts/install-deps.sh (npm ci in tests/web)";
  ASSERT_TRUE(std::filesystem::exists("/usr/bin/chromium")) << "run scripts/install-deps.sh";
  const std::string log = (cluster_->dir() / "dashboard-token.log").string();
  Process browser({"/usr/bin/env", "node", (web_tests / "dashboard_token_test.mjs").string(),
                   "--url", "https://" + cluster_->rest_address(), "--token-file", Cert("token")},
                  log);
  EXPECT_EQ(browser.Wait(), 0) << ReadAll(log);
  EXPECT_THAT(ReadAll(log), HasSubstr("ok: later calls send the token without asking again"));
}

// Last: every log, stdout and stderr of the cluster's processes and CLI runs so far.
TEST_F(SecurityTest, TheTokenAppearsInNoLogOrOutput) {
  int files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(cluster_->dir())) {
    if (!entry.is_regular_file()) continue;
    if (entry.path().parent_path() == *certs_) continue;  // the token file itself
    const std::string name = entry.path().filename().string();
    if (!absl::EndsWith(name, ".log") && !absl::EndsWith(name, ".out")) continue;
    ++files;
    EXPECT_THAT(ReadAll(entry.path().string()), Not(HasSubstr(*token_))) << entry.path();
  }
  EXPECT_GE(files, 3 + 10);  // jm.log, tm0.log, tm1.log and the CLI runs
  EXPECT_THAT(ReadAll((cluster_->dir() / "jm.log").string()), HasSubstr("mutual TLS"));
}

}  // namespace
}  // namespace sluice::testing
