// The schema registry's REST API (registry_service.h) through real HTTP on a loopback port:
// each route's answer and error, in Confluent Schema Registry's exact JSON shapes.
#include <filesystem>
#include <string>

#include "common/http/http_client.h"
#include "common/schema_registry/registry_server.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/common/schema_registry_test_schemas.h"
#include "tests/test_dirs.h"

namespace sluice::schema_registry {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;

using testing::kOrderV1;
using testing::kOrderV2;
using testing::kOrderV2NoDefault;
const std::string kProto = "syntax = \"proto3\";\nmessage M {\n  int64 id = 1;\n}\n";

struct Answer {
  int status = 0;
  json body;
  std::string raw;
  std::string content_type;
};

class RegistryServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = sluice::testing::FreshTestDir("sluice-registry-http");
    SchemaRegistryServerOptions options;
    options.port = 0;
    options.dir = dir_.string();
    absl::StatusOr<std::unique_ptr<SchemaRegistryServer>> server =
        SchemaRegistryServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    address_ = "127.0.0.1:" + std::to_string(server_->port());
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  Answer Call(const std::string& method, const std::string& path, const std::string& body = "") {
    absl::StatusOr<http::HttpResult> result = http::HttpCall(method, address_, path, body);
    EXPECT_TRUE(result.ok()) << result.status();
    Answer a;
    if (!result.ok()) return a;
    a.status = result->status;
    a.raw = result->body;
    a.content_type = result->header("Content-Type");
    a.body = json::parse(result->body, nullptr, false);
    return a;
  }
  Answer Post(const std::string& path, const json& body) { return Call("POST", path, body.dump()); }
  Answer Register(const std::string& subject, const std::string& schema,
                  const std::string& type = "") {
    json body = {{"schema", schema}};
    if (!type.empty()) body["schemaType"] = type;
    return Post("/subjects/" + subject + "/versions", body);
  }
  static json ErrorBody(int code, const std::string& message) {
    return json{{"error_code", code}, {"message", message}};
  }

  std::filesystem::path dir_;
  std::unique_ptr<SchemaRegistryServer> server_;
  std::string address_;
};

TEST_F(RegistryServiceTest, RootTypesAndEmptyRegistry) {
  Answer root = Call("GET", "/");
  EXPECT_EQ(root.status, 200);
  EXPECT_EQ(root.raw, "{}");
  EXPECT_EQ(root.content_type, "application/vnd.schemaregistry.v1+json");
  EXPECT_EQ(Call("GET", "/subjects").body, json::array());
  EXPECT_EQ(Call("GET", "/schemas/types").body, json::parse(R"(["AVRO","PROTOBUF"])"));
  EXPECT_EQ(Call("GET", "/config").body, json::parse(R"({"compatibilityLevel":"BACKWARD"})"));
  EXPECT_EQ(server_->url(), "http://" + address_);
}

TEST_F(RegistryServiceTest, RegisterAndRead) {
  Answer registered = Register("orders-value", kOrderV1);
  EXPECT_EQ(registered.status, 200);
  EXPECT_EQ(registered.body, json::parse(R"({"id":1})"));
  EXPECT_EQ(Register("orders-value", kOrderV2).body, json::parse(R"({"id":2})"));
  EXPECT_EQ(Register("other", kOrderV1).body, json::parse(R"({"id":1})"));

  EXPECT_EQ(Call("GET", "/subjects").body, json::parse(R"(["orders-value","other"])"));
  EXPECT_EQ(Call("GET", "/subjects/orders-value/versions").body, json::parse("[1,2]"));
  EXPECT_EQ(Call("GET", "/subjects/orders-value/versions/1").body,
            json({{"subject", "orders-value"}, {"version", 1}, {"id", 1}, {"schema", kOrderV1}}));
  EXPECT_EQ(Call("GET", "/subjects/orders-value/versions/latest").body,
            json({{"subject", "orders-value"}, {"version", 2}, {"id", 2}, {"schema", kOrderV2}}));
  EXPECT_EQ(Call("GET", "/subjects/orders-value/versions/-1").body["version"], 2);
  EXPECT_EQ(Call("GET", "/subjects/orders-value/versions/2/schema").raw, kOrderV2);
  EXPECT_EQ(Call("GET", "/schemas/ids/2").body, json({{"schema", kOrderV2}}));
  EXPECT_EQ(Call("GET", "/schemas/ids/1/schema").raw, kOrderV1);
  EXPECT_EQ(Call("GET", "/schemas/ids/1/versions").body,
            json::parse(R"([{"subject":"orders-value","version":1},)"
                        R"({"subject":"other","version":1}])"));
  // Look up: is this schema registered under the subject?
  EXPECT_EQ(Post("/subjects/other", {{"schema", kOrderV1}}).body,
            json({{"subject", "other"}, {"version", 1}, {"id", 1}, {"schema", kOrderV1}}));
}

TEST_F(RegistryServiceTest, ProtobufCarriesSchemaType) {
  EXPECT_EQ(Register("p", kProto, "PROTOBUF").body, json::parse(R"({"id":1})"));
  EXPECT_EQ(Call("GET", "/subjects/p/versions/1").body, json({{"subject", "p"},
                                                              {"version", 1},
                                                              {"id", 1},
                                                              {"schemaType", "PROTOBUF"},
                                                              {"schema", kProto}}));
  EXPECT_EQ(Call("GET", "/schemas/ids/1").body,
            json({{"schemaType", "PROTOBUF"}, {"schema", kProto}}));
  Answer invalid = Register("p", "syntax = \"proto3\";\nmessage {\n", "PROTOBUF");
  EXPECT_EQ(invalid.status, 422);
  EXPECT_EQ(invalid.body["error_code"], 42201);
  EXPECT_THAT(invalid.body["message"].get<std::string>(), HasSubstr("Invalid schema: 2:"));
}

TEST_F(RegistryServiceTest, NotFoundErrors) {
  Register("s", kOrderV1);
  Answer subject = Call("GET", "/subjects/nope/versions");
  EXPECT_EQ(subject.status, 404);
  EXPECT_EQ(subject.body, ErrorBody(40401, "Subject 'nope' not found."));
  EXPECT_EQ(subject.content_type, "application/vnd.schemaregistry.v1+json");
  Answer version = Call("GET", "/subjects/s/versions/9");
  EXPECT_EQ(version.status, 404);
  EXPECT_EQ(version.body, ErrorBody(40402, "Version 9 not found."));
  Answer schema = Call("GET", "/schemas/ids/42");
  EXPECT_EQ(schema.status, 404);
  EXPECT_EQ(schema.body, ErrorBody(40403, "Schema 42 not found"));
  Answer lookup = Post("/subjects/s", {{"schema", kOrderV2}});
  EXPECT_EQ(lookup.status, 404);
  EXPECT_EQ(lookup.body, ErrorBody(40403, "Schema not found"));
  EXPECT_EQ(Call("GET", "/nothing/here").body, ErrorBody(404, "HTTP 404 Not Found"));
  Answer method = Call("PUT", "/subjects");
  EXPECT_EQ(method.status, 405);
  EXPECT_EQ(method.body["error_code"], 405);
}

TEST_F(RegistryServiceTest, InvalidInputErrors) {
  Answer version = Call("GET", "/subjects/s/versions/0");
  EXPECT_EQ(version.status, 422);
  EXPECT_EQ(version.body["error_code"], 42202);
  EXPECT_THAT(version.body["message"].get<std::string>(),
              HasSubstr("The specified version '0' is not a valid version id"));
  Answer schema = Register("s", R"({"type":"record","name":"R","fields":[{"name":"a"}]})");
  EXPECT_EQ(schema.status, 422);
  EXPECT_EQ(schema.body["error_code"], 42201);
  Answer empty = Post("/subjects/s/versions", json::object());
  EXPECT_EQ(empty.body, ErrorBody(42201, "Empty schema"));
  Answer type = Register("s", kOrderV1, "JSON");
  EXPECT_EQ(type.body["error_code"], 42201);
  Answer level = Call("PUT", "/config", R"({"compatibility":"SIDEWAYS"})");
  EXPECT_EQ(level.status, 422);
  EXPECT_EQ(level.body["error_code"], 42203);
  Answer not_json = Call("POST", "/subjects/s/versions", "{oops");
  EXPECT_EQ(not_json.status, 400);
  EXPECT_EQ(not_json.body["error_code"], 400);
}

TEST_F(RegistryServiceTest, IncompatibleRegistrationIs409WithTheReason) {
  Register("s", kOrderV1);
  Answer refused = Register("s", kOrderV2NoDefault);
  EXPECT_EQ(refused.status, 409);
  EXPECT_EQ(refused.body["error_code"], 409);
  EXPECT_THAT(refused.body["message"].get<std::string>(),
              HasSubstr("reader field 'country' has no default and is missing from the writer "
                        "schema"));
}

TEST_F(RegistryServiceTest, CompatibilityTestRoute) {
  Register("s", kOrderV1);
  EXPECT_EQ(Post("/compatibility/subjects/s/versions/latest", {{"schema", kOrderV2}}).body,
            json::parse(R"({"is_compatible":true})"));
  EXPECT_EQ(Post("/compatibility/subjects/s/versions/1", {{"schema", kOrderV2NoDefault}}).body,
            json::parse(R"({"is_compatible":false})"));
  Answer verbose = Post("/compatibility/subjects/s/versions/latest?verbose=true",
                        {{"schema", kOrderV2NoDefault}});
  EXPECT_EQ(verbose.body["is_compatible"], false);
  ASSERT_EQ(verbose.body["messages"].size(), 1u);
  EXPECT_EQ(verbose.body["messages"][0],
            "new schema reading data of version 1: reader field 'country' has no default and "
            "is missing from the writer schema");
  EXPECT_EQ(Post("/compatibility/subjects/s/versions?verbose=true", {{"schema", kOrderV2}}).body,
            json::parse(R"({"is_compatible":true,"messages":[]})"));
  EXPECT_EQ(Post("/compatibility/subjects/s/versions/7", {{"schema", kOrderV2}}).body["error_code"],
            40402);
}

TEST_F(RegistryServiceTest, ConfigRoutes) {
  EXPECT_EQ(Call("PUT", "/config", R"({"compatibility":"FULL"})").body,
            json::parse(R"({"compatibility":"FULL"})"));
  EXPECT_EQ(Call("GET", "/config").body, json::parse(R"({"compatibilityLevel":"FULL"})"));
  EXPECT_EQ(Call("PUT", "/config/s", R"({"compatibility":"none"})").body,
            json::parse(R"({"compatibility":"NONE"})"));
  EXPECT_EQ(Call("GET", "/config/s").body, json::parse(R"({"compatibilityLevel":"NONE"})"));
  EXPECT_EQ(Call("GET", "/config/t").body, json::parse(R"({"compatibilityLevel":"FULL"})"));
  EXPECT_EQ(Call("DELETE", "/config/s").body, json::parse(R"({"compatibilityLevel":"NONE"})"));
  EXPECT_EQ(Call("GET", "/config/s").body, json::parse(R"({"compatibilityLevel":"FULL"})"));
  EXPECT_EQ(Call("DELETE", "/config/s").body["error_code"], 40401);
}

TEST_F(RegistryServiceTest, Deletes) {
  Register("s", kOrderV1);
  Register("s", kOrderV2);
  EXPECT_EQ(Call("DELETE", "/subjects/s/versions/1").body, json(1));
  EXPECT_EQ(Call("GET", "/subjects/s/versions").body, json::parse("[2]"));
  EXPECT_EQ(Call("GET", "/subjects/s/versions?deleted=true").body, json::parse("[1,2]"));
  EXPECT_EQ(Call("DELETE", "/subjects/s/versions/2?permanent=true").body["error_code"], 40407);
  EXPECT_EQ(Call("DELETE", "/subjects/s").body, json::parse("[2]"));
  EXPECT_EQ(Call("GET", "/subjects").body, json::array());
  EXPECT_EQ(Call("GET", "/subjects?deleted=true").body, json::parse(R"(["s"])"));
  EXPECT_EQ(Call("DELETE", "/subjects/s").body["error_code"], 40404);
  EXPECT_EQ(Call("DELETE", "/subjects/s?permanent=true").body, json::parse("[1,2]"));
  EXPECT_EQ(Call("GET", "/subjects?deleted=true").body, json::array());
  EXPECT_EQ(Call("GET", "/schemas/ids/1").status, 200);  // ids stay readable
}

TEST_F(RegistryServiceTest, UrlEncodedSubjects) {
  EXPECT_EQ(Register("my%20topic-value", kOrderV1).body, json::parse(R"({"id":1})"));
  EXPECT_EQ(Call("GET", "/subjects").body, json::parse(R"(["my topic-value"])"));
  EXPECT_EQ(Call("GET", "/subjects/my%20topic-value/versions/1").body["subject"], "my topic-value");
  EXPECT_EQ(Register("a%2Fb", kOrderV1).body, json::parse(R"({"id":1})"));
  EXPECT_EQ(Call("GET", "/subjects/a%2Fb/versions").body, json::parse("[1]"));
  EXPECT_EQ(Call("GET", "/subjects/a%2Fb/versions/latest").body["subject"], "a/b");
}

}  // namespace
}  // namespace sluice::schema_registry
