// `sluice schema-registry` as a real process, driven by curl (a client Sluice did not write)
// through Confluent's quick-start sequence, then restarted on the same directory; and its
// one-line exit-2 errors. Waiting is by polling with a deadline.
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "tests/integration/cluster_harness.h"

namespace sluice::testing {
namespace {

using json = nlohmann::json;

constexpr char kContentType[] = "Content-Type: application/vnd.schemaregistry.v1+json";

const std::string kPaymentV1 =
    R"({"type":"record","name":"Payment","namespace":"shop","fields":[)"
    R"({"name":"id","type":"string"},{"name":"amount","type":"double"}]})";
// + a field without a default: FULL refuses it (v2 cannot read v1 data).
const std::string kPaymentNoDefault =
    R"({"type":"record","name":"Payment","namespace":"shop","fields":[)"
    R"({"name":"id","type":"string"},{"name":"amount","type":"double"},)"
    R"({"name":"country","type":"string"}]})";
// + a field with a default: compatible both ways.
const std::string kPaymentV2 = R"({"type":"record","name":"Payment","namespace":"shop","fields":[)"
                               R"({"name":"id","type":"string"},{"name":"amount","type":"double"},)"
                               R"({"name":"country","type":"string","default":"NL"}]})";

// v2 with amount as a string: neither reads the other's amount.
const std::string kPaymentAmountAsString =
    R"({"type":"record","name":"Payment","namespace":"shop","fields":[)"
    R"({"name":"id","type":"string"},{"name":"amount","type":"string"},)"
    R"({"name":"country","type":"string","default":"NL"}]})";

struct CurlAnswer {
  int status = 0;
  json body;
  std::string raw;
};

class SchemaRegistryProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("sluice-it-registry-" + std::to_string(getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    registry_.reset();
    if (std::getenv("SLUICE_KEEP_TEST_DIRS") == nullptr) std::filesystem::remove_all(dir_);
  }

  // Starts `sluice schema-registry --port 0` on dir_/data and waits for its ready file.
  void StartRegistry() {
    const std::string ready = (dir_ / "ready.json").string();
    std::filesystem::remove(ready);
    const std::string log = (dir_ / ("registry-" + std::to_string(++starts_) + ".log")).string();
    registry_ = std::make_unique<Process>(
        std::vector<std::string>{BinDir() + "/sluice", "schema-registry", "--port", "0", "--dir",
                                 (dir_ / "data").string(), "--ready-file", ready},
        log);
    ASSERT_TRUE(WaitFor([&] { return std::filesystem::exists(ready) || !registry_->Running(); },
                        std::chrono::seconds(30)))
        << registry_->Log();
    ASSERT_TRUE(registry_->Running()) << registry_->Log();
    const json info = json::parse(ReadAll(ready));
    url_ = info["url"].get<std::string>();
    port_ = info["port"].get<int>();
    EXPECT_NE(registry_->Log().find("Schema registry: " + url_), std::string::npos)
        << registry_->Log();
  }

  // Runs curl; the status code comes on the last line of its output.
  CurlAnswer Curl(const std::string& method, const std::string& path,
                  const std::string& body = "") {
    const std::string out = (dir_ / ("curl-" + std::to_string(++curls_) + ".out")).string();
    std::vector<std::string> argv = {"/usr/bin/curl",  "-sS", "-X",         method,     "-w",
                                     "\n%{http_code}", "-H",  kContentType, url_ + path};
    if (!body.empty()) {
      argv.push_back("--data");
      argv.push_back(body);
    }
    Process curl(argv, out);
    EXPECT_EQ(curl.Wait(), 0) << curl.Log();
    CurlAnswer answer;
    std::string output = ReadAll(out);
    const size_t newline = output.rfind('\n');
    if (newline == std::string::npos) return answer;
    answer.status = std::stoi(output.substr(newline + 1));
    answer.raw = output.substr(0, newline);
    answer.body = json::parse(answer.raw, nullptr, false);
    return answer;
  }
  CurlAnswer Register(const std::string& subject, const std::string& schema) {
    return Curl("POST", "/subjects/" + subject + "/versions", json{{"schema", schema}}.dump());
  }

  std::filesystem::path dir_;
  std::unique_ptr<Process> registry_;
  std::string url_;
  int port_ = 0;
  int starts_ = 0;
  int curls_ = 0;
};

TEST_F(SchemaRegistryProcessTest, QuickStartWithCurlSurvivesARestart) {
  StartRegistry();
  // Register a schema; fetch it by id; list subjects and versions.
  CurlAnswer registered = Register("payments-value", kPaymentV1);
  EXPECT_EQ(registered.status, 200) << registered.raw;
  EXPECT_EQ(registered.body, json::parse(R"({"id":1})"));
  CurlAnswer by_id = Curl("GET", "/schemas/ids/1");
  EXPECT_EQ(by_id.status, 200);
  EXPECT_EQ(by_id.body, json({{"schema", kPaymentV1}}));
  EXPECT_EQ(Curl("GET", "/subjects").body, json::parse(R"(["payments-value"])"));
  EXPECT_EQ(Curl("GET", "/subjects/payments-value/versions").body, json::parse("[1]"));
  // Registering it again: the same id, no new version.
  EXPECT_EQ(Register("payments-value", kPaymentV1).body, json::parse(R"({"id":1})"));

  // FULL compatibility for everything.
  CurlAnswer config = Curl("PUT", "/config", R"({"compatibility": "FULL"})");
  EXPECT_EQ(config.status, 200);
  EXPECT_EQ(config.body, json::parse(R"({"compatibility":"FULL"})"));
  EXPECT_EQ(Curl("GET", "/config").body, json::parse(R"({"compatibilityLevel":"FULL"})"));

  // An incompatible change: 409 with the reason.
  CurlAnswer refused = Register("payments-value", kPaymentNoDefault);
  EXPECT_EQ(refused.status, 409) << refused.raw;
  EXPECT_EQ(refused.body["error_code"], 409);
  EXPECT_NE(refused.body["message"].get<std::string>().find(
                "reader field 'country' has no default and is missing from the writer schema"),
            std::string::npos)
      << refused.raw;
  CurlAnswer test = Curl("POST", "/compatibility/subjects/payments-value/versions/latest",
                         json{{"schema", kPaymentNoDefault}}.dump());
  EXPECT_EQ(test.body, json::parse(R"({"is_compatible":false})"));

  // A compatible change: a field added with a default.
  CurlAnswer v2 = Register("payments-value", kPaymentV2);
  EXPECT_EQ(v2.status, 200) << v2.raw;
  EXPECT_EQ(v2.body, json::parse(R"({"id":2})"));
  EXPECT_EQ(Curl("GET", "/subjects/payments-value/versions").body, json::parse("[1,2]"));
  CurlAnswer missing = Curl("GET", "/subjects/refunds-value/versions");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body,
            json::parse(R"({"error_code":40401,"message":"Subject 'refunds-value' not found."})"));

  // Stop (SIGTERM: exit 0) and start again on the same directory: everything is there.
  ::kill(registry_->pid(), SIGTERM);
  EXPECT_EQ(registry_->Wait(), 0) << registry_->Log();
  StartRegistry();
  EXPECT_EQ(Curl("GET", "/subjects").body, json::parse(R"(["payments-value"])"));
  EXPECT_EQ(Curl("GET", "/subjects/payments-value/versions").body, json::parse("[1,2]"));
  EXPECT_EQ(
      Curl("GET", "/subjects/payments-value/versions/latest").body,
      json({{"subject", "payments-value"}, {"version", 2}, {"id", 2}, {"schema", kPaymentV2}}));
  EXPECT_EQ(Curl("GET", "/schemas/ids/1").body, json({{"schema", kPaymentV1}}));
  EXPECT_EQ(Curl("GET", "/config").body, json::parse(R"({"compatibilityLevel":"FULL"})"));
  // Still FULL: amount as a string reads no double.
  CurlAnswer still_full = Register("payments-value", kPaymentAmountAsString);
  EXPECT_EQ(still_full.status, 409) << still_full.raw;
  EXPECT_NE(still_full.raw.find("field 'amount': reader type string cannot read writer type "
                                "double"),
            std::string::npos)
      << still_full.raw;
  EXPECT_EQ(Register("other-value", kPaymentV2).body, json::parse(R"({"id":2})"));
}

TEST_F(SchemaRegistryProcessTest, PortInUseIsOneLineAndExit2) {
  StartRegistry();
  const std::string out = (dir_ / "second.out").string();
  Process second({BinDir() + "/sluice", "schema-registry", "--port", std::to_string(port_), "--dir",
                  (dir_ / "other").string()},
                 out);
  EXPECT_EQ(second.Wait(), 2);
  EXPECT_EQ(ReadAll(out),
            "sluice schema-registry: cannot listen on 127.0.0.1:" + std::to_string(port_) +
                " for the schema registry (address in use?)\n");
}

TEST_F(SchemaRegistryProcessTest, UnwritableDirectoryIsOneLineAndExit2) {
  const std::string file = (dir_ / "a-file").string();
  std::ofstream(file) << "x";
  const std::string out = (dir_ / "bad-dir.out").string();
  Process registry(
      {BinDir() + "/sluice", "schema-registry", "--port", "0", "--dir", file + "/data"}, out);
  EXPECT_EQ(registry.Wait(), 2);
  EXPECT_EQ(ReadAll(out), "sluice schema-registry: cannot create the schema registry directory " +
                              file + "/data: Not a directory\n");
}

}  // namespace
}  // namespace sluice::testing
