// Sliding-window benchmark (issue 5): `key_by user, window {slide: 5m, every: 1m},
// count(*)` over 1 M keys, records in event-time order (watermark after every 1024-record
// batch, as a source sends them), through the WindowOperator on the heap and RocksDB state
// backends, next to a hand-written single-thread loop computing the same counts (a hash map
// per open window, fired in order of window end) in the same run. Prints records/s per core
// and the ratio to the hand loop; every run's output (number of window rows, sum of counts)
// must agree, or the benchmark aborts.
//   build/bench/window_bench [records=4000000] [keys=1000000] [runs=hand,heap,rocksdb]
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <map>
#include <random>

#include "bench/bench_util.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/process_util.h"
#include "taskmanager/operators/window_operator.h"
#include "taskmanager/state/keyed_state_backend.h"

namespace {

using namespace sluice;

constexpr int64_t kMinute = 60'000'000;
constexpr int64_t kSize = 5 * kMinute;
constexpr int64_t kSlide = kMinute;
constexpr size_t kBatch = 1024;

struct Totals {
  int64_t rows = 0;
  int64_t counts = 0;
  bool operator==(const Totals&) const = default;
};

class CountingCollector : public taskmanager::Collector {
 public:
  absl::Status Collect(types::RecordBatch& batch) override {
    totals.rows += static_cast<int64_t>(batch.num_rows());
    const types::Column& n = batch.column(3);
    for (size_t r = 0; r < batch.num_rows(); ++r) totals.counts += n.Int(r);
    return absl::OkStatus();
  }
  Totals totals;
};

struct Input {
  std::vector<types::RecordBatch> batches;
  std::vector<int64_t> watermarks;  // after each batch
};

// Records spread over 30 minutes of event time, keys uniform over `keys`.
Input MakeInput(int64_t records, int64_t keys) {
  auto schema = std::make_shared<const types::Schema>(
      types::Schema({{"user", types::TypeId::kInt64}, {"ts", types::TypeId::kTimestamp}}));
  std::mt19937_64 rng(17);
  const int64_t start = 1'800'000'000'000'000;
  const int64_t step = 30 * kMinute / records;
  Input in;
  for (int64_t i = 0; i < records;) {
    types::RecordBatch b(schema);
    int64_t max_ts = 0;
    for (size_t k = 0; k < kBatch && i < records; ++k, ++i) {
      b.mutable_column(0).AppendInt(static_cast<int64_t>(rng() % keys));
      max_ts = start + i * step;
      b.mutable_column(1).AppendInt(max_ts);
    }
    b.SetNumRows(b.column(0).size());
    in.batches.push_back(std::move(b));
    in.watermarks.push_back(max_ts - 1);
  }
  return in;
}

// The hand loop: one hash map of counts per open window start, fired in start order.
Totals HandLoop(const Input& in) {
  std::map<int64_t, absl::flat_hash_map<int64_t, int64_t>> windows;  // start -> user -> n
  Totals t;
  auto fire = [&](int64_t watermark) {
    while (!windows.empty() && windows.begin()->first + kSize - 1 <= watermark) {
      for (const auto& [user, n] : windows.begin()->second) {
        ++t.rows;
        t.counts += n;
      }
      windows.erase(windows.begin());
    }
  };
  for (size_t b = 0; b < in.batches.size(); ++b) {
    const types::RecordBatch& batch = in.batches[b];
    const types::Column& user = batch.column(0);
    const types::Column& ts = batch.column(1);
    for (size_t r = 0; r < batch.num_rows(); ++r) {
      const int64_t time = ts.Int(r);
      for (int64_t s = time - time % kSlide; s > time - kSize; s -= kSlide) {
        ++windows[s][user.Int(r)];
      }
    }
    fire(in.watermarks[b]);
  }
  fire(INT64_MAX);
  return t;
}

proto::OperatorSpec Spec() {
  proto::OperatorSpec spec;
  spec.set_name("per_user");
  auto* agg = spec.mutable_aggregate();
  agg->add_key_columns("user");
  auto* c = agg->add_calls();
  c->set_name("n");
  c->set_function("count");
  auto* w = agg->mutable_window();
  w->set_kind("slide");
  w->set_size_us(kSize);
  w->set_slide_us(kSlide);
  w->set_time_column("ts");
  *spec.mutable_input_schema() =
      types::Schema({{"user", types::TypeId::kInt64}, {"ts", types::TypeId::kTimestamp}}).ToProto();
  *spec.mutable_output_schema() =
      types::Schema({{"user", types::TypeId::kInt64}, {"window_start", types::TypeId::kTimestamp},
                     {"window_end", types::TypeId::kTimestamp}, {"n", types::TypeId::kInt64}})
          .ToProto();
  return spec;
}

void Check(const absl::Status& s) { bench::CheckOrExit(s, "window_bench"); }

Totals Operator(Input& in, state::BackendKind kind) {
  auto op = std::move(taskmanager::WindowOperator::Create(Spec())).value();
  auto backend = bench::OpenOnBackend(
      *op, kind,
      absl::StrCat(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp", "/sluice_window_bench_",
                   getpid()),
      "window_bench");
  CountingCollector out;
  for (size_t b = 0; b < in.batches.size(); ++b) {
    Check(op->ProcessBatch(0, in.batches[b], out));
    Check(op->ProcessWatermark(in.watermarks[b], out));
  }
  Check(op->ProcessWatermark(INT64_MAX, out));
  return out.totals;
}

}  // namespace

int main(int argc, char** argv) {
  sluice::DisableMutexDeadlockDetection();  // as the Sluice binaries do
  const int64_t records = argc > 1 ? std::atoll(argv[1]) : 4'000'000;
  const int64_t keys = argc > 2 ? std::atoll(argv[2]) : 1'000'000;
  const std::string only = argc > 3 ? argv[3] : "hand,heap,rocksdb";
  Input in = MakeInput(records, keys);
  std::printf("sliding window 5m/1m, count(*) per key: %lld records over 30 min of event "
              "time, %lld keys, one thread\n\n",
              static_cast<long long>(records), static_cast<long long>(keys));
  std::printf("%-28s %14s %12s %12s %14s\n", "run", "records/s", "vs hand", "rows out",
              "sum of counts");
  double hand_rate = 0;
  Totals expected;
  struct Run {
    const char* name;
    std::function<Totals()> fn;
  };
  std::vector<Run> runs = {
      {"hand-written loop", [&] { return HandLoop(in); }},
      {"WindowOperator (heap)", [&] { return Operator(in, state::BackendKind::kHeap); }},
      {"WindowOperator (rocksdb)", [&] { return Operator(in, state::BackendKind::kRocksDb); }},
  };
  const char* keys_of_runs[] = {"hand", "heap", "rocksdb"};
  for (size_t i = 0; i < runs.size(); ++i) {
    if (i > 0 && only.find(keys_of_runs[i]) == std::string::npos) continue;
    const auto start = std::chrono::steady_clock::now();
    const Totals t = runs[i].fn();
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double rate = static_cast<double>(records) / secs;
    if (i == 0) {
      hand_rate = rate;
      expected = t;
    } else if (!(t == expected)) {
      std::fprintf(stderr, "window_bench: %s emitted %lld rows / %lld counts, the hand loop %lld / %lld\n",
                   runs[i].name, static_cast<long long>(t.rows), static_cast<long long>(t.counts),
                   static_cast<long long>(expected.rows), static_cast<long long>(expected.counts));
      return 1;
    }
    std::printf("%-28s %14.0f %11.1f%% %12lld %14lld\n", runs[i].name, rate, 100 * rate / hand_rate,
                static_cast<long long>(t.rows), static_cast<long long>(t.counts));
    std::fflush(stdout);
  }
  return 0;
}
