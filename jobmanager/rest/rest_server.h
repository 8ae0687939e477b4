// RestServer: the JobManager's HTTP endpoint on jobmanager.address:rest.port (0 = a free
// port): the REST API (RestHandler) and /metrics. Owns the JobManager's MetricsRegistry with
// the JobManagerProbe's collector (jobs by state, TaskManagers, slots, restarts per job, REST
// request counts and latencies). Started by sluice-jobmanager's main after the
// JobManagerServer; Stop before the JobManagerServer shuts down. With security.rest.tls.* it
// serves HTTPS; with security.auth.token_file every request needs the bearer token except
// the health checks and the dashboard's static files (IsPublicRestPath; docs/security.md).
// Start/Stop from one thread.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/cluster_security.h"
#include "common/config.h"
#include "common/http/http_server.h"
#include "common/metrics/metrics.h"
#include "jobmanager/dispatcher.h"
#include "jobmanager/rest/rest_handler.h"
#include "jobmanager/rest/task_metrics_history.h"

namespace sluice::jobmanager {

// The JobManager's own metrics besides what it reads from the Dispatcher at scrape time.
struct JobManagerProbe {
  // Latency of REST requests (seconds; buckets 0.5 ms .. ~8 s).
  metrics::Histogram rest_request_seconds{metrics::Histogram::ExponentialBounds(0.0005, 4, 8)};
  metrics::Counter rest_responses_2xx;
  metrics::Counter rest_responses_4xx;
  metrics::Counter rest_responses_5xx;
};

// Registers the JobManager collector: dispatcher state plus `probe`. Both must outlive it.
[[nodiscard]] metrics::Registration RegisterJobManagerMetrics(metrics::MetricsRegistry* registry,
                                                              const Dispatcher* dispatcher,
                                                              const JobManagerProbe* probe);

// Paths served without a bearer token: the dashboard's static files (code, no data: its
// API calls carry the token) and liveness/readiness checks (/healthz, /readyz, /livez,
// /v1/health*, /v1/ready*).
bool IsPublicRestPath(absl::string_view path);

class RestServer {
 public:
  // Binds `host`:`port`. Unavailable "cannot listen on HOST:PORT for the REST API (address in
  // use?)". `dispatcher` and `history` must outlive the server. `web_dev_dir`: serve the
  // dashboard from this directory instead of the embedded copy (DashboardFiles).
  // `security`: HTTPS certificate and bearer token (default: plain HTTP, no token).
  static absl::StatusOr<std::unique_ptr<RestServer>> Start(
      const std::string& host, int port, Dispatcher* dispatcher, const TaskMetricsHistory* history,
      std::string rpc_address, std::string web_dev_dir = "", const ClusterSecurity& security = {});
  ~RestServer() { Stop(); }

  int port() const { return server_->port(); }
  const std::string& address() const { return server_->address(); }
  const metrics::MetricsRegistry& registry() const { return registry_; }
  // /v1/ready answers 200 from now on (see RestHandler::SetReady).
  void SetReady() { handler_->SetReady(); }
  // Idempotent.
  void Stop() {
    if (server_) server_->Stop();
  }

 private:
  RestServer() = default;
  http::HttpResponse Handle(const http::HttpRequest& request);

  metrics::MetricsRegistry registry_;
  JobManagerProbe probe_;
  metrics::Registration jm_metrics_;
  std::unique_ptr<RestHandler> handler_;
  std::unique_ptr<http::HttpServer> server_;  // last: stops before the rest is destroyed
};

}  // namespace sluice::jobmanager
