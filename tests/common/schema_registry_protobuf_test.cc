// PROTOBUF schemas in the schema registry (protobuf_schema.h): validation with the parser's
// line:column message, canonical text, and the documented compatibility subset.
#include <string>

#include "absl/strings/str_join.h"
#include "common/schema_registry/protobuf_schema.h"
#include "common/schema_registry/registry_errors.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sluice::schema_registry {
namespace {

using ::testing::HasSubstr;

constexpr char kOrder[] = R"(syntax = "proto3";
package shop;
message Order {
  int64 id = 1;
  string customer = 2;
  repeated string items = 3;
  Address address = 4;
  Status status = 5;
  message Address { string city = 1; }
}
enum Status { NEW = 0; PAID = 1; }
)";

std::unique_ptr<ProtobufSchema> Parse(const std::string& text) {
  absl::StatusOr<std::unique_ptr<ProtobufSchema>> schema = ProtobufSchema::Parse(text);
  EXPECT_TRUE(schema.ok()) << schema.status();
  return schema.ok() ? *std::move(schema) : nullptr;
}

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return at == std::string::npos ? text : text.replace(at, from.size(), to);
}

// Why `reader` cannot read data of `writer`, joined by "; ".
std::string Problems(const std::string& reader, const std::string& writer) {
  std::unique_ptr<ProtobufSchema> r = Parse(reader);
  std::unique_ptr<ProtobufSchema> w = Parse(writer);
  if (r == nullptr || w == nullptr) return "<unparsable>";
  return absl::StrJoin(r->ReadIncompatibilities(*w), "; ");
}

TEST(ProtobufSchemaTest, InvalidTextIs42201WithLineAndColumn) {
  absl::StatusOr<std::unique_ptr<ProtobufSchema>> schema =
      ProtobufSchema::Parse("syntax = \"proto3\";\nmessage M {\n  int64 id = ;\n}\n");
  ASSERT_FALSE(schema.ok());
  EXPECT_EQ(RegistryErrorCode(schema.status()), kInvalidSchema);
  EXPECT_THAT(schema.status().message(), HasSubstr("Invalid schema: 3:"));

  schema = ProtobufSchema::Parse("syntax = \"proto3\";\nmessage M { Missing m = 1; }\n");
  ASSERT_FALSE(schema.ok());
  EXPECT_THAT(schema.status().message(), HasSubstr("Missing"));
}

TEST(ProtobufSchemaTest, WellKnownTypesImport) {
  EXPECT_NE(Parse("syntax = \"proto3\";\nimport \"google/protobuf/timestamp.proto\";\n"
                  "message M { google.protobuf.Timestamp at = 1; }\n"),
            nullptr);
  absl::StatusOr<std::unique_ptr<ProtobufSchema>> other =
      ProtobufSchema::Parse("syntax = \"proto3\";\nimport \"other.proto\";\nmessage M {}\n");
  EXPECT_FALSE(other.ok());
}

TEST(ProtobufSchemaTest, CanonicalTextIgnoresCommentsAndLayout) {
  std::unique_ptr<ProtobufSchema> a = Parse(kOrder);
  std::unique_ptr<ProtobufSchema> b =
      Parse(Replace(kOrder, "int64 id = 1;", "// the id\n      int64   id=1 ;"));
  EXPECT_EQ(a->canonical(), b->canonical());
  EXPECT_NE(a->canonical(), Parse(Replace(kOrder, "int64 id", "int64 ident"))->canonical());
}

TEST(ProtobufSchemaTest, AddedAndRemovedFieldsAreCompatible) {
  const std::string added =
      Replace(kOrder, "Status status = 5;", "Status status = 5; bool gift = 6;");
  EXPECT_EQ(Problems(added, kOrder), "");
  EXPECT_EQ(Problems(kOrder, added), "");
  const std::string removed = Replace(kOrder, "string customer = 2;", "");
  EXPECT_EQ(Problems(removed, kOrder), "");
  EXPECT_EQ(Problems(kOrder, removed), "");
  // A renamed field keeps its number: compatible on the wire.
  EXPECT_EQ(Problems(Replace(kOrder, "string customer", "string buyer"), kOrder), "");
}

TEST(ProtobufSchemaTest, WireCompatibleTypeChangesAreCompatible) {
  EXPECT_EQ(Problems(Replace(kOrder, "int64 id", "uint64 id"), kOrder), "");
  EXPECT_EQ(Problems(Replace(kOrder, "int64 id", "int32 id"), kOrder), "");
  EXPECT_EQ(Problems(Replace(kOrder, "string customer", "bytes customer"), kOrder), "");
  EXPECT_EQ(Problems(Replace(kOrder, "Status status", "int32 status"), kOrder), "");
}

TEST(ProtobufSchemaTest, IncompatibleChangesNameTheField) {
  EXPECT_EQ(Problems(Replace(kOrder, "int64 id", "string id"), kOrder),
            "field 'shop.Order.id' (number 1): type changed from int64 to string");
  EXPECT_EQ(Problems(Replace(kOrder, "int64 id", "sint64 id"), kOrder),
            "field 'shop.Order.id' (number 1): type changed from int64 to sint64");
  EXPECT_EQ(Problems(Replace(kOrder, "repeated string items", "string items"), kOrder),
            "field 'shop.Order.items' (number 3): changed from repeated to singular");
  EXPECT_EQ(Problems(Replace(kOrder, "Address address = 4;", "Order address = 4;"), kOrder),
            "field 'shop.Order.address' (number 4): type changed from shop.Order.Address to "
            "shop.Order");
}

TEST(ProtobufSchemaTest, RemovedMessageIsIncompatible) {
  const std::string without_address = Replace(Replace(kOrder, "Address address = 4;", ""),
                                              "message Address { string city = 1; }", "");
  EXPECT_EQ(Problems(without_address, kOrder),
            "message 'shop.Order.Address' of the writer schema is missing from the reader "
            "schema");
  EXPECT_EQ(Problems(kOrder, without_address), "");  // an added message reads old data
}

}  // namespace
}  // namespace sluice::schema_registry
