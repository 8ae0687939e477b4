// Tests of the expression language (common/expr): every operator and function with its null
// semantics, precedence, case, casts, compile errors with offsets, and a property test that
// compares compiled evaluation with a row-at-a-time reference interpreter on random
// expressions over random (seeded) batches.
#include "common/expr/expr.h"

// GCC 12 reports false -Wmaybe-uninitialized positives on std::optional<std::variant<...>>.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "common/types/record_batch.h"
#include "common/types/schema.h"
#include "common/types/timestamp.h"

namespace sluice::expr {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using types::Column;
using types::Field;
using types::RecordBatch;
using types::Schema;
using types::SchemaPtr;
using types::TypeId;

// A cell of a test row: null, bool, int, double or string (timestamps are ints).
using Cell = std::variant<std::monostate, bool, int64_t, double, std::string>;
constexpr std::monostate kNull;

RecordBatch MakeBatch(SchemaPtr schema, const std::vector<std::vector<Cell>>& rows) {
  RecordBatch batch(schema);
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size(); ++c) {
      Column& col = batch.mutable_column(c);
      const Cell& cell = row[c];
      if (std::holds_alternative<std::monostate>(cell)) {
        col.AppendNull();
      } else if (const bool* b = std::get_if<bool>(&cell)) {
        col.AppendInt(*b ? 1 : 0);
      } else if (const int64_t* i = std::get_if<int64_t>(&cell)) {
        col.AppendInt(*i);
      } else if (const double* d = std::get_if<double>(&cell)) {
        col.AppendDouble(*d);
      } else {
        col.AppendString(std::get<std::string>(cell));
      }
    }
  }
  batch.SetNumRows(rows.size());
  return batch;
}

// "NULL" for null, otherwise the value as text (bool true/false, timestamps RFC 3339).
std::string Render(const Column& c, size_t r) {
  if (c.IsNull(r)) return "NULL";
  switch (c.type()) {
    case TypeId::kBool: return c.Int(r) ? "true" : "false";
    case TypeId::kInt64: return absl::StrCat(c.Int(r));
    case TypeId::kFloat64: return absl::StrCat(c.Double(r));
    case TypeId::kTimestamp: return types::FormatTimestamp(c.Int(r));
    case TypeId::kString:
    case TypeId::kBytes: return std::string(c.Str(r));
  }
  return "?";
}

class ExprTest : public ::testing::Test {
 protected:
  ExprTest()
      : schema_(std::make_shared<Schema>(std::vector<Field>{
            {"card", TypeId::kInt64},
            {"amount", TypeId::kFloat64},
            {"country", TypeId::kString},
            {"ts", TypeId::kTimestamp},
            {"flag", TypeId::kBool},
            {"n", TypeId::kInt64},
            {"name", TypeId::kString},
            {"data", TypeId::kBytes},
            {"odd name", TypeId::kInt64},
        })),
        batch_(MakeBatch(schema_,
                         {
                             {int64_t{1}, 1500.0, std::string("DE"), Ts("2026-11-28T12:00:00Z"),
                              true, int64_t{10}, std::string("Alice"), std::string("xy"),
                              int64_t{7}},
                             {int64_t{2}, 20.5, std::string("NL"), Ts("2026-11-28T12:00:05Z"),
                              false, int64_t{-3}, std::string("  bob "), std::string(""),
                              int64_t{8}},
                             {int64_t{3}, 1000.0, std::string("fr"), kNull, kNull, kNull, kNull,
                              kNull, kNull},
                         })) {}

  static int64_t Ts(absl::string_view text) { return *types::ParseTimestamp(text); }

  std::unique_ptr<CompiledExpr> MustCompile(absl::string_view text) {
    CompileError error;
    auto compiled = Compile(text, *schema_, &error);
    EXPECT_TRUE(compiled.ok()) << text << ": " << compiled.status() << " at " << error.offset;
    if (!compiled.ok()) return nullptr;
    return *std::move(compiled);
  }

  // Every row of the test batch, rendered.
  std::vector<std::string> Eval(absl::string_view text) {
    auto compiled = MustCompile(text);
    if (compiled == nullptr) return {};
    Column out(compiled->result_type());
    absl::Status status = compiled->Evaluate(batch_, &out);
    EXPECT_TRUE(status.ok()) << status;
    EXPECT_EQ(out.size(), batch_.num_rows());
    std::vector<std::string> rows;
    for (size_t r = 0; r < out.size(); ++r) rows.push_back(Render(out, r));
    return rows;
  }

  // The value on the first row (for expressions that do not depend on the row).
  std::string One(absl::string_view text) {
    std::vector<std::string> rows = Eval(text);
    return rows.empty() ? "<error>" : rows[0];
  }

  TypeId TypeOf(absl::string_view text) {
    auto compiled = MustCompile(text);
    return compiled ? compiled->result_type() : TypeId::kBytes;
  }

  // The error message, with the character offset appended as "@N".
  std::string ErrorOf(absl::string_view text) {
    CompileError error;
    auto compiled = Compile(text, *schema_, &error);
    if (compiled.ok()) return "<compiled>";
    EXPECT_EQ(compiled.status().code(), absl::StatusCode::kInvalidArgument);
    return absl::StrCat(compiled.status().message(), " @", error.offset);
  }

  SchemaPtr schema_;
  RecordBatch batch_;
};

// ---------------------------------------------------------------------------------------------
// Literals and columns

TEST_F(ExprTest, Literals) {
  EXPECT_EQ(One("42"), "42");
  EXPECT_EQ(TypeOf("42"), TypeId::kInt64);
  EXPECT_EQ(One("1.5"), "1.5");
  EXPECT_EQ(One(".5"), "0.5");
  EXPECT_EQ(One("2e3"), "2000");
  EXPECT_EQ(One("1.5E-1"), "0.15");
  EXPECT_EQ(TypeOf("2e3"), TypeId::kFloat64);
  EXPECT_EQ(One("'it''s'"), "it's");
  EXPECT_EQ(One("''"), "");
  EXPECT_EQ(One("TRUE"), "true");
  EXPECT_EQ(One("false"), "false");
  EXPECT_EQ(One("null"), "NULL");
  EXPECT_EQ(TypeOf("null"), TypeId::kBool);  // a bare null is a bool null
  EXPECT_EQ(One("timestamp '2026-11-28T12:00:00Z'"), "2026-11-28T12:00:00.000000Z");
  EXPECT_EQ(One("TIMESTAMP '2026-11-28 13:00:00+01:00'"), "2026-11-28T12:00:00.000000Z");
  EXPECT_EQ(TypeOf("timestamp '2026-11-28T12:00:00Z'"), TypeId::kTimestamp);
  EXPECT_EQ(One("9223372036854775807"), "9223372036854775807");
  EXPECT_EQ(One("-9223372036854775808"), "-9223372036854775808");
  EXPECT_EQ(One("'héllo'"), "héllo");
}

TEST_F(ExprTest, ColumnReferences) {
  EXPECT_THAT(Eval("card"), ElementsAre("1", "2", "3"));
  EXPECT_THAT(Eval("country"), ElementsAre("DE", "NL", "fr"));
  EXPECT_THAT(Eval("n"), ElementsAre("10", "-3", "NULL"));
  EXPECT_THAT(Eval("\"odd name\""), ElementsAre("7", "8", "NULL"));
  EXPECT_THAT(Eval("`odd name`"), ElementsAre("7", "8", "NULL"));
  EXPECT_THAT(Eval("ts"), ElementsAre("2026-11-28T12:00:00.000000Z",
                                      "2026-11-28T12:00:05.000000Z", "NULL"));
  EXPECT_EQ(TypeOf("data"), TypeId::kBytes);
  // Keywords are case-insensitive, column names are not.
  EXPECT_THAT(ErrorOf("Card"), HasSubstr("unknown column 'Card' (did you mean 'card'?)"));
}

TEST_F(ExprTest, TimestampColumnNamedTimestamp) {
  Schema schema({{"timestamp", TypeId::kTimestamp}, {"end", TypeId::kInt64}});
  EXPECT_TRUE(Compile("timestamp > timestamp '2026-01-01T00:00:00Z'", schema).ok());
  EXPECT_TRUE(Compile("\"end\" + 1", schema).ok());
  EXPECT_FALSE(Compile("end + 1", schema).ok());
}

// ---------------------------------------------------------------------------------------------
// Arithmetic

TEST_F(ExprTest, IntegerArithmetic) {
  EXPECT_EQ(One("7 + 3"), "10");
  EXPECT_EQ(One("7 - 10"), "-3");
  EXPECT_EQ(One("7 * 3"), "21");
  EXPECT_EQ(One("7 / 2"), "3");  // truncating
  EXPECT_EQ(One("-7 / 2"), "-3");
  EXPECT_EQ(One("7 % 3"), "1");
  EXPECT_EQ(One("-7 % 3"), "-1");  // sign of the dividend, like SQL
  EXPECT_EQ(One("7 / 0"), "NULL");
  EXPECT_EQ(One("7 % 0"), "NULL");
  EXPECT_EQ(One("-(3)"), "-3");
  EXPECT_EQ(One("- -3"), "3");
  EXPECT_EQ(TypeOf("7 / 2"), TypeId::kInt64);
  // Overflow wraps (two's complement), and INT64_MIN / -1 does not trap.
  EXPECT_EQ(One("9223372036854775807 + 1"), "-9223372036854775808");
  EXPECT_EQ(One("-9223372036854775808 / -1"), "-9223372036854775808");
  EXPECT_EQ(One("-9223372036854775808 % -1"), "0");
  EXPECT_THAT(Eval("card * 10 + n"), ElementsAre("20", "17", "NULL"));
  EXPECT_THAT(Eval("n / (card - 1)"), ElementsAre("NULL", "-3", "NULL"));
  EXPECT_THAT(Eval("100 % n"), ElementsAre("0", "1", "NULL"));
  EXPECT_THAT(Eval("-n"), ElementsAre("-10", "3", "NULL"));
}

TEST_F(ExprTest, FloatAndMixedArithmetic) {
  EXPECT_EQ(One("1.5 + 1"), "2.5");
  EXPECT_EQ(TypeOf("1.5 + 1"), TypeId::kFloat64);
  EXPECT_EQ(TypeOf("card + amount"), TypeId::kFloat64);
  EXPECT_EQ(One("7.0 / 2"), "3.5");
  EXPECT_EQ(One("7 / 2.0"), "3.5");
  EXPECT_EQ(One("7.5 % 2"), "1.5");
  EXPECT_EQ(One("1.0 / 0"), "NULL");
  EXPECT_EQ(One("1.0 % 0.0"), "NULL");
  EXPECT_EQ(One("-1.5"), "-1.5");
  EXPECT_THAT(Eval("amount * 2"), ElementsAre("3000", "41", "2000"));
  EXPECT_THAT(Eval("amount / n"), ElementsAre("150", absl::StrCat(20.5 / -3), "NULL"));
  EXPECT_THAT(Eval("-amount"), ElementsAre("-1500", "-20.5", "-1000"));
}

TEST_F(ExprTest, NullArithmetic) {
  EXPECT_EQ(One("1 + null"), "NULL");
  EXPECT_EQ(TypeOf("1 + null"), TypeId::kInt64);
  EXPECT_EQ(TypeOf("null * 2.5"), TypeId::kFloat64);
  EXPECT_EQ(One("-null"), "NULL");
  EXPECT_THAT(Eval("n + 1"), ElementsAre("11", "-2", "NULL"));
}

TEST_F(ExprTest, TimestampArithmetic) {
  EXPECT_EQ(TypeOf("ts - ts"), TypeId::kInt64);
  EXPECT_EQ(TypeOf("ts + 1000000"), TypeId::kTimestamp);
  EXPECT_EQ(TypeOf("1000000 + ts"), TypeId::kTimestamp);
  EXPECT_THAT(Eval("ts - timestamp '2026-11-28T12:00:00Z'"), ElementsAre("0", "5000000", "NULL"));
  EXPECT_THAT(Eval("ts + 1000000"), ElementsAre("2026-11-28T12:00:01.000000Z",
                                                "2026-11-28T12:00:06.000000Z", "NULL"));
  EXPECT_EQ(One("timestamp '2026-11-28T12:00:00Z' - 1"), "2026-11-28T11:59:59.999999Z");
  EXPECT_THAT(ErrorOf("ts + ts"), HasSubstr("type error: cannot apply '+' to timestamp 'ts' and "
                                            "timestamp 'ts'"));
  EXPECT_THAT(ErrorOf("ts * 2"), HasSubstr("cannot apply '*'"));
}

TEST_F(ExprTest, PlusIsNotStringConcatenation) {
  EXPECT_EQ(ErrorOf("country + 'x'"),
            "type error: cannot apply '+' to string 'country' and string 'x' (use || or "
            "concat() to join strings) @8");
}

// ---------------------------------------------------------------------------------------------
// Comparisons

TEST_F(ExprTest, ComparisonOperators) {
  EXPECT_THAT(Eval("amount > 1000"), ElementsAre("true", "false", "false"));
  EXPECT_THAT(Eval("amount >= 1000"), ElementsAre("true", "false", "true"));
  EXPECT_THAT(Eval("amount < 1000"), ElementsAre("false", "true", "false"));
  EXPECT_THAT(Eval("amount <= 1000"), ElementsAre("false", "true", "true"));
  EXPECT_THAT(Eval("amount = 1000"), ElementsAre("false", "false", "true"));
  EXPECT_THAT(Eval("amount == 1000"), ElementsAre("false", "false", "true"));
  EXPECT_THAT(Eval("amount <> 1000"), ElementsAre("true", "true", "false"));
  EXPECT_THAT(Eval("amount != 1000"), ElementsAre("true", "true", "false"));
  EXPECT_THAT(Eval("1000 < amount"), ElementsAre("true", "false", "false"));
  EXPECT_THAT(Eval("card = n"), ElementsAre("false", "false", "NULL"));
  EXPECT_THAT(Eval("card < amount"), ElementsAre("true", "true", "true"));
  EXPECT_THAT(Eval("n > 0"), ElementsAre("true", "false", "NULL"));
  EXPECT_EQ(One("2 > 1.5"), "true");
  EXPECT_EQ(One("null = null"), "NULL");
  EXPECT_EQ(One("1 < null"), "NULL");
}

TEST_F(ExprTest, ComparesStringsBoolsAndTimestamps) {
  EXPECT_THAT(Eval("country <> 'NL'"), ElementsAre("true", "false", "true"));
  EXPECT_THAT(Eval("country < 'E'"), ElementsAre("true", "false", "false"));  // byte order
  EXPECT_THAT(Eval("name = 'Alice'"), ElementsAre("true", "false", "NULL"));
  EXPECT_THAT(Eval("flag = true"), ElementsAre("true", "false", "NULL"));
  EXPECT_THAT(Eval("flag < true"), ElementsAre("false", "true", "NULL"));
  EXPECT_THAT(Eval("ts > timestamp '2026-11-28T12:00:01Z'"), ElementsAre("false", "true", "NULL"));
  // A string literal compared with a timestamp is read as a timestamp.
  EXPECT_THAT(Eval("ts >= '2026-11-28T12:00:05Z'"), ElementsAre("false", "true", "NULL"));
  EXPECT_THAT(ErrorOf("ts >= 'yesterday'"), HasSubstr("'yesterday' is not an RFC 3339"));
  EXPECT_THAT(ErrorOf("data = 'xy'"), HasSubstr("cannot compare bytes 'data' with string 'xy'"));
}

TEST_F(ExprTest, ComparisonTypeErrorsNameBothSides) {
  EXPECT_EQ(ErrorOf("country = 5"), "type error: cannot compare string 'country' with int64 5 @8");
  EXPECT_EQ(ErrorOf("amount > 'big'"),
            "type error: cannot compare float64 'amount' with string 'big' @7");
  EXPECT_EQ(ErrorOf("flag = 1"), "type error: cannot compare bool 'flag' with int64 1 @5");
  EXPECT_EQ(ErrorOf("card + 1 < name"),
            "type error: cannot compare int64 'card + 1' with string 'name' @9");
}

// ---------------------------------------------------------------------------------------------
// Logic

TEST_F(ExprTest, ThreeValuedLogic) {
  // a and b over {true, false, null}^2.
  EXPECT_EQ(One("true and true"), "true");
  EXPECT_EQ(One("true and false"), "false");
  EXPECT_EQ(One("true and null"), "NULL");
  EXPECT_EQ(One("false and null"), "false");
  EXPECT_EQ(One("null and false"), "false");
  EXPECT_EQ(One("null and null"), "NULL");
  EXPECT_EQ(One("true or null"), "true");
  EXPECT_EQ(One("null or true"), "true");
  EXPECT_EQ(One("false or null"), "NULL");
  EXPECT_EQ(One("false or false"), "false");
  EXPECT_EQ(One("null or null"), "NULL");
  EXPECT_EQ(One("not true"), "false");
  EXPECT_EQ(One("not null"), "NULL");
  EXPECT_EQ(One("NOT false"), "true");
  // Columns: flag = [true, false, null].
  EXPECT_THAT(Eval("flag and true"), ElementsAre("true", "false", "NULL"));
  EXPECT_THAT(Eval("flag and false"), ElementsAre("false", "false", "false"));
  EXPECT_THAT(Eval("flag or true"), ElementsAre("true", "true", "true"));
  EXPECT_THAT(Eval("flag or false"), ElementsAre("true", "false", "NULL"));
  EXPECT_THAT(Eval("not flag"), ElementsAre("false", "true", "NULL"));
  EXPECT_THAT(Eval("flag and n > 0"), ElementsAre("true", "false", "NULL"));
  EXPECT_THAT(Eval("amount > 1000 and country <> 'NL'"), ElementsAre("true", "false", "false"));
  EXPECT_EQ(ErrorOf("card and flag"),
            "type error: 'and' needs bool operands, got int64 'card' @0");
  EXPECT_EQ(ErrorOf("not name"), "type error: 'not' needs a bool operand, got string 'name' @4");
}

TEST_F(ExprTest, IsNull) {
  EXPECT_THAT(Eval("n is null"), ElementsAre("false", "false", "true"));
  EXPECT_THAT(Eval("n IS NOT NULL"), ElementsAre("true", "true", "false"));
  EXPECT_THAT(Eval("n / 0 is null"), ElementsAre("true", "true", "true"));
  EXPECT_EQ(One("null is null"), "true");
  EXPECT_EQ(One("1 is not null"), "true");
  EXPECT_THAT(ErrorOf("n is 5"), HasSubstr("expected 'null' or 'not null' after 'is'"));
}

TEST_F(ExprTest, Between) {
  EXPECT_THAT(Eval("amount between 1000 and 1500"), ElementsAre("true", "false", "true"));
  EXPECT_THAT(Eval("amount not between 1000 and 1500"), ElementsAre("false", "true", "false"));
  EXPECT_THAT(Eval("n between -5 and 5"), ElementsAre("false", "true", "NULL"));
  EXPECT_THAT(Eval("country between 'A' and 'Z'"), ElementsAre("true", "true", "false"));
  EXPECT_THAT(Eval("card between 2 and 3 and flag is null"), ElementsAre("false", "false", "true"));
  EXPECT_EQ(One("5 between null and 1"), "false");  // 5 <= 1 is false whatever the null
  EXPECT_EQ(One("0 between null and 1"), "NULL");
}

TEST_F(ExprTest, InList) {
  EXPECT_THAT(Eval("country in ('NL', 'DE')"), ElementsAre("true", "true", "false"));
  EXPECT_THAT(Eval("country not in ('NL', 'DE')"), ElementsAre("false", "false", "true"));
  EXPECT_THAT(Eval("card in (1, 3)"), ElementsAre("true", "false", "true"));
  EXPECT_THAT(Eval("card in (1.0, 2.5)"), ElementsAre("true", "false", "false"));
  EXPECT_THAT(Eval("amount in (20.5, 1000)"), ElementsAre("false", "true", "true"));
  EXPECT_THAT(Eval("n in (10, 11)"), ElementsAre("true", "false", "NULL"));
  // A null in the list makes a miss unknown, like SQL.
  EXPECT_THAT(Eval("card in (1, null)"), ElementsAre("true", "NULL", "NULL"));
  EXPECT_THAT(Eval("card not in (1, null)"), ElementsAre("false", "NULL", "NULL"));
  // Long lists (binary search rather than a scan).
  EXPECT_THAT(Eval("card in (20, 19, 18, 17, 16, 15, 14, 13, 12, 3, 1)"),
              ElementsAre("true", "false", "true"));
  EXPECT_THAT(Eval("country in ('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'NL', 'DE')"),
              ElementsAre("true", "true", "false"));
  EXPECT_THAT(Eval("amount in (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 20.5, null)"),
              ElementsAre("NULL", "true", "NULL"));
  // Non-constant items.
  EXPECT_THAT(Eval("card in (n, 2, \"odd name\" - 6)"), ElementsAre("true", "true", "NULL"));
  EXPECT_THAT(Eval("ts in ('2026-11-28T12:00:05Z')"), ElementsAre("false", "true", "NULL"));
  EXPECT_THAT(ErrorOf("card in (1, 'a')"), HasSubstr("cannot compare int64 'card' with string 'a'"));
  EXPECT_THAT(ErrorOf("card in ()"), HasSubstr("expected an expression but found ')'"));
}

TEST_F(ExprTest, Like) {
  EXPECT_THAT(Eval("country like 'N%'"), ElementsAre("false", "true", "false"));
  EXPECT_THAT(Eval("country like '_L'"), ElementsAre("false", "true", "false"));
  EXPECT_THAT(Eval("country not like '%e'"), ElementsAre("true", "true", "true"));
  EXPECT_THAT(Eval("name like '%o%'"), ElementsAre("false", "true", "NULL"));
  EXPECT_THAT(Eval("name like 'A%e'"), ElementsAre("true", "false", "NULL"));
  EXPECT_THAT(Eval("name like 'Alice'"), ElementsAre("true", "false", "NULL"));
  EXPECT_THAT(Eval("name like '%'"), ElementsAre("true", "true", "NULL"));
  EXPECT_THAT(Eval("name like 'A_i%'"), ElementsAre("true", "false", "NULL"));
  EXPECT_THAT(Eval("name like country"), ElementsAre("false", "false", "NULL"));
  EXPECT_THAT(Eval("data like 'x%'"), ElementsAre("true", "false", "NULL"));
  EXPECT_EQ(One("'héllo' like 'h_llo'"), "true");  // _ is one character, not one byte
  EXPECT_EQ(One("'a%b' like 'a\\%b'"), "true");
  EXPECT_EQ(One("'axb' like 'a\\%b'"), "false");
  EXPECT_EQ(One("'abcabd' like '%ab_'"), "true");
  EXPECT_EQ(One("'aaa' like '%a%a%a%'"), "true");
  EXPECT_EQ(One("'aa' like '%a%a%a%'"), "false");
  EXPECT_EQ(One("'' like ''"), "true");
  EXPECT_EQ(One("'x' like ''"), "false");
  EXPECT_EQ(One("null like 'a'"), "NULL");
  EXPECT_THAT(ErrorOf("card like '1%'"), HasSubstr("'like' needs a string to match"));
}

// ---------------------------------------------------------------------------------------------
// case, if, coalesce

TEST_F(ExprTest, CaseWhen) {
  EXPECT_THAT(Eval("case when amount > 1000 then 'big' when amount > 100 then 'mid' else 'small' "
                   "end"),
              ElementsAre("big", "small", "mid"));
  EXPECT_THAT(Eval("case when n > 0 then 1 end"), ElementsAre("1", "NULL", "NULL"));
  EXPECT_THAT(Eval("case when flag then 1 else 2.5 end"), ElementsAre("1", "2.5", "2.5"));
  EXPECT_EQ(TypeOf("case when flag then 1 else 2.5 end"), TypeId::kFloat64);
  EXPECT_THAT(Eval("case when flag then null else card end"), ElementsAre("NULL", "2", "3"));
  EXPECT_THAT(Eval("CASE country WHEN 'DE' THEN 49 WHEN 'NL' THEN 31 ELSE 0 END"),
              ElementsAre("49", "31", "0"));
  EXPECT_THAT(Eval("case n when 10 then 'ten' else 'other' end"),
              ElementsAre("ten", "other", "other"));
  EXPECT_EQ(One("case when false then 1 when null then 2 when true then 3 else 4 end"), "3");
  EXPECT_EQ(One("case when 1 > 2 then 'a' end"), "NULL");
  EXPECT_EQ(ErrorOf("case when flag then 1 else 'x' end"),
            "type error: the branches of 'case' must have one type, got int64 1 and string 'x' @0");
  EXPECT_EQ(ErrorOf("case when card then 1 end"),
            "type error: 'case when' needs a bool condition, got int64 'card' @10");
  EXPECT_THAT(ErrorOf("case when flag then 1"),
              HasSubstr("expected 'when', 'else' or 'end' in 'case' at end of expression"));
}

TEST_F(ExprTest, IfCoalesceNullif) {
  EXPECT_THAT(Eval("if(flag, 'y', 'n')"), ElementsAre("y", "n", "n"));
  EXPECT_THAT(Eval("IF(amount > 1000, amount, 0)"), ElementsAre("1500", "0", "0"));
  EXPECT_THAT(Eval("coalesce(n, card)"), ElementsAre("10", "-3", "3"));
  EXPECT_THAT(Eval("coalesce(name, country, 'x')"), ElementsAre("Alice", "  bob ", "fr"));
  EXPECT_THAT(Eval("coalesce(n, amount)"), ElementsAre("10", "-3", "1000"));
  EXPECT_EQ(One("coalesce(null, null)"), "NULL");
  EXPECT_EQ(One("coalesce(null, 2)"), "2");
  EXPECT_THAT(Eval("nullif(card, 2)"), ElementsAre("1", "NULL", "3"));
  EXPECT_THAT(ErrorOf("coalesce(n, 'x')"),
              HasSubstr("the arguments of coalesce() must have one type, got int64 'n' and "
                        "string 'x'"));
  EXPECT_THAT(ErrorOf("if(card, 1, 2)"), HasSubstr("if() needs a bool condition, got int64"));
}

// ---------------------------------------------------------------------------------------------
// String functions

TEST_F(ExprTest, StringFunctions) {
  EXPECT_THAT(Eval("lower(name)"), ElementsAre("alice", "  bob ", "NULL"));
  EXPECT_THAT(Eval("UPPER(name)"), ElementsAre("ALICE", "  BOB ", "NULL"));
  EXPECT_THAT(Eval("length(name)"), ElementsAre("5", "6", "NULL"));
  EXPECT_EQ(One("length('héllo')"), "5");  // characters, not bytes
  EXPECT_EQ(One("char_length('')"), "0");
  EXPECT_THAT(Eval("length(data)"), ElementsAre("2", "0", "NULL"));  // bytes
  EXPECT_THAT(Eval("trim(name)"), ElementsAre("Alice", "bob", "NULL"));
  EXPECT_THAT(Eval("ltrim(name)"), ElementsAre("Alice", "bob ", "NULL"));
  EXPECT_THAT(Eval("rtrim(name)"), ElementsAre("Alice", "  bob", "NULL"));
  EXPECT_THAT(Eval("starts_with(name, 'Al')"), ElementsAre("true", "false", "NULL"));
  EXPECT_THAT(Eval("ends_with(name, ' ')"), ElementsAre("false", "true", "NULL"));
  EXPECT_THAT(Eval("contains(name, 'li')"), ElementsAre("true", "false", "NULL"));
  EXPECT_THAT(Eval("contains(name, null)"), ElementsAre("NULL", "NULL", "NULL"));
  EXPECT_THAT(Eval("replace(name, 'b', 'B')"), ElementsAre("Alice", "  BoB ", "NULL"));
  EXPECT_EQ(One("replace('aaa', 'a', 'bb')"), "bbbbbb");
  EXPECT_EQ(One("replace('abc', '', 'x')"), "abc");
  EXPECT_THAT(ErrorOf("lower(card)"),
              HasSubstr("type error: lower() needs a string argument, got int64 'card' @6"));
}

TEST_F(ExprTest, Substr) {
  EXPECT_EQ(One("substr('hello', 2)"), "ello");
  EXPECT_EQ(One("substr('hello', 2, 3)"), "ell");
  EXPECT_EQ(One("substr('hello', 1, 100)"), "hello");
  EXPECT_EQ(One("substr('hello', 0, 2)"), "he");   // 0 acts as 1
  EXPECT_EQ(One("substr('hello', -3)"), "llo");    // negative counts from the end
  EXPECT_EQ(One("substr('hello', -3, 2)"), "ll");
  EXPECT_EQ(One("substr('hello', -10, 2)"), "he");
  EXPECT_EQ(One("substr('hello', 6)"), "");
  EXPECT_EQ(One("substr('hello', 2, -1)"), "");
  EXPECT_EQ(One("substring('héllo', 2, 2)"), "él");  // characters, not bytes
  EXPECT_EQ(One("substr('hello', null)"), "NULL");
  EXPECT_THAT(Eval("substr(name, card, 2)"), ElementsAre("Al", " b", "NULL"));
  EXPECT_THAT(ErrorOf("substr('x', 1.5)"), HasSubstr("the start of substr() must be an int64"));
}

TEST_F(ExprTest, ConcatAndPipes) {
  EXPECT_THAT(Eval("concat(country, '-', name)"), ElementsAre("DE-Alice", "NL-  bob ", "NULL"));
  EXPECT_THAT(Eval("country || '/' || card"), ElementsAre("DE/1", "NL/2", "fr/3"));
  EXPECT_EQ(TypeOf("country || card"), TypeId::kString);
  EXPECT_EQ(One("'a' || null"), "NULL");
  EXPECT_EQ(One("concat('x', 1.5, true, timestamp '2026-11-28T12:00:00Z')"),
            "x1.5true2026-11-28T12:00:00.000000Z");
  EXPECT_EQ(One("concat('abc')"), "abc");
  EXPECT_THAT(ErrorOf("concat()"), HasSubstr("function 'concat' takes at least 1 argument, got 0"));
}

// ---------------------------------------------------------------------------------------------
// Numeric functions

TEST_F(ExprTest, NumericFunctions) {
  EXPECT_THAT(Eval("abs(n)"), ElementsAre("10", "3", "NULL"));
  EXPECT_EQ(One("abs(-2.5)"), "2.5");
  EXPECT_EQ(TypeOf("abs(n)"), TypeId::kInt64);
  EXPECT_EQ(One("round(2.5)"), "3");
  EXPECT_EQ(One("round(-2.5)"), "-3");  // half away from zero
  EXPECT_EQ(One("round(3.14159, 2)"), "3.14");
  EXPECT_EQ(One("round(1234.5, -2)"), "1200");
  EXPECT_EQ(One("round(1250, -2)"), "1300");
  EXPECT_EQ(One("round(-1250, -2)"), "-1300");
  EXPECT_EQ(One("round(17)"), "17");
  EXPECT_EQ(TypeOf("round(amount)"), TypeId::kFloat64);
  EXPECT_EQ(One("floor(-1.5)"), "-2");
  EXPECT_EQ(One("ceil(-1.5)"), "-1");
  EXPECT_EQ(One("ceiling(1.2)"), "2");
  EXPECT_EQ(One("floor(7)"), "7");
  EXPECT_EQ(TypeOf("floor(amount)"), TypeId::kFloat64);
  EXPECT_THAT(Eval("greatest(card, n, 2)"), ElementsAre("10", "2", "NULL"));
  EXPECT_THAT(Eval("least(card, amount)"), ElementsAre("1", "2", "3"));
  EXPECT_EQ(One("greatest('a', 'b', 'ab')"), "b");
  EXPECT_EQ(One("round(null)"), "NULL");
  EXPECT_THAT(ErrorOf("abs(name)"), HasSubstr("abs() needs an int64 or float64 argument"));
}

// ---------------------------------------------------------------------------------------------
// Casts

TEST_F(ExprTest, Casts) {
  EXPECT_EQ(One("cast('42' as int64)"), "42");
  EXPECT_EQ(One("cast(' 42 ' as int)"), "42");
  EXPECT_EQ(One("cast('4x2' as int64)"), "NULL");  // string -> number failure is null
  EXPECT_EQ(One("cast('1.5' as int64)"), "NULL");
  EXPECT_EQ(One("cast('1.5' as float64)"), "1.5");
  EXPECT_EQ(One("cast('abc' as double)"), "NULL");
  EXPECT_EQ(One("cast(2.9 as int64)"), "2");  // truncates toward zero
  EXPECT_EQ(One("cast(-2.9 as int64)"), "-2");
  EXPECT_EQ(One("cast(1e300 as int64)"), "NULL");
  EXPECT_EQ(One("cast(3 as float64)"), "3");
  EXPECT_EQ(One("cast(42 as string)"), "42");
  EXPECT_EQ(One("cast(0.1 as string)"), "0.1");
  EXPECT_EQ(One("cast(true as string)"), "true");
  EXPECT_EQ(One("cast(true as int64)"), "1");
  EXPECT_EQ(One("cast(0 as bool)"), "false");
  EXPECT_EQ(One("cast('yes' as boolean)"), "true");
  EXPECT_EQ(One("cast('false' as bool)"), "false");
  EXPECT_EQ(One("cast('maybe' as bool)"), "NULL");
  EXPECT_EQ(One("cast('2026-11-28T12:00:00Z' as timestamp)"), "2026-11-28T12:00:00.000000Z");
  EXPECT_EQ(One("cast('soon' as timestamp)"), "NULL");
  EXPECT_EQ(One("cast(0 as timestamp)"), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(One("cast(timestamp '1970-01-01T00:00:01Z' as int64)"), "1000000");
  EXPECT_EQ(One("cast(null as string)"), "NULL");
  EXPECT_EQ(TypeOf("cast(null as string)"), TypeId::kString);
  EXPECT_THAT(Eval("cast(ts as string)"), ElementsAre("2026-11-28T12:00:00.000000Z",
                                                      "2026-11-28T12:00:05.000000Z", "NULL"));
  EXPECT_THAT(Eval("cast(card as string) || country"), ElementsAre("1DE", "2NL", "3fr"));
  EXPECT_THAT(Eval("cast(amount as int64)"), ElementsAre("1500", "20", "1000"));
  EXPECT_THAT(Eval("cast(data as string)"), ElementsAre("xy", "", "NULL"));
  EXPECT_THAT(ErrorOf("cast(amount as timestamp)"),
              HasSubstr("type error: cannot cast float64 'amount' to timestamp"));
  EXPECT_THAT(ErrorOf("cast(card as money)"), HasSubstr("unknown type 'money'"));
}

TEST_F(ExprTest, TimestampToStringMatchesFormatTimestamp) {
  for (const char* text : {"1970-01-01T00:00:00Z", "1969-12-31T23:59:59.999999Z",
                           "2000-02-29T01:02:03.000004Z", "0999-01-01T00:00:00Z",
                           "9999-12-31T23:59:59.999999Z", "2026-11-28T12:00:00.5Z"}) {
    int64_t micros = Ts(text);
    EXPECT_EQ(One(absl::StrCat("cast(cast(", micros, " as timestamp) as string)")),
              types::FormatTimestamp(micros))
        << text;
  }
}

// ---------------------------------------------------------------------------------------------
// Precedence

TEST_F(ExprTest, Precedence) {
  EXPECT_EQ(One("1 + 2 * 3"), "7");
  EXPECT_EQ(One("(1 + 2) * 3"), "9");
  EXPECT_EQ(One("10 - 2 - 3"), "5");     // left associative
  EXPECT_EQ(One("8 / 2 / 2"), "2");
  EXPECT_EQ(One("2 * 3 % 4"), "2");      // * and % share a level
  EXPECT_EQ(One("-2 * 3"), "-6");
  EXPECT_EQ(One("- 2 + 3"), "1");        // unary minus binds tighter than +
  EXPECT_EQ(One("2 - -3"), "5");
  EXPECT_EQ(One("not true and false"), "false");  // (not true) and false
  EXPECT_EQ(One("not (true and false)"), "true");
  EXPECT_EQ(One("true or false and false"), "true");  // and binds tighter than or
  EXPECT_EQ(One("(true or false) and false"), "false");
  EXPECT_EQ(One("not 1 = 2"), "true");   // not is below comparison
  EXPECT_EQ(One("1 + 2 = 3 and 2 < 3"), "true");
  EXPECT_EQ(One("'a' || 'b' = 'ab'"), "true");  // || is above comparison
  EXPECT_EQ(One("1 + 2 || 'x'"), "3x");          // || and + share a level, left to right
  EXPECT_THAT(ErrorOf("'x' || 1 + 2"), HasSubstr("cannot apply '+' to string ''x' || 1'"));
  EXPECT_EQ(One("1 between 0 and 2 and false"), "false");
  EXPECT_EQ(One("null is null = true"), "true");
  EXPECT_EQ(One("not null is null"), "false");
  EXPECT_THAT(Eval("amount > 1000 or country = 'NL' and flag"), ElementsAre("true", "false",
                                                                             "false"));
}

// ---------------------------------------------------------------------------------------------
// Compile errors

TEST_F(ExprTest, UnknownColumnSuggestsByEditDistance) {
  EXPECT_EQ(ErrorOf("amout > 1000"), "unknown column 'amout' (did you mean 'amount'?) @0");
  EXPECT_EQ(ErrorOf("amount > 1000 and cuntry = 'NL'"),
            "unknown column 'cuntry' (did you mean 'country'?) @18");
  EXPECT_EQ(ErrorOf("zzz = 1"),
            "unknown column 'zzz' (columns: card, amount, country, ts, flag, n, name, data, odd "
            "name) @0");
  EXPECT_EQ(ErrorOf("country = \"NL\""),
            "unknown column 'NL' (double quotes name a column; write strings in single quotes: "
            "'NL') @10");
}

TEST_F(ExprTest, UnknownFunctionSuggests) {
  EXPECT_EQ(ErrorOf("lowr(name)"), "unknown function 'lowr' (did you mean 'lower'?) @0");
  EXPECT_EQ(ErrorOf("name = uper(country)"), "unknown function 'uper' (did you mean 'upper'?) @7");
  EXPECT_EQ(ErrorOf("frobnicate(1)"), "unknown function 'frobnicate' @0");
  EXPECT_THAT(ErrorOf("sum(amount)"), HasSubstr("'sum' is an aggregate function"));
  EXPECT_THAT(ErrorOf("count(*)"), HasSubstr("'count' is an aggregate function"));
  EXPECT_EQ(ErrorOf("substr('a')"), "function 'substr' takes 2 or 3 arguments, got 1 @0");
  EXPECT_EQ(ErrorOf("lower('a', 'b')"), "function 'lower' takes 1 argument, got 2 @0");
}

TEST_F(ExprTest, SyntaxErrorsWithOffsets) {
  EXPECT_EQ(ErrorOf("(amount > 1000"), "expected ')' at end of expression @14");
  EXPECT_EQ(ErrorOf("lower(name"), "expected ',' or ')' in the arguments of lower() at end of "
                                   "expression @10");
  EXPECT_EQ(ErrorOf("amount > "), "expected an expression at end of expression @9");
  EXPECT_EQ(ErrorOf(""), "empty expression @0");
  EXPECT_EQ(ErrorOf("   "), "empty expression @0");
  EXPECT_EQ(ErrorOf("amount > 1000 country"),
            "unexpected 'country' after a complete expression (missing operator or 'and'?) @14");
  EXPECT_EQ(ErrorOf("country = 'NL"), "unterminated string literal (missing closing ') @10");
  EXPECT_EQ(ErrorOf("amount # 2"), "unexpected character '#' @7");
  EXPECT_EQ(ErrorOf("amount && flag"), "unexpected character '&' (use 'and') @7");
  EXPECT_EQ(ErrorOf("10ms > 1"), "invalid number '10ms' @0");
  EXPECT_EQ(ErrorOf("99999999999999999999"),
            "integer 99999999999999999999 is out of range for int64 (write "
            "99999999999999999999.0 for a float64) @0");
  EXPECT_EQ(ErrorOf("timestamp 'noon'"),
            absl::StrCat("invalid timestamp literal: ",
                         types::ParseTimestamp("noon").status().message(), " @10"));
  EXPECT_EQ(ErrorOf("1 = = 2"), "expected an expression but found '=' @4");
  EXPECT_EQ(ErrorOf("cast(card int64)"), "expected 'as' in cast(x as type) but found 'int64' @10");
  EXPECT_EQ(ErrorOf("card and then"), "expected an expression but found 'then' @9");
}

TEST_F(ExprTest, ErrorOffsetsCountCharactersNotBytes) {
  // 'é' is two bytes in UTF-8; the offset is in characters.
  EXPECT_EQ(ErrorOf("'é' = amout"), "unknown column 'amout' (did you mean 'amount'?) @6");
}

TEST_F(ExprTest, ErrorIsOptional) {
  auto compiled = Compile("amout", *schema_);
  EXPECT_EQ(compiled.status().code(), absl::StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------------------------
// The CompiledExpr contract

TEST_F(ExprTest, EvaluatePredicate) {
  auto compiled = MustCompile("amount >= 1000 and flag");
  ASSERT_NE(compiled, nullptr);
  std::vector<uint8_t> keep = {9, 9, 9, 9, 9};
  ASSERT_TRUE(compiled->EvaluatePredicate(batch_, &keep).ok());
  EXPECT_THAT(keep, ElementsAre(1, 0, 0)) << "null counts as false";
}

TEST_F(ExprTest, EvaluatePredicateNeedsBool) {
  auto compiled = MustCompile("amount");
  std::vector<uint8_t> keep;
  absl::Status status = compiled->EvaluatePredicate(batch_, &keep);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("must be a bool expression, got float64"));
}

TEST_F(ExprTest, EvaluateChecksOutputTypeAndBatchShape) {
  auto compiled = MustCompile("card + 1");
  Column wrong(TypeId::kString);
  EXPECT_EQ(compiled->Evaluate(batch_, &wrong).code(), absl::StatusCode::kInvalidArgument);
  auto other = std::make_shared<Schema>(std::vector<Field>{{"card", TypeId::kString}});
  RecordBatch mismatched = MakeBatch(other, {{std::string("x")}});
  Column out(TypeId::kInt64);
  EXPECT_EQ(compiled->Evaluate(mismatched, &out).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ExprTest, EvaluateClearsOutputAndHandlesEmptyBatches) {
  auto compiled = MustCompile("card * 2");
  Column out(TypeId::kInt64);
  out.AppendInt(99);
  ASSERT_TRUE(compiled->Evaluate(batch_, &out).ok());
  EXPECT_EQ(out.size(), 3u);
  EXPECT_EQ(out.Int(0), 2);
  RecordBatch empty(schema_);
  ASSERT_TRUE(compiled->Evaluate(empty, &out).ok());
  EXPECT_EQ(out.size(), 0u);
  for (absl::string_view text : {"lower(name)", "case when flag then 1 end", "card in (1, 2)",
                                 "coalesce(n, 1)", "'x'", "substr(name, 2)"}) {
    auto c = MustCompile(text);
    Column o(c->result_type());
    EXPECT_TRUE(c->Evaluate(empty, &o).ok()) << text;
    EXPECT_EQ(o.size(), 0u) << text;
  }
}

TEST_F(ExprTest, IntrospectionAndConstantFolding) {
  auto column = MustCompile("amount");
  EXPECT_EQ(column->column_index(), 1);
  EXPECT_FALSE(column->is_constant());
  EXPECT_THAT(column->referenced_columns(), ElementsAre(1));
  auto expr = MustCompile("country = 'NL' and amount > card");
  EXPECT_EQ(expr->column_index(), -1);
  EXPECT_THAT(expr->referenced_columns(), ElementsAre(0, 1, 2));
  auto folded = MustCompile("1 + 2 * 3 > 6 and lower('A') = 'a'");
  EXPECT_TRUE(folded->is_constant());
  EXPECT_EQ(One("1 + 2 * 3 > 6 and lower('A') = 'a'"), "true");
  EXPECT_TRUE(MustCompile("case when 1 > 2 then card else 5 end")->is_constant());
}

TEST_F(ExprTest, FunctionNamesListsEveryFunction) {
  std::vector<std::string> names = FunctionNames();
  for (const char* fn : {"lower", "upper", "length", "trim", "ltrim", "rtrim", "substr", "concat",
                         "starts_with", "ends_with", "contains", "replace", "coalesce", "abs",
                         "round", "floor", "ceil", "greatest", "least", "cast", "if"}) {
    EXPECT_THAT(names, ::testing::Contains(fn));
  }
}

TEST_F(ExprTest, ConcurrentEvaluation) {
  auto compiled = MustCompile("case when amount > 100 then lower(country) || '!' else "
                              "substr(name, 2) end");
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        Column out(TypeId::kString);
        if (!compiled->Evaluate(batch_, &out).ok()) return;
        if (Render(out, 0) != "de!" || Render(out, 1) != " bob " || Render(out, 2) != "fr!") {
          return;
        }
      }
      ok[t] = 1;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_THAT(ok, ElementsAre(1, 1, 1, 1));
}

// ---------------------------------------------------------------------------------------------
// Property test: compiled evaluation agrees with a row-at-a-time reference interpreter.

enum class T { kInt, kFloat, kBool, kString };

// A scalar of the reference interpreter: nullopt is null.
using RVal = std::optional<std::variant<int64_t, double, bool, std::string>>;

struct Gen;
using GenPtr = std::shared_ptr<const Gen>;

// A generated expression: its text and a row-at-a-time reference evaluator.
struct Gen {
  T type;
  std::string text;
  std::function<RVal(const RecordBatch&, size_t)> eval;
};

int64_t WrapI(uint64_t v) { return static_cast<int64_t>(v); }

RVal FromColumn(const Column& c, size_t r) {
  if (c.IsNull(r)) return std::nullopt;
  switch (c.type()) {
    case TypeId::kBool: return c.Int(r) != 0;
    case TypeId::kInt64:
    case TypeId::kTimestamp: return c.Int(r);
    case TypeId::kFloat64: return c.Double(r);
    default: return std::string(c.Str(r));
  }
}

std::string Show(const RVal& v) {
  if (!v) return "NULL";
  return std::visit(
      [](const auto& x) -> std::string {
        using X = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<X, bool>) {
          return x ? "true" : "false";
        } else if constexpr (std::is_same_v<X, std::string>) {
          return absl::StrCat("'", x, "'");
        } else if constexpr (std::is_same_v<X, double>) {
          char buf[64];
          std::snprintf(buf, sizeof(buf), "%.17g", x);
          return absl::StrCat(buf, "d");
        } else {
          return absl::StrCat(x);
        }
      },
      *v);
}

bool SameValue(const RVal& a, const RVal& b) {
  if (!a || !b) return !a && !b;
  if (a->index() != b->index()) return false;
  if (const double* x = std::get_if<double>(&*a)) {
    double y = std::get<double>(*b);
    return (std::isnan(*x) && std::isnan(y)) || *x == y;
  }
  return *a == *b;
}

// Reference LIKE: plain recursion, _ steps over one UTF-8 character.
size_t Utf8Step(const std::string& s, size_t i) {
  size_t n = 1;
  while (i + n < s.size() && (static_cast<unsigned char>(s[i + n]) & 0xC0) == 0x80) ++n;
  return n;
}
bool RefLike(const std::string& s, size_t si, const std::string& p, size_t pi) {
  if (pi == p.size()) return si == s.size();
  if (p[pi] == '%') {
    for (size_t k = si; k <= s.size(); k += (k < s.size() ? Utf8Step(s, k) : 1)) {
      if (RefLike(s, k, p, pi + 1)) return true;
    }
    return false;
  }
  if (si == s.size()) return false;
  if (p[pi] == '_') return RefLike(s, si + Utf8Step(s, si), p, pi + 1);
  return s[si] == p[pi] && RefLike(s, si + 1, p, pi + 1);
}

class RandomExprs {
 public:
  explicit RandomExprs(uint64_t seed) : rng_(seed) {}

  // Columns of the random schema, by type.
  static SchemaPtr MakeSchema() {
    return std::make_shared<Schema>(std::vector<Field>{{"i1", TypeId::kInt64},
                                                       {"i2", TypeId::kInt64},
                                                       {"f1", TypeId::kFloat64},
                                                       {"f2", TypeId::kFloat64},
                                                       {"b1", TypeId::kBool},
                                                       {"b2", TypeId::kBool},
                                                       {"s1", TypeId::kString},
                                                       {"s2", TypeId::kString}});
  }

  RecordBatch MakeRandomBatch(const SchemaPtr& schema, size_t rows) {
    static const char* kStrings[] = {"", "a", "ab", "Ab ", " x", "héllo", "NL", "%", "_a", "aa"};
    static const double kDoubles[] = {0.0, -0.5, 2.5, 1.0, -3.25, 100.0, 7.0, 0.1};
    std::vector<std::vector<Cell>> data;
    for (size_t r = 0; r < rows; ++r) {
      std::vector<Cell> row;
      for (const Field& f : schema->fields()) {
        if (Chance(0.2)) {
          row.push_back(kNull);
          continue;
        }
        switch (f.type) {
          case TypeId::kInt64:
            row.push_back(Chance(0.05) ? std::numeric_limits<int64_t>::min()
                                       : static_cast<int64_t>(Uniform(11)) - 5);
            break;
          case TypeId::kFloat64: row.push_back(kDoubles[Uniform(8)]); break;
          case TypeId::kBool: row.push_back(Chance(0.5)); break;
          default: row.push_back(std::string(kStrings[Uniform(10)])); break;
        }
      }
      data.push_back(std::move(row));
    }
    return MakeBatch(schema, data);
  }

  Gen Make(T type, int depth) {
    if (depth <= 0 || Chance(0.25)) return Leaf(type);
    switch (type) {
      case T::kInt: return MakeInt(depth - 1);
      case T::kFloat: return MakeFloat(depth - 1);
      case T::kBool: return MakeBool(depth - 1);
      case T::kString: return MakeString(depth - 1);
    }
    return Leaf(type);
  }

 private:
  bool Chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  size_t Uniform(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }

  static Gen Column(T type, const std::string& name, int index) {
    return Gen{type, name, [index](const RecordBatch& b, size_t r) {
                 return FromColumn(b.column(index), r);
               }};
  }
  static Gen Literal(T type, std::string text, RVal v) {
    return Gen{type, std::move(text), [v](const RecordBatch&, size_t) { return v; }};
  }
  static const char* TypeName(T t) {
    switch (t) {
      case T::kInt: return "int64";
      case T::kFloat: return "float64";
      case T::kBool: return "bool";
      case T::kString: return "string";
    }
    return "";
  }

  Gen Leaf(T type) {
    if (Chance(0.05)) {
      return Literal(type, absl::StrCat("cast(null as ", TypeName(type), ")"), std::nullopt);
    }
    bool column = Chance(0.6);
    switch (type) {
      case T::kInt: {
        if (column) return Uniform(2) ? Column(type, "i1", 0) : Column(type, "i2", 1);
        int64_t v = static_cast<int64_t>(Uniform(9)) - 4;
        return Literal(type, v < 0 ? absl::StrCat("(", v, ")") : absl::StrCat(v), v);
      }
      case T::kFloat: {
        if (column) return Uniform(2) ? Column(type, "f1", 2) : Column(type, "f2", 3);
        static const char* kText[] = {"0.5", "2.0", "1.5e1", "0.0", ".25"};
        static const double kVal[] = {0.5, 2.0, 15.0, 0.0, 0.25};
        size_t k = Uniform(5);
        return Literal(type, kText[k], kVal[k]);
      }
      case T::kBool: {
        if (column) return Uniform(2) ? Column(type, "b1", 4) : Column(type, "b2", 5);
        bool v = Chance(0.5);
        return Literal(type, v ? "true" : "false", v);
      }
      case T::kString: {
        if (column) return Uniform(2) ? Column(type, "s1", 6) : Column(type, "s2", 7);
        static const char* kText[] = {"''", "'a'", "'it''s'", "'NL'", "'héllo'"};
        static const char* kVal[] = {"", "a", "it's", "NL", "héllo"};
        size_t k = Uniform(5);
        return Literal(type, kText[k], std::string(kVal[k]));
      }
    }
    return Literal(type, "null", std::nullopt);
  }

  // Helpers to pull typed values out of RVal.
  static int64_t I(const RVal& v) { return std::get<int64_t>(*v); }
  static double F(const RVal& v) {
    if (const int64_t* i = std::get_if<int64_t>(&*v)) return static_cast<double>(*i);
    return std::get<double>(*v);
  }
  static bool B(const RVal& v) { return std::get<bool>(*v); }
  static const std::string& S(const RVal& v) { return std::get<std::string>(*v); }

  Gen Binary(T type, const Gen& a, const char* op, const Gen& b,
             std::function<RVal(const RVal&, const RVal&)> f) {
    auto ea = a.eval, eb = b.eval;
    return Gen{type, absl::StrCat("(", a.text, " ", op, " ", b.text, ")"),
               [ea, eb, f](const RecordBatch& batch, size_t r) {
                 return f(ea(batch, r), eb(batch, r));
               }};
  }
  // Null if either side is null, else f.
  Gen Strict(T type, const Gen& a, const char* op, const Gen& b,
             std::function<RVal(const RVal&, const RVal&)> f) {
    return Binary(type, a, op, b, [f](const RVal& x, const RVal& y) -> RVal {
      if (!x || !y) return std::nullopt;
      return f(x, y);
    });
  }
  Gen Call(T type, const std::string& name, std::vector<Gen> args,
           std::function<RVal(const std::vector<RVal>&)> f) {
    std::vector<std::string> texts;
    std::vector<std::function<RVal(const RecordBatch&, size_t)>> evals;
    for (const Gen& g : args) {
      texts.push_back(g.text);
      evals.push_back(g.eval);
    }
    return Gen{type, absl::StrCat(name, "(", absl::StrJoin(texts, ", "), ")"),
               [evals, f](const RecordBatch& batch, size_t r) {
                 std::vector<RVal> vals;
                 for (const auto& e : evals) vals.push_back(e(batch, r));
                 return f(vals);
               }};
  }

  Gen MakeInt(int depth) {
    switch (Uniform(9)) {
      case 0:
        return Strict(T::kInt, Make(T::kInt, depth), "+", Make(T::kInt, depth),
                      [](const RVal& a, const RVal& b) -> RVal {
                        return WrapI(static_cast<uint64_t>(I(a)) + static_cast<uint64_t>(I(b)));
                      });
      case 1:
        return Strict(T::kInt, Make(T::kInt, depth), "-", Make(T::kInt, depth),
                      [](const RVal& a, const RVal& b) -> RVal {
                        return WrapI(static_cast<uint64_t>(I(a)) - static_cast<uint64_t>(I(b)));
                      });
      case 2:
        return Strict(T::kInt, Make(T::kInt, depth), "*", Make(T::kInt, depth),
                      [](const RVal& a, const RVal& b) -> RVal {
                        return WrapI(static_cast<uint64_t>(I(a)) * static_cast<uint64_t>(I(b)));
                      });
      case 3:
        return Strict(T::kInt, Make(T::kInt, depth), "/", Make(T::kInt, depth),
                      [](const RVal& a, const RVal& b) -> RVal {
                        if (I(b) == 0) return std::nullopt;
                        if (I(b) == -1) return WrapI(0 - static_cast<uint64_t>(I(a)));
                        return I(a) / I(b);
                      });
      case 4:
        return Strict(T::kInt, Make(T::kInt, depth), "%", Make(T::kInt, depth),
                      [](const RVal& a, const RVal& b) -> RVal {
                        if (I(b) == 0) return std::nullopt;
                        if (I(b) == -1) return int64_t{0};
                        return I(a) % I(b);
                      });
      case 5: {
        Gen a = Make(T::kInt, depth);
        auto ea = a.eval;
        return Gen{T::kInt, absl::StrCat("(-", a.text, ")"),
                   [ea](const RecordBatch& b, size_t r) -> RVal {
                     RVal v = ea(b, r);
                     if (!v) return std::nullopt;
                     return WrapI(0 - static_cast<uint64_t>(I(v)));
                   }};
      }
      case 6: {
        Gen c = Make(T::kBool, depth), x = Make(T::kInt, depth), y = Make(T::kInt, depth);
        auto ec = c.eval, ex = x.eval, ey = y.eval;
        return Gen{T::kInt,
                   absl::StrCat("case when ", c.text, " then ", x.text, " else ", y.text, " end"),
                   [ec, ex, ey](const RecordBatch& b, size_t r) -> RVal {
                     RVal cv = ec(b, r);
                     return cv && B(cv) ? ex(b, r) : ey(b, r);
                   }};
      }
      case 7:
        return Call(T::kInt, "length", {Make(T::kString, depth)},
                    [](const std::vector<RVal>& v) -> RVal {
                      if (!v[0]) return std::nullopt;
                      int64_t n = 0;
                      for (char c : S(v[0])) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
                      return n;
                    });
      default:
        return Call(T::kInt, "coalesce", {Make(T::kInt, depth), Make(T::kInt, depth)},
                    [](const std::vector<RVal>& v) -> RVal { return v[0] ? v[0] : v[1]; });
    }
  }

  Gen MakeFloat(int depth) {
    auto mixed = [&]() { return Make(Chance(0.3) ? T::kInt : T::kFloat, depth); };
    auto ensure_float = [&](Gen a, Gen b) {
      if (a.type == T::kInt && b.type == T::kInt) return std::make_pair(Make(T::kFloat, depth), b);
      return std::make_pair(a, b);
    };
    switch (Uniform(7)) {
      case 0: {
        auto [a, b] = ensure_float(mixed(), mixed());
        return Strict(T::kFloat, a, "+", b,
                      [](const RVal& x, const RVal& y) -> RVal { return F(x) + F(y); });
      }
      case 1: {
        auto [a, b] = ensure_float(mixed(), mixed());
        return Strict(T::kFloat, a, "-", b,
                      [](const RVal& x, const RVal& y) -> RVal { return F(x) - F(y); });
      }
      case 2: {
        auto [a, b] = ensure_float(mixed(), mixed());
        return Strict(T::kFloat, a, "*", b,
                      [](const RVal& x, const RVal& y) -> RVal { return F(x) * F(y); });
      }
      case 3: {
        auto [a, b] = ensure_float(mixed(), mixed());
        return Strict(T::kFloat, a, "/", b, [](const RVal& x, const RVal& y) -> RVal {
          if (F(y) == 0) return std::nullopt;
          return F(x) / F(y);
        });
      }
      case 4:
        return Call(T::kFloat, "abs", {Make(T::kFloat, depth)},
                    [](const std::vector<RVal>& v) -> RVal {
                      if (!v[0]) return std::nullopt;
                      return std::fabs(F(v[0]));
                    });
      case 5:
        return Call(T::kFloat, "floor", {Make(T::kFloat, depth)},
                    [](const std::vector<RVal>& v) -> RVal {
                      if (!v[0]) return std::nullopt;
                      return std::floor(F(v[0]));
                    });
      default: {
        Gen a = Make(T::kInt, depth);
        auto ea = a.eval;
        return Gen{T::kFloat, absl::StrCat("cast(", a.text, " as float64)"),
                   [ea](const RecordBatch& b, size_t r) -> RVal {
                     RVal v = ea(b, r);
                     if (!v) return std::nullopt;
                     return static_cast<double>(I(v));
                   }};
      }
    }
  }

  template <class X>
  static RVal CompareOp(const std::string& op, const X& a, const X& b) {
    if (op == "=") return a == b;
    if (op == "<>") return a != b;
    if (op == "<") return a < b;
    if (op == "<=") return a <= b;
    if (op == ">") return a > b;
    return a >= b;
  }

  Gen MakeBool(int depth) {
    static const char* kOps[] = {"=", "<>", "<", "<=", ">", ">="};
    switch (Uniform(10)) {
      case 0: {  // numeric comparison, possibly mixed int/float
        std::string op = kOps[Uniform(6)];
        Gen a = Make(Chance(0.5) ? T::kInt : T::kFloat, depth);
        Gen b = Make(Chance(0.5) ? T::kInt : T::kFloat, depth);
        bool both_int = a.type == T::kInt && b.type == T::kInt;
        return Strict(T::kBool, a, op.c_str(), b, [op, both_int](const RVal& x, const RVal& y) {
          return both_int ? CompareOp(op, I(x), I(y)) : CompareOp(op, F(x), F(y));
        });
      }
      case 1: {
        std::string op = kOps[Uniform(6)];
        return Strict(T::kBool, Make(T::kString, depth), op.c_str(), Make(T::kString, depth),
                      [op](const RVal& x, const RVal& y) { return CompareOp(op, S(x), S(y)); });
      }
      case 2:
        return Binary(T::kBool, Make(T::kBool, depth), "and", Make(T::kBool, depth),
                      [](const RVal& x, const RVal& y) -> RVal {
                        if ((x && !B(x)) || (y && !B(y))) return false;
                        if (!x || !y) return std::nullopt;
                        return true;
                      });
      case 3:
        return Binary(T::kBool, Make(T::kBool, depth), "or", Make(T::kBool, depth),
                      [](const RVal& x, const RVal& y) -> RVal {
                        if ((x && B(x)) || (y && B(y))) return true;
                        if (!x || !y) return std::nullopt;
                        return false;
                      });
      case 4: {
        Gen a = Make(T::kBool, depth);
        auto ea = a.eval;
        return Gen{T::kBool, absl::StrCat("(not ", a.text, ")"),
                   [ea](const RecordBatch& b, size_t r) -> RVal {
                     RVal v = ea(b, r);
                     if (!v) return std::nullopt;
                     return !B(v);
                   }};
      }
      case 5: {
        T t = static_cast<T>(Uniform(4));
        Gen a = Make(t, depth);
        bool negated = Chance(0.5);
        auto ea = a.eval;
        return Gen{T::kBool, absl::StrCat("(", a.text, negated ? " is not null)" : " is null)"),
                   [ea, negated](const RecordBatch& b, size_t r) -> RVal {
                     return ea(b, r).has_value() == negated;
                   }};
      }
      case 6: {  // x [not] in (literals, maybe null)
        Gen x = Make(T::kInt, depth);
        std::vector<std::optional<int64_t>> items;
        std::vector<std::string> texts;
        size_t n = 1 + Uniform(12);  // more than 8 items are binary-searched
        for (size_t k = 0; k < n; ++k) {
          if (Chance(0.15)) {
            items.push_back(std::nullopt);
            texts.push_back("null");
          } else {
            int64_t v = static_cast<int64_t>(Uniform(9)) - 4;
            items.push_back(v);
            texts.push_back(absl::StrCat(v));
          }
        }
        bool negated = Chance(0.3);
        auto ex = x.eval;
        return Gen{T::kBool,
                   absl::StrCat("(", x.text, negated ? " not in (" : " in (",
                                absl::StrJoin(texts, ", "), "))"),
                   [ex, items, negated](const RecordBatch& b, size_t r) -> RVal {
                     RVal v = ex(b, r);
                     if (!v) return std::nullopt;
                     bool any_null = false;
                     for (const auto& it : items) {
                       if (!it) {
                         any_null = true;
                       } else if (*it == I(v)) {
                         return !negated;
                       }
                     }
                     if (any_null) return std::nullopt;
                     return negated;
                   }};
      }
      case 7: {  // x between lo and hi
        Gen x = Make(T::kInt, depth), lo = Make(T::kInt, depth), hi = Make(T::kInt, depth);
        auto ex = x.eval, el = lo.eval, eh = hi.eval;
        return Gen{T::kBool, absl::StrCat("(", x.text, " between ", lo.text, " and ", hi.text, ")"),
                   [ex, el, eh](const RecordBatch& b, size_t r) -> RVal {
                     RVal v = ex(b, r), l = el(b, r), h = eh(b, r);
                     RVal ge = v && l ? RVal(I(v) >= I(l)) : std::nullopt;
                     RVal le = v && h ? RVal(I(v) <= I(h)) : std::nullopt;
                     if ((ge && !B(ge)) || (le && !B(le))) return false;
                     if (!ge || !le) return std::nullopt;
                     return true;
                   }};
      }
      case 8: {  // like with a literal pattern
        static const char* kPatterns[] = {"%", "a%", "%a", "%a%", "_", "__", "h_llo", "%\\%%",
                                          "a_%", "", "NL", "%b%"};
        std::string p = kPatterns[Uniform(12)];
        Gen a = Make(T::kString, depth);
        auto ea = a.eval;
        // The reference matcher has no escapes; '%\%%' (contains a literal %) is special-cased.
        return Gen{T::kBool, absl::StrCat("(", a.text, " like '", p, "')"),
                   [ea, p](const RecordBatch& b, size_t r) -> RVal {
                     RVal v = ea(b, r);
                     if (!v) return std::nullopt;
                     if (p == "%\\%%") return S(v).find('%') != std::string::npos;
                     return RefLike(S(v), 0, p, 0);
                   }};
      }
      default: {
        bool starts = Chance(0.5);
        return Call(T::kBool, starts ? "starts_with" : "contains",
                    {Make(T::kString, depth), Make(T::kString, depth)},
                    [starts](const std::vector<RVal>& v) -> RVal {
                      if (!v[0] || !v[1]) return std::nullopt;
                      size_t at = S(v[0]).find(S(v[1]));
                      return starts ? at == 0 : at != std::string::npos;
                    });
      }
    }
  }

  Gen MakeString(int depth) {
    switch (Uniform(6)) {
      case 0: {
        bool lower = Chance(0.5);
        return Call(T::kString, lower ? "lower" : "upper", {Make(T::kString, depth)},
                    [lower](const std::vector<RVal>& v) -> RVal {
                      if (!v[0]) return std::nullopt;
                      std::string s = S(v[0]);
                      for (char& c : s) {
                        if (lower && c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
                        if (!lower && c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
                      }
                      return s;
                    });
      }
      case 1:
        return Strict(T::kString, Make(T::kString, depth), "||", Make(T::kString, depth),
                      [](const RVal& a, const RVal& b) -> RVal { return S(a) + S(b); });
      case 2: {
        Gen s = Make(T::kString, depth);
        int64_t start = static_cast<int64_t>(Uniform(7)) - 3;
        int64_t len = static_cast<int64_t>(Uniform(4));
        auto es = s.eval;
        return Gen{T::kString,
                   absl::StrCat("substr(", s.text, ", ", start < 0 ? "(" : "", start,
                                start < 0 ? ")" : "", ", ", len, ")"),
                   [es, start, len](const RecordBatch& b, size_t r) -> RVal {
                     RVal v = es(b, r);
                     if (!v) return std::nullopt;
                     // Split into characters, then pick.
                     std::vector<std::string> chars;
                     const std::string& str = S(v);
                     for (size_t i = 0; i < str.size();) {
                       size_t n = Utf8Step(str, i);
                       chars.push_back(str.substr(i, n));
                       i += n;
                     }
                     int64_t count = static_cast<int64_t>(chars.size());
                     int64_t begin = start > 0 ? start - 1 : start == 0 ? 0 : count + start;
                     begin = std::clamp<int64_t>(begin, 0, count);
                     int64_t end = std::min(count, begin + len);
                     std::string out;
                     for (int64_t i = begin; i < end; ++i) out += chars[i];
                     return out;
                   }};
      }
      case 3:
        return Call(T::kString, "trim", {Make(T::kString, depth)},
                    [](const std::vector<RVal>& v) -> RVal {
                      if (!v[0]) return std::nullopt;
                      std::string s = S(v[0]);
                      size_t b = s.find_first_not_of(" \t\n\r\f\v");
                      if (b == std::string::npos) return std::string();
                      size_t e = s.find_last_not_of(" \t\n\r\f\v");
                      return s.substr(b, e - b + 1);
                    });
      case 4: {
        Gen c = Make(T::kBool, depth), x = Make(T::kString, depth);
        auto ec = c.eval, ex = x.eval;
        return Gen{T::kString, absl::StrCat("if(", c.text, ", ", x.text, ", 'no')"),
                   [ec, ex](const RecordBatch& b, size_t r) -> RVal {
                     RVal cv = ec(b, r);
                     return cv && B(cv) ? ex(b, r) : RVal(std::string("no"));
                   }};
      }
      default: {
        Gen a = Make(T::kInt, depth);
        auto ea = a.eval;
        return Gen{T::kString, absl::StrCat("cast(", a.text, " as string)"),
                   [ea](const RecordBatch& b, size_t r) -> RVal {
                     RVal v = ea(b, r);
                     if (!v) return std::nullopt;
                     return absl::StrCat(I(v));
                   }};
      }
    }
  }

  std::mt19937_64 rng_;
};

// Deterministic: one fixed seed. SLUICE_EXPR_PROPERTY_ROUNDS=N also runs seeds 1..N-1, to
// explore when changing the language.
void CheckRandomExpressions(uint64_t seed);

TEST(ExprPropertyTest, CompiledTreeAgreesWithReferenceInterpreter) {
  CheckRandomExpressions(20261128);
  const char* rounds = std::getenv("SLUICE_EXPR_PROPERTY_ROUNDS");
  for (int seed = 1; rounds != nullptr && seed < std::atoi(rounds); ++seed) {
    SCOPED_TRACE(absl::StrCat("seed ", seed));
    CheckRandomExpressions(seed);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

void CheckRandomExpressions(uint64_t seed) {
  SchemaPtr schema = RandomExprs::MakeSchema();
  RandomExprs gen(seed);
  std::vector<RecordBatch> batches;
  for (size_t rows : {0, 1, 7, 100}) batches.push_back(gen.MakeRandomBatch(schema, rows));
  int checked = 0;
  for (int i = 0; i < 3000; ++i) {
    T type = static_cast<T>(i % 4);
    Gen g = gen.Make(type, 1 + i % 5);
    CompileError error;
    auto compiled = Compile(g.text, *schema, &error);
    ASSERT_TRUE(compiled.ok()) << g.text << ": " << compiled.status() << " at " << error.offset;
    for (const RecordBatch& batch : batches) {
      Column out((*compiled)->result_type());
      ASSERT_TRUE((*compiled)->Evaluate(batch, &out).ok());
      ASSERT_EQ(out.size(), batch.num_rows());
      std::vector<uint8_t> keep;
      if (type == T::kBool) {
        ASSERT_TRUE((*compiled)->EvaluatePredicate(batch, &keep).ok());
      }
      for (size_t r = 0; r < batch.num_rows(); ++r) {
        RVal want = g.eval(batch, r);
        RVal got = FromColumn(out, r);
        ASSERT_TRUE(SameValue(want, got))
            << g.text << "\nrow " << r << ": " << batch.RowToString(r) << "\nwant " << Show(want)
            << " got " << Show(got);
        if (type == T::kBool) {
          ASSERT_EQ(keep[r], want.has_value() && std::get<bool>(*want) ? 1 : 0)
              << "EvaluatePredicate of " << g.text << "\nrow " << r << ": "
              << batch.RowToString(r);
        }
      }
    }
    ++checked;
  }
  EXPECT_EQ(checked, 3000);
}

}  // namespace
}  // namespace sluice::expr
