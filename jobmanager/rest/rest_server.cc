#include "jobmanager/rest/rest_server.h"

#include <chrono>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/http/bearer_auth.h"
#include "spdlog/spdlog.h"

namespace sluice::jobmanager {
namespace {

std::string LowerState(proto::JobState state) {
  std::string name = proto::JobState_Name(state);
  if (name.rfind("JOB_", 0) == 0) name = name.substr(4);
  absl::AsciiStrToLower(&name);
  return name;
}

// A job's checkpoint counters and its latest completed checkpoint (Flink's
// numberOfCompletedCheckpoints, lastCheckpointDuration, lastCheckpointSize ...). Jobs that do
// not checkpoint have none of these series.
void WriteCheckpointMetrics(const proto::JobDetail& job, metrics::MetricWriter& out) {
  if (job.checkpoint_interval_ms() <= 0 && job.checkpoints_size() == 0) return;
  const metrics::Labels labels = {{"job", job.summary().job_id()},
                                  {"job_name", job.summary().name()}};
  auto with_status = [&labels](const char* status) {
    metrics::Labels l = labels;
    l.emplace_back("status", status);
    return l;
  };
  constexpr char kTotalHelp[] = "Checkpoints and savepoints of a job, by outcome.";
  out.Counter("sluice_job_checkpoints_total", kTotalHelp, with_status("completed"),
              job.checkpoints_completed());
  out.Counter("sluice_job_checkpoints_total", kTotalHelp, with_status("failed"),
              job.checkpoints_failed());
  int in_progress = 0;
  const proto::CheckpointStats* last = nullptr;
  for (const proto::CheckpointStats& c : job.checkpoints()) {
    if (c.status() == "IN_PROGRESS") ++in_progress;
    if (c.status() == "COMPLETED" && !c.savepoint()) last = &c;
  }
  out.Gauge("sluice_job_checkpoints_in_progress", "Checkpoints triggered and not yet complete.",
            labels, in_progress);
  if (last == nullptr) return;
  out.Gauge("sluice_job_last_checkpoint_id", "Id of the latest completed checkpoint.", labels,
            last->id());
  out.Gauge("sluice_job_last_checkpoint_timestamp_seconds",
            "When the latest completed checkpoint was triggered (seconds since the epoch).", labels,
            last->trigger_time_ms() / 1000.0);
  out.Gauge("sluice_job_last_checkpoint_duration_seconds",
            "Trigger to completion of the latest completed checkpoint.", labels,
            last->duration_ms() / 1000.0);
  out.Gauge("sluice_job_last_checkpoint_size_bytes",
            "State size of the latest completed checkpoint (every file it needs).", labels,
            last->size_bytes());
  out.Gauge("sluice_job_last_checkpoint_incremental_bytes",
            "Bytes the latest completed checkpoint wrote (incremental RocksDB: new SSTs only).",
            labels, last->incremental_bytes());
  out.Gauge("sluice_job_last_checkpoint_alignment_seconds",
            "Longest barrier alignment of any task in the latest completed checkpoint.", labels,
            last->alignment_ms() / 1000.0);
}

}  // namespace

bool IsPublicRestPath(absl::string_view path) {
  if (path == "/" || path == "/index.html" || absl::StartsWith(path, "/web/")) return true;
  return path == "/v1/health" || path == "/v1/ready";
}

metrics::Registration RegisterJobManagerMetrics(metrics::MetricsRegistry* registry,
                                                const Dispatcher* dispatcher,
                                                const JobManagerProbe* probe) {
  return registry->Register([dispatcher, probe](metrics::MetricWriter& out) {
    const std::vector<proto::JobSummary> jobs = dispatcher->ListJobs();
    std::map<std::string, int> by_state;
    for (int s = proto::JobState_MIN; s <= proto::JobState_MAX; ++s) {
      if (proto::JobState_IsValid(s)) by_state[LowerState(static_cast<proto::JobState>(s))] = 0;
    }
    for (const proto::JobSummary& job : jobs) ++by_state[LowerState(job.state())];
    for (const auto& [state, count] : by_state) {
      out.Gauge("sluice_jobmanager_jobs", "Jobs known to the JobManager, by state.",
                {{"state", state}}, count);
    }
    for (const proto::JobSummary& job : jobs) {
      out.Counter("sluice_job_restarts_total", "Restarts of a job (failed attempts restarted).",
                  {{"job", job.job_id()}, {"job_name", job.name()}}, job.restarts());
    }
    for (const proto::JobSummary& job : jobs) {
      if (absl::StatusOr<proto::JobDetail> detail = dispatcher->GetJob(job.job_id()); detail.ok()) {
        WriteCheckpointMetrics(*detail, out);
      }
    }
    int alive = 0, lost = 0, slots_total = 0, slots_free = 0;
    for (const proto::TaskManagerInfo& tm : dispatcher->ListTaskManagers()) {
      if (!tm.alive()) {
        ++lost;
        continue;
      }
      ++alive;
      slots_total += tm.slots_total();
      slots_free += tm.slots_free();
    }
    out.Gauge("sluice_jobmanager_taskmanagers", "TaskManagers registered and alive.", {}, alive);
    out.Gauge("sluice_jobmanager_taskmanagers_lost",
              "TaskManagers declared lost and not registered again (the newest 64 are kept).", {},
              lost);
    out.Gauge("sluice_jobmanager_slots", "Task slots of the alive TaskManagers.", {},
              slots_total);
    out.Gauge("sluice_jobmanager_slots_free", "Free task slots of the alive TaskManagers.", {},
              slots_free);
    out.Histogram("sluice_rest_request_duration_seconds", "Time to answer a REST request.", {},
                  probe->rest_request_seconds.Snapshot());
    out.Counter("sluice_rest_responses_total", "REST responses by status class.", {{"code", "2xx"}},
                probe->rest_responses_2xx.value());
    out.Counter("sluice_rest_responses_total", "REST responses by status class.", {{"code", "4xx"}},
                probe->rest_responses_4xx.value());
    out.Counter("sluice_rest_responses_total", "REST responses by status class.", {{"code", "5xx"}},
                probe->rest_responses_5xx.value());
  });
}

absl::StatusOr<std::unique_ptr<RestServer>> RestServer::Start(
    const std::string& host, int port, Dispatcher* dispatcher, const TaskMetricsHistory* history,
    std::string rpc_address, std::string web_dev_dir, const ClusterSecurity& security) {
  std::unique_ptr<RestServer> s(new RestServer());
  s->jm_metrics_ = RegisterJobManagerMetrics(&s->registry_, dispatcher, &s->probe_);
  s->handler_ = std::make_unique<RestHandler>(dispatcher, history, &s->registry_,
                                              std::move(rpc_address), std::move(web_dev_dir));
  RestServer* raw = s.get();
  http::HttpHandler handler = [raw](const http::HttpRequest& r) { return raw->Handle(r); };
  if (security.token.has_value()) {
    handler = http::RequireBearerToken(
        std::move(handler), *security.token,
        [](const http::HttpRequest& r) { return IsPublicRestPath(r.path); });
  }
  http::HttpServerOptions options;
  options.tls = security.rest_tls;
  absl::StatusOr<std::unique_ptr<http::HttpServer>> server =
      http::HttpServer::Start(host, port, "the REST API", std::move(handler), options);
  if (!server.ok()) return server.status();
  s->server_ = *std::move(server);
  const std::string base = absl::StrCat(s->server_->scheme(), "://", s->server_->address());
  spdlog::info("dashboard on {}/, REST API on {}/v1, metrics on {}/metrics{}", base, base, base,
               security.token ? " (bearer token required)" : "");
  return s;
}

http::HttpResponse RestServer::Handle(const http::HttpRequest& request) {
  const auto start = std::chrono::steady_clock::now();
  http::HttpResponse response = handler_->Handle(request);
  probe_.rest_request_seconds.Observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  if (response.status < 400) {
    probe_.rest_responses_2xx.Increment();
  } else if (response.status < 500) {
    probe_.rest_responses_4xx.Increment();
  } else {
    probe_.rest_responses_5xx.Increment();
  }
  return response;
}

}  // namespace sluice::jobmanager
