// CSV format: RFC 4180 quoting, null vs empty string, field-count and value errors, options.
#include "common/types/csv_format.h"
#include "common/types/format.h"
#include "gtest/gtest.h"
#include "tests/common/format_test_util.h"

namespace sluice::types {
namespace {

using format_testing::Decoded;
using format_testing::DecodeWith;
using format_testing::TxnSchema;

proto::FormatSpec Csv(std::vector<std::pair<std::string, std::string>> options = {}) {
  return format_testing::Spec("csv", std::move(options));
}

Decoded Decode(const std::vector<absl::string_view>& lines, proto::FormatSpec spec = Csv(),
               SchemaPtr schema = TxnSchema()) {
  return DecodeWith(spec, schema, lines);
}

TEST(FormatCsvTest, ParsesQuotedFieldsNullsAndTypes) {
  Decoded d = Decode({
      "1,12.5,NL,2026-11-28T12:00:00Z",
      R"(2,3,"Den, ""Haag""",1700000000000)",
      "3,,,",
      R"(4,-1e3,"",)",
      "",
  });
  ASSERT_TRUE(d.errors.empty()) << d.errors[0].message;
  ASSERT_EQ(d.batch.num_rows(), 4u);
  EXPECT_EQ(d.batch.RowToString(0),
            "card=1, amount=12.5, country=NL, ts=2026-11-28T12:00:00.000000Z");
  EXPECT_EQ(d.batch.RowToString(1),
            "card=2, amount=3, country=Den, \"Haag\", ts=2023-11-14T22:13:20.000000Z");
  EXPECT_EQ(d.batch.RowToString(2), "card=3, amount=null, country=null, ts=null");
  EXPECT_FALSE(d.batch.column(2).IsNull(3));
  EXPECT_EQ(d.batch.column(2).Str(3), "");
  EXPECT_EQ(d.batch.column(1).Double(3), -1000);
}

TEST(FormatCsvTest, BadRecordsAreReportedWithTheColumn) {
  Decoded d = Decode({
      "1,abc,NL,",         // 0
      "1,2,NL",            // 1
      "1,2,NL,,extra",     // 2
      R"(1,2,"NL,)",       // 3
      R"(1,2,"NL"x,)",     // 4
      "x1,2,NL,",          // 5
      "1,2,NL,yesterday",  // 6
      "5,5,ok,5",          // 7: good
  });
  ASSERT_EQ(d.batch.num_rows(), 1u);
  EXPECT_EQ(d.batch.RowToString(0), "card=5, amount=5, country=ok, ts=1970-01-01T00:00:00.005000Z");
  ASSERT_EQ(d.errors.size(), 7u);
  EXPECT_EQ(d.errors[0].message, "column 'amount': expected float64, got \"abc\"");
  EXPECT_EQ(d.errors[1].message, "expected 4 fields, got 3");
  EXPECT_EQ(d.errors[2].message, "expected 4 fields, got 5");
  EXPECT_EQ(d.errors[3].message,
            "column 'country': unterminated quoted field (a quoted CSV field cannot span lines)");
  EXPECT_EQ(d.errors[4].message, "column 'country': unexpected text after a closing quote: \"x,\"");
  EXPECT_EQ(d.errors[5].message, "column 'card': expected int64, got \"x1\"");
  EXPECT_EQ(d.errors[6].message,
            "column 'ts': expected timestamp (RFC 3339 or integer epoch ms), got \"yesterday\"");
  EXPECT_EQ(d.errors[6].line_index, 6u);
}

TEST(FormatCsvTest, EncodesQuotingOnlyWhereNeeded) {
  Decoded d = Decode({R"(1,0.1,"a,b ""c""",2026-11-28T12:00:00Z)", R"(2,,"",)", "3,,,"});
  ASSERT_TRUE(d.errors.empty());
  auto encoder = MakeEncoder(Csv(), TxnSchema());
  ASSERT_TRUE(encoder.ok());
  std::string out;
  (*encoder)->EncodeBatch(d.batch, &out);
  EXPECT_EQ(out,
            "1,0.1,\"a,b \"\"c\"\"\",2026-11-28T12:00:00.000000Z\n"
            "2,,\"\",\n"
            "3,,,\n");
}

TEST(FormatCsvTest, DelimiterTimestampUnitAndBoolOptions) {
  auto schema = std::make_shared<Schema>(
      std::vector<Field>{{"ok", TypeId::kBool}, {"ts", TypeId::kTimestamp}});
  Decoded d = Decode({"true;1", "FALSE;2", "1;3", "0;-4"},
                     Csv({{"delimiter", ";"}, {"timestamp_unit", "s"}}), schema);
  ASSERT_TRUE(d.errors.empty()) << d.errors[0].message;
  ASSERT_EQ(d.batch.num_rows(), 4u);
  EXPECT_EQ(d.batch.column(0).Int(0), 1);
  EXPECT_EQ(d.batch.column(0).Int(1), 0);
  EXPECT_EQ(d.batch.column(0).Int(2), 1);
  EXPECT_EQ(d.batch.column(1).Int(2), 3'000'000);
  EXPECT_EQ(d.batch.column(1).Int(3), -4'000'000);
  Decoded tabs = Decode({"true\t5"}, Csv({{"delimiter", "\\t"}, {"timestamp_unit", "us"}}), schema);
  ASSERT_TRUE(tabs.errors.empty());
  EXPECT_EQ(tabs.batch.column(1).Int(0), 5);
}

TEST(FormatCsvTest, OptionsAreValidated) {
  auto header = ParseFormatOptions(Csv({{"header", "true"}}));
  ASSERT_TRUE(header.ok());
  EXPECT_TRUE(header->SkipsFirstLine());
  EXPECT_EQ(header->extension(), "csv");
  EXPECT_FALSE(ParseFormatOptions(Csv())->SkipsFirstLine());
  EXPECT_EQ(ParseFormatOptions(Csv({{"header", "yes"}})).status().message(),
            "format csv: header must be true or false, not 'yes'");
  EXPECT_EQ(ParseFormatOptions(Csv({{"delimiter", "::"}})).status().message(),
            "format csv: delimiter must be one character other than a quote or a newline (or "
            "\"\\t\"), not '::'");
  EXPECT_EQ(ParseFormatOptions(Csv({{"delimeter", ";"}})).status().message(),
            "format csv: unknown option 'delimeter' (expected delimiter, header or "
            "timestamp_unit)");
  proto::FormatSpec none;
  EXPECT_EQ(ParseFormatOptions(none).status().message(),
            "no format given (expected json, csv, avro, avro-confluent, protobuf, "
            "protobuf-confluent)");
}

}  // namespace
}  // namespace sluice::types
