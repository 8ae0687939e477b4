// End-to-end latency of a two-stage job through the real network stack: a producer Task
// (datagen -> stamp) on one NetworkEnvironment sends over gRPC on loopback to a consumer Task
// (latency sink) on another, each with its own gRPC server, as two TaskManagers would.
// First the peak rate is measured unthrottled, then p50/p99 latency at half of it with
// buffer_timeout 10 ms. Prints a table.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/process_util.h"
#include "common/rpc/grpc_server.h"
#include "taskmanager/network/network_environment.h"
#include "taskmanager/operators/operator_registry.h"
#include "taskmanager/task.h"

namespace {

using namespace sluice;

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch()).count();
}

proto::Schema MakeSchema(std::initializer_list<std::pair<const char*, proto::FieldType>> cols) {
  proto::Schema s;
  for (auto& [name, type] : cols) {
    auto* f = s.add_fields();
    f->set_name(name);
    f->set_type(type);
  }
  return s;
}

// Adds the send time (steady clock, µs) to every row: (id) -> (id, sent_us).
class StampOperator : public taskmanager::Operator {
 public:
  StampOperator() : batch_(std::make_shared<const types::Schema>(
                        std::vector<types::Field>{{"id", types::TypeId::kInt64},
                                                  {"sent_us", types::TypeId::kInt64}})) {}
  absl::Status ProcessBatch(int, types::RecordBatch& in, taskmanager::Collector& out) override {
    batch_.Clear();
    const int64_t now = NowMicros();
    for (size_t r = 0; r < in.num_rows(); ++r) {
      batch_.mutable_column(0).AppendInt(in.column(0).Int(r));
      batch_.mutable_column(1).AppendInt(now);
    }
    batch_.SetNumRows(in.num_rows());
    return out.Collect(batch_);
  }

 private:
  types::RecordBatch batch_;
};

// Records now - sent_us of every row.
std::vector<int64_t>* g_latencies = nullptr;
class LatencySink : public taskmanager::Operator {
 public:
  absl::Status ProcessBatch(int, types::RecordBatch& in, taskmanager::Collector&) override {
    const int64_t now = NowMicros();
    for (size_t r = 0; r < in.num_rows(); ++r) g_latencies->push_back(now - in.column(1).Int(r));
    return absl::OkStatus();
  }
};

struct Side {
  std::unique_ptr<network::NetworkEnvironment> env;
  rpc::RunningServer server;
  std::string tm_id;
  std::string data_address;  // of `transport`
};

// One "TaskManager" whose data plane uses `transport` (taskmanager.network.transport).
Side MakeSide(const std::string& tm_id, int64_t buffer_timeout_ms, const std::string& transport) {
  Config config;
  (void)config.Set("pipeline.buffer_timeout", std::to_string(buffer_timeout_ms) + "ms");
  (void)config.Set("taskmanager.network.transport", transport);
  Side side;
  side.tm_id = tm_id;
  side.env = std::make_unique<network::NetworkEnvironment>(network::NetworkConfig::FromConfig(config),
                                                           tm_id, SystemClock::Get());
  side.server = *rpc::StartServer("127.0.0.1", 0, {side.env->exchange_service()}, 64 << 20);
  side.data_address = *side.env->StartDataTransport("127.0.0.1", "127.0.0.1", side.server.address);
  return side;
}

struct Result {
  double seconds = 0;
  std::vector<int64_t> latencies;
};

Result RunJob(int64_t rows, double rows_per_second, int64_t buffer_timeout_ms, int run,
              const std::string& transport) {
  Side producer = MakeSide("tm-a", buffer_timeout_ms, transport),
       consumer = MakeSide("tm-b", buffer_timeout_ms, transport);
  const std::string job = "latency-" + std::to_string(run);
  proto::Schema ids = MakeSchema({{"id", proto::INT64}});
  proto::Schema stamped = MakeSchema({{"id", proto::INT64}, {"sent_us", proto::INT64}});

  proto::TaskDeploymentDescriptor a;
  a.set_job_id(job);
  a.set_vertex_name("source");
  a.set_parallelism(1);
  a.set_max_parallelism(128);
  auto* gen = a.add_chain();
  gen->set_name("gen");
  gen->mutable_datagen_source()->set_count(rows);
  gen->mutable_datagen_source()->set_rows_per_second(rows_per_second);
  (*gen->mutable_datagen_source()->mutable_fields())["id"].set_kind("sequence");
  *gen->mutable_output_schema() = ids;
  auto* stamp = a.add_chain();
  stamp->set_name("stamp");
  stamp->mutable_user()->set_registered_name("stamp");
  *stamp->mutable_input_schema() = ids;
  *stamp->mutable_output_schema() = stamped;
  auto* out = a.add_outputs();
  out->set_edge_id(0);
  out->set_partitioning(proto::FORWARD);
  out->set_num_subpartitions(1);
  *out->mutable_schema() = stamped;
  out->set_partition_id(job + "/0/0/0");

  proto::TaskDeploymentDescriptor b;
  b.set_job_id(job);
  b.set_vertex_id(1);
  b.set_vertex_name("sink");
  b.set_parallelism(1);
  b.set_max_parallelism(128);
  auto* sink = b.add_chain();
  sink->set_name("latency");
  sink->mutable_user()->set_registered_name("latency_sink");
  *sink->mutable_input_schema() = stamped;
  auto* in = b.add_inputs();
  *in->mutable_schema() = stamped;
  auto* ch = in->add_channels();
  ch->set_partition_id(job + "/0/0/0");
  ch->set_subpartition(0);
  ch->set_producer_tm_id(producer.tm_id);
  ch->set_producer_address(producer.data_address);

  Result result;
  std::vector<int64_t> latencies;
  latencies.reserve(rows);
  g_latencies = &latencies;
  absl::Notification done;
  std::string error;
  auto listener = [&](const proto::TaskStateUpdate& u) {
    if (u.state() == proto::FAILED) error = u.error();
    if (u.vertex_id() == 1 && (u.state() == proto::FINISHED || u.state() == proto::FAILED)) done.Notify();
  };
  auto start = std::chrono::steady_clock::now();
  {
    taskmanager::Task consumer_task(b, consumer.env.get(), SystemClock::Get(), listener);
    taskmanager::Task producer_task(a, producer.env.get(), SystemClock::Get(), listener);
    consumer_task.Start();
    producer_task.Start();
    done.WaitForNotification();
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    producer_task.Join();
    consumer_task.Join();
  }
  if (!error.empty()) {
    std::fprintf(stderr, "job failed: %s\n", error.c_str());
    std::exit(1);
  }
  consumer.env->Shutdown();
  producer.env->Shutdown();
  consumer.server.server->Shutdown();
  producer.server.server->Shutdown();
  result.latencies = std::move(latencies);
  return result;
}

double Percentile(std::vector<int64_t>& v, double p) {
  if (v.empty()) return 0;
  size_t k = std::min(v.size() - 1, static_cast<size_t>(p * v.size()));
  std::nth_element(v.begin(), v.begin() + k, v.end());
  return v[k] / 1000.0;
}

}  // namespace

int main() {
  sluice::DisableMutexDeadlockDetection();  // as the Sluice binaries do
  taskmanager::RegisterUserOperator("stamp", [](const proto::OperatorSpec&) {
    return absl::StatusOr<std::unique_ptr<taskmanager::Operator>>(std::make_unique<StampOperator>());
  });
  taskmanager::RegisterUserOperator("latency_sink", [](const proto::OperatorSpec&) {
    return absl::StatusOr<std::unique_ptr<taskmanager::Operator>>(std::make_unique<LatencySink>());
  });

  std::printf("Two-stage job (datagen -> stamp | loopback exchange | sink), buffer_timeout 10 ms\n");
  std::printf("%-34s %14s %10s %10s %10s\n", "run", "rows/s", "p50 ms", "p99 ms", "max ms");
  int run_id = 0;
  for (const std::string transport : {"grpc", "tcp"}) {
    const int64_t peak_rows = 10'000'000;
    Result peak = RunJob(peak_rows, 0, 10, run_id++, transport);
    const double peak_rate = peak_rows / peak.seconds;
    const double half = peak_rate / 2;
    const int64_t rows = static_cast<int64_t>(half * 5);  // about five seconds
    Result run = RunJob(rows, half, 10, run_id++, transport);
    std::printf("%-34s %14.0f %10.2f %10.2f %10.2f\n", (transport + ": peak (unthrottled)").c_str(),
                peak_rate, Percentile(peak.latencies, 0.5), Percentile(peak.latencies, 0.99),
                Percentile(peak.latencies, 1.0));
    std::printf("%-34s %14.0f %10.2f %10.2f %10.2f\n", (transport + ": half of peak").c_str(),
                rows / run.seconds, Percentile(run.latencies, 0.5),
                Percentile(run.latencies, 0.99), Percentile(run.latencies, 1.0));
  }
  return 0;
}
