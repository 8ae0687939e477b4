// RestHandler: the JobManager's HTTP API, as one function from request to response (the
// HttpServer calls it on its worker threads; tests call it directly). Routes (docs/rest.md):
//   GET  /v1/overview, /v1/jobs, /v1/jobs/{id}, /v1/jobs/{id}/vertices/{vertex_id},
//        /v1/jobs/{id}/exceptions, /v1/jobs/{id}/backpressure, /v1/jobs/{id}/watermarks,
//        /v1/taskmanagers,
//        /v1/taskmanagers/{tm_id}, /metrics (Prometheus text format),
//        /v1/health (liveness), /v1/ready (readiness: 503 until SetReady())
//   POST /v1/jobs/{id}/cancel (also PATCH /v1/jobs/{id}?mode=cancel, as Flink)
// Every answer but /metrics is JSON; errors are {"error": "..."} with 400 (bad id or
// parameter), 404 (unknown path, job, vertex or TaskManager), 405 (with Allow), 409 (cancel of
// an ended job). Ids in paths are only looked up, never used as file names.
// Reads the Dispatcher (thread-safe), the TaskMetricsHistory and the MetricsRegistry; it holds
// no state of its own besides its readiness flag. Thread-safe.
#pragma once

#include <atomic>
#include <string>

#include "common/http/http_server.h"
#include "common/metrics/metrics.h"
#include "jobmanager/dispatcher.h"
#include "jobmanager/rest/dashboard_files.h"
#include "jobmanager/rest/task_metrics_history.h"

namespace sluice::jobmanager {

class RestHandler {
 public:
  // All must outlive the handler. `rpc_address` is shown by /v1/overview. `web_dev_dir`:
  // see DashboardFiles (empty: the embedded dashboard).
  RestHandler(Dispatcher* dispatcher, const TaskMetricsHistory* history,
              const metrics::MetricsRegistry* registry, std::string rpc_address,
              std::string web_dev_dir = "");

  http::HttpResponse Handle(const http::HttpRequest& request) const;
  // GET /v1/ready answers 200 from now on (the JobManager recovered its jobs and submitted
  // its application job); 503 before. GET /v1/health answers 200 whenever it serves.
  void SetReady() { ready_.store(true, std::memory_order_relaxed); }

 private:
  std::atomic<bool> ready_{false};
  Dispatcher* dispatcher_;
  const TaskMetricsHistory* history_;
  const metrics::MetricsRegistry* registry_;
  const std::string rpc_address_;
  const DashboardFiles dashboard_;
};

}  // namespace sluice::jobmanager
