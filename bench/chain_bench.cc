// Operator chain benchmark: datagen -> filter -> select -> blackhole run by a real Task
// (one thread, chained operators, no serialization) next to a hand-written single-thread loop
// computing the same result over the same generated values, in the same run.
// The task runs three ways: with its metrics (record counters, idle-time accounting) as in
// production, with them off (kTaskCountersKey), and with them on while another thread reads
// them ten times a second (a TaskManager heartbeat plus a Prometheus scrape are rarer).
// Prints a table; the ratios are what matter (the machine is noisy). `chain_bench on|off`
// runs one variant once, to count instructions with callgrind.
#include <chrono>
#include <cstdio>
#include <cstdint>
#include <string>

#include "absl/synchronization/notification.h"
#include "common/clock.h"
#include "common/process_util.h"
#include "taskmanager/task.h"

namespace {

using sluice::proto::OperatorSpec;

constexpr int64_t kRows = 20'000'000;
constexpr uint64_t kSeed = 11;

uint64_t Mix(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t Fnv1a(const char* s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (; *s; ++s) h = (h ^ static_cast<unsigned char>(*s)) * 0x100000001b3ULL;
  return h;
}

sluice::proto::Schema MakeSchema(std::initializer_list<std::pair<const char*, sluice::proto::FieldType>> cols) {
  sluice::proto::Schema s;
  for (auto& [name, type] : cols) {
    auto* f = s.add_fields();
    f->set_name(name);
    f->set_type(type);
  }
  return s;
}

sluice::proto::TaskDeploymentDescriptor ChainJob() {
  using namespace sluice::proto;
  Schema in = MakeSchema({{"id", INT64}, {"amount", FLOAT64}});
  Schema out = MakeSchema({{"id", INT64}, {"doubled", FLOAT64}, {"bucket", INT64}});
  TaskDeploymentDescriptor tdd;
  tdd.set_job_id("bench");
  tdd.set_vertex_name("chain");
  tdd.set_parallelism(1);
  tdd.set_max_parallelism(128);
  OperatorSpec* src = tdd.add_chain();
  src->set_name("gen");
  auto* gen = src->mutable_datagen_source();
  gen->set_count(kRows);
  gen->set_seed(kSeed);
  (*gen->mutable_fields())["id"].set_kind("sequence");
  auto& amount = (*gen->mutable_fields())["amount"];
  amount.set_kind("random");
  amount.set_min(0);
  amount.set_max(1000);
  amount.set_has_min(true);
  amount.set_has_max(true);
  *src->mutable_output_schema() = in;
  OperatorSpec* filter = tdd.add_chain();
  filter->set_name("big");
  filter->mutable_filter()->set_predicate("amount > 500");
  *filter->mutable_input_schema() = in;
  *filter->mutable_output_schema() = in;
  OperatorSpec* select = tdd.add_chain();
  select->set_name("proj");
  auto add = [&](const char* name, const char* expr) {
    auto* c = select->mutable_select()->add_columns();
    c->set_name(name);
    c->set_expr(expr);
  };
  add("id", "id");
  add("doubled", "amount * 2");
  add("bucket", "id % 16");
  *select->mutable_input_schema() = in;
  *select->mutable_output_schema() = out;
  OperatorSpec* sink = tdd.add_chain();
  sink->set_name("sink");
  sink->mutable_blackhole_sink();
  *sink->mutable_input_schema() = out;
  return tdd;
}

enum class Metrics { kOn, kOff, kOnAndRead };

double RunTask(Metrics metrics, int64_t* records_in) {
  absl::Notification done;
  std::string error;
  sluice::proto::TaskDeploymentDescriptor tdd = ChainJob();
  if (metrics == Metrics::kOff) (*tdd.mutable_config())[sluice::taskmanager::kTaskCountersKey] = "false";
  auto start = std::chrono::steady_clock::now();
  sluice::taskmanager::Task task(std::move(tdd), nullptr, sluice::SystemClock::Get(),
                                 [&](const sluice::proto::TaskStateUpdate& u) {
                                   if (u.state() == sluice::proto::FINISHED ||
                                       u.state() == sluice::proto::FAILED) {
                                     error = u.error();
                                     done.Notify();
                                   }
                                 });
  task.Start();
  if (metrics == Metrics::kOnAndRead) {
    int64_t seen = 0;
    while (!done.WaitForNotificationWithTimeout(absl::Milliseconds(100))) {
      seen += task.Metrics().records_in();
    }
    if (seen < 0) std::puts("");
  } else {
    done.WaitForNotification();
  }
  task.Join();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!error.empty()) {
    std::fprintf(stderr, "task failed: %s\n", error.c_str());
    std::exit(1);
  }
  if (metrics != Metrics::kOff) *records_in = task.Metrics().records_in();
  return seconds;
}

// The same computation written by hand: generate, filter, project, consume.
double RunHandLoop(int64_t* kept) {
  const uint64_t key = Mix(kSeed ^ Fnv1a("amount"));
  auto start = std::chrono::steady_clock::now();
  double checksum = 0;
  int64_t n = 0;
  for (int64_t g = 0; g < kRows; ++g) {
    uint64_t h = Mix(key ^ Mix(static_cast<uint64_t>(g)));
    double amount = static_cast<double>(h >> 11) * 0x1p-53 * 1000.0;
    if (amount > 500) {
      checksum += amount * 2 + static_cast<double>(g % 16);
      ++n;
    }
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  *kept = n;
  if (checksum == 42) std::puts("");  // keeps the loop from being optimized away
  return seconds;
}

}  // namespace

int main(int argc, char** argv) {
  sluice::DisableMutexDeadlockDetection();  // as the Sluice binaries do
  int64_t records = 0, kept = 0;
  // `chain_bench on|off`: one run of one variant, for instruction counts under
  // `valgrind --tool=callgrind` (repeatable where seconds are not).
  if (argc == 2) {
    const std::string variant = argv[1];
    if (variant != "on" && variant != "off") {
      std::fprintf(stderr, "usage: chain_bench [on|off]\n");
      return 2;
    }
    const double s = RunTask(variant == "on" ? Metrics::kOn : Metrics::kOff, &records);
    std::printf("metrics %s: %.3f s\n", variant.c_str(), s);
    return 0;
  }
  double hand = 1e9, chain = 1e9, no_metrics = 1e9, read = 1e9;
  for (int rep = 0; rep < 5; ++rep) {  // best of five for each, interleaved
    hand = std::min(hand, RunHandLoop(&kept));
    chain = std::min(chain, RunTask(Metrics::kOn, &records));
    no_metrics = std::min(no_metrics, RunTask(Metrics::kOff, &records));
    read = std::min(read, RunTask(Metrics::kOnAndRead, &records));
  }
  std::printf("Operator chain: datagen -> filter(amount > 500) -> select(3 cols) -> blackhole, %lld rows, one thread\n",
              static_cast<long long>(kRows));
  std::printf("%-44s %10s %14s\n", "variant", "seconds", "rows/s");
  std::printf("%-44s %10.3f %14.0f\n", "hand-written loop (baseline)", hand, kRows / hand);
  std::printf("%-44s %10.3f %14.0f\n", "sluice task (real operator chain)", chain, kRows / chain);
  std::printf("%-44s %10.3f %14.0f\n", "sluice task, metrics off", no_metrics, kRows / no_metrics);
  std::printf("%-44s %10.3f %14.0f\n", "sluice task, metrics read at 10 Hz", read, kRows / read);
  std::printf("slowdown vs hand-written loop: %.2fx (target <= 1.5x); rows kept %lld, task read %lld\n",
              chain / hand, static_cast<long long>(kept), static_cast<long long>(records));
  std::printf("metrics overhead: %+.1f %% (on vs off), %+.1f %% (read at 10 Hz vs off); target <= 2 %%\n",
              (chain / no_metrics - 1) * 100, (read / no_metrics - 1) * 100);
  return 0;
}
