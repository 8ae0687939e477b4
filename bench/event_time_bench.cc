// Event-time operator benchmarks (issue 5): the interval join (orders x payments within
// 10 s) and the fraud pattern (a small charge then a big one from another country within
// 10 minutes) over 1 M keys, on the heap and RocksDB state backends, one thread, each next to
// a hand-written loop computing the same result in the same run (plain hash maps, no
// checkpointable state). Prints records/s, the ratio to the hand loop, and the state at the
// half-way point: rows or events held, and the size of a full snapshot of it (what a
// checkpoint writes). Every run must emit as many rows as its hand loop, or the benchmark
// aborts. Inputs are seeded, in event-time order with a watermark after every 1024-record
// batch, as a source sends them.
//   build/bench/event_time_bench [records=2000000] [keys=1000000] [runs=join,pattern]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <tuple>
#include <filesystem>
#include <functional>
#include <random>

#include "bench/bench_util.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/process_util.h"
#include "taskmanager/operators/join_operator.h"
#include "taskmanager/operators/pattern_operator.h"
#include "taskmanager/state/keyed_state_backend.h"

namespace {

using namespace sluice;
using types::TypeId;

constexpr size_t kBatch = 1024;

void Check(const absl::Status& s) { bench::CheckOrExit(s, "event_time_bench"); }

// One input batch for input `input` (0/1) and the watermark after it.
struct Step {
  int input;
  types::RecordBatch batch;
  int64_t watermark;
};

struct Result {
  double records_per_second = 0;
  int64_t rows_out = 0;
  int64_t state_entries = 0;  // at half-way
  int64_t snapshot_bytes = 0;
};

std::string TempDir(absl::string_view what) {
  const char* tmp = std::getenv("TMPDIR");
  return absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/sluice_event_time_bench_", getpid(), "_", what);
}

Result Run(const proto::OperatorSpec& spec, std::vector<Step>& steps, state::BackendKind kind,
           int64_t records, const std::function<absl::StatusOr<int64_t>(taskmanager::Operator*)>& entries) {
  auto op = std::move(taskmanager::CreateOperator(spec)).value();
  auto backend = bench::OpenOnBackend(
      *op, kind, TempDir(kind == state::BackendKind::kHeap ? "heap-db" : "rocksdb-db"),
      "event_time_bench");
  bench::RowCounter out;
  Result r;
  double seconds = 0;
  auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < steps.size(); ++i) {
    Check(op->ProcessBatch(steps[i].input, steps[i].batch, out));
    Check(op->ProcessWatermark(steps[i].watermark, out));
    if (i == steps.size() / 2) {  // measure the state (not timed)
      seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      r.state_entries = std::move(entries(op.get())).value();
      state::SnapshotTarget target;
      target.checkpoint_id = 1;
      target.job_dir = TempDir("snapshot");
      target.exclusive_subdir = "chk-1";
      target.file_prefix = "bench";
      target.self_contained = true;
      auto runner = std::move(backend->Snapshot(target)).value();
      r.snapshot_bytes = std::move(runner->Run()).value().total_size();
      std::filesystem::remove_all(target.job_dir);
      start = std::chrono::steady_clock::now();
    }
  }
  Check(op->ProcessWatermark(INT64_MAX, out));
  seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.records_per_second = static_cast<double>(records) / seconds;
  r.rows_out = out.rows;
  return r;
}

// Orders (input 0) and payments (input 1): a payment for 80 % of the orders, 0..5 s later;
// joined within 10 s.
std::vector<Step> JoinInput(int64_t records, int64_t keys, proto::OperatorSpec* spec) {
  auto schema = std::make_shared<const types::Schema>(
      types::Schema({{"id", TypeId::kInt64}, {"v", TypeId::kInt64}, {"ts", TypeId::kTimestamp}}));
  spec->set_name("joined");
  auto* j = spec->mutable_join();
  j->add_key_columns("id");
  j->set_lower_us(-10'000'000);
  j->set_upper_us(10'000'000);
  j->set_type("inner");
  j->set_left_time_column("ts");
  j->set_right_time_column("ts");
  *j->mutable_right_schema() = schema->ToProto();
  *spec->mutable_input_schema() = schema->ToProto();
  *spec->mutable_output_schema() =
      types::Schema({{"id", TypeId::kInt64}, {"v", TypeId::kInt64}, {"ts", TypeId::kTimestamp},
                     {"pay_v", TypeId::kInt64}, {"pay_ts", TypeId::kTimestamp}})
          .ToProto();
  std::mt19937_64 rng(7);
  const int64_t start = 1'800'000'000'000'000;
  const int64_t step = 30 * 60'000'000LL / records;  // 30 minutes of event time
  std::vector<Step> steps;
  types::RecordBatch left(schema), right(schema);
  int64_t now = start;
  int64_t previous_wm = INT64_MIN;
  for (int64_t i = 0; i < records; i += 2) {
    now += 2 * step;
    const int64_t id = static_cast<int64_t>(rng() % keys);
    left.mutable_column(0).AppendInt(id);
    left.mutable_column(1).AppendInt(i);
    left.mutable_column(2).AppendInt(now);
    left.SetNumRows(left.num_rows() + 1);
    // A payment up to 5 s later for 80 % (else another key's stray payment).
    const bool paid = rng() % 10 < 8;
    right.mutable_column(0).AppendInt(paid ? id : static_cast<int64_t>(rng() % keys));
    right.mutable_column(1).AppendInt(i);
    right.mutable_column(2).AppendInt(now + static_cast<int64_t>(rng() % 5'000'000));
    right.SetNumRows(right.num_rows() + 1);
    if (left.num_rows() == kBatch / 2) {
      // Payments lag up to 5 s: the watermark trails by that, and moves only after both
      // batches (before the payments, it would make those of a long batch late: with few
      // records a batch spans more than 5 s of event time).
      const int64_t wm = now - 5'000'001;
      steps.push_back({0, std::move(left), previous_wm});
      steps.push_back({1, std::move(right), wm});
      previous_wm = wm;
      left = types::RecordBatch(schema);
      right = types::RecordBatch(schema);
    }
  }
  return steps;
}

// Card transactions: 2 % small (< 5), 2 % big (> 1000), countries NL/DE/US.
std::vector<Step> PatternInput(int64_t records, int64_t keys, proto::OperatorSpec* spec) {
  auto schema = std::make_shared<const types::Schema>(types::Schema(
      {{"card", TypeId::kInt64}, {"amount", TypeId::kFloat64}, {"country", TypeId::kString},
       {"ts", TypeId::kTimestamp}}));
  spec->set_name("fraud");
  auto* p = spec->mutable_pattern();
  p->add_key_columns("card");
  auto* small = p->add_steps();
  small->set_name("small");
  small->set_condition("amount < 5");
  small->set_min(1);
  small->set_max(1);
  auto* big = p->add_steps();
  big->set_name("big");
  big->set_condition("amount > 1000 and country <> small.country");
  big->set_min(1);
  big->set_max(1);
  p->set_within_us(600'000'000);
  p->set_skip("skip_past_last_event");
  p->set_time_column("ts");
  auto* e = p->add_emit();
  e->set_name("big_amount");
  e->set_expr("big.amount");
  *spec->mutable_input_schema() = schema->ToProto();
  *spec->mutable_output_schema() =
      types::Schema({{"card", TypeId::kInt64}, {"big_amount", TypeId::kFloat64}}).ToProto();
  std::mt19937_64 rng(9);
  const char* countries[] = {"NL", "DE", "US"};
  const int64_t start = 1'800'000'000'000'000;
  const int64_t step = 60 * 60'000'000LL / records;  // an hour of event time
  std::vector<Step> steps;
  types::RecordBatch b(schema);
  for (int64_t i = 0; i < records; ++i) {
    const int roll = static_cast<int>(rng() % 100);
    b.mutable_column(0).AppendInt(static_cast<int64_t>(rng() % keys));
    b.mutable_column(1).AppendDouble(roll < 2 ? 1.0 : roll > 97 ? 2000.0 : 50.0);
    b.mutable_column(2).AppendString(countries[rng() % 3]);
    b.mutable_column(3).AppendInt(start + i * step);
    b.SetNumRows(b.num_rows() + 1);
    if (b.num_rows() == kBatch) {
      steps.push_back({0, std::move(b), start + i * step - 1});
      b = types::RecordBatch(schema);
    }
  }
  return steps;
}

// The join by hand: per side, each key's buffered (time) list; a row probes the other side's
// list of its key, then joins its own; a deque in arrival order drops rows once the
// watermark passes their interval.
int64_t HandJoin(const std::vector<Step>& steps, int64_t lower, int64_t upper) {
  absl::flat_hash_map<int64_t, std::vector<int64_t>> buffers[2];
  std::deque<std::tuple<int64_t, int, int64_t>> expiry;  // (time it expires, side, key)
  int64_t rows_out = 0;
  for (const Step& step : steps) {
    const types::Column& ids = step.batch.column(0);
    const types::Column& ts = step.batch.column(2);
    const int side = step.input;
    for (size_t r = 0; r < step.batch.num_rows(); ++r) {
      const int64_t t = ts.Int(r);
      const int64_t from = side == 0 ? t + lower : t - upper;
      const int64_t to = side == 0 ? t + upper : t - lower;
      auto it = buffers[1 - side].find(ids.Int(r));
      if (it != buffers[1 - side].end()) {
        for (int64_t other : it->second) rows_out += other >= from && other <= to;
      }
      buffers[side][ids.Int(r)].push_back(t);
      expiry.emplace_back(side == 0 ? t + upper : t - lower, side, ids.Int(r));
    }
    while (!expiry.empty() && std::get<0>(expiry.front()) <= step.watermark) {
      const auto [expires, s, key] = expiry.front();
      expiry.pop_front();
      auto it = buffers[s].find(key);
      if (it == buffers[s].end()) continue;
      auto& list = it->second;
      list.erase(std::remove_if(list.begin(), list.end(),
                                [&, s = s](int64_t t) {
                                  return (s == 0 ? t + upper : t - lower) <= step.watermark;
                                }),
                 list.end());
      if (list.empty()) buffers[s].erase(it);
    }
  }
  return rows_out;
}

// The fraud pattern by hand: per card, the open small charges (time, country) in order; a
// big one matches the first open one from another country within 10 minutes, and then the
// card's open charges are dropped (skip past the last event).
int64_t HandPattern(const std::vector<Step>& steps, int64_t within) {
  absl::flat_hash_map<int64_t, std::vector<std::pair<int64_t, std::string>>> open;
  int64_t matches = 0;
  for (const Step& step : steps) {
    const types::RecordBatch& b = step.batch;
    for (size_t r = 0; r < b.num_rows(); ++r) {
      const int64_t card = b.column(0).Int(r);
      const double amount = b.column(1).Double(r);
      const absl::string_view country = b.column(2).Str(r);
      const int64_t t = b.column(3).Int(r);
      auto& list = open[card];
      list.erase(std::remove_if(list.begin(), list.end(),
                                [&](const auto& p) { return t - p.first > within; }),
                 list.end());
      if (amount > 1000) {
        for (const auto& p : list) {
          if (p.second != country) {
            ++matches;
            list.clear();
            break;
          }
        }
      } else if (amount < 5) {
        list.emplace_back(t, std::string(country));
      }
      if (list.empty()) open.erase(card);
    }
  }
  return matches;
}

}  // namespace

int main(int argc, char** argv) {
  sluice::DisableMutexDeadlockDetection();  // as the Sluice binaries do
  const int64_t records = argc > 1 ? std::atoll(argv[1]) : 2'000'000;
  const int64_t keys = argc > 2 ? std::atoll(argv[2]) : 1'000'000;
  const std::string only = argc > 3 ? argv[3] : "join,pattern";
  std::printf("%lld records, %lld keys, one thread; state measured half-way\n\n",
              static_cast<long long>(records), static_cast<long long>(keys));
  std::printf("%-34s %12s %9s %12s %14s %16s\n", "run", "records/s", "vs hand", "rows out",
              "state entries", "snapshot bytes");
  struct Case {
    const char* name;
    std::function<std::vector<Step>(proto::OperatorSpec*)> input;
    std::function<absl::StatusOr<int64_t>(taskmanager::Operator*)> entries;
    std::function<int64_t(const std::vector<Step>&)> hand;
  };
  std::vector<Case> cases;
  if (only.find("join") != std::string::npos) {
    cases.push_back({"interval join (within 10 s)",
                     [&](proto::OperatorSpec* s) { return JoinInput(records, keys, s); },
                     [](taskmanager::Operator* op) {
                       return static_cast<taskmanager::JoinOperator*>(op)->NumBufferedRows();
                     },
                     [](const std::vector<Step>& steps) {
                       return HandJoin(steps, -10'000'000, 10'000'000);
                     }});
  }
  if (only.find("pattern") != std::string::npos) {
    cases.push_back({"fraud pattern (within 10 min)",
                     [&](proto::OperatorSpec* s) { return PatternInput(records, keys, s); },
                     [](taskmanager::Operator* op) {
                       return static_cast<taskmanager::PatternOperator*>(op)->NumStateEntries();
                     },
                     [](const std::vector<Step>& steps) { return HandPattern(steps, 600'000'000); }});
  }
  for (const Case& c : cases) {
    proto::OperatorSpec spec;
    std::vector<Step> steps = c.input(&spec);
    const auto start = std::chrono::steady_clock::now();
    const int64_t hand_rows = c.hand(steps);
    const double hand_rate =
        static_cast<double>(records) /
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("%-34s %12.0f %8.1f%% %12lld %14s %16s\n", absl::StrCat(c.name, " hand").c_str(),
                hand_rate, 100.0, static_cast<long long>(hand_rows), "-", "-");
    for (state::BackendKind kind : {state::BackendKind::kHeap, state::BackendKind::kRocksDb}) {
      const Result r = Run(spec, steps, kind, records, c.entries);
      if (r.rows_out != hand_rows) {
        std::fprintf(stderr, "event_time_bench: %s emitted %lld rows, the hand loop %lld\n", c.name,
                     static_cast<long long>(r.rows_out), static_cast<long long>(hand_rows));
        return 1;
      }
      std::printf("%-34s %12.0f %8.1f%% %12lld %14lld %16lld\n",
                  absl::StrCat(c.name, kind == state::BackendKind::kHeap ? " heap" : " rocksdb").c_str(),
                  r.records_per_second, 100 * r.records_per_second / hand_rate,
                  static_cast<long long>(r.rows_out), static_cast<long long>(r.state_entries),
                  static_cast<long long>(r.snapshot_bytes));
      std::fflush(stdout);
    }
  }
  return 0;
}
