#include "jobmanager/rest/rest_handler.h"

#include <algorithm>
#include <climits>
#include <map>
#include <optional>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/proto_json.h"
#include "common/types/timestamp.h"
#include "nlohmann/json.hpp"

namespace sluice::jobmanager {
namespace {

using json = nlohmann::json;
using http::HttpRequest;
using http::HttpResponse;

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

HttpResponse Json(int status, const json& body) {
  HttpResponse r;
  r.status = status;
  r.body = Dump(body);
  return r;
}

HttpResponse Error(int status, const std::string& message) {
  return Json(status, json{{"error", message}});
}

// An id from a path, shortened for messages.
std::string Shown(absl::string_view id) {
  return id.size() <= 64 ? std::string(id) : absl::StrCat(id.substr(0, 64), "...");
}

json CheckpointJson(const proto::CheckpointStats& c) {
  json j = {{"id", c.id()},
            {"status", c.status()},
            {"savepoint", c.savepoint()},
            {"trigger_time_ms", c.trigger_time_ms()},
            {"duration_ms", c.duration_ms()},
            {"size_bytes", c.size_bytes()},
            {"incremental_bytes", c.incremental_bytes()},
            {"alignment_ms", c.alignment_ms()},
            {"acknowledged", c.acknowledged()},
            {"tasks", c.tasks()}};
  if (!c.path().empty()) j["path"] = c.path();
  if (!c.failure().empty()) j["failure"] = c.failure();
  return j;
}

HttpResponse FromStatus(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kNotFound:
      return Error(404, std::string(s.message()));
    case absl::StatusCode::kInvalidArgument:
      return Error(400, std::string(s.message()));
    case absl::StatusCode::kFailedPrecondition:
      return Error(409, std::string(s.message()));
    default:
      return Error(500, std::string(s.message()));
  }
}

// 405 unless the request uses one of `methods` (GET admits HEAD).
std::optional<HttpResponse> RequireMethod(const HttpRequest& req,
                                          std::initializer_list<absl::string_view> methods) {
  for (absl::string_view m : methods) {
    if (req.method == m || (m == "GET" && req.method == "HEAD")) return std::nullopt;
  }
  HttpResponse r = Error(405, absl::StrCat("method ", req.method, " is not allowed on ", req.path,
                                           " (allowed: ", absl::StrJoin(methods, ", "), ")"));
  r.allow = absl::StrJoin(methods, ", ");
  return r;
}

// Cross-site request forgery: a page on another site can make a browser POST here (no
// preflight for a body-less POST), so a request that changes something and carries an
// Origin (browsers always send one on POST) must come from this server's own origin.
// Requests without Origin (curl, scripts, the CLI) are not browsers acting for a page.
std::optional<HttpResponse> RefuseCrossSite(const HttpRequest& req) {
  if (req.method == "GET" || req.method == "HEAD" || req.method == "OPTIONS") return std::nullopt;
  if (req.origin.empty()) return std::nullopt;
  absl::string_view origin = req.origin;
  if (!absl::ConsumePrefix(&origin, "http://")) absl::ConsumePrefix(&origin, "https://");
  if (!req.host.empty() && origin == req.host) return std::nullopt;
  return Error(403, absl::StrCat("cross-site request refused: Origin ", Shown(req.origin),
                                 " is not this server (", Shown(req.host), ")"));
}

std::string Lower(std::string s) {
  absl::AsciiStrToLower(&s);
  return s;
}

std::string JobStateName(proto::JobState state) {
  std::string name = proto::JobState_Name(state);
  if (absl::StartsWith(name, "JOB_")) name = name.substr(4);
  return Lower(name);
}

std::string TaskStateName(proto::TaskState state) { return Lower(proto::TaskState_Name(state)); }

std::string PartitioningName(proto::Partitioning p) { return Lower(proto::Partitioning_Name(p)); }

json SummaryJson(const proto::JobSummary& s, int64_t now_wall_ms) {
  const int64_t end = s.end_time_ms() > 0 ? s.end_time_ms() : now_wall_ms;
  return json{
      {"id", s.job_id()},
      {"name", s.name()},
      {"state", JobStateName(s.state())},
      {"start_time_ms", s.start_time_ms()},
      {"end_time_ms", s.end_time_ms() > 0 ? json(s.end_time_ms()) : json(nullptr)},
      {"duration_ms", s.start_time_ms() > 0 ? std::max<int64_t>(0, end - s.start_time_ms()) : 0},
      {"restarts", s.restarts()},
      {"tasks",
       {{"total", s.tasks_total()},
        {"running", s.tasks_running()},
        {"finished", s.tasks_finished()}}}};
}

// Level of backpressure as Flink names it: ok (< 10 % of the time), low (< 50 %), high.
std::string BackpressureLevel(double ms_per_second) {
  if (ms_per_second < 100) return "ok";
  if (ms_per_second < 500) return "low";
  return "high";
}

double Ratio(int used, int total) { return total > 0 ? static_cast<double>(used) / total : 0.0; }

json RatesJson(const std::optional<TaskRates>& r) {
  if (!r) {
    return json{{"records_in_per_second", nullptr},      {"records_out_per_second", nullptr},
                {"bytes_in_per_second", nullptr},        {"bytes_out_per_second", nullptr},
                {"busy_ms_per_second", nullptr},         {"idle_ms_per_second", nullptr},
                {"backpressured_ms_per_second", nullptr}};
  }
  return json{{"records_in_per_second", r->records_in_per_second},
              {"records_out_per_second", r->records_out_per_second},
              {"bytes_in_per_second", r->bytes_in_per_second},
              {"bytes_out_per_second", r->bytes_out_per_second},
              {"busy_ms_per_second", r->busy_ms_per_second},
              {"idle_ms_per_second", r->idle_ms_per_second},
              {"backpressured_ms_per_second", r->backpressured_ms_per_second}};
}

json TaskMetricsJson(const proto::TaskMetrics& m, const std::optional<TaskRates>& rates) {
  json j = {{"records_in", m.records_in()},
            {"records_out", m.records_out()},
            {"bytes_in", m.bytes_in()},
            {"bytes_out", m.bytes_out()},
            {"busy_ms", m.busy_ms()},
            {"idle_ms", m.idle_ms()},
            {"backpressured_ms", m.backpressured_ms()},
            {"out_pool_buffers", m.out_pool_buffers()},
            {"out_pool_usage", Ratio(m.out_pool_used(), m.out_pool_buffers())},
            {"in_pool_buffers", m.in_pool_buffers()},
            {"in_pool_usage", Ratio(m.in_pool_used(), m.in_pool_buffers())}};
  j.update(RatesJson(rates));
  return j;
}

// A vertex's event time: watermark_ms (null: none), watermark (RFC 3339 or null),
// watermark_state none | active | idle | end (its input ended), late_records_dropped; and the
// bad source records: bad_records_skipped, bad_records_dead_lettered.
json VertexWatermarkJson(const proto::VertexDetail& v) {
  std::string state = "none";
  json ms = nullptr, text = nullptr;
  if (v.watermark_idle() && v.subtasks_size() > 0) {
    state = "idle";
  } else if (v.has_watermark() && v.watermark() == INT64_MAX) {
    state = "end";
  } else if (v.has_watermark()) {
    state = "active";
    ms = v.watermark() / 1000;
    text = types::FormatTimestamp(v.watermark());
  }
  return {{"watermark_ms", ms},
          {"watermark", text},
          {"watermark_state", state},
          {"late_records_dropped", v.late_records_dropped()},
          {"bad_records_skipped", v.bad_records_skipped()},
          {"bad_records_dead_lettered", v.bad_records_dead_lettered()}};
}

// A vertex's state from its subtasks': the common one, else the most telling.
proto::TaskState VertexState(const proto::VertexDetail& v) {
  std::map<proto::TaskState, int> counts;
  for (const proto::SubtaskDetail& s : v.subtasks()) ++counts[s.state()];
  if (counts.size() == 1) return counts.begin()->first;
  for (proto::TaskState s : {proto::FAILED, proto::CANCELING, proto::RUNNING, proto::DEPLOYING,
                             proto::CREATED, proto::CANCELED, proto::FINISHED}) {
    if (counts.count(s)) return s;
  }
  return proto::CREATED;
}

json CheckpointConfigJson(const proto::JobDetail& job) {
  return {{"enabled", job.checkpoint_interval_ms() > 0},
          {"interval_ms", job.checkpoint_interval_ms()},
          {"dir", job.checkpoint_dir()}};
}

class Router {
 public:
  Router(const HttpRequest& req, Dispatcher* dispatcher, const TaskMetricsHistory* history,
         const metrics::MetricsRegistry* registry, const std::string& rpc_address,
         const DashboardFiles* dashboard, bool ready)
      : req_(req),
        dispatcher_(dispatcher),
        history_(history),
        registry_(registry),
        rpc_address_(rpc_address),
        dashboard_(dashboard),
        ready_(ready) {
    for (absl::string_view seg : absl::StrSplit(req.path, '/', absl::SkipEmpty())) {
      segs_.emplace_back(seg);
    }
  }

  HttpResponse Route() {
    const size_t n = segs_.size();
    if (n == 0 || segs_[0] == "web" || (n == 1 && segs_[0] == "index.html")) {
      return Guard({"GET"}, [&] { return Dashboard(); });
    }
    if (n == 1 && segs_[0] == "metrics") return Guard({"GET"}, [&] { return Metrics(); });
    if (n == 1 && segs_[0] == "v1") return Guard({"GET"}, [&] { return Index(); });
    if (segs_[0] != "v1") return NotFound();
    const std::string& what = segs_[1];
    if (what == "overview" && n == 2) return Guard({"GET"}, [&] { return Overview(); });
    if (what == "health" && n == 2) return Guard({"GET"}, [&] { return Json(200, {{"status", "UP"}}); });
    if (what == "ready" && n == 2) return Guard({"GET"}, [&] { return Ready(); });
    if (what == "taskmanagers") {
      if (n == 2) return Guard({"GET"}, [&] { return TaskManagers(std::nullopt); });
      if (n == 3) return Guard({"GET"}, [&] { return TaskManagers(segs_[2]); });
      return NotFound();
    }
    if (what != "jobs") return NotFound();
    if (n == 2) return Guard({"GET"}, [&] { return Jobs(); });
    const std::string& job_id = segs_[2];
    if (n == 3) return Guard({"GET", "PATCH"}, [&] { return Job(job_id); });
    const std::string& sub = segs_[3];
    if (sub == "cancel" && n == 4) return Guard({"POST"}, [&] { return Cancel(job_id); });
    if (sub == "exceptions" && n == 4) return Guard({"GET"}, [&] { return Exceptions(job_id); });
    if (sub == "config" && n == 4) return Guard({"GET"}, [&] { return JobConfig(job_id); });
    if (sub == "backpressure" && n == 4) {
      return Guard({"GET"}, [&] { return Backpressure(job_id); });
    }
    if (sub == "vertices" && n == 5) {
      return Guard({"GET"}, [&] { return Vertex(job_id, segs_[4]); });
    }
    if (sub == "checkpoints" && n == 4) return Guard({"GET"}, [&] { return Checkpoints(job_id); });
    if (sub == "savepoints" && n == 4) {
      return Guard({"POST"}, [&] { return TriggerSavepoint(job_id, /*stop=*/false); });
    }
    if (sub == "savepoints" && n == 5) {
      return Guard({"GET"}, [&] { return SavepointStatus(job_id, segs_[4]); });
    }
    if (sub == "stop" && n == 4) return Guard({"POST"}, [&] { return TriggerSavepoint(job_id, true); });
    if (sub == "watermarks" && n == 4) return Guard({"GET"}, [&] { return Watermarks(job_id); });
    return NotFound();
  }

 private:
  template <typename Fn>
  HttpResponse Guard(std::initializer_list<absl::string_view> methods, Fn&& fn) {
    if (std::optional<HttpResponse> bad = RequireMethod(req_, methods)) return *bad;
    if (std::optional<HttpResponse> forged = RefuseCrossSite(req_)) return *forged;
    return fn();
  }

  // Every vertex's event time.
  HttpResponse Watermarks(const std::string& job_id) {
    absl::StatusOr<proto::JobDetail> job = dispatcher_->GetJob(job_id);
    if (!job.ok()) return FromStatus(job.status());
    json vertices = json::array();
    for (const proto::VertexDetail& v : job->vertices()) {
      json j = {{"id", v.id()}, {"name", v.name()}};
      j.update(VertexWatermarkJson(v));
      vertices.push_back(std::move(j));
    }
    return Json(200, {{"job_id", job_id}, {"vertices", std::move(vertices)}});
  }

  // Checkpoint configuration, counts and history (newest last).
  HttpResponse Checkpoints(const std::string& job_id) {
    absl::StatusOr<proto::JobDetail> job = dispatcher_->GetJob(job_id);
    if (!job.ok()) return FromStatus(job.status());
    json history = json::array();
    json counts = {{"completed", 0}, {"failed", 0}, {"in_progress", 0}};
    json latest;
    for (const proto::CheckpointStats& c : job->checkpoints()) {
      history.push_back(CheckpointJson(c));
      const std::string key = c.status() == "COMPLETED" ? "completed"
                              : c.status() == "FAILED"  ? "failed"
                                                        : "in_progress";
      counts[key] = counts[key].get<int>() + 1;
      if (c.status() == "COMPLETED" && !c.savepoint()) latest = CheckpointJson(c);
    }
    return Json(200, json{{"job_id", job_id},
                          {"config", CheckpointConfigJson(*job)},
                          {"counts", counts},
                          {"latest_completed", latest},
                          {"history", history}});
  }

  // POST .../savepoints or .../stop with {"target_directory": DIR[, "drain": bool]}: 202 and
  // the request id to poll at GET .../savepoints/{request_id}.
  HttpResponse TriggerSavepoint(const std::string& job_id, bool stop) {
    json body = json::parse(req_.body.empty() ? "{}" : req_.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) return Error(400, "the body is not a JSON object");
    if (!body.contains("target_directory") || !body["target_directory"].is_string()) {
      return Error(400, "missing \"target_directory\" (a directory on the cluster's shared storage)");
    }
    proto::TriggerSavepointRequest request;
    request.set_job_id(job_id);
    request.set_dir(body["target_directory"].get<std::string>());
    request.set_stop(stop);
    request.set_drain(body.value("drain", false));
    absl::StatusOr<proto::TriggerSavepointResponse> started = dispatcher_->TriggerSavepoint(request);
    if (!started.ok()) return FromStatus(started.status());
    return Json(202, json{{"request_id", std::to_string(started->savepoint_id())},
                          {"path", started->path()}});
  }

  HttpResponse SavepointStatus(const std::string& job_id, const std::string& request_id) {
    absl::StatusOr<proto::JobDetail> job = dispatcher_->GetJob(job_id);
    if (!job.ok()) return FromStatus(job.status());
    for (const proto::CheckpointStats& c : job->checkpoints()) {
      if (c.savepoint() && std::to_string(c.id()) == request_id) return Json(200, CheckpointJson(c));
    }
    return Error(404, absl::StrCat("job ", job_id, " has no savepoint request ", Shown(request_id)));
  }

  HttpResponse Dashboard() {
    if (std::optional<HttpResponse> file = dashboard_->Serve(req_.path)) return *file;
    return NotFound();
  }

  HttpResponse NotFound() {
    return Error(
        404, absl::StrCat("no such endpoint: ", Shown(req_.path), " (GET /v1 lists the endpoints)"));
  }

  // Readiness: recovered and serving; the figures help whoever looks at a probe by hand.
  HttpResponse Ready() {
    if (!ready_) return Json(503, {{"status", "NOT_READY"}, {"reason", "starting"}});
    return Json(200, {{"status", "READY"},
                      {"taskmanagers", dispatcher_->ListTaskManagers().size()},
                      {"jobs", dispatcher_->ListJobs().size()}});
  }

  HttpResponse Index() {
    return Json(200,
                json{{"endpoints",
                      {"GET /v1/overview", "GET /v1/jobs", "GET /v1/jobs/{job_id}",
                       "PATCH /v1/jobs/{job_id}?mode=cancel", "POST /v1/jobs/{job_id}/cancel",
                       "GET /v1/jobs/{job_id}/vertices/{vertex_id}",
                       "GET /v1/jobs/{job_id}/exceptions", "GET /v1/jobs/{job_id}/config",
                       "GET /v1/jobs/{job_id}/backpressure",
                       "GET /v1/jobs/{job_id}/checkpoints", "POST /v1/jobs/{job_id}/savepoints",
                       "GET /v1/jobs/{job_id}/savepoints/{request_id}",
                       "POST /v1/jobs/{job_id}/stop",
                       "GET /v1/taskmanagers", "GET /v1/taskmanagers/{tm_id}", "GET /v1/health",
                       "GET /v1/ready", "GET /metrics"}},
                     {"dashboard", "/"},
                     {"docs", "docs/rest.md"}});
  }

  HttpResponse Metrics() {
    HttpResponse r;
    r.content_type = metrics::MetricsRegistry::kContentType;
    r.body = registry_->Serialize();
    return r;
  }

  HttpResponse Overview() {
    json tms = {{"alive", 0}, {"lost", 0}};
    int slots_total = 0, slots_free = 0;
    for (const proto::TaskManagerInfo& tm : dispatcher_->ListTaskManagers()) {
      if (!tm.alive()) {
        tms["lost"] = tms["lost"].get<int>() + 1;
        continue;
      }
      tms["alive"] = tms["alive"].get<int>() + 1;
      slots_total += tm.slots_total();
      slots_free += tm.slots_free();
    }
    json jobs = json::object();
    for (int s = proto::JobState_MIN; s <= proto::JobState_MAX; ++s) {
      if (proto::JobState_IsValid(s)) jobs[JobStateName(static_cast<proto::JobState>(s))] = 0;
    }
    for (const proto::JobSummary& job : dispatcher_->ListJobs()) {
      const std::string state = JobStateName(job.state());
      jobs[state] = jobs[state].get<int>() + 1;
    }
    return Json(200, json{{"jobmanager",
                           {{"rpc_address", rpc_address_}, {"session", dispatcher_->session_id()}}},
                          {"taskmanagers", tms},
                          {"slots", {{"total", slots_total}, {"free", slots_free}}},
                          {"jobs", jobs}});
  }

  HttpResponse Jobs() {
    json list = json::array();
    const int64_t now = SystemClock::Get()->WallMillis();
    for (const proto::JobSummary& job : dispatcher_->ListJobs())
      list.push_back(SummaryJson(job, now));
    return Json(200, json{{"jobs", list}});
  }

  std::optional<TaskRates> RatesOf(int vertex_id, const proto::SubtaskDetail& s) {
    if (s.metrics().job_id().empty()) return std::nullopt;
    return history_->Rates(s.metrics().job_id(), s.metrics().attempt(), vertex_id, s.subtask());
  }

  json VertexJson(const proto::VertexDetail& v, bool with_subtasks) {
    proto::TaskMetrics total;
    std::map<std::string, int> states;
    TaskRates sum;
    int with_rates = 0;
    json subtasks = json::array();
    for (const proto::SubtaskDetail& s : v.subtasks()) {
      ++states[TaskStateName(s.state())];
      const proto::TaskMetrics& m = s.metrics();
      total.set_records_in(total.records_in() + m.records_in());
      total.set_records_out(total.records_out() + m.records_out());
      total.set_bytes_in(total.bytes_in() + m.bytes_in());
      total.set_bytes_out(total.bytes_out() + m.bytes_out());
      total.set_busy_ms(total.busy_ms() + m.busy_ms());
      total.set_idle_ms(total.idle_ms() + m.idle_ms());
      total.set_backpressured_ms(total.backpressured_ms() + m.backpressured_ms());
      total.set_out_pool_buffers(total.out_pool_buffers() + m.out_pool_buffers());
      total.set_out_pool_used(total.out_pool_used() + m.out_pool_used());
      total.set_in_pool_buffers(total.in_pool_buffers() + m.in_pool_buffers());
      total.set_in_pool_used(total.in_pool_used() + m.in_pool_used());
      std::optional<TaskRates> rates = RatesOf(v.id(), s);
      if (rates) {
        ++with_rates;
        sum.records_in_per_second += rates->records_in_per_second;
        sum.records_out_per_second += rates->records_out_per_second;
        sum.bytes_in_per_second += rates->bytes_in_per_second;
        sum.bytes_out_per_second += rates->bytes_out_per_second;
        sum.busy_ms_per_second = std::max(sum.busy_ms_per_second, rates->busy_ms_per_second);
        sum.backpressured_ms_per_second =
            std::max(sum.backpressured_ms_per_second, rates->backpressured_ms_per_second);
        sum.idle_ms_per_second += rates->idle_ms_per_second;
      }
      if (with_subtasks) {
        json sj = {{"subtask", s.subtask()},
                   {"state", TaskStateName(s.state())},
                   {"taskmanager", s.tm_id().empty() ? json(nullptr) : json(s.tm_id())},
                   {"metrics", TaskMetricsJson(m, rates)}};
        if (rates) sj["backpressure"] = BackpressureLevel(rates->backpressured_ms_per_second);
        subtasks.push_back(std::move(sj));
      }
    }
    std::optional<TaskRates> vertex_rates;
    if (with_rates > 0) {
      sum.idle_ms_per_second /= with_rates;  // average; busy and backpressured are the max
      vertex_rates = sum;
    }
    json j = {{"id", v.id()},
              {"name", v.name()},
              {"parallelism", v.parallelism()},
              {"state", TaskStateName(VertexState(v))},
              {"tasks", states},
              {"metrics", TaskMetricsJson(total, vertex_rates)},
              {"backpressure",
               vertex_rates ? json(BackpressureLevel(vertex_rates->backpressured_ms_per_second))
                            : json(nullptr)}};
    j["metrics"].update(VertexWatermarkJson(v));
    if (with_subtasks) j["subtasks"] = std::move(subtasks);
    return j;
  }

  HttpResponse Job(const std::string& job_id) {
    if (req_.method == "PATCH") {
      auto mode = req_.query.find("mode");
      if (mode != req_.query.end() && mode->second != "cancel") {
        return Error(400, absl::StrCat("unsupported mode '", Shown(mode->second),
                                       "' (PATCH supports mode=cancel)"));
      }
      return Cancel(job_id);
    }
    absl::StatusOr<proto::JobDetail> detail = dispatcher_->GetJob(job_id);
    if (!detail.ok()) return FromStatus(detail.status());
    json j = SummaryJson(detail->summary(), SystemClock::Get()->WallMillis());
    json vertices = json::array();
    std::map<int, const proto::VertexDetail*> by_id;
    for (const proto::VertexDetail& v : detail->vertices()) {
      vertices.push_back(VertexJson(v, false));
      by_id[v.id()] = &v;
    }
    json edges = json::array();
    for (const proto::JobEdge& e : detail->edges()) {
      json keys = json::array();
      for (int k : e.key_indexes()) {
        keys.push_back(k < e.schema().fields_size() ? json(e.schema().fields(k).name()) : json(k));
      }
      edges.push_back({{"id", e.id()},
                       {"source", e.source_vertex()},
                       {"target", e.target_vertex()},
                       {"partitioning", PartitioningName(e.partitioning())},
                       {"keys", keys},
                       {"side_output", e.side_output()}});
    }
    j["vertices"] = std::move(vertices);
    j["edges"] = std::move(edges);
    j["failure_cause"] =
        detail->failure_cause().empty() ? json(nullptr) : json(detail->failure_cause());
    return Json(200, j);
  }

  HttpResponse Vertex(const std::string& job_id, const std::string& vertex) {
    int vertex_id = 0;
    if (!absl::SimpleAtoi(vertex, &vertex_id)) {
      return Error(400, absl::StrCat("vertex id '", Shown(vertex), "' is not an integer"));
    }
    absl::StatusOr<proto::JobDetail> detail = dispatcher_->GetJob(job_id);
    if (!detail.ok()) return FromStatus(detail.status());
    for (const proto::VertexDetail& v : detail->vertices()) {
      if (v.id() == vertex_id) {
        json j = VertexJson(v, true);
        j["job_id"] = job_id;
        return Json(200, j);
      }
    }
    return Error(404, absl::StrCat("job ", job_id, " has no vertex ", vertex_id));
  }

  HttpResponse Exceptions(const std::string& job_id) {
    absl::StatusOr<proto::JobDetail> detail = dispatcher_->GetJob(job_id);
    if (!detail.ok()) return FromStatus(detail.status());
    json history = json::array();
    for (int i = detail->exceptions_size() - 1; i >= 0; --i) {
      history.push_back({{"exception", detail->exceptions(i)}});
    }
    return Json(
        200, json{{"job_id", job_id},
                  {"root_cause",
                   detail->failure_cause().empty() ? json(nullptr) : json(detail->failure_cause())},
                  {"history", history}});
  }

  // The job as submitted: restart strategy, checkpointing, job-level settings and each
  // vertex's chain of operators (name and kind).
  HttpResponse JobConfig(const std::string& job_id) {
    absl::StatusOr<proto::JobDetail> detail = dispatcher_->GetJob(job_id);
    if (!detail.ok()) return FromStatus(detail.status());
    absl::StatusOr<proto::JobGraph> graph_or = dispatcher_->GetJobGraph(job_id);
    if (!graph_or.ok()) return FromStatus(graph_or.status());
    const proto::JobGraph& graph = *graph_or;
    json vertices = json::array();
    for (const proto::JobVertex& v : graph.vertices()) {
      json operators = json::array();
      for (const proto::OperatorSpec& op : v.chain()) {
        const google::protobuf::FieldDescriptor* kind = op.GetReflection()->GetOneofFieldDescriptor(
            op, op.GetDescriptor()->FindOneofByName("kind"));
        operators.push_back({{"name", op.name()}, {"kind", kind ? kind->name() : ""}});
      }
      vertices.push_back({{"id", v.id()},
                          {"name", v.name()},
                          {"parallelism", v.parallelism()},
                          {"operators", operators}});
    }
    json restart = ProtoToJson(graph.restart());
    json config = json::object();
    for (const auto& [key, value] : graph.config()) config[key] = value;
    return Json(200, json{{"job_id", job_id},
                          {"name", graph.name()},
                          {"max_parallelism", graph.max_parallelism()},
                          {"restart", restart},
                          {"checkpointing", CheckpointConfigJson(*detail)},
                          {"config", config},
                          {"vertices", vertices}});
  }

  HttpResponse Backpressure(const std::string& job_id) {
    absl::StatusOr<proto::JobDetail> detail = dispatcher_->GetJob(job_id);
    if (!detail.ok()) return FromStatus(detail.status());
    json vertices = json::array();
    for (const proto::VertexDetail& v : detail->vertices()) {
      json subtasks = json::array();
      double worst = -1;
      for (const proto::SubtaskDetail& s : v.subtasks()) {
        std::optional<TaskRates> r = RatesOf(v.id(), s);
        if (!r) {
          subtasks.push_back({{"subtask", s.subtask()}, {"ratio", nullptr}, {"level", nullptr}});
          continue;
        }
        worst = std::max(worst, r->backpressured_ms_per_second);
        subtasks.push_back({{"subtask", s.subtask()},
                            {"ratio", r->backpressured_ms_per_second / 1000.0},
                            {"busy_ratio", r->busy_ms_per_second / 1000.0},
                            {"level", BackpressureLevel(r->backpressured_ms_per_second)}});
      }
      vertices.push_back({{"id", v.id()},
                          {"name", v.name()},
                          {"ratio", worst < 0 ? json(nullptr) : json(worst / 1000.0)},
                          {"level", worst < 0 ? json(nullptr) : json(BackpressureLevel(worst))},
                          {"subtasks", subtasks}});
    }
    return Json(200, json{{"job_id", job_id}, {"vertices", vertices}});
  }

  HttpResponse Cancel(const std::string& job_id) {
    absl::Status s = dispatcher_->CancelJob(job_id);
    if (!s.ok()) return FromStatus(s);
    absl::StatusOr<proto::JobDetail> detail = dispatcher_->GetJob(job_id);
    const std::string state =
        detail.ok() ? JobStateName(detail->summary().state()) : std::string("cancelling");
    return Json(202, json{{"job_id", job_id}, {"state", state}});
  }

  HttpResponse TaskManagers(const std::optional<std::string>& only) {
    json list = json::array();
    for (const proto::TaskManagerInfo& tm : dispatcher_->ListTaskManagers()) {
      if (only && tm.tm_id() != *only) continue;
      const std::vector<proto::TaskMetrics> tasks =
          tm.alive() ? history_->TasksOf(tm.tm_id()) : std::vector<proto::TaskMetrics>();
      proto::TaskMetrics sum;
      json task_list = json::array();
      for (const proto::TaskMetrics& t : tasks) {
        sum.set_records_in(sum.records_in() + t.records_in());
        sum.set_records_out(sum.records_out() + t.records_out());
        sum.set_bytes_in(sum.bytes_in() + t.bytes_in());
        sum.set_bytes_out(sum.bytes_out() + t.bytes_out());
        if (only) {
          task_list.push_back(
              {{"job_id", t.job_id()},
               {"attempt", t.attempt()},
               {"vertex_id", t.vertex_id()},
               {"vertex", t.vertex_name()},
               {"subtask", t.subtask()},
               {"metrics", TaskMetricsJson(t, history_->Rates(t.job_id(), t.attempt(),
                                                              t.vertex_id(), t.subtask()))}});
        }
      }
      json j = {{"id", tm.tm_id()},
                {"alive", tm.alive()},
                {"control_address", tm.control_address()},
                {"data_address", tm.data_address()},
                {"metrics_address",
                 tm.metrics_address().empty() ? json(nullptr) : json(tm.metrics_address())},
                {"pid", tm.pid()},
                {"slots", {{"total", tm.slots_total()}, {"free", tm.slots_free()}}},
                {"last_heartbeat_ms", tm.last_heartbeat_ms()},
                {"memory", {{"rss_bytes", tm.rss_bytes()}}},
                {"metrics",
                 {{"tasks", tasks.size()},
                  {"records_in", sum.records_in()},
                  {"records_out", sum.records_out()},
                  {"bytes_in", sum.bytes_in()},
                  {"bytes_out", sum.bytes_out()}}}};
      if (only) {
        j["tasks"] = std::move(task_list);
        return Json(200, j);
      }
      list.push_back(std::move(j));
    }
    if (only) return Error(404, absl::StrCat("no TaskManager with id ", Shown(*only)));
    return Json(200, json{{"taskmanagers", list}});
  }

  const HttpRequest& req_;
  Dispatcher* dispatcher_;
  const TaskMetricsHistory* history_;
  const metrics::MetricsRegistry* registry_;
  const std::string& rpc_address_;
  const DashboardFiles* dashboard_;
  const bool ready_;
  std::vector<std::string> segs_;
};

}  // namespace

RestHandler::RestHandler(Dispatcher* dispatcher, const TaskMetricsHistory* history,
                         const metrics::MetricsRegistry* registry, std::string rpc_address,
                         std::string web_dev_dir)
    : dispatcher_(dispatcher),
      history_(history),
      registry_(registry),
      rpc_address_(std::move(rpc_address)),
      dashboard_(std::move(web_dev_dir)) {}

http::HttpResponse RestHandler::Handle(const http::HttpRequest& request) const {
  return Router(request, dispatcher_, history_, registry_, rpc_address_, &dashboard_,
                ready_.load(std::memory_order_relaxed))
      .Route();
}

}  // namespace sluice::jobmanager
