// Event time on a real cluster (JobManager + TaskManagers as processes, the real CLI):
// out-of-order events from a file source through tumble, slide and session windows at
// parallelism 4; every window row must equal a brute-force reference computed here from the
// same events. A second job reads a stream with clearly late events through a single source
// subtask (so which records are late does not depend on timing): they are dropped, counted
// in `sluice info`, and the rest still matches the reference; a third sends them to a
// window's late_output, read by a sink and a running aggregate. Bad event-time specs fail at
// submission with their YAML position.
#include <functional>
#include <map>
#include <random>
#include <set>

#include "common/types/timestamp.h"
#include "tests/integration/cluster_harness.h"

namespace sluice::testing {
namespace {

constexpr int64_t kMinute = 60'000'000;  // µs
constexpr int64_t kMaxDelayMs = 2000;

struct Event {
  int64_t user, amount, ts_ms;
  std::string item;
  bool late = false;
};

// Events ~50 ms apart over `users` users, each up to kMaxDelayMs early (on time for the
// watermark), with unique timestamps. Every `late_every`-th event after the first 6000
// (0 = none) is 30 minutes behind: later than any window's end.
std::vector<Event> MakeEvents(uint64_t seed, int n, int users, int late_every) {
  std::mt19937_64 rng(seed);
  std::vector<Event> events;
  std::set<int64_t> used;
  int64_t now = 1'795'000'000'000;  // ms
  const char* items[] = {"book", "lamp", "pen", "cup", "hat"};
  for (int i = 0; i < n; ++i) {
    now += static_cast<int64_t>(rng() % 100);
    Event e{static_cast<int64_t>(rng() % users), static_cast<int64_t>(rng() % 1000),
            now - static_cast<int64_t>(rng() % kMaxDelayMs), items[rng() % 5]};
    if (late_every > 0 && i >= 6000 && i % late_every == 0) {
      e.ts_ms = now - 30 * 60'000;
      e.late = true;
    }
    while (!used.insert(e.ts_ms).second) ++e.ts_ms;
    events.push_back(e);
  }
  return events;
}

std::string Jsonl(const std::vector<Event>& events) {
  std::string data;
  for (const Event& e : events) {
    data += "{\"user\":" + std::to_string(e.user) + ",\"amount\":" + std::to_string(e.amount) +
            ",\"item\":\"" + e.item + "\",\"ts\":" + std::to_string(e.ts_ms) + "}\n";
  }
  return data;
}

// One output row: "user|window_start|window_end|aggregates..." as strings.
using Rows = std::multiset<std::string>;

std::string Row(int64_t user, int64_t start_us, int64_t end_us, const std::vector<int64_t>& values) {
  std::string row = std::to_string(user) + "|" + types::FormatTimestamp(start_us) + "|" +
                    types::FormatTimestamp(end_us);
  for (int64_t v : values) row += "|" + std::to_string(v);
  return row;
}

// tumble 1m: n, total, hi, first_amount, items (count_distinct).
Rows TumbleReference(const std::vector<Event>& events) {
  struct Acc {
    int64_t n = 0, total = 0, hi = INT64_MIN, first_ts = INT64_MAX, first_amount = 0;
    std::set<std::string> items;
  };
  std::map<std::pair<int64_t, int64_t>, Acc> windows;
  for (const Event& e : events) {
    if (e.late) continue;
    const int64_t ts = e.ts_ms * 1000;
    Acc& a = windows[{e.user, ts - ts % kMinute}];
    ++a.n;
    a.total += e.amount;
    a.hi = std::max(a.hi, e.amount);
    if (ts < a.first_ts) {
      a.first_ts = ts;
      a.first_amount = e.amount;
    }
    a.items.insert(e.item);
  }
  Rows rows;
  for (const auto& [k, a] : windows) {
    rows.insert(Row(k.first, k.second, k.second + kMinute,
                    {a.n, a.total, a.hi, a.first_amount, static_cast<int64_t>(a.items.size())}));
  }
  return rows;
}

// slide 5m every 1m: n, total.
Rows SlideReference(const std::vector<Event>& events) {
  std::map<std::pair<int64_t, int64_t>, std::pair<int64_t, int64_t>> windows;
  for (const Event& e : events) {
    if (e.late) continue;
    const int64_t ts = e.ts_ms * 1000;
    for (int64_t start = ts - ts % kMinute; start > ts - 5 * kMinute; start -= kMinute) {
      auto& w = windows[{e.user, start}];
      ++w.first;
      w.second += e.amount;
    }
  }
  Rows rows;
  for (const auto& [k, w] : windows) {
    rows.insert(Row(k.first, k.second, k.second + 5 * kMinute, {w.first, w.second}));
  }
  return rows;
}

// session gap 3s: n, total. Sessions are the maximal runs of a user's events (in time
// order) whose [ts, ts + gap) intervals touch.
Rows SessionReference(const std::vector<Event>& events, int64_t gap_us) {
  std::map<int64_t, std::vector<std::pair<int64_t, int64_t>>> by_user;  // (ts, amount)
  for (const Event& e : events) {
    if (!e.late) by_user[e.user].emplace_back(e.ts_ms * 1000, e.amount);
  }
  Rows rows;
  for (auto& [user, list] : by_user) {
    std::sort(list.begin(), list.end());
    size_t i = 0;
    while (i < list.size()) {
      int64_t start = list[i].first, end = list[i].first + gap_us, n = 0, total = 0;
      while (i < list.size() && list[i].first <= end) {
        end = std::max(end, list[i].first + gap_us);
        ++n;
        total += list[i].second;
        ++i;
      }
      rows.insert(Row(user, start, end, {n, total}));
    }
  }
  return rows;
}

// Calls `fn` with every JSON row of the part files in `dir`.
void ForEachJsonRow(const std::filesystem::path& dir, const std::function<void(const nlohmann::json&)>& fn) {
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path());
    std::string line;
    while (std::getline(in, line)) fn(nlohmann::json::parse(line));
  }
}

// A JSON value as compared text: strings bare, null as "null".
std::string Text(const nlohmann::json& v) {
  return v.is_null() ? std::string("null") : v.is_string() ? v.get<std::string>() : v.dump();
}

Rows ReadRows(const std::filesystem::path& dir, const std::vector<std::string>& values) {
  Rows rows;
  ForEachJsonRow(dir, [&](const nlohmann::json& j) {
    std::string row = Text(j["user"]) + "|" + Text(j["window_start"]) + "|" + Text(j["window_end"]);
    for (const std::string& v : values) row += "|" + Text(j[v]);
    rows.insert(row);
  });
  return rows;
}

std::string WindowJob(int source_parallelism) {
  return R"yaml(name: event-time
parallelism: 4
sources:
  - name: clicks
    connector: file
    path: data/events
    format: json
    parallelism: )yaml" +
         std::to_string(source_parallelism) + R"yaml(
    schema: {user: int64, amount: int64, item: string, ts: timestamp}
    watermark: {column: ts, max_delay: 2s}
operators:
  - name: per_minute
    input: clicks
    key_by: [user]
    window: {tumble: 1m}
    aggregate: {n: "count(*)", total: "sum(amount)", hi: "max(amount)", first_amount: "first(amount)", items: "count_distinct(item)"}
  - name: last_5m
    input: clicks
    key_by: [user]
    window: {slide: 5m, every: 1m}
    aggregate: {n: "count(*)", total: "sum(amount)"}
  - name: sessions
    input: clicks
    key_by: [user]
    window: {session: 3s}
    aggregate: {n: "count(*)", total: "sum(amount)"}
sinks:
  - {name: out_tumble, input: per_minute, connector: file, path: out/tumble, format: json}
  - {name: out_slide, input: last_5m, connector: file, path: out/slide, format: json}
  - {name: out_session, input: sessions, connector: file, path: out/session, format: json}
)yaml";
}

// Runs the job attached and checks every window kind against its reference. The events are
// spread round robin over one file per source subtask (each a split of its own, read in
// parallel: the windows' watermark is the minimum over them).
void RunAndCheck(Cluster& cluster, const std::vector<Event>& events, int source_parallelism) {
  std::vector<std::vector<Event>> files(source_parallelism);
  for (size_t i = 0; i < events.size(); ++i) files[i % files.size()].push_back(events[i]);
  for (size_t f = 0; f < files.size(); ++f) {
    cluster.WriteFile("data/events/part-" + std::to_string(f) + ".jsonl", Jsonl(files[f]));
  }
  const std::string spec = cluster.WriteFile("job.yaml", WindowJob(source_parallelism));
  CommandResult run = cluster.Sluice({"run", spec});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const std::filesystem::path out = cluster.dir() / "out";
  const Rows tumble = ReadRows(out / "tumble", {"n", "total", "hi", "first_amount", "items"});
  const Rows want_tumble = TumbleReference(events);
  EXPECT_EQ(tumble.size(), want_tumble.size());
  EXPECT_TRUE(tumble == want_tumble) << "tumble windows differ from the reference";
  const Rows slide = ReadRows(out / "slide", {"n", "total"});
  const Rows want_slide = SlideReference(events);
  EXPECT_EQ(slide.size(), want_slide.size());
  EXPECT_TRUE(slide == want_slide) << "slide windows differ from the reference";
  const Rows session = ReadRows(out / "session", {"n", "total"});
  const Rows want_session = SessionReference(events, 3'000'000);
  EXPECT_EQ(session.size(), want_session.size());
  EXPECT_TRUE(session == want_session) << "session windows differ from the reference";
}

TEST(EventTimeTest, WindowsAtParallelismFourMatchBruteForce) {
  Cluster cluster("event-time");
  ASSERT_NO_FATAL_FAILURE(cluster.Start(/*taskmanagers=*/2, /*slots=*/4));
  RunAndCheck(cluster, MakeEvents(7, 100'000, 40, /*late_every=*/0), /*source_parallelism=*/4);
}

TEST(EventTimeTest, LateRecordsAreDroppedAndCounted) {
  Cluster cluster("event-time-late");
  ASSERT_NO_FATAL_FAILURE(cluster.Start(/*taskmanagers=*/2, /*slots=*/4));
  const std::vector<Event> events = MakeEvents(11, 40'000, 20, /*late_every=*/101);
  int64_t late = 0;
  for (const Event& e : events) late += e.late;
  ASSERT_GT(late, 0);
  RunAndCheck(cluster, events, /*source_parallelism=*/1);
  // `sluice info`: each window vertex dropped every late record, and its event time ended.
  CommandResult list = cluster.Sluice({"list", "--output", "json"});
  ASSERT_EQ(list.exit_code, 0) << list.output;
  const nlohmann::json jobs = nlohmann::json::parse(list.output, nullptr, false);
  ASSERT_TRUE(jobs.is_array() && jobs.size() == 1) << list.output;
  const std::string job_id = jobs[0]["job_id"];
  const nlohmann::json info = cluster.JobInfo(job_id);
  ASSERT_TRUE(info.contains("vertices")) << info.dump();
  int64_t dropped = 0;
  for (const auto& v : info["vertices"]) {
    dropped += v.value("late_records_dropped", int64_t{0});
  }
  EXPECT_EQ(dropped, 3 * late);  // three window operators
  CommandResult text = cluster.Sluice({"info", job_id});
  EXPECT_NE(text.output.find("WATERMARK"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("end of input"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("Late records dropped"), std::string::npos) << text.output;
}

// The late records of a tumble window go to its late_output: a file sink gets exactly the
// late events, a running aggregate over the same stream counts them per user, nothing is
// dropped, and the windows still match the reference.
TEST(EventTimeTest, LateRecordsGoToTheLateOutput) {
  Cluster cluster("event-time-late-output");
  ASSERT_NO_FATAL_FAILURE(cluster.Start(/*taskmanagers=*/2, /*slots=*/4));
  const std::vector<Event> events = MakeEvents(13, 30'000, 20, /*late_every=*/97);
  cluster.WriteFile("data/events/part-0.jsonl", Jsonl(events));
  const std::string spec = cluster.WriteFile("job.yaml", R"yaml(name: late-output
parallelism: 2
sources:
  - name: clicks
    connector: file
    path: data/events
    format: json
    parallelism: 1
    schema: {user: int64, amount: int64, item: string, ts: timestamp}
    watermark: {column: ts, max_delay: 2s}
operators:
  - name: per_minute
    input: clicks
    key_by: [user]
    window: {tumble: 1m, late_output: late_clicks}
    aggregate: {n: "count(*)", total: "sum(amount)", hi: "max(amount)", first_amount: "first(amount)", items: "count_distinct(item)"}
  - name: late_per_user
    input: late_clicks
    key_by: [user]
    aggregate: {n: "count(*)"}
sinks:
  - {name: out_tumble, input: per_minute, connector: file, path: out/tumble, format: json}
  - {name: out_late, input: late_clicks, connector: file, path: out/late, format: json}
  - {name: out_late_counts, input: late_per_user, connector: file, path: out/late_counts, format: json}
)yaml");
  CommandResult run = cluster.Sluice({"run", spec});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const std::filesystem::path out = cluster.dir() / "out";
  const Rows tumble = ReadRows(out / "tumble", {"n", "total", "hi", "first_amount", "items"});
  EXPECT_TRUE(tumble == TumbleReference(events)) << "tumble windows differ from the reference";

  Rows want_late;
  std::map<int64_t, int64_t> want_counts;
  for (const Event& e : events) {
    if (!e.late) continue;
    want_late.insert(std::to_string(e.user) + "|" + std::to_string(e.amount) + "|" + e.item +
                     "|" + types::FormatTimestamp(e.ts_ms * 1000));
    ++want_counts[e.user];
  }
  ASSERT_FALSE(want_late.empty());
  Rows late;
  ForEachJsonRow(out / "late", [&](const nlohmann::json& j) {
    late.insert(Text(j["user"]) + "|" + Text(j["amount"]) + "|" + Text(j["item"]) + "|" +
                Text(j["ts"]));
  });
  EXPECT_EQ(late.size(), want_late.size());
  EXPECT_TRUE(late == want_late) << "the late output differs from the late events";
  std::map<int64_t, int64_t> counts;  // the running count's last (largest) row per user
  ForEachJsonRow(out / "late_counts", [&](const nlohmann::json& j) {
    int64_t& n = counts[j["user"].get<int64_t>()];
    n = std::max(n, j["n"].get<int64_t>());
  });
  EXPECT_EQ(counts, want_counts);

  CommandResult list = cluster.Sluice({"list", "--output", "json"});
  ASSERT_EQ(list.exit_code, 0) << list.output;
  const nlohmann::json jobs = nlohmann::json::parse(list.output, nullptr, false);
  ASSERT_TRUE(jobs.is_array() && jobs.size() == 1) << list.output;
  const nlohmann::json info = cluster.JobInfo(jobs[0]["job_id"]);
  for (const auto& v : info["vertices"]) {
    EXPECT_EQ(v.value("late_records_dropped", int64_t{0}), 0) << v.dump();
  }
}

// Orders x payments: a left interval join (payment 0..10 minutes after the order) at
// parallelism 2 over two files per side; every output row must equal the brute-force join.
TEST(EventTimeTest, IntervalJoinMatchesBruteForce) {
  Cluster cluster("event-time-join");
  ASSERT_NO_FATAL_FAILURE(cluster.Start(/*taskmanagers=*/2, /*slots=*/2));
  struct Order {
    int64_t id, total, ts_ms;
  };
  std::mt19937_64 rng(99);
  std::vector<Order> orders, payments;  // a payment: its order id, amount, time
  int64_t now = 1'795'000'000'000;
  for (int64_t id = 0; id < 20'000; ++id) {
    now += static_cast<int64_t>(rng() % 200);
    orders.push_back({id, static_cast<int64_t>(rng() % 500), now - static_cast<int64_t>(rng() % 1000)});
    const int64_t paid = static_cast<int64_t>(rng() % 100);
    if (paid < 80) payments.push_back({id, orders.back().total, orders.back().ts_ms + static_cast<int64_t>(rng() % 600'001)});
    else if (paid < 90) payments.push_back({id, orders.back().total, orders.back().ts_ms + 600'001 + static_cast<int64_t>(rng() % 100'000)});
  }
  // Payments in time order, up to 1 s out of order (the watermark's delay is 2 s).
  std::sort(payments.begin(), payments.end(), [](const Order& a, const Order& b) { return a.ts_ms < b.ts_ms; });
  for (size_t i = 1; i < payments.size(); ++i) {
    if (rng() % 4 == 0 && payments[i].ts_ms - payments[i - 1].ts_ms < 1000) std::swap(payments[i], payments[i - 1]);
  }
  auto write = [&](const std::string& dir, const std::vector<Order>& rows, const char* value) {
    std::string files[2];
    for (size_t i = 0; i < rows.size(); ++i) {
      files[i % 2] += "{\"id\":" + std::to_string(rows[i].id) + ",\"" + value + "\":" +
                      std::to_string(rows[i].total) + ",\"ts\":" + std::to_string(rows[i].ts_ms) + "}\n";
    }
    for (int f = 0; f < 2; ++f) cluster.WriteFile(dir + "/part-" + std::to_string(f) + ".jsonl", files[f]);
  };
  write("data/orders", orders, "total");
  write("data/payments", payments, "amount");
  const std::string spec = cluster.WriteFile("job.yaml", R"yaml(name: join
parallelism: 2
sources:
  - name: orders
    connector: file
    path: data/orders
    format: json
    schema: {id: int64, total: int64, ts: timestamp}
    watermark: {column: ts, max_delay: 2s}
  - name: payments
    connector: file
    path: data/payments
    format: json
    schema: {id: int64, amount: int64, ts: timestamp}
    watermark: {column: ts, max_delay: 2s}
operators:
  - name: paid
    inputs: [orders, payments]
    join: {on: [id], lower: 0s, upper: 10m, type: left}
sinks:
  - {name: out, input: paid, connector: file, path: out, format: json}
)yaml");
  CommandResult run = cluster.Sluice({"run", spec});
  ASSERT_EQ(run.exit_code, 0) << run.output;

  auto row = [](int64_t id, int64_t total, int64_t ts_ms, const std::string& amount,
                const std::string& payment_ts) {
    return std::to_string(id) + "|" + std::to_string(total) + "|" +
           types::FormatTimestamp(ts_ms * 1000) + "|" + amount + "|" + payment_ts;
  };
  std::map<int64_t, std::vector<const Order*>> by_order;
  for (const Order& p : payments) by_order[p.id].push_back(&p);
  Rows want;
  for (const Order& o : orders) {
    bool matched = false;
    for (const Order* p : by_order[o.id]) {
      if (p->ts_ms >= o.ts_ms && p->ts_ms - o.ts_ms <= 600'000) {
        want.insert(row(o.id, o.total, o.ts_ms, std::to_string(p->total), types::FormatTimestamp(p->ts_ms * 1000)));
        matched = true;
      }
    }
    if (!matched) want.insert(row(o.id, o.total, o.ts_ms, "null", "null"));
  }
  Rows got;
  ForEachJsonRow(cluster.dir() / "out", [&](const nlohmann::json& j) {
    got.insert(Text(j["id"]) + "|" + Text(j["total"]) + "|" + Text(j["ts"]) + "|" +
               Text(j["amount"]) + "|" + Text(j["payments_ts"]));
  });
  EXPECT_EQ(got.size(), want.size());
  EXPECT_TRUE(got == want) << "the join differs from the reference";
}

// Card fraud (CEP): a small charge then, within 10 minutes, a big one from another country,
// skip_past_last_event, at parallelism 2 over two files; the alerts must equal a brute-force
// search over each card's transactions in time order.
TEST(EventTimeTest, FraudPatternMatchesBruteForce) {
  Cluster cluster("event-time-cep");
  ASSERT_NO_FATAL_FAILURE(cluster.Start(/*taskmanagers=*/2, /*slots=*/2));
  struct Txn {
    int64_t card, cents, ts_ms;
    std::string country;
  };
  std::mt19937_64 rng(5);
  const char* countries[] = {"NL", "DE", "US"};
  std::vector<Txn> txns;
  std::set<int64_t> used;
  int64_t now = 1'795'000'000'000;
  for (int i = 0; i < 60'000; ++i) {
    now += static_cast<int64_t>(rng() % 100);
    const int64_t roll = static_cast<int64_t>(rng() % 100);
    const int64_t cents = roll < 3 ? static_cast<int64_t>(rng() % 500) : roll > 96 ? 100'000 + static_cast<int64_t>(rng() % 400'000) : 500 + static_cast<int64_t>(rng() % 50'000);
    // A millisecond clock with up to 1 s of disorder; unique times, so each card's order is
    // its time order whatever the arrival order of the two source subtasks.
    int64_t ts = now - static_cast<int64_t>(rng() % 1000);
    while (!used.insert(ts).second) ++ts;
    txns.push_back({static_cast<int64_t>(rng() % 300), cents, ts, countries[rng() % 3]});
  }
  std::string files[2];
  for (size_t i = 0; i < txns.size(); ++i) {
    const Txn& t = txns[i];
    files[i % 2] += "{\"card\":" + std::to_string(t.card) + ",\"cents\":" + std::to_string(t.cents) +
                    ",\"country\":\"" + t.country + "\",\"ts\":" + std::to_string(t.ts_ms) + "}\n";
  }
  for (int f = 0; f < 2; ++f) cluster.WriteFile("data/txns/part-" + std::to_string(f) + ".jsonl", files[f]);
  const std::string spec = cluster.WriteFile("job.yaml", R"yaml(name: fraud
parallelism: 2
sources:
  - name: txns
    connector: file
    path: data/txns
    format: json
    schema: {card: int64, cents: int64, country: string, ts: timestamp}
    watermark: {column: ts, max_delay: 2s}
operators:
  - name: fraud
    input: txns
    key_by: [card]
    pattern:
      sequence:
        - {small: "cents < 500"}
        - {big: "cents > 100000 and country <> small.country"}
      within: 10m
      skip: skip_past_last_event
      emit: {small_cents: small.cents, small_at: small.ts, big_cents: big.cents, big_at: big.ts}
sinks:
  - {name: out, input: fraud, connector: file, path: out, format: json}
)yaml");
  CommandResult run = cluster.Sluice({"run", spec});
  ASSERT_EQ(run.exit_code, 0) << run.output;

  // The reference: per card, in time order.
  std::map<int64_t, std::vector<const Txn*>> by_card;
  for (const Txn& t : txns) by_card[t.card].push_back(&t);
  Rows want;
  for (auto& [card, list] : by_card) {
    std::stable_sort(list.begin(), list.end(), [](const Txn* a, const Txn* b) { return a->ts_ms < b->ts_ms; });
    std::vector<int> end(list.size(), -1);
    for (size_t s = 0; s < list.size(); ++s) {
      if (list[s]->cents >= 500) continue;
      for (size_t j = s + 1; j < list.size() && list[j]->ts_ms - list[s]->ts_ms <= 600'000; ++j) {
        if (list[j]->cents > 100'000 && list[j]->country != list[s]->country) {
          end[s] = static_cast<int>(j);
          break;
        }
      }
    }
    int last_end = -1;
    while (true) {
      int best = -1;
      for (size_t s = last_end + 1; s < list.size(); ++s) {
        if (end[s] >= 0 && (best < 0 || end[s] < end[best])) best = static_cast<int>(s);
      }
      if (best < 0) break;
      const Txn& small = *list[best];
      const Txn& big = *list[end[best]];
      want.insert(std::to_string(card) + "|" + std::to_string(small.cents) + "|" +
                  types::FormatTimestamp(small.ts_ms * 1000) + "|" + std::to_string(big.cents) + "|" +
                  types::FormatTimestamp(big.ts_ms * 1000));
      last_end = end[best];
    }
  }
  Rows got;
  ForEachJsonRow(cluster.dir() / "out", [&](const nlohmann::json& j) {
    got.insert(Text(j["card"]) + "|" + Text(j["small_cents"]) + "|" + Text(j["small_at"]) + "|" +
               Text(j["big_cents"]) + "|" + Text(j["big_at"]));
  });
  EXPECT_GT(want.size(), 50u);
  EXPECT_EQ(got.size(), want.size());
  EXPECT_TRUE(got == want) << "the alerts differ from the reference";
}

TEST(EventTimeTest, BadEventTimeSpecsFailAtSubmission) {
  Cluster cluster("event-time-bad");
  ASSERT_NO_FATAL_FAILURE(cluster.Start(/*taskmanagers=*/1, /*slots=*/1));
  cluster.WriteFile("data/events/part-0.jsonl", Jsonl(MakeEvents(1, 10, 2, 0)));
  const std::string header = R"yaml(name: bad
sources:
  - name: clicks
    connector: file
    path: data/events
    format: json
    schema: {user: int64, amount: int64, item: string, ts: timestamp}
)yaml";
  struct Case {
    std::string body;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"    watermark: {column: item}\n"
       "sinks:\n  - {name: out, input: clicks, connector: print}\n",
       "job.yaml:8:25: watermark column 'item' is string, but event time needs a timestamp column"},
      {"    watermark: {column: ts}\n"
       "operators:\n  - name: w\n    input: clicks\n    window: {tumble: 1m}\n"
       "    aggregate: {n: \"count(*)\"}\n"
       "sinks:\n  - {name: out, input: w, connector: print}\n",
       "job.yaml:12:5: a window needs a keyed stream: add key_by: [columns]"},
      {"operators:\n  - name: w\n    input: clicks\n    key_by: [user]\n    window: {tumble: 1m}\n"
       "    aggregate: {n: \"count(*)\"}\n"
       "sinks:\n  - {name: out, input: w, connector: print}\n",
       "job.yaml:12:5: the window needs event time: give the source a watermark: {column: ...} "
       "(or name a timestamp column with window: {on: column})"},
  };
  for (const Case& c : cases) {
    const std::string spec = cluster.WriteFile("job.yaml", header + c.body);
    CommandResult run = cluster.Sluice({"run", spec});
    EXPECT_EQ(run.exit_code, 2) << run.output;
    EXPECT_NE(run.output.find(c.error), std::string::npos) << run.output;
  }
}

}  // namespace
}  // namespace sluice::testing
