// The metrics a TaskManager exposes on its /metrics endpoint: per task (records and bytes in
// and out, busy / idle / backpressured time, buffer pool usage; labels job, vertex, subtask),
// the TaskManager's memory (RSS), slots, and network buffers. Values are read at scrape time
// from what the components own (Task's counters and TaskProbe, the RecordWriters, the
// InputGates, the NetworkBufferPool), so the task threads only do relaxed atomic adds.
// Also the HTTP handler of the TaskManager's metrics server (metrics and the health probes).
// Used by the TaskManager main.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/http/http_server.h"
#include "common/metrics/metrics.h"
#include "proto/control.pb.h"
#include "taskmanager/network/network_environment.h"
#include "taskmanager/task_executor.h"

namespace sluice::taskmanager {

// Writes the per-task samples of `tasks` (from TaskExecutor::Metrics()).
void WriteTaskMetrics(const std::vector<proto::TaskMetrics>& tasks, metrics::MetricWriter& out);

// Registers the TaskManager's collector. `executor` and `network` must outlive the
// Registration.
[[nodiscard]] metrics::Registration RegisterTaskManagerMetrics(metrics::MetricsRegistry* registry,
                                                               TaskExecutor* executor,
                                                               network::NetworkEnvironment* network,
                                                               int slots);

// GET /metrics -> the registry in Prometheus text format; GET /health -> 200 while the process
// serves (liveness); GET /ready -> 200 while `registered()` (registered with a JobManager,
// readiness), else 503. Other paths 404, other methods 405 (JSON errors).
http::HttpResponse ServeHttp(const metrics::MetricsRegistry& registry,
                             const std::function<bool()>& registered,
                             const http::HttpRequest& request);

}  // namespace sluice::taskmanager
