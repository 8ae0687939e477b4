#include "taskmanager/taskmanager_metrics.h"

#include <climits>
#include <set>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "common/process_util.h"
#include "nlohmann/json.hpp"

namespace sluice::taskmanager {
namespace {

double Ratio(int used, int total) { return total > 0 ? static_cast<double>(used) / total : 0.0; }

std::string ErrorJson(const std::string& message) {
  return nlohmann::json{{"error", message}}.dump(-1, ' ', false,
                                                 nlohmann::json::error_handler_t::replace);
}

}  // namespace

void WriteTaskMetrics(const std::vector<proto::TaskMetrics>& tasks, metrics::MetricWriter& out) {
  for (const proto::TaskMetrics& t : tasks) {
    const metrics::Labels labels = {
        {"job", t.job_id()}, {"vertex", t.vertex_name()}, {"subtask", absl::StrCat(t.subtask())}};
    out.Counter("sluice_task_records_in_total", "Records the task received (or its source read).",
                labels, static_cast<double>(t.records_in()));
    out.Counter("sluice_task_records_out_total", "Records the task emitted to its outputs.", labels,
                static_cast<double>(t.records_out()));
    out.Counter("sluice_task_bytes_in_total", "Serialized bytes the task received over its inputs.",
                labels, static_cast<double>(t.bytes_in()));
    out.Counter("sluice_task_bytes_out_total",
                "Serialized bytes the task handed to the network (a broadcast counts per channel).",
                labels, static_cast<double>(t.bytes_out()));
    out.Counter("sluice_task_busy_seconds_total",
                "Running time spent processing (neither idle nor backpressured).", labels,
                t.busy_ms() / 1000.0);
    out.Counter("sluice_task_idle_seconds_total",
                "Running time spent waiting for input (or in a throttled source).", labels,
                t.idle_ms() / 1000.0);
    out.Counter("sluice_task_backpressured_seconds_total",
                "Running time spent waiting for a free output buffer (backpressure).", labels,
                t.backpressured_ms() / 1000.0);
    out.Gauge("sluice_task_out_pool_buffers", "Send buffers of the task's outputs.", labels,
              t.out_pool_buffers());
    out.Gauge("sluice_task_out_pool_usage", "Share of the send buffers in use (0..1).", labels,
              Ratio(t.out_pool_used(), t.out_pool_buffers()));
    out.Gauge("sluice_task_in_pool_buffers",
              "Receive buffers reserved by the task's input gates (remote channels).", labels,
              t.in_pool_buffers());
    out.Gauge("sluice_task_in_pool_usage",
              "Share of the receive buffers holding data not yet consumed (0..1).", labels,
              Ratio(t.in_pool_used(), t.in_pool_buffers()));
    // Event time (only while the task has a watermark that is not the end of its input);
    // the lag is `time() - sluice_task_watermark_seconds` in PromQL.
    if (t.has_watermark() && t.watermark() != INT64_MAX && !t.watermark_idle()) {
      out.Gauge("sluice_task_watermark_seconds",
                "The task's current watermark (event time), seconds since the epoch.", labels,
                static_cast<double>(t.watermark()) / 1e6);
    }
    out.Counter("sluice_task_late_records_dropped_total",
                "Records dropped because they were later than their windows' allowed lateness.",
                labels, static_cast<double>(t.late_records_dropped()));
    out.Counter("sluice_task_bad_records_skipped_total",
                "Source records the format could not decode, dropped (on_error: skip).", labels,
                static_cast<double>(t.bad_records_skipped()));
    out.Counter("sluice_task_bad_records_dead_lettered_total",
                "Source records the format could not decode, written to the dead-letter sink "
                "(on_error: dead_letter).",
                labels, static_cast<double>(t.bad_records_dead_lettered()));
  }
}

metrics::Registration RegisterTaskManagerMetrics(metrics::MetricsRegistry* registry,
                                                 TaskExecutor* executor,
                                                 network::NetworkEnvironment* network, int slots) {
  return registry->Register([executor, network, slots](metrics::MetricWriter& out) {
    const std::vector<proto::TaskMetrics> tasks = executor->Metrics();
    // Slot sharing puts subtask i of every vertex of a job attempt into one slot.
    std::set<std::tuple<std::string, int, int>> used_slots;
    for (const proto::TaskMetrics& t : tasks)
      used_slots.emplace(t.job_id(), t.attempt(), t.subtask());
    out.Gauge("sluice_taskmanager_slots", "Task slots of this TaskManager.", {}, slots);
    out.Gauge("sluice_taskmanager_slots_used",
              "Slots occupied by running tasks (subtask i of a job's vertices share slot i).", {},
              static_cast<double>(used_slots.size()));
    out.Gauge("sluice_taskmanager_tasks", "Tasks deployed and not yet ended.", {},
              static_cast<double>(tasks.size()));
    out.Gauge("sluice_taskmanager_memory_rss_bytes", "Resident set size of the process.", {},
              static_cast<double>(CurrentRssBytes()));
    const network::BufferPoolStats buffers = network->stats();
    out.Gauge("sluice_taskmanager_network_buffers",
              "Network buffers of this TaskManager (taskmanager.network.buffers).", {},
              buffers.total_buffers);
    out.Gauge("sluice_taskmanager_network_buffers_used",
              "Network buffers reserved by live task outputs and input gates.", {},
              buffers.used_buffers);
    out.Gauge("sluice_taskmanager_network_buffer_size_bytes", "Size of one network buffer.", {},
              static_cast<double>(buffers.buffer_size));
    WriteTaskMetrics(tasks, out);
  });
}

http::HttpResponse ServeHttp(const metrics::MetricsRegistry& registry,
                             const std::function<bool()>& registered,
                             const http::HttpRequest& request) {
  http::HttpResponse response;
  const bool known = request.path == "/metrics" || request.path == "/health" ||
                     request.path == "/ready";
  if (!known) {
    response.status = 404;
    response.body = ErrorJson(
        absl::StrCat("no such path: ", request.path, " (try /metrics, /health or /ready)"));
    return response;
  }
  if (request.method != "GET" && request.method != "HEAD") {
    response.status = 405;
    response.allow = "GET";
    response.body =
        ErrorJson(absl::StrCat("method ", request.method, " is not allowed on ", request.path));
    return response;
  }
  if (request.path == "/health") {
    response.body = R"({"status":"UP"})";
    return response;
  }
  if (request.path == "/ready") {
    const bool ready = registered();
    response.status = ready ? 200 : 503;
    response.body = ready ? R"({"status":"READY"})"
                          : R"({"status":"NOT_READY","reason":"not registered with a JobManager"})";
    return response;
  }
  response.content_type = metrics::MetricsRegistry::kContentType;
  response.body = registry.Serialize();
  return response;
}

}  // namespace sluice::taskmanager
