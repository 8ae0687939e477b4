// The avro format: reading records of another writer schema (resolution by field name,
// promotions, skipped fields of every kind, logical timestamps), and poison records
// (truncated, bad varint, union index, left-over bytes), which must be errors naming the
// field, never crashes or rows.
#include <cstring>
#include <filesystem>
#include <fstream>

#include "common/schema_registry/avro_schema.h"
#include "common/types/avro_codec.h"
#include "common/types/avro_schema.h"
#include "format_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_dirs.h"

namespace sluice::types {
namespace {

using format_testing::DecodeWith;
using format_testing::Spec;
using format_testing::TxnSchema;

// A writer schema with more, fewer and differently typed fields than the txn columns.
constexpr char kWriterSchema[] = R"({
  "type": "record", "name": "Txn", "namespace": "com.acme",
  "fields": [
    {"name": "card", "type": "int"},
    {"name": "tags", "type": {"type": "array", "items": "string"}},
    {"name": "amount", "type": ["null", "float", "string"]},
    {"name": "meta", "type": {"type": "record", "name": "Meta", "fields": [
        {"name": "source", "type": {"type": "enum", "name": "Source", "symbols": ["POS", "WEB"]}},
        {"name": "attrs", "type": {"type": "map", "values": "long"}},
        {"name": "hash", "type": {"type": "fixed", "name": "Hash", "size": 4}}]}},
    {"name": "channel", "type": "com.acme.Source"},
    {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}}
  ]})";

std::string Str(absl::string_view s) {
  std::string out;
  AppendAvroLong(static_cast<int64_t>(s.size()), &out);
  out.append(s.data(), s.size());
  return out;
}

std::string Long(int64_t v) {
  std::string out;
  AppendAvroLong(v, &out);
  return out;
}

std::string Float(float f) {
  std::string out(4, '\0');
  std::memcpy(out.data(), &f, 4);
  return out;
}

// One record of kWriterSchema.
std::string WriterRecord(int card, float amount, int64_t ts_ms) {
  return Long(card) + Long(2) + Str("a") + Str("b") + Long(0) +  // tags: one block, then end
         Long(1) + Float(amount) +                                // amount: the float branch
         Long(1) + Long(-1) + Long(3) + Str("k") + Long(42) + Long(0) + "abcd" +  // meta
         Long(0) +                                                // channel: POS
         Long(ts_ms);
}

class AvroFormatTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = sluice::testing::FreshTestDir("format_avro").string();
    std::filesystem::create_directories(dir_);
    schema_file_ = dir_ + "/txn.avsc";
    std::ofstream(schema_file_) << kWriterSchema;
  }
  proto::FormatSpec WithWriter() { return Spec("avro", {{"schema_file", schema_file_}}); }
  std::string dir_;
  std::string schema_file_;
};

TEST_F(AvroFormatTest, ReadsAnotherWriterSchemaByFieldName) {
  const std::string r0 = WriterRecord(7, 12.5f, 1'700'000'000'123);
  const std::string r1 = WriterRecord(-3, 0.25f, 0);
  auto d = DecodeWith(WithWriter(), TxnSchema(), {r0, r1});
  ASSERT_TRUE(d.errors.empty()) << d.errors[0].message;
  ASSERT_EQ(d.batch.num_rows(), 2u);
  EXPECT_EQ(d.batch.RowToString(0),
            "card=7, amount=12.5, country=null, ts=2023-11-14T22:13:20.123000Z");
  EXPECT_EQ(d.batch.RowToString(1), "card=-3, amount=0.25, country=null, ts=1970-01-01T00:00:00.000000Z");
}

TEST_F(AvroFormatTest, UnionBranchOfAnUnreadableTypeIsABadRecord) {
  // amount's writer union has a string branch: a float64 column cannot take it.
  std::string record = Long(1) + Long(0) + Long(2) + Str("12.5");
  record += Long(1) + Long(0) + Long(0) + "abcd" + Long(1) + Long(5);
  auto d = DecodeWith(WithWriter(), TxnSchema(), {record, WriterRecord(2, 1.0f, 5)});
  ASSERT_EQ(d.errors.size(), 1u);
  EXPECT_EQ(d.errors[0].line_index, 0u);
  EXPECT_EQ(d.errors[0].message, "field 'amount': a string value cannot be read as float64");
  ASSERT_EQ(d.batch.num_rows(), 1u);
  EXPECT_EQ(d.batch.column(0).Int(0), 2);
}

TEST_F(AvroFormatTest, PoisonRecordsAreErrorsNamingTheField) {
  const std::string good = WriterRecord(9, 2.0f, 10);
  const std::string truncated = good.substr(0, good.size() - 3);
  const std::string bad_varint = std::string(11, '\xff');
  std::string bad_union = Long(1) + Long(0) + Long(7);  // amount: branch 7 of 3
  const std::string leftover = good + "zz";
  std::string negative_length = Long(1) + Long(1) + Long(-5);  // tags: a string of length -5
  auto d = DecodeWith(WithWriter(), TxnSchema(),
                      {truncated, bad_varint, bad_union, leftover, negative_length, good, ""});
  ASSERT_EQ(d.batch.num_rows(), 1u);
  EXPECT_EQ(d.batch.column(0).Int(0), 9);
  ASSERT_EQ(d.errors.size(), 6u);
  EXPECT_EQ(d.errors[0].message, "field 'meta': truncated record");  // inside its fixed
  EXPECT_EQ(d.errors[1].message, "field 'card': bad varint (more than 10 bytes)");
  EXPECT_EQ(d.errors[2].message, "field 'amount': union branch 7 out of range (the union has 3)");
  EXPECT_EQ(d.errors[3].message, "2 bytes left over after the record (written with another schema?)");
  EXPECT_EQ(d.errors[4].message, "field 'tags': negative length -5");
  EXPECT_EQ(d.errors[5].message, "field 'card': truncated record");  // the empty message
  EXPECT_EQ(d.errors[5].line_index, 6u);
}

TEST_F(AvroFormatTest, WriterFieldOfAnUnreadableTypeIsAnErrorAtOpen) {
  auto schema = std::make_shared<Schema>(std::vector<Field>{{"tags", TypeId::kString}});
  auto decoder = MakeDecoder(WithWriter(), schema);
  ASSERT_FALSE(decoder.ok());
  EXPECT_EQ(decoder.status().message(),
            "format avro: column 'tags': the writer's field is array, which cannot be read as "
            "string");
}

TEST_F(AvroFormatTest, InvalidSchemaFileIsAClearError) {
  std::ofstream(schema_file_) << R"({"type": "record", "name": "T", "fields": [{"name": "a"}]})";
  auto decoder = MakeDecoder(WithWriter(), TxnSchema());
  ASSERT_FALSE(decoder.ok());
  EXPECT_THAT(std::string(decoder.status().message()),
              ::testing::StartsWith("format avro: schema_file " + schema_file_ +
                                    ": Invalid schema: "));
  auto missing = MakeDecoder(Spec("avro", {{"schema_file", dir_ + "/nope.avsc"}}), TxnSchema());
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.status().message()), ::testing::HasSubstr("nope.avsc"));
}

TEST(AvroSchemaTest, DerivedSchemaIsNullableAndParsesBack) {
  Schema columns({{"card", TypeId::kInt64}, {"when", TypeId::kTimestamp}, {"ok", TypeId::kBool}});
  const std::string json = DeriveAvroSchema(columns, "com.acme.Alert-v2");
  auto parsed = schema_registry::AvroSchema::Parse(json);
  ASSERT_TRUE(parsed.ok()) << parsed.status() << "\n" << json;
  const schema_registry::AvroSchema& avro = **parsed;
  const schema_registry::AvroNode& root = avro.node(avro.root());
  EXPECT_EQ(root.full_name, "com.acme.Alert_v2");
  ASSERT_EQ(root.fields.size(), 3u);
  EXPECT_EQ(root.fields[1].name, "when");
  EXPECT_TRUE(root.fields[1].has_default);
  EXPECT_EQ(avro.Describe(root.fields[1].type), "union [null, long]");
  const schema_registry::AvroNode& when = avro.node(root.fields[1].type);
  EXPECT_EQ(avro.node(when.branches[1]).logical_type, "timestamp-micros");
}

TEST(AvroSchemaTest, ColumnsOfAnAvroSchemaInvertTheDerivedOne) {
  Schema columns({{"card", TypeId::kInt64}, {"amount", TypeId::kFloat64},
                  {"country", TypeId::kString}, {"ts", TypeId::kTimestamp},
                  {"ok", TypeId::kBool}, {"blob", TypeId::kBytes}});
  auto back = ColumnsOfAvroSchema(DeriveAvroSchema(columns, "acme.Txn"));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, columns);
  // A producer's own schema: promotions, enums, timestamp-millis; nested fields left out.
  auto theirs = ColumnsOfAvroSchema(kWriterSchema);
  ASSERT_TRUE(theirs.ok()) << theirs.status();
  EXPECT_EQ(theirs->ToString(), "card int64, channel string, ts timestamp");
  EXPECT_EQ(ColumnsOfAvroSchema(R"("long")").status().message(),
            "the schema is long, not a record");
}

TEST(AvroSchemaTest, FormatOptionsAreChecked) {
  EXPECT_EQ(ParseFormatOptions(Spec("avro", {{"registry", "http://x"}})).status().message(),
            "format avro: unknown option 'registry' (expected record_name, schema_file or "
            "timestamp_unit)");
  EXPECT_EQ(ParseFormatOptions(Spec("avro-confluent", {{"subject_strategy", "topic"}}))
                .status()
                .message(),
            "format avro-confluent: subject_strategy must be topic_name, record_name or "
            "topic_record_name, not 'topic'");
  auto confluent = ParseFormatOptions(Spec("avro-confluent", {{"record_name", "acme.Txn"}}));
  ASSERT_TRUE(confluent.ok());
  EXPECT_EQ(ConfluentSubject(*confluent, "txns", false), "txns-value");
  EXPECT_EQ(ConfluentSubject(*confluent, "txns", true), "txns-key");
  confluent->subject_strategy = "topic_record_name";
  EXPECT_EQ(ConfluentSubject(*confluent, "txns", false), "txns-acme.Txn");
  EXPECT_EQ(MakeDecoder(Spec("avro-confluent"), TxnSchema()).status().message(),
            "format avro-confluent needs a schema registry: set registry: on the connector, or "
            "kafka.registry in the cluster configuration");
}

}  // namespace
}  // namespace sluice::types
