// Backpressure: a sink throttled to a low rate. The upstream TaskManagers' memory stays
// within their configured buffer pools (RSS measured from /proc), the source slows down to
// the sink's pace (records in flight stay bounded by the buffers), and nothing is lost.
#include <cstdio>
#include <fstream>

#include "tests/integration/cluster_harness.h"

namespace sluice::testing {
namespace {

constexpr int64_t kRows = 300'000;
constexpr int64_t kSinkRowsPerSecond = 50'000;
constexpr int kBuffersPerTaskManager = 128;
constexpr int64_t kBufferSize = 8 * 1024;
// Buffers the job may hold: 2 source tasks x (2 channels x 2 + 8 floating) output buffers and
// 2 sink tasks x (2 channels x 2 + 8 floating) input buffers (docs/configuration.md).
constexpr int64_t kJobBuffers = 2 * 12 + 2 * 12;
// Rows of (id int64, bucket int64, payload string(8)) in one buffer: at least 29 bytes a row.
constexpr int64_t kRowsPerBuffer = kBufferSize / 29;

int64_t RssBytes(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  }
  return 0;
}

struct VertexCounts {
  int64_t source_out = -1;
  int64_t sink_in = -1;
};

VertexCounts Counts(Cluster& cluster, const std::string& job_id) {
  VertexCounts c;
  nlohmann::json info = cluster.JobInfo(job_id);
  if (!info.is_object() || !info.contains("vertices")) return c;
  for (const auto& v : info["vertices"]) {
    std::string name = v["name"];
    int64_t in = v.value("records_in", int64_t{0}), out = v.value("records_out", int64_t{0});
    if (name.rfind("numbers", 0) == 0) c.source_out = out;
    if (name.find("slow") != std::string::npos) c.sink_in = in;
  }
  return c;
}

TEST(BackpressureTest, SlowSinkBoundsMemoryAndSlowsTheSource) {
  Cluster cluster("backpressure");
  cluster.common_settings.push_back("taskmanager.network.buffers=" +
                                    std::to_string(kBuffersPerTaskManager));
  cluster.common_settings.push_back("taskmanager.network.buffer_size=" + std::to_string(kBufferSize));
  ASSERT_NO_FATAL_FAILURE(cluster.Start(2, 1));
  // Source and sink on both TaskManagers (parallelism 2, hash exchange): half the records
  // cross the network between the two processes.
  std::string spec = cluster.WriteFile("job.yaml", R"yaml(name: backpressure
parallelism: 2
sources:
  - name: numbers
    connector: datagen
    count: )yaml" + std::to_string(kRows) + R"yaml(
    seed: 3
    schema: {id: int64, bucket: int64, payload: string}
    fields: {id: {kind: sequence, min: 0}, bucket: {kind: sequence, min: 0, max: 15}}
operators:
  - name: keyed
    input: numbers
    key_by: [bucket]
    aggregate: {n: "count(*)"}
sinks:
  - {name: slow, input: keyed, connector: blackhole, rows_per_second: )yaml" + std::to_string(kSinkRowsPerSecond) + R"yaml(}
)yaml");
  CommandResult run = cluster.Sluice({"run", spec, "--detached", "--output", "json"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::string job_id = nlohmann::json::parse(run.output)["job_id"];

  std::vector<pid_t> pids = {cluster.taskmanager(0)->pid(), cluster.taskmanager(1)->pid()};
  ASSERT_TRUE(WaitFor([&] { return Counts(cluster, job_id).sink_in > 5'000; },
                      std::chrono::seconds(30)));
  std::vector<int64_t> baseline;
  for (pid_t pid : pids) baseline.push_back(RssBytes(pid));

  // While the sink is the bottleneck, sample memory and the records in flight.
  const int64_t pool_bytes = int64_t{kBuffersPerTaskManager} * kBufferSize;
  int64_t max_growth = 0, max_in_flight = 0;
  int samples = 0;
  WaitFor([&] {
    VertexCounts c = Counts(cluster, job_id);
    if (c.sink_in >= kRows * 3 / 4) return true;
    for (size_t i = 0; i < pids.size(); ++i) {
      max_growth = std::max(max_growth, RssBytes(pids[i]) - baseline[i]);
    }
    if (c.source_out >= 0 && c.sink_in >= 0) max_in_flight = std::max(max_in_flight, c.source_out - c.sink_in);
    ++samples;
    return false;
  }, std::chrono::seconds(60));
  EXPECT_GT(samples, 5);
  std::printf("backpressure: %d samples, max RSS growth %lld KiB (pool %lld KiB), max in flight "
              "%lld rows (bound %lld)\n", samples, static_cast<long long>(max_growth >> 10),
              static_cast<long long>(pool_bytes >> 10), static_cast<long long>(max_in_flight),
              static_cast<long long>(kJobBuffers * kRowsPerBuffer + 2 * 1024 + 2 * kSinkRowsPerSecond / 5));
  // Memory: bounded by the buffer pools (plus allocator slack), not by the rows produced.
  EXPECT_LT(max_growth, pool_bytes + (8 << 20)) << "RSS grew by " << max_growth;
  // The source did not run ahead: what it emitted but the sink has not taken fits in the
  // job's buffers, plus one source batch per subtask, plus what the sink consumes while the
  // two TaskManagers' metrics (heartbeats every 200 ms) are out of step.
  const int64_t bound = kJobBuffers * kRowsPerBuffer + 2 * 1024 + 2 * kSinkRowsPerSecond / 5;
  EXPECT_LT(max_in_flight, bound) << max_in_flight;
  EXPECT_LT(max_in_flight, kRows / 2) << "the source was not slowed down";

  ASSERT_TRUE(WaitFor([&] { return cluster.JobInfo(job_id)["summary"]["state"] == "JOB_FINISHED"; },
                      std::chrono::seconds(60)));
  VertexCounts done = Counts(cluster, job_id);
  EXPECT_EQ(done.source_out, kRows);
  EXPECT_EQ(done.sink_in, kRows);  // nothing lost
}

}  // namespace
}  // namespace sluice::testing
