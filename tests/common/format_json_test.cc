// JSON lines format: decoding rules (by name, missing -> null, extra ignored), error messages
// for bad records, timestamp units, exact encoding, option validation.
#include "common/types/format.h"
#include "common/types/json_format.h"
#include "gtest/gtest.h"
#include "tests/common/format_test_util.h"

namespace sluice::types {
namespace {

using format_testing::Decoded;
using format_testing::DecodeWith;
using format_testing::TxnSchema;

proto::FormatSpec Json(std::vector<std::pair<std::string, std::string>> options = {}) {
  return format_testing::Spec("json", std::move(options));
}

Decoded Decode(const std::vector<absl::string_view>& lines, SchemaPtr schema = TxnSchema(),
               proto::FormatSpec spec = Json()) {
  return DecodeWith(spec, schema, lines);
}

std::string Encode(const RecordBatch& batch) {
  auto encoder = MakeEncoder(Json(), batch.schema());
  EXPECT_TRUE(encoder.ok());
  std::string out;
  (*encoder)->EncodeBatch(batch, &out);
  return out;
}

TEST(FormatJsonTest, MatchesFieldsByNameInAnyOrder) {
  Decoded d = Decode({
      R"({"card":1,"amount":12.5,"country":"NL","ts":"2026-11-28T12:00:00Z"})",
      R"({"ts":1700000000000,"country":"DE","amount":3,"card":2})",
      R"(  {"card":3, "extra":{"nested":[1,2]}, "amount":null}  )",
      "",
      "   ",
  });
  ASSERT_TRUE(d.errors.empty()) << d.errors[0].message;
  ASSERT_EQ(d.batch.num_rows(), 3u);
  EXPECT_EQ(d.batch.RowToString(0),
            "card=1, amount=12.5, country=NL, ts=2026-11-28T12:00:00.000000Z");
  EXPECT_EQ(d.batch.RowToString(1), "card=2, amount=3, country=DE, ts=2023-11-14T22:13:20.000000Z");
  EXPECT_EQ(d.batch.RowToString(2), "card=3, amount=null, country=null, ts=null");
}

TEST(FormatJsonTest, EncodesTheDocumentedShape) {
  Decoded d = Decode({R"({"card":1,"amount":12.5,"country":"NL","ts":"2026-11-28T12:00:00Z"})",
                      R"({"card":2,"amount":0.1,"country":"a\"b\\c\n\u0001é"})"});
  ASSERT_TRUE(d.errors.empty());
  EXPECT_EQ(
      Encode(d.batch),
      "{\"card\":1,\"amount\":12.5,\"country\":\"NL\",\"ts\":\"2026-11-28T12:00:00.000000Z\"}\n"
      "{\"card\":2,\"amount\":0.1,\"country\":\"a\\\"b\\\\c\\n\\u0001é\",\"ts\":null}\n");
}

TEST(FormatJsonTest, EncodesBoolBytesAndNonFiniteDoubles) {
  auto schema = std::make_shared<Schema>(
      std::vector<Field>{{"ok", TypeId::kBool}, {"raw", TypeId::kBytes}, {"x", TypeId::kFloat64}});
  RecordBatch batch(schema);
  batch.mutable_column(0).AppendInt(1);
  batch.mutable_column(1).AppendString(std::string("\0\xff", 2));
  batch.mutable_column(2).AppendDouble(std::numeric_limits<double>::infinity());
  batch.SetNumRows(1);
  EXPECT_EQ(Encode(batch), "{\"ok\":true,\"raw\":\"AP8=\",\"x\":null}\n");
  Decoded d = Decode({R"({"ok":false,"raw":"AP8=","x":1e300})"}, schema);
  ASSERT_TRUE(d.errors.empty());
  EXPECT_EQ(d.batch.column(1).Str(0), std::string("\0\xff", 2));
  EXPECT_EQ(d.batch.column(2).Double(0), 1e300);
}

TEST(FormatJsonTest, BadRecordsAreReportedWithTheColumnAndSkipped) {
  Decoded d = Decode({
      R"({"card":1,"amount":"abc"})",      // 0
      R"({"card":1.5})",                   // 1
      R"({"card":2,"amount":2})",          // 2: good
      R"({"card":"7"})",                   // 3
      R"({"card":1,"country":5})",         // 4
      R"({"ts":"yesterday"})",             // 5
      R"({"ts":true})",                    // 6
      R"({"card":1,"amount":)",            // 7
      R"([1,2])",                          // 8
      R"({"card":1} {"card":2})",          // 9
      R"({"card":{"a":1}})",               // 10
      R"({"card":18446744073709551615})",  // 11
      R"({"card":3})",                     // 12: good
  });
  ASSERT_EQ(d.batch.num_rows(), 2u);
  EXPECT_EQ(d.batch.RowToString(0), "card=2, amount=2, country=null, ts=null");
  EXPECT_EQ(d.batch.RowToString(1), "card=3, amount=null, country=null, ts=null");
  std::vector<std::pair<size_t, std::string>> got;
  for (const DecodeError& e : d.errors) got.emplace_back(e.line_index, e.message);
  ASSERT_EQ(got.size(), 11u);
  EXPECT_EQ(got[0], std::make_pair(size_t{0},
                                   std::string("column 'amount': expected float64, got \"abc\"")));
  EXPECT_EQ(got[1].second, "column 'card': expected int64, got 1.5");
  EXPECT_EQ(got[2].second, "column 'card': expected int64, got \"7\"");
  EXPECT_EQ(got[3].second, "column 'country': expected string, got 5");
  EXPECT_EQ(got[4].second,
            "column 'ts': expected timestamp (RFC 3339 or integer epoch ms), got \"yesterday\"");
  EXPECT_EQ(got[5].second,
            "column 'ts': expected timestamp (RFC 3339 or integer epoch ms), got true");
  EXPECT_EQ(got[6].first, 7u);
  EXPECT_TRUE(got[6].second.starts_with("invalid JSON: ")) << got[6].second;
  EXPECT_EQ(got[7].second, "expected a JSON object, got \"[1,2]\"");
  EXPECT_TRUE(got[8].second.starts_with("invalid JSON: ")) << got[8].second;
  EXPECT_EQ(got[9].second, "column 'card': expected int64, got an object");
  EXPECT_EQ(got[10].first, 11u);
  EXPECT_EQ(got[10].second, "column 'card': expected int64, got 18446744073709551615");
}

TEST(FormatJsonTest, RepeatedKeyKeepsTheFirstValue) {
  Decoded d = Decode({R"({"card":1,"card":2})"});
  ASSERT_TRUE(d.errors.empty());
  EXPECT_EQ(d.batch.column(0).Int(0), 1);
}

TEST(FormatJsonTest, KeyOrderChangesBetweenRecordsAreHandled) {
  Decoded d = Decode({R"({"card":1,"amount":1})", R"({"amount":2,"card":2})",
                      R"({"x":0,"card":3,"amount":3})", R"({"card":4,"amount":4})"});
  ASSERT_TRUE(d.errors.empty());
  for (int r = 0; r < 4; ++r) {
    EXPECT_EQ(d.batch.column(0).Int(r), r + 1);
    EXPECT_EQ(d.batch.column(1).Double(r), r + 1);
  }
}

TEST(FormatJsonTest, IntegerTimestampsUseTheConfiguredUnit) {
  auto schema = std::make_shared<Schema>(std::vector<Field>{{"ts", TypeId::kTimestamp}});
  struct Case {
    const char* unit;
    int64_t want_micros;
  };
  for (Case c : {Case{"s", 1'700'000'000'000'000}, Case{"ms", 1'700'000'000'000},
                 Case{"us", 1'700'000'000}}) {
    Decoded d = Decode({R"({"ts":1700000000})", R"({"ts":"1970-01-01T00:00:01Z"})"}, schema,
                       Json({{"timestamp_unit", c.unit}}));
    ASSERT_TRUE(d.errors.empty()) << c.unit;
    EXPECT_EQ(d.batch.column(0).Int(0), c.want_micros) << c.unit;
    EXPECT_EQ(d.batch.column(0).Int(1), 1'000'000) << c.unit;
  }
  Decoded frac = Decode({R"({"ts":1.5})"}, schema, Json({{"timestamp_unit", "s"}}));
  ASSERT_TRUE(frac.errors.empty());
  EXPECT_EQ(frac.batch.column(0).Int(0), 1'500'000);
  Decoded overflow =
      Decode({R"({"ts":9223372036854775})"}, schema, Json({{"timestamp_unit", "s"}}));
  ASSERT_EQ(overflow.errors.size(), 1u);
  EXPECT_EQ(overflow.errors[0].message,
            "column 'ts': expected timestamp (RFC 3339 or integer epoch s), got 9223372036854775");
}

TEST(FormatJsonTest, RejectsUnknownFormatsAndOptions) {
  auto schema = TxnSchema();
  proto::FormatSpec xml;
  xml.set_name("xml");
  EXPECT_EQ(MakeDecoder(xml, schema).status().message(),
            "unknown format 'xml' (expected json, csv, avro, avro-confluent, protobuf, "
            "protobuf-confluent)");
  EXPECT_EQ(MakeDecoder(Json({{"timestamp_unit", "ns"}}), schema).status().message(),
            "format json: timestamp_unit must be s, ms or us, not 'ns'");
  EXPECT_EQ(MakeEncoder(Json({{"delimiter", ";"}}), schema).status().message(),
            "format json: unknown option 'delimiter' (expected timestamp_unit)");
}

}  // namespace
}  // namespace sluice::types
