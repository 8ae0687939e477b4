// The Avro schema resolution rules of the schema registry (avro_compatibility.h): a table of
// reader/writer pairs with the expected verdict and reason, plus parsing and canonical forms.
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "common/schema_registry/avro_schema.h"
#include "common/schema_registry/registry_errors.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sluice::schema_registry {
namespace {

using ::testing::HasSubstr;

std::unique_ptr<AvroSchema> Parse(const std::string& text) {
  absl::StatusOr<std::unique_ptr<AvroSchema>> schema = AvroSchema::Parse(text);
  EXPECT_TRUE(schema.ok()) << text << ": " << schema.status();
  return schema.ok() ? *std::move(schema) : nullptr;
}

// Reasons why a reader of `reader` cannot read data written with `writer`, joined by "; ".
std::string Problems(const std::string& reader, const std::string& writer) {
  std::unique_ptr<AvroSchema> r = Parse(reader);
  std::unique_ptr<AvroSchema> w = Parse(writer);
  if (r == nullptr || w == nullptr) return "<unparsable>";
  return absl::StrJoin(r->ReadIncompatibilities(*w), "; ");
}

// A record "R" with one field "f" of type `type` (JSON).
std::string OneField(const std::string& type, const std::string& extra = "") {
  return R"({"type":"record","name":"R","fields":[{"name":"f","type":)" + type + extra + "}]}";
}

struct Case {
  std::string name;
  std::string reader;
  std::string writer;
  std::string reason;  // "" = compatible; else a substring of the reasons
};

class AvroResolutionTest : public ::testing::TestWithParam<Case> {};

TEST_P(AvroResolutionTest, ReaderReadsWriter) {
  const Case& c = GetParam();
  const std::string problems = Problems(c.reader, c.writer);
  if (c.reason.empty()) {
    EXPECT_EQ(problems, "") << c.name;
  } else {
    EXPECT_THAT(problems, HasSubstr(c.reason)) << c.name;
  }
}

const std::string kEnumAB = R"({"type":"enum","name":"E","symbols":["A","B"]})";
const std::string kEnumABC = R"({"type":"enum","name":"E","symbols":["A","B","C"]})";
const std::string kEnumABDefault =
    R"({"type":"enum","name":"E","symbols":["A","B"],"default":"A"})";
const std::string kAddress =
    R"({"type":"record","name":"Address","fields":[{"name":"city","type":"string"}]})";
const std::string kAddressWithCountry =
    R"({"type":"record","name":"Address","fields":[{"name":"city","type":"string"},)"
    R"({"name":"country","type":"string"}]})";

INSTANTIATE_TEST_SUITE_P(
    Table, AvroResolutionTest,
    ::testing::Values(
        // Same primitive, and each promotion of the specification.
        Case{"same", R"("string")", R"("string")", ""},
        Case{"int_to_long", R"("long")", R"("int")", ""},
        Case{"int_to_float", R"("float")", R"("int")", ""},
        Case{"int_to_double", R"("double")", R"("int")", ""},
        Case{"long_to_float", R"("float")", R"("long")", ""},
        Case{"long_to_double", R"("double")", R"("long")", ""},
        Case{"float_to_double", R"("double")", R"("float")", ""},
        Case{"string_to_bytes", R"("bytes")", R"("string")", ""},
        Case{"bytes_to_string", R"("string")", R"("bytes")", ""},
        // ... and no demotion.
        Case{"long_to_int", R"("int")", R"("long")",
             "reader type int cannot read writer type long"},
        Case{"double_to_float", R"("float")", R"("double")",
             "reader type float cannot read writer type double"},
        Case{"string_to_int", OneField(R"("int")"), OneField(R"("string")"),
             "field 'f': reader type int cannot read writer type string"},
        Case{"logical_type_ignored", R"({"type":"long","logicalType":"timestamp-millis"})",
             R"("long")", ""},
        // Records: defaults, extra writer fields, aliases, names.
        Case{"reader_field_with_default",
             R"({"type":"record","name":"R","fields":[{"name":"a","type":"int"},)"
             R"({"name":"country","type":"string","default":"NL"}]})",
             R"({"type":"record","name":"R","fields":[{"name":"a","type":"int"}]})", ""},
        Case{"reader_field_without_default",
             R"({"type":"record","name":"R","fields":[{"name":"country","type":"string"}]})",
             R"({"type":"record","name":"R","fields":[]})",
             "reader field 'country' has no default and is missing from the writer schema"},
        Case{"writer_field_ignored", R"({"type":"record","name":"R","fields":[]})",
             OneField(R"("int")"), ""},
        Case{"field_alias",
             R"({"type":"record","name":"R","fields":[{"name":"g","aliases":["f"],"type":"int"}]})",
             OneField(R"("int")"), ""},
        Case{"record_name_differs", R"({"type":"record","name":"Other","fields":[]})",
             OneField(R"("int")"), "reader record 'Other' does not match writer record 'R'"},
        Case{"record_alias", R"({"type":"record","name":"Other","aliases":["R"],"fields":[]})",
             OneField(R"("int")"), ""},
        Case{"namespace_ignored", R"({"type":"record","name":"R","namespace":"a","fields":[]})",
             R"({"type":"record","name":"R","namespace":"b","fields":[]})", ""},
        // Nested records name the path.
        Case{"nested_missing_default", OneField(kAddressWithCountry), OneField(kAddress),
             "reader field 'f.country' has no default and is missing from the writer schema"},
        Case{"nested_ok", OneField(kAddress), OneField(kAddressWithCountry), ""},
        // Enums.
        Case{"enum_superset", kEnumABC, kEnumAB, ""},
        Case{"enum_symbol_missing", kEnumAB, kEnumABC,
             "writer enum symbol 'C' is missing from reader enum 'E', which has no default"},
        Case{"enum_reader_default", kEnumABDefault, kEnumABC, ""},
        // Fixed.
        Case{"fixed_same", R"({"type":"fixed","name":"H","size":16})",
             R"({"type":"fixed","name":"H","size":16})", ""},
        Case{"fixed_size", R"({"type":"fixed","name":"H","size":16})",
             R"({"type":"fixed","name":"H","size":32})",
             "reader fixed 'H' has size 16 but the writer's has size 32"},
        // Arrays and maps, recursively.
        Case{"array_promotion", R"({"type":"array","items":"long"})",
             R"({"type":"array","items":"int"})", ""},
        Case{"array_items", OneField(R"({"type":"array","items":"int"})"),
             OneField(R"({"type":"array","items":"string"})"),
             "field 'f[]': reader type int cannot read writer type string"},
        Case{"map_values", OneField(R"({"type":"map","values":"int"})"),
             OneField(R"({"type":"map","values":"long"})"),
             "field 'f{}': reader type int cannot read writer type long"},
        Case{"array_vs_map", R"({"type":"array","items":"int"})",
             R"({"type":"map","values":"int"})", "cannot read writer type map of int"},
        // Unions.
        Case{"writer_in_reader_union", R"(["null","string"])", R"("string")", ""},
        Case{"writer_promoted_into_union", R"(["null","long"])", R"("int")", ""},
        Case{"writer_not_in_reader_union", R"(["null","string"])", R"("int")",
             "writer type int matches no branch of reader union [null, string]"},
        Case{"writer_union_subset", R"(["null","string","int"])", R"(["null","string"])", ""},
        Case{"writer_union_branch_missing", R"(["null","string"])", R"(["null","string","int"])",
             "writer union branch int matches no branch of reader union [null, string]"},
        Case{"writer_union_vs_plain_reader", R"("string")", R"(["null","string"])",
             "reader type string cannot read writer type null"},
        Case{"optional_field_added_with_default",
             R"({"type":"record","name":"R","fields":[{"name":"f","type":"int"},)"
             R"({"name":"note","type":["null","string"],"default":null}]})",
             OneField(R"("int")"), ""},
        // Named types by reference and recursion.
        Case{"reference",
             R"({"type":"record","name":"R","fields":[{"name":"a","type":)" + kAddress +
                 R"(},{"name":"b","type":"Address"}]})",
             R"({"type":"record","name":"R","fields":[{"name":"a","type":)" + kAddress +
                 R"(},{"name":"b","type":"Address"}]})",
             ""},
        Case{"recursive_list",
             R"({"type":"record","name":"Node","fields":[{"name":"v","type":"long"},)"
             R"({"name":"next","type":["null","Node"]}]})",
             R"({"type":"record","name":"Node","fields":[{"name":"v","type":"int"},)"
             R"({"name":"next","type":["null","Node"]}]})",
             ""},
        Case{"recursive_list_broken",
             R"({"type":"record","name":"Node","fields":[{"name":"v","type":"int"},)"
             R"({"name":"next","type":["null","Node"]}]})",
             R"({"type":"record","name":"Node","fields":[{"name":"v","type":"long"},)"
             R"({"name":"next","type":["null","Node"]}]})",
             "field 'v': reader type int cannot read writer type long"}),
    [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

TEST(AvroSchemaTest, InvalidSchemaIsError42201WithAvrosMessage) {
  absl::StatusOr<std::unique_ptr<AvroSchema>> schema =
      AvroSchema::Parse(R"({"type":"record","name":"R","fields":[{"name":"f","type":"nope"}]})");
  ASSERT_FALSE(schema.ok());
  EXPECT_EQ(RegistryErrorCode(schema.status()), kInvalidSchema);
  EXPECT_THAT(schema.status().message(), HasSubstr("Invalid schema"));
  EXPECT_THAT(schema.status().message(), HasSubstr("nope"));

  schema = AvroSchema::Parse("{not json");
  ASSERT_FALSE(schema.ok());
  EXPECT_EQ(RegistryErrorCode(schema.status()), kInvalidSchema);
}

TEST(AvroSchemaTest, CanonicalFormIgnoresWhiteSpaceAndKeyOrder) {
  std::unique_ptr<AvroSchema> a =
      Parse(R"({"type": "record", "name": "R", "fields": [{"name": "f", "type": "int"}]})");
  std::unique_ptr<AvroSchema> b =
      Parse(R"({"name":"R","fields":[{"type":"int","name":"f"}],"type":"record"})");
  std::unique_ptr<AvroSchema> c =
      Parse(R"({"name":"R","fields":[{"type":"int","name":"f","default":1}],"type":"record"})");
  EXPECT_EQ(a->canonical(), b->canonical());
  EXPECT_NE(a->canonical(), c->canonical());  // a new default is a new schema
}

TEST(AvroSchemaTest, ReportsEveryProblem) {
  const std::string problems =
      Problems(R"({"type":"record","name":"R","fields":[{"name":"a","type":"int"},)"
               R"({"name":"b","type":"string"}]})",
               R"({"type":"record","name":"R","fields":[{"name":"a","type":"long"}]})");
  EXPECT_EQ(problems,
            "field 'a': reader type int cannot read writer type long; reader field 'b' has no "
            "default and is missing from the writer schema");
}

}  // namespace
}  // namespace sluice::schema_registry
