// Property tests of the record formats: random seeded batches of every type (with nulls,
// unicode, quotes, delimiters, escapes) encode and decode back to equal batches.
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "common/types/format.h"
#include "common/types/format_values.h"
#include "common/types/timestamp.h"
#include "gtest/gtest.h"
#include "tests/common/format_test_util.h"

namespace sluice::types {
namespace {

SchemaPtr AllTypes() {
  return std::make_shared<Schema>(std::vector<Field>{{"flag", TypeId::kBool},
                                                     {"card", TypeId::kInt64},
                                                     {"amount", TypeId::kFloat64},
                                                     {"country", TypeId::kString},
                                                     {"blob", TypeId::kBytes},
                                                     {"ts", TypeId::kTimestamp},
                                                     {"note \"x\",\n", TypeId::kString}});
}

class RandomBatch {
 public:
  RandomBatch(uint64_t seed, bool allow_newlines) : rng_(seed), newlines_(allow_newlines) {}

  RecordBatch Make(SchemaPtr schema, size_t rows) {
    RecordBatch batch(schema);
    for (size_t r = 0; r < rows; ++r) {
      for (size_t c = 0; c < schema->size(); ++c) {
        Column& col = batch.mutable_column(c);
        if (Uniform(10) == 0) {
          col.AppendNull();
          continue;
        }
        switch (col.type()) {
          case TypeId::kBool:
            col.AppendInt(Uniform(2));
            break;
          case TypeId::kInt64:
            col.AppendInt(Int());
            break;
          case TypeId::kFloat64:
            col.AppendDouble(Double());
            break;
          case TypeId::kString:
            col.AppendString(Text());
            break;
          case TypeId::kBytes:
            col.AppendString(Bytes());
            break;
          case TypeId::kTimestamp:
            col.AppendInt(Timestamp());
            break;
        }
      }
      batch.SetNumRows(r + 1);
    }
    return batch;
  }

 private:
  uint64_t Uniform(uint64_t n) { return rng_() % n; }

  int64_t Int() {
    switch (Uniform(5)) {
      case 0:
        return std::numeric_limits<int64_t>::min();
      case 1:
        return std::numeric_limits<int64_t>::max();
      case 2:
        return static_cast<int64_t>(Uniform(2000)) - 1000;
      default:
        return static_cast<int64_t>(rng_());
    }
  }

  double Double() {
    switch (Uniform(8)) {
      case 0:
        return 0.1;
      case 1:
        return -0.0;
      case 2:
        return std::numeric_limits<double>::denorm_min();
      case 3:
        return std::numeric_limits<double>::max();
      case 4:
        return static_cast<double>(static_cast<int64_t>(Uniform(1'000'000)));
      case 5:
        return std::uniform_real_distribution<double>(-1e6, 1e6)(rng_);
      default: {
        double v;
        do {
          uint64_t bits = rng_();
          std::memcpy(&v, &bits, sizeof(v));
        } while (!std::isfinite(v));
        return v;
      }
    }
  }

  std::string Text() {
    static const char* kPieces[] = {"a",  "Z",    "9",    " ",    ",",       ";", "\"",   "\\",
                                    "'",  "{",    "}",    ":",    "é",       "€", "日本", "😀",
                                    "\t", "\x01", "\x7f", "null", "\\u0000", "/"};
    std::string s;
    size_t n = Uniform(12);
    for (size_t i = 0; i < n; ++i) {
      if (newlines_ && Uniform(10) == 0) {
        s += Uniform(2) ? "\n" : "\r\n";
      } else {
        s += kPieces[Uniform(sizeof(kPieces) / sizeof(kPieces[0]))];
      }
    }
    return s;
  }

  std::string Bytes() {
    std::string s(Uniform(20), '\0');
    for (char& c : s) c = static_cast<char>(rng_());
    return s;
  }

  int64_t Timestamp() {
    // Years 0001..9999, any microsecond.
    constexpr int64_t kMin = -62135596800LL * 1'000'000;
    constexpr int64_t kMax = 253402300799LL * 1'000'000 + 999'999;
    return kMin + static_cast<int64_t>(rng_() % static_cast<uint64_t>(kMax - kMin));
  }

  std::mt19937_64 rng_;
  bool newlines_;
};

// Equal values, doubles compared exactly (0.0 == -0.0).
void ExpectSameBatch(const RecordBatch& want, const RecordBatch& got) {
  ASSERT_EQ(want.num_rows(), got.num_rows());
  ASSERT_EQ(want.num_columns(), got.num_columns());
  for (size_t c = 0; c < want.num_columns(); ++c) {
    const Column& a = want.column(c);
    const Column& b = got.column(c);
    ASSERT_EQ(a.size(), want.num_rows()) << "column " << c;
    ASSERT_EQ(b.size(), got.num_rows()) << "column " << c;
    for (size_t r = 0; r < want.num_rows(); ++r) {
      SCOPED_TRACE(testing::Message() << "column " << want.schema()->field(c).name << " row " << r
                                      << ": " << want.RowToString(r));
      ASSERT_EQ(a.IsNull(r), b.IsNull(r));
      if (a.IsNull(r)) continue;
      switch (a.type()) {
        case TypeId::kFloat64:
          ASSERT_EQ(a.Double(r), b.Double(r));
          break;
        case TypeId::kString:
        case TypeId::kBytes:
          ASSERT_EQ(a.Str(r), b.Str(r));
          break;
        default:
          ASSERT_EQ(a.Int(r), b.Int(r));
          break;
      }
    }
  }
}

// Encodes `batch`, splits the output at the record ends the encoder reports (line formats:
// each row must be exactly one line) and decodes.
RecordBatch RoundTrip(const proto::FormatSpec& spec, const RecordBatch& batch) {
  auto encoder = MakeEncoder(spec, batch.schema());
  auto decoder = MakeDecoder(spec, batch.schema());
  EXPECT_TRUE(encoder.ok()) << encoder.status();
  EXPECT_TRUE(decoder.ok()) << decoder.status();
  std::string text;
  std::vector<size_t> ends;
  (*encoder)->EncodeBatch(batch, &text, &ends);
  const bool lines = (*encoder)->newline_terminated();
  std::vector<absl::string_view> records;
  size_t start = 0;
  for (size_t end : ends) {
    if (lines) {
      EXPECT_EQ(text[end], '\n');
      EXPECT_EQ(absl::string_view(text).substr(start, end - start).find('\n'),
                absl::string_view::npos);
    }
    records.push_back(absl::string_view(text).substr(start, end - start));
    start = end + (lines ? 1 : 0);
  }
  EXPECT_EQ(start, text.size());
  EXPECT_EQ(records.size(), batch.num_rows()) << text;
  RecordBatch out(batch.schema());
  std::vector<DecodeError> errors;
  (*decoder)->DecodeLines(records, &out, &errors);
  for (const DecodeError& e : errors) {
    ADD_FAILURE() << "record " << e.line_index << ": " << e.message << "\n" << records[e.line_index];
  }
  return out;
}

using format_testing::Spec;

TEST(FormatRoundTripTest, JsonEveryTypeWithNullsUnicodeAndNewlines) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    RandomBatch gen(seed, /*allow_newlines=*/true);
    RecordBatch batch = gen.Make(AllTypes(), 300);
    ExpectSameBatch(batch, RoundTrip(Spec("json"), batch));
  }
}

TEST(FormatRoundTripTest, CsvEveryTypeWithNullsQuotesAndDelimiters) {
  for (const char* delimiter : {",", ";", "\\t", "|"}) {
    for (uint64_t seed = 1; seed <= 20; ++seed) {
      SCOPED_TRACE(testing::Message() << "seed " << seed << " delimiter " << delimiter);
      RandomBatch gen(seed, /*allow_newlines=*/false);
      RecordBatch batch = gen.Make(AllTypes(), 300);
      ExpectSameBatch(batch, RoundTrip(Spec("csv", {{"delimiter", delimiter}}), batch));
    }
  }
}

TEST(FormatRoundTripTest, AvroEveryTypeWithNulls) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    RandomBatch gen(seed, /*allow_newlines=*/true);
    RecordBatch batch = gen.Make(AllTypes(), 300);
    ExpectSameBatch(batch, RoundTrip(Spec("avro"), batch));
  }
}

TEST(FormatRoundTripTest, ProtobufEveryTypeWithNulls) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    RandomBatch gen(seed, /*allow_newlines=*/true);
    RecordBatch batch = gen.Make(AllTypes(), 300);
    ExpectSameBatch(batch, RoundTrip(Spec("protobuf"), batch));
  }
}

TEST(FormatRoundTripTest, CsvOneColumnKeepsNullAndEmptyStringApart) {
  auto schema = std::make_shared<Schema>(std::vector<Field>{{"s", TypeId::kString}});
  RecordBatch batch(schema);
  batch.mutable_column(0).AppendNull();
  batch.mutable_column(0).AppendString("");
  batch.mutable_column(0).AppendString("x");
  batch.SetNumRows(3);
  ExpectSameBatch(batch, RoundTrip(Spec("csv"), batch));
}

TEST(FormatRoundTripTest, FastTimestampFormatMatchesReferenceFormatter) {
  std::mt19937_64 rng(7);
  std::vector<int64_t> values = {0, -1, 1, 999'999, -1'000'000, -62135596800LL * 1'000'000,
                                 253402300799LL * 1'000'000 + 999'999,
                                 // Outside years 0000..9999: the fallback path.
                                 -62167219200LL * 1'000'000 - 1, 253402300800LL * 1'000'000};
  for (int i = 0; i < 20000; ++i) values.push_back(static_cast<int64_t>(rng()) >> 10);
  for (int64_t v : values) {
    std::string fast;
    AppendRfc3339(v, &fast);
    std::string reference = FormatTimestamp(v);
    if (v == -62135596800LL * 1'000'000) {  // absl does not pad years below 1000
      ASSERT_EQ(reference, "1-01-01T00:00:00.000000Z");
      reference = "0001-01-01T00:00:00.000000Z";
    }
    ASSERT_EQ(fast, reference) << v;
    int64_t back;
    if (fast.size() == 27) {  // years 0000..9999 read back exactly
      ASSERT_TRUE(ParseRfc3339(fast, &back)) << fast;
      ASSERT_EQ(back, v) << fast;
    }
  }
}

TEST(FormatRoundTripTest, FastTimestampParseMatchesReferenceParser) {
  for (const char* text :
       {"2026-11-28T12:00:00Z", "2026-11-28T12:00:00.5Z", "2026-11-28T12:00:00.123456789Z",
        "2026-11-28 12:00:00", "2026-11-28T12:00:00+01:00", "2026-11-28T12:00:00.25-05:30",
        "1969-12-31T23:59:59.999999Z", "2024-02-29T00:00:00z", "0001-01-01T00:00:00Z"}) {
    int64_t fast;
    ASSERT_TRUE(ParseRfc3339(text, &fast)) << text;
    auto reference = ParseTimestamp(text);
    ASSERT_TRUE(reference.ok()) << text << ": " << reference.status();
    EXPECT_EQ(fast, *reference) << text;
  }
  int64_t v;
  for (const char* bad : {"2026-02-30T00:00:00Z", "2026-13-01T00:00:00Z", "2026-11-28T24:00:00Z",
                          "2026-11-28T12:00:00+0100x", "yesterday", "", "2026-11-28T12:00"}) {
    EXPECT_FALSE(ParseRfc3339(bad, &v)) << bad;
  }
}

}  // namespace
}  // namespace sluice::types
