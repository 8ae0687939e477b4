// The join operator against a brute-force reference: random out-of-order streams on both
// sides (seeded), some rows late, fed in random batches with watermarks in between. Interval
// join: the reference is every pair of on-time rows (after the watermark when they arrive)
// with equal keys and lower <= right.time - left.time <= upper (plus, for a left join, every
// on-time left row without one, with nulls). Window join: every pair of rows with equal keys
// in a window that had not fired when either arrived, once per such window. The operator's
// rows must be the same multiset, its late count the reference's, and no row may stay
// buffered at the end of event time.
#include <algorithm>
#include <climits>
#include <random>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "taskmanager/operators/join_operator.h"
#include "tests/taskmanager/operator_test_util.h"

namespace sluice::taskmanager {
namespace {

using types::RecordBatch;
using types::TypeId;

using VectorCollector = ::sluice::taskmanager::testing::RowCollector;

const types::Schema kLeft({{"k", TypeId::kInt64}, {"v", TypeId::kInt64}, {"ts", TypeId::kTimestamp}});
const types::Schema kRight({{"k", TypeId::kInt64}, {"v", TypeId::kInt64}, {"ts", TypeId::kTimestamp}});
// The right input is named "pay": its v and ts clash with the left's and are renamed.
const types::Schema kOutput({{"k", TypeId::kInt64}, {"v", TypeId::kInt64}, {"ts", TypeId::kTimestamp},
                             {"pay_v", TypeId::kInt64}, {"pay_ts", TypeId::kTimestamp}});

struct JoinParams {
  std::string name;
  int64_t lower = 0, upper = 0;  // µs
  std::string type = "inner";
  int64_t window_size = 0, window_slide = 0;  // > 0: a window join
};

proto::OperatorSpec JoinSpecOf(const JoinParams& p) {
  proto::OperatorSpec spec;
  spec.set_name("joined");
  auto* j = spec.mutable_join();
  j->add_key_columns("k");
  j->set_lower_us(p.lower);
  j->set_upper_us(p.upper);
  j->set_type(p.type);
  j->set_left_time_column("ts");
  j->set_right_time_column("ts");
  *j->mutable_right_schema() = kRight.ToProto();
  if (p.window_size > 0) {
    j->mutable_window()->set_kind(p.window_slide == p.window_size ? "tumble" : "slide");
    j->mutable_window()->set_size_us(p.window_size);
    j->mutable_window()->set_slide_us(p.window_slide);
  }
  *spec.mutable_input_schema() = kLeft.ToProto();
  *spec.mutable_output_schema() = kOutput.ToProto();
  return spec;
}

struct Row {
  int side;
  int64_t k, v, ts;
  int64_t watermark = INT64_MIN;  // when it arrived
};

// The window starts (windows not fired when the row arrived) of a row in a window join.
std::vector<int64_t> OpenWindows(const JoinParams& p, const Row& r) {
  std::vector<int64_t> starts;
  int64_t last = r.ts - (((r.ts % p.window_slide) + p.window_slide) % p.window_slide);
  for (int64_t start = last; start > r.ts - p.window_size; start -= p.window_slide) {
    if (start + p.window_size - 1 > r.watermark) starts.push_back(start);
  }
  return starts;
}

std::string OutputRow(const Row& l, const Row* r) {
  RecordBatch b(std::make_shared<const types::Schema>(kOutput));
  b.mutable_column(0).AppendInt(l.k);
  b.mutable_column(1).AppendInt(l.v);
  b.mutable_column(2).AppendInt(l.ts);
  if (r != nullptr) {
    b.mutable_column(3).AppendInt(r->v);
    b.mutable_column(4).AppendInt(r->ts);
  } else {
    b.mutable_column(3).AppendNull();
    b.mutable_column(4).AppendNull();
  }
  b.SetNumRows(1);
  return b.RowToString(0);
}

RecordBatch BatchOf(const std::vector<Row>& rows, const types::Schema& schema) {
  RecordBatch b(std::make_shared<const types::Schema>(schema));
  for (const Row& r : rows) {
    b.mutable_column(0).AppendInt(r.k);
    b.mutable_column(1).AppendInt(r.v);
    b.mutable_column(2).AppendInt(r.ts);
  }
  b.SetNumRows(rows.size());
  return b;
}

class JoinTest : public ::testing::TestWithParam<JoinParams> {};

TEST_P(JoinTest, MatchesBruteForceOnRandomOutOfOrderStreams) {
  const JoinParams p = GetParam();
  constexpr int64_t kDelay = 3'000'000;  // rows arrive up to 3 s out of order
  for (uint64_t seed : {1, 2, 3}) {
    SCOPED_TRACE(absl::StrCat("seed ", seed));
    std::mt19937_64 rng(seed);
    auto op = JoinOperator::Create(JoinSpecOf(p));
    ASSERT_TRUE(op.ok()) << op.status();
    OperatorContext ctx;
    ASSERT_TRUE((*op)->Open(ctx).ok());
    VectorCollector out;
    std::vector<Row> on_time[2];
    int64_t late = 0, wm = INT64_MIN, max_ts = INT64_MIN, now = 1'000'000'000'000'000;
    for (int batch = 0; batch < 300; ++batch) {
      const int side = static_cast<int>(rng() % 2);
      std::vector<Row> rows;
      const int n = 1 + static_cast<int>(rng() % 12);
      for (int i = 0; i < n; ++i) {
        now += static_cast<int64_t>(rng() % 400'000);
        int64_t ts = now - static_cast<int64_t>(rng() % kDelay);
        if (rng() % 25 == 0) ts -= 20'000'000;  // far behind: late
        rows.push_back(Row{side, static_cast<int64_t>(rng() % 5), static_cast<int64_t>(rng() % 1000), ts});
        max_ts = std::max(max_ts, ts);
      }
      for (Row& r : rows) {
        r.watermark = wm;
        const bool is_late = p.window_size > 0 ? OpenWindows(p, r).empty() : r.ts <= wm;
        if (is_late) ++late;
        else on_time[side].push_back(r);
      }
      RecordBatch b = BatchOf(rows, side == 0 ? kLeft : kRight);
      absl::Status processed = (*op)->ProcessBatch(side, b, out);
      ASSERT_TRUE(processed.ok()) << processed;
      if (rng() % 3 == 0) {
        wm = std::max(wm, max_ts - kDelay);
        ASSERT_TRUE((*op)->ProcessWatermark(wm, out).ok());
      }
    }
    ASSERT_TRUE((*op)->ProcessWatermark(INT64_MAX, out).ok());

    std::vector<std::string> want;
    for (const Row& l : on_time[0]) {
      if (p.window_size == 0) continue;
      for (const Row& r : on_time[1]) {
        if (r.k != l.k) continue;
        for (int64_t lw : OpenWindows(p, l)) {
          for (int64_t rw : OpenWindows(p, r)) {
            if (lw == rw) want.push_back(OutputRow(l, &r));
          }
        }
      }
    }
    for (const Row& l : on_time[0]) {
      if (p.window_size > 0) break;
      bool matched = false;
      for (const Row& r : on_time[1]) {
        if (r.k == l.k && r.ts - l.ts >= p.lower && r.ts - l.ts <= p.upper) {
          want.push_back(OutputRow(l, &r));
          matched = true;
        }
      }
      if (!matched && p.type == "left") want.push_back(OutputRow(l, nullptr));
    }
    std::vector<std::string> got = out.rows;
    std::sort(got.begin(), got.end());
    std::sort(want.begin(), want.end());
    EXPECT_GT(want.size(), 20u);  // the streams do join
    EXPECT_EQ(got.size(), want.size());
    EXPECT_EQ(got, want);
    EXPECT_GT(late, 0);
    EXPECT_EQ((*op)->late_records_dropped(), late);
    absl::StatusOr<int64_t> buffered = static_cast<JoinOperator*>(op->get())->NumBufferedRows();
    ASSERT_TRUE(buffered.ok()) << buffered.status();
    EXPECT_EQ(*buffered, 0);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Bounds, JoinTest,
    ::testing::Values(JoinParams{"within", -2'000'000, 2'000'000},
                      JoinParams{"asymmetric", -1'000'000, 5'000'000},
                      JoinParams{"right_before_left", -6'000'000, -1'000'000},
                      JoinParams{"left_outer", -2'000'000, 2'000'000, "left"},
                      JoinParams{"left_outer_asymmetric", 0, 4'000'000, "left"},
                      JoinParams{"window_tumble", 0, 0, "inner", 5'000'000, 5'000'000},
                      JoinParams{"window_slide", 0, 0, "inner", 6'000'000, 2'000'000}),
    [](const ::testing::TestParamInfo<JoinParams>& info) { return info.param.name; });

TEST(JoinOperatorTest, BadSpecsAreClearErrors) {
  proto::OperatorSpec spec = JoinSpecOf({"x", 0, 10, "full"});
  EXPECT_EQ(std::string(JoinOperator::Create(spec).status().message()),
            "operator 'joined': unknown join type 'full' (expected inner or left)");
  spec = JoinSpecOf({"x", 10, 0});
  EXPECT_EQ(std::string(JoinOperator::Create(spec).status().message()),
            "operator 'joined': the join's lower bound is after its upper bound");
  spec = JoinSpecOf({"x", 0, 0, "left", 10, 10});
  EXPECT_EQ(std::string(JoinOperator::Create(spec).status().message()),
            "operator 'joined': a window join is inner only");
  spec = JoinSpecOf({"x", 0, 10});
  spec.mutable_join()->set_right_time_column("v");
  EXPECT_EQ(std::string(JoinOperator::Create(spec).status().message()),
            "operator 'joined': join time column 'v' is not a timestamp column of (k int64, v "
            "int64, ts timestamp)");
}

}  // namespace
}  // namespace sluice::taskmanager
