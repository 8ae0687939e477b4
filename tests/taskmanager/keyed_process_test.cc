// The keyed process function API: a user function (per-key 10 s tumbling counts written by
// hand with map state and event-time timers) through the operator, on random out-of-order
// streams with late events and watermarks in between, against brute-force counts. And the
// JobBuilder places it in a job graph, hash-partitioned by its key. Processing-time timers
// fire on the task's (here a manual) clock.
#include <algorithm>
#include <climits>
#include <map>
#include <random>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/clock.h"
#include "common/jobgraph/job_builder.h"
#include "gtest/gtest.h"
#include "taskmanager/operators/keyed_process_function.h"
#include "tests/taskmanager/operator_test_util.h"

namespace sluice::taskmanager {
namespace {

using types::RecordBatch;
using types::TypeId;

constexpr int64_t kWindow = 10'000'000;  // µs
const types::Schema kInput({{"user", TypeId::kInt64}, {"ts", TypeId::kTimestamp}});
const types::Schema kOutput({{"user", TypeId::kInt64}, {"window_end", TypeId::kTimestamp},
                             {"n", TypeId::kInt64}});

// Counts each key's records per 10 s window and emits (user, window_end, n) when the
// watermark passes the window; records for a window that already fired are ignored.
class WindowCounter : public KeyedProcessFunction {
 public:
  absl::Status Open(state::KeyedStateBackend& backend) override {
    state::StateDescriptor d;
    d.name = "counter.counts";
    d.kind = state::StateKind::kMap;
    absl::StatusOr<state::MapState*> counts = backend.GetMapState(d);
    if (!counts.ok()) return counts.status();
    counts_ = *counts;
    return absl::OkStatus();
  }
  absl::Status ProcessElement(const RecordBatch& batch, size_t row, Context& ctx) override {
    const int64_t ts = batch.column(1).Int(row);
    const int64_t end = ts - (((ts % kWindow) + kWindow) % kWindow) + kWindow;
    if (end - 1 <= ctx.watermark()) return absl::OkStatus();  // fired already
    const std::string key = std::to_string(end);
    std::string value;
    absl::StatusOr<bool> found = counts_->Get(key, &value);
    if (!found.ok()) return found.status();
    const int64_t n = (*found ? std::stoll(value) : 0) + 1;
    if (absl::Status s = counts_->Put(key, std::to_string(n)); !s.ok()) return s;
    return ctx.RegisterTimer(end - 1);
  }
  absl::Status OnTimer(int64_t time, Context& ctx) override {
    const std::string key = std::to_string(time + 1);
    std::string value;
    absl::StatusOr<bool> found = counts_->Get(key, &value);
    if (!found.ok() || !*found) return found.status();
    if (absl::Status s = ctx.AppendKey(); !s.ok()) return s;  // user
    ctx.output().mutable_column(1).AppendInt(time + 1);
    ctx.output().mutable_column(2).AppendInt(std::stoll(value));
    if (absl::Status s = counts_->Remove(key); !s.ok()) return s;
    return ctx.Emit();
  }

 private:
  state::MapState* counts_ = nullptr;
};

proto::OperatorSpec Spec() {
  proto::OperatorSpec spec;
  spec.set_name("counter");
  spec.mutable_user()->set_registered_name("window_counter");
  (*spec.mutable_user()->mutable_options())["key_by"] = "user";
  *spec.mutable_input_schema() = kInput.ToProto();
  *spec.mutable_output_schema() = kOutput.ToProto();
  return spec;
}

TEST(KeyedProcessTest, TimersAndStateMatchBruteForceCounts) {
  for (uint64_t seed : {1, 2, 3}) {
    SCOPED_TRACE(absl::StrCat("seed ", seed));
    auto op = MakeKeyedProcessOperator(Spec(), std::make_unique<WindowCounter>());
    ASSERT_TRUE(op.ok()) << op.status();
    OperatorContext ctx;
    ASSERT_TRUE((*op)->Open(ctx).ok());
    testing::RowCollector out;
    std::mt19937_64 rng(seed);
    std::map<std::pair<int64_t, int64_t>, int64_t> want;  // (user, window end) -> n
    int64_t wm = INT64_MIN, max_ts = INT64_MIN, now = 1'000'000'000'000'000;
    for (int b = 0; b < 200; ++b) {
      RecordBatch batch(std::make_shared<const types::Schema>(kInput));
      const int rows = 1 + static_cast<int>(rng() % 20);
      for (int i = 0; i < rows; ++i) {
        now += static_cast<int64_t>(rng() % 300'000);
        int64_t ts = now - static_cast<int64_t>(rng() % 3'000'000);
        if (rng() % 20 == 0) ts -= 40'000'000;  // late
        const int64_t user = static_cast<int64_t>(rng() % 6);
        batch.mutable_column(0).AppendInt(user);
        batch.mutable_column(1).AppendInt(ts);
        max_ts = std::max(max_ts, ts);
        const int64_t end = ts - (((ts % kWindow) + kWindow) % kWindow) + kWindow;
        if (end - 1 > wm) ++want[{user, end}];
      }
      batch.SetNumRows(rows);
      absl::Status s = (*op)->ProcessBatch(0, batch, out);
      ASSERT_TRUE(s.ok()) << s;
      if (rng() % 3 == 0) {
        wm = std::max(wm, max_ts - 3'000'000);
        s = (*op)->ProcessWatermark(wm, out);
        ASSERT_TRUE(s.ok()) << s;
      }
    }
    absl::Status s = (*op)->ProcessWatermark(INT64_MAX, out);
    ASSERT_TRUE(s.ok()) << s;
    std::vector<std::string> expected;
    for (const auto& [key, n] : want) {
      RecordBatch row(std::make_shared<const types::Schema>(kOutput));
      row.mutable_column(0).AppendInt(key.first);
      row.mutable_column(1).AppendInt(key.second);
      row.mutable_column(2).AppendInt(n);
      row.SetNumRows(1);
      expected.push_back(row.RowToString(0));
    }
    std::vector<std::string> got = out.rows;
    std::sort(got.begin(), got.end());
    std::sort(expected.begin(), expected.end());
    EXPECT_GT(expected.size(), 20u);
    EXPECT_EQ(got, expected);
  }
}

// An inactivity alert on processing time: every event of a user (re)arms a timer 1 s later on
// the task's clock; when it fires, the function emits (user, the timer's time, events seen).
class InactivityAlert : public KeyedProcessFunction {
 public:
  absl::Status Open(state::KeyedStateBackend& backend) override {
    state::StateDescriptor d;
    d.name = "alert.state";
    d.kind = state::StateKind::kValue;
    absl::StatusOr<state::ValueState*> last = backend.GetValueState(d);
    if (!last.ok()) return last.status();
    state_ = *last;
    return absl::OkStatus();
  }
  absl::Status ProcessElement(const RecordBatch&, size_t, Context& ctx) override {
    std::string value;
    absl::StatusOr<bool> found = state_->Get(&value);
    if (!found.ok()) return found.status();
    auto [n, timer] = Parse(*found ? value : "0 0");
    if (*found) {
      if (absl::Status s = ctx.DeleteProcessingTimer(timer); !s.ok()) return s;
    }
    timer = ctx.current_processing_time() + 1000;
    if (absl::Status s = state_->Put(absl::StrCat(n + 1, " ", timer)); !s.ok()) return s;
    return ctx.RegisterProcessingTimer(timer);
  }
  absl::Status OnTimer(int64_t time, Context& ctx) override {
    if (ctx.timer_domain() != state::TimeDomain::kProcessingTime) {
      return absl::InternalError("an event-time timer fired");
    }
    std::string value;
    absl::StatusOr<bool> found = state_->Get(&value);
    if (!found.ok() || !*found) return found.status();
    if (absl::Status s = ctx.AppendKey(); !s.ok()) return s;
    ctx.output().mutable_column(1).AppendInt(time * 1000);  // ms -> µs timestamp
    ctx.output().mutable_column(2).AppendInt(Parse(value).first);
    if (absl::Status s = state_->Clear(); !s.ok()) return s;
    return ctx.Emit();
  }

 private:
  // The state "<events> <timer>".
  static std::pair<int64_t, int64_t> Parse(const std::string& value) {
    std::pair<std::string, std::string> parts = absl::StrSplit(value, ' ');
    std::pair<int64_t, int64_t> out{0, 0};
    EXPECT_TRUE(absl::SimpleAtoi(parts.first, &out.first) &&
                absl::SimpleAtoi(parts.second, &out.second))
        << value;
    return out;
  }

  state::ValueState* state_ = nullptr;
};

TEST(KeyedProcessTest, ProcessingTimeTimersFireOnTheTasksClock) {
  auto op = MakeKeyedProcessOperator(Spec(), std::make_unique<InactivityAlert>());
  ASSERT_TRUE(op.ok()) << op.status();
  ManualClock clock(5'000);
  OperatorContext ctx;
  ctx.clock = &clock;
  ASSERT_TRUE((*op)->Open(ctx).ok());
  testing::RowCollector out;
  auto events = [&](std::vector<int64_t> users) {
    RecordBatch batch(std::make_shared<const types::Schema>(kInput));
    for (int64_t user : users) {
      batch.mutable_column(0).AppendInt(user);
      batch.mutable_column(1).AppendInt(0);
    }
    batch.SetNumRows(users.size());
    absl::Status s = (*op)->ProcessBatch(0, batch, out);
    ASSERT_TRUE(s.ok()) << s;
  };
  events({1, 2});                                      // timers at 6000 for users 1 and 2
  EXPECT_EQ((*op)->NextProcessingTime(), 6'000);
  clock.Advance(500);
  events({1});                                         // user 1 re-armed to 6500
  clock.Advance(499);                                  // 5999: nothing due
  ASSERT_TRUE((*op)->ProcessProcessingTime(clock.NowMillis(), out).ok());
  EXPECT_TRUE(out.rows.empty());
  clock.Advance(1);                                    // 6000: user 2
  ASSERT_TRUE((*op)->ProcessProcessingTime(clock.NowMillis(), out).ok());
  ASSERT_EQ(out.rows.size(), 1u);
  EXPECT_EQ(out.rows[0], "user=2, window_end=1970-01-01T00:00:06.000000Z, n=1");
  EXPECT_EQ((*op)->NextProcessingTime(), 6'500);
  // Watermarks do not fire processing-time timers.
  ASSERT_TRUE((*op)->ProcessWatermark(INT64_MAX, out).ok());
  EXPECT_EQ(out.rows.size(), 1u);
  clock.Advance(600);                                  // 6600: user 1, its two events
  ASSERT_TRUE((*op)->ProcessProcessingTime(clock.NowMillis(), out).ok());
  ASSERT_EQ(out.rows.size(), 2u);
  EXPECT_EQ(out.rows[1], "user=1, window_end=1970-01-01T00:00:06.500000Z, n=2");
  EXPECT_EQ((*op)->NextProcessingTime(), std::nullopt);
}

TEST(KeyedProcessTest, JobBuilderPlacesItOnAKeyedStream) {
  jobgraph::JobBuilder b("counts");
  jobgraph::DatagenOptions source;
  source.count = 100;
  source.watermark = jobgraph::WatermarkOptions{"ts", "1s", ""};
  b.Datagen("events", kInput, source);
  b.KeyedProcess("counter", "events", {"user"}, "window_counter", kOutput, {{"limit", "5"}});
  b.PrintSink("out", "counter");
  absl::StatusOr<proto::JobGraph> graph = b.Build();
  ASSERT_TRUE(graph.ok()) << graph.status();
  ASSERT_EQ(graph->vertices_size(), 2);
  const proto::OperatorSpec& user = graph->vertices(1).chain(0);
  EXPECT_EQ(user.user().registered_name(), "window_counter");
  EXPECT_EQ(user.user().options().at("key_by"), "user");
  EXPECT_EQ(user.user().options().at("limit"), "5");
  EXPECT_EQ(graph->edges(0).partitioning(), proto::HASH);

  jobgraph::JobBuilder bad("bad");
  bad.Datagen("events", kInput, source);
  bad.KeyedProcess("counter", "events", {"usr"}, "window_counter", kOutput);
  bad.PrintSink("out", "counter");
  EXPECT_EQ(std::string(bad.Build().status().message()),
            "node 'counter': unknown key column 'usr' (did you mean 'user'?)");
}

}  // namespace
}  // namespace sluice::taskmanager
