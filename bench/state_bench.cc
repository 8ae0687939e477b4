// Keyed state benchmarks (Google Benchmark): per-record value Get + Put over 1 M keys on the
// heap and RocksDB backends; snapshot cost (synchronous part and upload) of 1 M keys; and the
// running aggregate operator (count, sum, max per key, 1 M keys) on its state.
// Arg 0 = heap, 1 = rocksdb. Local RocksDB directories live under $TMPDIR (default /tmp).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>

#include "bench/bench_util.h"
#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "taskmanager/network/key_groups.h"
#include "taskmanager/operators/aggregate_operator.h"
#include "taskmanager/operators/operator.h"
#include "taskmanager/state/keyed_state_backend.h"

namespace {

using namespace sluice;

constexpr int kKeys = 1'000'000;
constexpr int kMaxParallelism = 128;
constexpr int kBatch = 1024;

std::string TempDir(absl::string_view what) {
  const char* tmp = std::getenv("TMPDIR");
  return absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/sluice_state_bench_", getpid(), "_", what);
}

std::unique_ptr<state::KeyedStateBackend> MakeBackend(int64_t kind, absl::string_view name) {
  state::BackendOptions o;
  o.kind = kind == 0 ? state::BackendKind::kHeap : state::BackendKind::kRocksDb;
  o.max_parallelism = kMaxParallelism;
  o.key_groups = {0, kMaxParallelism - 1};
  o.local_dir = TempDir(name);
  return std::move(state::CreateKeyedStateBackend(o)).value();
}

struct KeyRef {
  int64_t key;
  int key_group;
};

std::vector<KeyRef> Keys() {
  std::vector<KeyRef> keys(kKeys);
  for (int i = 0; i < kKeys; ++i) {
    int64_t k = i;
    // Long.hashCode, as network::HashValue computes it for an INT64 key.
    int32_t h = static_cast<int32_t>(static_cast<uint64_t>(k) ^ (static_cast<uint64_t>(k) >> 32));
    keys[i] = {k, network::KeyGroupForKeyHash(h, kMaxParallelism)};
  }
  return keys;
}

absl::string_view KeyBytes(const int64_t& k) {
  return absl::string_view(reinterpret_cast<const char*>(&k), sizeof k);
}

void Populate(state::KeyedStateBackend* b, state::ValueState* v, const std::vector<KeyRef>& keys) {
  int64_t one = 1;
  for (const KeyRef& k : keys) {
    b->SetCurrentKey(k.key_group, KeyBytes(k.key));
    (void)v->Put(KeyBytes(one));
  }
}

state::StateDescriptor Counter() {
  state::StateDescriptor d;
  d.name = "count";
  d.kind = state::StateKind::kValue;
  return d;
}

// One record = SetCurrentKey + Get + Put of an 8-byte counter, keys uniform over 1 M.
void BM_ValueGetPut(benchmark::State& st) {
  auto backend = MakeBackend(st.range(0), "getput");
  state::ValueState* v = *backend->GetValueState(Counter());
  const std::vector<KeyRef> keys = Keys();
  Populate(backend.get(), v, keys);
  std::mt19937_64 rng(1);
  std::string value;
  for (auto _ : st) {
    for (int i = 0; i < kBatch; ++i) {
      const KeyRef& k = keys[rng() % kKeys];
      backend->SetCurrentKey(k.key_group, KeyBytes(k.key));
      int64_t n = 0;
      if (*v->Get(&value)) std::memcpy(&n, value.data(), sizeof n);
      ++n;
      (void)v->Put(KeyBytes(n));
    }
  }
  st.SetItemsProcessed(st.iterations() * kBatch);
}
BENCHMARK(BM_ValueGetPut)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

// A checkpoint of 1 M keys: the synchronous part (task thread) and the upload.
void BM_Snapshot1MKeys(benchmark::State& st) {
  auto backend = MakeBackend(st.range(0), "snapshot");
  state::ValueState* v = *backend->GetValueState(Counter());
  const std::vector<KeyRef> keys = Keys();
  Populate(backend.get(), v, keys);
  const std::string job_dir = TempDir("snapshot_job");
  int64_t id = 0;
  double sync_ms = 0, async_ms = 0, size = 0, incremental = 0, writes_after_ms = 0;
  double first_sync_ms = 0, first_size = 0, writes_during_ms = 0;
  for (auto _ : st) {
    ++id;
    state::SnapshotTarget t;
    t.checkpoint_id = id;
    t.job_dir = job_dir;
    t.exclusive_subdir = absl::StrCat("chk-", id);
    t.file_prefix = "v1-s0";
    // 1000 writes spread over all key groups.
    auto write_1k = [&] {
      int64_t n = static_cast<int64_t>(id);
      for (int i = 0; i < 1000; ++i) {
        const KeyRef& k = keys[(static_cast<int64_t>(i) * 7919 + id) % kKeys];
        backend->SetCurrentKey(k.key_group, KeyBytes(k.key));
        (void)v->Put(KeyBytes(n));
      }
    };
    auto t0 = std::chrono::steady_clock::now();
    auto runner = std::move(backend->Snapshot(t)).value();
    auto t1 = std::chrono::steady_clock::now();
    // Writes before the upload started (heap: each touched key group is copied once).
    write_1k();
    auto t2 = std::chrono::steady_clock::now();
    proto::KeyedStateHandle h = std::move(runner->Run()).value();
    auto t3 = std::chrono::steady_clock::now();
    runner.reset();
    backend->NotifyCheckpointComplete(id);
    write_1k();  // after the upload: nothing is shared any more
    auto t4 = std::chrono::steady_clock::now();
    auto ms = [](auto a, auto b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
    if (id == 1) {
      first_sync_ms = ms(t0, t1);
      first_size = static_cast<double>(h.total_size());
    } else {
      sync_ms += ms(t0, t1);
      size += static_cast<double>(h.total_size());
      incremental += static_cast<double>(h.incremental_size());
    }
    writes_during_ms += ms(t1, t2);
    async_ms += ms(t2, t3);
    writes_after_ms += ms(t3, t4);
  }
  const double n = static_cast<double>(st.iterations());
  st.counters["first_sync_ms"] = first_sync_ms;
  st.counters["first_MB"] = first_size / 1e6;
  st.counters["sync_ms"] = sync_ms / (n - 1);
  st.counters["async_ms"] = async_ms / n;
  st.counters["1k_writes_during_ms"] = writes_during_ms / n;
  st.counters["1k_writes_after_ms"] = writes_after_ms / n;
  st.counters["later_MB"] = size / (n - 1) / 1e6;
  st.counters["later_incremental_MB"] = incremental / (n - 1) / 1e6;
  std::filesystem::remove_all(job_dir);
}
BENCHMARK(BM_Snapshot1MKeys)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->Iterations(4);

proto::Schema MakeSchema(std::initializer_list<std::pair<const char*, proto::FieldType>> cols) {
  proto::Schema s;
  for (auto& [name, type] : cols) {
    auto* f = s.add_fields();
    f->set_name(name);
    f->set_type(type);
  }
  return s;
}

// The running aggregate `key_by card: count(*), sum(amount), max(amount)` over 1 M cards.
// Arg 0: the operator's default state (heap), 1: a RocksDB backend through InitializeState.
void BM_RunningAggregate(benchmark::State& st) {
  proto::OperatorSpec spec;
  spec.set_name("per_card");
  auto* agg = spec.mutable_aggregate();
  agg->add_key_columns("card");
  auto add = [&](const char* name, const char* fn, const char* arg) {
    auto* c = agg->add_calls();
    c->set_name(name);
    c->set_function(fn);
    c->set_argument(arg);
  };
  add("n", "count", "");
  add("total", "sum", "amount");
  add("top", "max", "amount");
  *spec.mutable_input_schema() = MakeSchema({{"card", proto::INT64}, {"amount", proto::FLOAT64}});
  *spec.mutable_output_schema() = MakeSchema(
      {{"card", proto::INT64}, {"n", proto::INT64}, {"total", proto::FLOAT64}, {"top", proto::FLOAT64}});
  auto op = std::move(taskmanager::CreateOperator(spec)).value();
  std::unique_ptr<state::KeyedStateBackend> backend;
#ifndef SLUICE_STATE_BENCH_BEFORE
  if (st.range(0) == 1) {
    backend = MakeBackend(1, "aggregate");
    taskmanager::StateInitContext ctx;
    ctx.keyed_backend = [&]() -> absl::StatusOr<state::KeyedStateBackend*> { return backend.get(); };
    if (!op->InitializeState(ctx).ok()) std::abort();
  }
#else
  if (st.range(0) == 1) {
    st.SkipWithError("operator has no state backend hook in this build");
    return;
  }
#endif
  auto schema = std::make_shared<const types::Schema>(types::Schema::FromProto(spec.input_schema()).value());
  std::mt19937_64 rng(3);
  std::vector<types::RecordBatch> batches;
  for (int b = 0; b < 1024; ++b) {
    types::RecordBatch batch(schema);
    for (int i = 0; i < kBatch; ++i) {
      batch.mutable_column(0).AppendInt(static_cast<int64_t>(rng() % kKeys));
      batch.mutable_column(1).AppendDouble(static_cast<double>(rng() % 10000) / 100);
    }
    batch.SetNumRows(kBatch);
    batches.push_back(std::move(batch));
  }
  bench::RowCounter out;
  size_t next = 0;
  for (auto _ : st) {
    if (!op->ProcessBatch(0, batches[next++ % batches.size()], out).ok()) std::abort();
  }
  st.SetItemsProcessed(st.iterations() * kBatch);
}
BENCHMARK(BM_RunningAggregate)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond)->MinTime(3.0);

}  // namespace

BENCHMARK_MAIN();
