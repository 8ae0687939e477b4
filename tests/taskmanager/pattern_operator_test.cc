// The CEP pattern operator against a brute-force reference: random out-of-order keyed event
// streams (seeded) with late events, fed in random batches with watermarks in between,
// through patterns with strict and relaxed contiguity, times, optional, one_or_more,
// not_next, not_followed_by, within and both skip strategies. The reference is written
// separately from the operator: conditions are C++ lambdas (not the expression language),
// each start event is followed on its own over the key's events in time order, and
// skip_past_last_event picks, round after round, the match that ends first. Every emitted row
// must match as a multiset, as must the late count; no state may remain at the end.
#include <algorithm>
#include <climits>
#include <functional>
#include <map>
#include <random>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "taskmanager/operators/pattern_operator.h"
#include "tests/taskmanager/operator_test_util.h"

namespace sluice::taskmanager {
namespace {

using types::RecordBatch;
using types::TypeId;

using VectorCollector = ::sluice::taskmanager::testing::RowCollector;

const types::Schema kInput({{"k", TypeId::kInt64}, {"v", TypeId::kInt64}, {"c", TypeId::kString},
                            {"ts", TypeId::kTimestamp}});

struct Ev {
  int64_t k, v;
  std::string c;
  int64_t ts, arrival;
};

// Per step of a match: the last event it took (null: none yet).
using Taken = std::vector<const Ev*>;

struct StepDef {
  std::string name, condition, after = "followed_by";
  int min = 1, max = 1;
  std::function<bool(const Ev&, const Taken&)> ref;  // the same condition, for the reference
};

struct PatternParams {
  std::string name;
  std::vector<StepDef> steps;
  int64_t within = 0;
  std::string skip = "no_skip";
};

// Emitted columns (after the key): the first and last steps' v, and the last event's c.
const types::Schema kOutput({{"k", TypeId::kInt64}, {"first_v", TypeId::kInt64},
                             {"last_v", TypeId::kInt64}, {"last_c", TypeId::kString}});

proto::OperatorSpec Spec(const PatternParams& p) {
  proto::OperatorSpec spec;
  spec.set_name("fraud");
  auto* pattern = spec.mutable_pattern();
  pattern->add_key_columns("k");
  for (const StepDef& s : p.steps) {
    auto* step = pattern->add_steps();
    step->set_name(s.name);
    step->set_condition(s.condition);
    step->set_after(s.after);
    step->set_min(s.min);
    step->set_max(s.max);
  }
  pattern->set_within_us(p.within);
  pattern->set_skip(p.skip);
  pattern->set_time_column("ts");
  for (auto [name, expr] : std::vector<std::pair<std::string, std::string>>{
           {"first_v", p.steps.front().name + ".v"}, {"last_v", p.steps.back().name + ".v"},
           {"last_c", "c"}}) {
    auto* e = pattern->add_emit();
    e->set_name(name);
    e->set_expr(expr);
  }
  *spec.mutable_input_schema() = kInput.ToProto();
  *spec.mutable_output_schema() = kOutput.ToProto();
  return spec;
}

bool Negative(const StepDef& s) { return s.after == "not_next" || s.after == "not_followed_by"; }

// Follows one partial match from events[start] (which the first step accepts) over the key's
// events in order; the index of the event completing it (`*match`: each step's last event),
// or -1.
int Follow(const PatternParams& p, const std::vector<Ev>& events, int start, Taken* match) {
  const int n = static_cast<int>(p.steps.size());
  Taken& taken = *match;
  taken.assign(n, nullptr);
  int pos = 0, count = 0, not_next = -1, not_followed = -1;
  bool skipped = false;
  auto next_positive = [&](int s) {
    int q = s + 1;
    for (; q < n && Negative(p.steps[q]); ++q) (p.steps[q].after == "not_next" ? not_next : not_followed) = q;
    return q;
  };
  auto take = [&](int s, const Ev& e) {
    not_followed = -1;
    if (s != pos) { pos = s; count = 0; }
    taken[s] = &e;
    ++count;
    skipped = false;
    if (p.steps[s].max >= 0 && count == p.steps[s].max) { pos = next_positive(s); count = 0; }
  };
  take(0, events[start]);
  if (pos == n) return start;
  for (int j = start + 1; j < static_cast<int>(events.size()); ++j) {
    const Ev& e = events[j];
    if (p.within > 0 && e.ts - events[start].ts > p.within) return -1;
    if (not_next >= 0) {
      const int g = not_next;
      not_next = -1;
      if (p.steps[g].ref(e, taken)) return -1;
    }
    if (not_followed >= 0 && p.steps[not_followed].ref(e, taken)) return -1;
    const StepDef& cur = p.steps[pos];
    bool took = false;
    if ((cur.max < 0 || count < cur.max) && (cur.after != "next" || !skipped) && cur.ref(e, taken)) {
      take(pos, e);
      took = true;
    } else if (count >= cur.min) {
      for (int q = pos + 1; q < n; ++q) {
        if ((p.steps[q].after != "next" || !skipped) && p.steps[q].ref(e, taken)) {
          take(q, e);
          took = true;
          break;
        }
        if (p.steps[q].min > 0) break;
      }
    }
    if (took) {
      if (pos == n) return j;
      continue;
    }
    skipped = true;
    const StepDef& now = p.steps[pos];
    bool can = (now.max < 0 || count < now.max) && now.after != "next";
    if (!can && count >= now.min) {
      for (int q = pos + 1; q < n; ++q) {
        if (p.steps[q].after != "next") { can = true; break; }
        if (p.steps[q].min > 0) break;
      }
    }
    if (!can) return -1;
  }
  return -1;
}

std::string RowOf(const PatternParams& p, const Taken& taken, const Ev& last) {
  RecordBatch b(std::make_shared<const types::Schema>(kOutput));
  b.mutable_column(0).AppendInt(last.k);
  b.mutable_column(1).AppendInt(taken.front()->v);
  b.mutable_column(2).AppendInt(taken.back()->v);
  b.mutable_column(3).AppendString(last.c);
  b.SetNumRows(1);
  return b.RowToString(0);
}

std::vector<std::string> Reference(const PatternParams& p, std::map<int64_t, std::vector<Ev>> by_key) {
  std::vector<std::string> rows;
  for (auto& [k, events] : by_key) {
    std::sort(events.begin(), events.end(), [](const Ev& a, const Ev& b) {
      return std::tie(a.ts, a.arrival) < std::tie(b.ts, b.arrival);
    });
    std::vector<int> end(events.size(), -1);
    std::vector<Taken> matches(events.size());
    for (size_t s = 0; s < events.size(); ++s) {
      if (p.steps[0].ref(events[s], Taken(p.steps.size(), nullptr))) {
        end[s] = Follow(p, events, static_cast<int>(s), &matches[s]);
      }
    }
    auto emit = [&](int s) { rows.push_back(RowOf(p, matches[s], events[end[s]])); };
    if (p.skip == "no_skip") {
      for (size_t s = 0; s < events.size(); ++s) if (end[s] >= 0) emit(static_cast<int>(s));
      continue;
    }
    int last_end = -1;
    while (true) {
      int best = -1;
      for (size_t s = last_end + 1; s < events.size(); ++s) {
        if (end[s] >= 0 && (best < 0 || end[s] < end[best])) best = static_cast<int>(s);
      }
      if (best < 0) break;
      emit(best);
      last_end = end[best];
    }
  }
  return rows;
}

class PatternDifferentialTest : public ::testing::TestWithParam<PatternParams> {};

TEST_P(PatternDifferentialTest, MatchesBruteForceOnRandomOutOfOrderStreams) {
  const PatternParams p = GetParam();
  constexpr int64_t kDelay = 2'000'000;
  const char* countries[] = {"NL", "DE", "XX"};
  for (uint64_t seed : {1, 2, 3}) {
    SCOPED_TRACE(absl::StrCat("seed ", seed));
    std::mt19937_64 rng(seed);
    auto op = PatternOperator::Create(Spec(p));
    ASSERT_TRUE(op.ok()) << op.status();
    OperatorContext ctx;
    ASSERT_TRUE((*op)->Open(ctx).ok());
    VectorCollector out;
    std::map<int64_t, std::vector<Ev>> on_time;
    int64_t late = 0, wm = INT64_MIN, max_ts = INT64_MIN, now = 1'000'000'000'000'000, arrival = 0;
    for (int batch = 0; batch < 150; ++batch) {
      RecordBatch b(std::make_shared<const types::Schema>(kInput));
      const int rows = 1 + static_cast<int>(rng() % 15);
      for (int i = 0; i < rows; ++i) {
        now += static_cast<int64_t>(rng() % 700'000);
        Ev e{static_cast<int64_t>(rng() % 4), static_cast<int64_t>(rng() % 100),
             countries[rng() % 3], now - static_cast<int64_t>(rng() % kDelay), arrival++};
        if (rng() % 30 == 0) e.ts -= 30'000'000;  // late
        max_ts = std::max(max_ts, e.ts);
        b.mutable_column(0).AppendInt(e.k);
        b.mutable_column(1).AppendInt(e.v);
        b.mutable_column(2).AppendString(e.c);
        b.mutable_column(3).AppendInt(e.ts);
        if (e.ts <= wm) ++late;
        else on_time[e.k].push_back(e);
      }
      b.SetNumRows(rows);
      absl::Status s = (*op)->ProcessBatch(0, b, out);
      ASSERT_TRUE(s.ok()) << s;
      if (rng() % 3 == 0) {
        wm = std::max(wm, max_ts - kDelay);
        s = (*op)->ProcessWatermark(wm, out);
        ASSERT_TRUE(s.ok()) << s;
      }
    }
    absl::Status s = (*op)->ProcessWatermark(INT64_MAX, out);
    ASSERT_TRUE(s.ok()) << s;
    std::vector<std::string> got = out.rows, want = Reference(p, on_time);
    std::sort(got.begin(), got.end());
    std::sort(want.begin(), want.end());
    EXPECT_GT(want.size(), 3u);  // the pattern does occur
    EXPECT_EQ(got.size(), want.size());
    EXPECT_EQ(got, want);
    EXPECT_EQ((*op)->late_records_dropped(), late);
    absl::StatusOr<int64_t> left = static_cast<PatternOperator*>(op->get())->NumStateEntries();
    ASSERT_TRUE(left.ok()) << left.status();
    if (p.within > 0) {
      EXPECT_EQ(*left, 0);  // without within, partial matches may wait forever
    }
  }
}

bool Small(const Ev& e, const Taken&) { return e.v < 10; }

INSTANTIATE_TEST_SUITE_P(
    Patterns, PatternDifferentialTest,
    ::testing::Values(
        // The fraud pattern: a small amount, then a big one from another country in 10 s.
        PatternParams{"fraud",
                      {{"small", "v < 10", "followed_by", 1, 1, Small},
                       {"big", "v > 90 and c <> small.c", "followed_by", 1, 1,
                        [](const Ev& e, const Taken& t) { return e.v > 90 && e.c != t[0]->c; }}},
                      10'000'000},
        PatternParams{"strict_skip_past",
                      {{"a", "v < 30", "followed_by", 1, 1, [](const Ev& e, const Taken&) { return e.v < 30; }},
                       {"b", "v > 60", "next", 1, 1, [](const Ev& e, const Taken&) { return e.v > 60; }}},
                      0, "skip_past_last_event"},
        PatternParams{"times_optional",
                      {{"a", "v < 25", "followed_by", 2, 2, [](const Ev& e, const Taken&) { return e.v < 25; }},
                       {"b", "v >= 40 and v <= 60", "followed_by", 0, 1,
                        [](const Ev& e, const Taken&) { return e.v >= 40 && e.v <= 60; }},
                       {"c", "v > 85", "followed_by", 1, 1, [](const Ev& e, const Taken&) { return e.v > 85; }}},
                      20'000'000},
        PatternParams{"one_or_more_then_next",
                      {{"a", "v > 60", "followed_by", 1, -1, [](const Ev& e, const Taken&) { return e.v > 60; }},
                       {"b", "v < 15", "next", 1, 1, [](const Ev& e, const Taken&) { return e.v < 15; }}},
                      15'000'000, "skip_past_last_event"},
        PatternParams{"not_followed_by",
                      {{"a", "v < 20", "followed_by", 1, 1, [](const Ev& e, const Taken&) { return e.v < 20; }},
                       {"n", "c = 'XX'", "not_followed_by", 1, 1, [](const Ev& e, const Taken&) { return e.c == "XX"; }},
                       {"b", "v > 80", "followed_by", 1, 1, [](const Ev& e, const Taken&) { return e.v > 80; }}},
                      15'000'000},
        PatternParams{"not_next",
                      {{"a", "v < 40", "followed_by", 1, 1, [](const Ev& e, const Taken&) { return e.v < 40; }},
                       {"n", "v >= 50 and v < 70", "not_next", 1, 1,
                        [](const Ev& e, const Taken&) { return e.v >= 50 && e.v < 70; }},
                       {"b", "v > 75 and v > a.v + 40", "followed_by", 1, 1,
                        [](const Ev& e, const Taken& t) { return e.v > 75 && e.v > t[0]->v + 40; }}},
                      8'000'000}),
    [](const ::testing::TestParamInfo<PatternParams>& info) { return info.param.name; });

TEST(PatternOperatorTest, BadSpecsAreClearErrors) {
  PatternParams p{"x", {{"a", "v < 10", "followed_by", 1, 1, Small}}};
  proto::OperatorSpec spec = Spec(p);
  spec.mutable_pattern()->set_skip("skip_all");
  EXPECT_EQ(std::string(PatternOperator::Create(spec).status().message()),
            "operator 'fraud': unknown skip strategy 'skip_all' (expected no_skip or "
            "skip_past_last_event)");
  spec = Spec(p);
  spec.mutable_pattern()->mutable_steps(0)->set_condition("v + 1");
  EXPECT_EQ(std::string(PatternOperator::Create(spec).status().message()),
            "operator 'fraud': step 'a': the condition is not a bool");
}

}  // namespace
}  // namespace sluice::taskmanager
