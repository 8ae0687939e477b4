// Tests of the REST API (jobmanager/rest) in-process: a Dispatcher with a fake gateway and a
// ManualClock, task metrics fed as heartbeats, requests handed to RestHandler directly.
#include "jobmanager/rest/rest_handler.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "jobmanager/dispatcher.h"
#include "jobmanager/rest/rest_server.h"
#include "jobmanager/rest/task_metrics_history.h"
#include "nlohmann/json.hpp"
#include "tests/promtool_util.h"

namespace sluice::jobmanager {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;

// Accepts every RPC at once.
class AcceptingGateway : public TaskManagerGateway {
 public:
  void SubmitTask(const TaskManagerLocation&, proto::TaskDeploymentDescriptor,
                  Callback done) override {
    done(absl::OkStatus());
  }
  void CancelTasks(const TaskManagerLocation&, proto::CancelTaskRequest, Callback done) override {
    done(absl::OkStatus());
  }
};

proto::JobGraph SourceToSink() {
  proto::JobGraph g;
  g.set_name("pipeline");
  auto add_vertex = [&](int id, const std::string& name) {
    proto::JobVertex* v = g.add_vertices();
    v->set_id(id);
    v->set_name(name);
    v->set_parallelism(2);
    v->add_chain()->set_name(name);
  };
  add_vertex(1, "src");
  add_vertex(2, "sink");
  proto::JobEdge* e = g.add_edges();
  e->set_id(3);
  e->set_source_vertex(1);
  e->set_target_vertex(2);
  e->set_partitioning(proto::HASH);
  e->add_key_indexes(0);
  e->mutable_schema()->add_fields()->set_name("card");
  g.mutable_restart()->set_strategy("none");
  return g;
}

class RestHandlerTest : public ::testing::Test {
 protected:
  RestHandlerTest()
      : dispatcher_(&clock_, &gateway_, Options()),
        history_(&clock_),
        handler_(&dispatcher_, &history_, &registry_, "127.0.0.1:6123") {
    jm_metrics_ = RegisterJobManagerMetrics(&registry_, &dispatcher_, &probe_);
  }

  static DispatcherOptions Options() {
    DispatcherOptions o;
    o.seed = 11;
    return o;
  }

  http::HttpResponse Call(const std::string& method, const std::string& path,
                          std::multimap<std::string, std::string> query = {}) {
    http::HttpRequest r;
    r.method = method;
    r.path = path;
    r.query = std::move(query);
    return handler_.Handle(r);
  }
  json Get(const std::string& path, int expected_status = 200) {
    http::HttpResponse r = Call("GET", path);
    EXPECT_EQ(r.status, expected_status) << path << ": " << r.body;
    EXPECT_EQ(r.content_type, "application/json");
    return json::parse(r.body);
  }

  void RegisterTaskManager() {
    proto::RegisterTaskManagerRequest r;
    r.set_tm_id("tm-1");
    r.set_control_address("127.0.0.1:7000");
    r.set_slots(2);
    r.set_metrics_address("127.0.0.1:7001");
    ASSERT_TRUE(dispatcher_.RegisterTaskManager(r).ok());
  }

  // Submits the job and reports every task RUNNING.
  std::string StartJob() {
    auto id = dispatcher_.SubmitJob(SourceToSink());
    EXPECT_TRUE(id.ok()) << id.status();
    for (int vertex : {1, 2}) {
      for (int subtask : {0, 1}) {
        proto::TaskStateUpdate u;
        u.set_job_id(*id);
        u.set_attempt(0);
        u.set_vertex_id(vertex);
        u.set_subtask(subtask);
        u.set_state(proto::RUNNING);
        EXPECT_TRUE(dispatcher_.UpdateTaskState(u).ok());
      }
    }
    return *id;
  }

  // A heartbeat of tm-1 where every task reports `records` and `busy_ms`.
  void Heartbeat(const std::string& job, int64_t records, int64_t busy_ms, int64_t bp_ms) {
    proto::HeartbeatRequest hb;
    hb.set_tm_id("tm-1");
    hb.set_rss_bytes(1 << 20);
    for (int vertex : {1, 2}) {
      for (int subtask : {0, 1}) {
        proto::TaskMetrics* m = hb.add_tasks();
        m->set_job_id(job);
        m->set_attempt(0);
        m->set_vertex_id(vertex);
        m->set_subtask(subtask);
        m->set_vertex_name(vertex == 1 ? "src" : "sink");
        m->set_records_in(records);
        m->set_records_out(vertex == 1 ? records : 0);
        m->set_busy_ms(busy_ms);
        m->set_backpressured_ms(vertex == 1 ? bp_ms : 0);
        m->set_out_pool_buffers(vertex == 1 ? 10 : 0);
        m->set_out_pool_used(vertex == 1 ? 5 : 0);
      }
    }
    ASSERT_TRUE(dispatcher_.Heartbeat(hb).known());
    history_.Record(hb);
  }

  ManualClock clock_;
  AcceptingGateway gateway_;
  Dispatcher dispatcher_;
  TaskMetricsHistory history_;
  metrics::MetricsRegistry registry_;
  JobManagerProbe probe_;
  metrics::Registration jm_metrics_;
  RestHandler handler_;
};

TEST_F(RestHandlerTest, OverviewAndTaskManagersOfAnIdleCluster) {
  json overview = Get("/v1/overview");
  EXPECT_EQ(overview["taskmanagers"]["alive"], 0);
  EXPECT_EQ(overview["jobs"]["running"], 0);
  EXPECT_EQ(overview["jobmanager"]["rpc_address"], "127.0.0.1:6123");
  RegisterTaskManager();
  overview = Get("/v1/overview");
  EXPECT_EQ(overview["taskmanagers"]["alive"], 1);
  EXPECT_EQ(overview["slots"]["total"], 2);
  EXPECT_EQ(overview["slots"]["free"], 2);
  json tms = Get("/v1/taskmanagers");
  ASSERT_EQ(tms["taskmanagers"].size(), 1u);
  EXPECT_EQ(tms["taskmanagers"][0]["id"], "tm-1");
  EXPECT_EQ(tms["taskmanagers"][0]["metrics_address"], "127.0.0.1:7001");
  EXPECT_EQ(tms["taskmanagers"][0]["alive"], true);
  EXPECT_EQ(Get("/v1/jobs")["jobs"], json::array());
}

TEST_F(RestHandlerTest, JobDetailVertexRatesAndBackpressureFromHeartbeats) {
  RegisterTaskManager();
  const std::string job = StartJob();
  Heartbeat(job, 1000, 100, 0);
  // One sample: totals but no rates yet.
  json vertex = Get("/v1/jobs/" + job + "/vertices/1");
  EXPECT_EQ(vertex["metrics"]["records_out"], 2000);
  EXPECT_TRUE(vertex["metrics"]["records_out_per_second"].is_null());
  clock_.Advance(2000);
  Heartbeat(job, 3000, 900, 1200);  // +2000 records, +800 ms busy, +1200 ms bp in 2 s

  json detail = Get("/v1/jobs/" + job);
  EXPECT_EQ(detail["id"], job);
  EXPECT_EQ(detail["name"], "pipeline");
  EXPECT_EQ(detail["state"], "running");
  ASSERT_EQ(detail["vertices"].size(), 2u);
  EXPECT_EQ(detail["vertices"][0]["name"], "src");
  EXPECT_EQ(detail["vertices"][0]["parallelism"], 2);
  EXPECT_EQ(detail["vertices"][0]["state"], "running");
  EXPECT_EQ(detail["vertices"][0]["metrics"]["records_out"], 6000);
  // 2 subtasks x 1000 records/s each.
  EXPECT_DOUBLE_EQ(detail["vertices"][0]["metrics"]["records_out_per_second"].get<double>(), 2000);
  EXPECT_DOUBLE_EQ(detail["vertices"][0]["metrics"]["busy_ms_per_second"].get<double>(), 400);
  EXPECT_DOUBLE_EQ(detail["vertices"][0]["metrics"]["backpressured_ms_per_second"].get<double>(),
                   600);
  EXPECT_EQ(detail["vertices"][0]["backpressure"], "high");
  EXPECT_EQ(detail["vertices"][1]["backpressure"], "ok");
  ASSERT_EQ(detail["edges"].size(), 1u);
  EXPECT_EQ(
      detail["edges"][0],
      (json{
          {"id", 3}, {"source", 1}, {"target", 2}, {"partitioning", "hash"}, {"keys", {"card"}},
           {"side_output", ""}}));

  vertex = Get("/v1/jobs/" + job + "/vertices/1");
  ASSERT_EQ(vertex["subtasks"].size(), 2u);
  EXPECT_EQ(vertex["subtasks"][1]["subtask"], 1);
  EXPECT_EQ(vertex["subtasks"][1]["taskmanager"], "tm-1");
  EXPECT_EQ(vertex["subtasks"][1]["state"], "running");
  EXPECT_DOUBLE_EQ(vertex["subtasks"][1]["metrics"]["records_out_per_second"].get<double>(), 1000);
  EXPECT_DOUBLE_EQ(vertex["subtasks"][1]["metrics"]["out_pool_usage"].get<double>(), 0.5);

  json bp = Get("/v1/jobs/" + job + "/backpressure");
  EXPECT_EQ(bp["vertices"][0]["level"], "high");
  EXPECT_DOUBLE_EQ(bp["vertices"][0]["ratio"].get<double>(), 0.6);

  json tm = Get("/v1/taskmanagers/tm-1");
  EXPECT_EQ(tm["metrics"]["tasks"], 4);
  EXPECT_EQ(tm["tasks"].size(), 4u);
  EXPECT_EQ(tm["memory"]["rss_bytes"], 1 << 20);

  // JobManager metrics: the job is running, the TaskManager registered.
  http::HttpResponse metrics = Call("GET", "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_THAT(metrics.content_type, HasSubstr("text/plain"));
  EXPECT_THAT(metrics.body, HasSubstr("sluice_jobmanager_jobs{state=\"running\"} 1\n"));
  EXPECT_THAT(metrics.body, HasSubstr("sluice_jobmanager_taskmanagers 1\n"));
  std::string promtool;
  EXPECT_EQ(sluice::testing::PromtoolCheck(metrics.body, &promtool), 0) << promtool << metrics.body;
  EXPECT_THAT(metrics.body, HasSubstr("sluice_job_restarts_total{job=\"" + job +
                                      "\",job_name=\"pipeline\"} 0\n"));
}

TEST_F(RestHandlerTest, HealthAnswersAlwaysAndReadyOnceTheJobManagerIsReady) {
  EXPECT_EQ(Get("/v1/health")["status"], "UP");
  EXPECT_EQ(Get("/v1/ready", 503)["status"], "NOT_READY");
  handler_.SetReady();
  json ready = Get("/v1/ready");
  EXPECT_EQ(ready["status"], "READY");
  EXPECT_EQ(ready["jobs"], 0);
  EXPECT_EQ(Get("/v1/health")["status"], "UP");
}

TEST_F(RestHandlerTest, ErrorsAreJsonWithHttpCodes) {
  RegisterTaskManager();
  const std::string job = StartJob();
  const std::string unknown = std::string(32, 'f');
  EXPECT_EQ(Get("/v1/jobs/" + unknown, 404)["error"], "no job with id " + unknown);
  EXPECT_EQ(Get("/v1/jobs/" + unknown + "/exceptions", 404)["error"], "no job with id " + unknown);
  EXPECT_EQ(Get("/v1/jobs/" + unknown + "/vertices/1", 404)["error"], "no job with id " + unknown);
  EXPECT_EQ(Get("/v1/jobs/" + job + "/vertices/99", 404)["error"],
            "job " + job + " has no vertex 99");
  EXPECT_EQ(Get("/v1/jobs/" + job + "/vertices/abc", 400)["error"],
            "vertex id 'abc' is not an integer");
  EXPECT_EQ(Get("/v1/taskmanagers/tm-9", 404)["error"], "no TaskManager with id tm-9");
  EXPECT_THAT(Get("/v1/nope", 404)["error"].get<std::string>(), HasSubstr("no such endpoint"));
  EXPECT_THAT(Get("/v1/../etc/passwd", 404)["error"].get<std::string>(),
              HasSubstr("no such endpoint"));
  json checkpoints = Get("/v1/jobs/" + job + "/checkpoints", 200);
  EXPECT_EQ(checkpoints["config"]["enabled"], false);
  EXPECT_EQ(checkpoints["history"], json::array());
  EXPECT_THAT(Get("/v1/jobs/" + job + "/savepoints/7", 404)["error"].get<std::string>(),
              HasSubstr("has no savepoint request 7"));
  http::HttpResponse no_dir = Call("POST", "/v1/jobs/" + job + "/savepoints");
  EXPECT_EQ(no_dir.status, 400);
  EXPECT_THAT(json::parse(no_dir.body)["error"].get<std::string>(), HasSubstr("target_directory"));
  EXPECT_THAT(Get("/v1/jobs/" + unknown + "/checkpoints", 404)["error"].get<std::string>(),
              HasSubstr("no job with id"));

  http::HttpResponse wrong = Call("DELETE", "/v1/jobs");
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(wrong.allow, "GET");
  EXPECT_EQ(json::parse(wrong.body)["error"],
            "method DELETE is not allowed on /v1/jobs (allowed: GET)");
  EXPECT_EQ(Call("GET", "/v1/jobs/" + job + "/cancel").status, 405);
  http::HttpResponse bad_mode = Call("PATCH", "/v1/jobs/" + job, {{"mode", "explode"}});
  EXPECT_EQ(bad_mode.status, 400);
}

TEST_F(RestHandlerTest, CancelThenCancelAgainIsAConflict) {
  RegisterTaskManager();
  const std::string job = StartJob();
  http::HttpResponse r = Call("POST", "/v1/jobs/" + job + "/cancel");
  EXPECT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(json::parse(r.body)["job_id"], job);
  // The gateway acked CancelTasks at once: every task is canceled.
  EXPECT_EQ(Get("/v1/jobs/" + job)["state"], "canceled");
  r = Call("PATCH", "/v1/jobs/" + job, {{"mode", "cancel"}});
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(Call("POST", "/v1/jobs/" + std::string(32, 'e') + "/cancel").status, 404);
  json exceptions = Get("/v1/jobs/" + job + "/exceptions");
  EXPECT_TRUE(exceptions["root_cause"].is_null());
  EXPECT_EQ(exceptions["history"], json::array());
}

// A browser on another site may POST here (no preflight without a body): a state-changing
// request whose Origin is not this server is refused; same-origin (the dashboard) and
// Origin-less requests (curl, scripts) are served; reads are never refused.
TEST_F(RestHandlerTest, CrossSiteStateChangesAreRefused) {
  RegisterTaskManager();
  const std::string job = StartJob();
  auto call = [&](const std::string& method, const std::string& path, const std::string& origin) {
    http::HttpRequest r;
    r.method = method;
    r.path = path;
    r.host = "127.0.0.1:8081";
    r.origin = origin;
    return handler_.Handle(r);
  };
  http::HttpResponse forged = call("POST", "/v1/jobs/" + job + "/cancel", "http://evil.example");
  EXPECT_EQ(forged.status, 403);
  EXPECT_THAT(json::parse(forged.body)["error"].get<std::string>(),
              HasSubstr("cross-site request refused: Origin http://evil.example"));
  EXPECT_EQ(call("PATCH", "/v1/jobs/" + job, "https://127.0.0.1:9999").status, 403);
  EXPECT_EQ(call("POST", "/v1/jobs/" + job + "/savepoints", "null").status, 403);
  EXPECT_EQ(Get("/v1/jobs/" + job)["state"], "running");
  EXPECT_EQ(call("GET", "/v1/jobs/" + job, "http://evil.example").status, 200);
  EXPECT_EQ(call("POST", "/v1/jobs/" + job + "/cancel", "http://127.0.0.1:8081").status, 202);
}

TEST_F(RestHandlerTest, JobConfigShowsRestartCheckpointingAndOperatorChains) {
  RegisterTaskManager();
  const std::string job = StartJob();
  json config = Get("/v1/jobs/" + job + "/config");
  EXPECT_EQ(config["job_id"], job);
  EXPECT_EQ(config["name"], "pipeline");
  EXPECT_EQ(config["restart"]["strategy"], "none");
  EXPECT_EQ(config["checkpointing"]["enabled"], false);
  ASSERT_EQ(config["vertices"].size(), 2u);
  EXPECT_EQ(config["vertices"][0]["name"], "src");
  EXPECT_EQ(config["vertices"][0]["parallelism"], 2);
  EXPECT_EQ(config["vertices"][0]["operators"][0]["name"], "src");
  EXPECT_EQ(Get("/v1/jobs/" + std::string(32, 'a') + "/config", 404)["error"],
            "no job with id " + std::string(32, 'a'));
  EXPECT_EQ(Get("/v1")["dashboard"], "/");
}

// A task that takes a batch of 2000 records every 2 s, heartbeating every 200 ms: rates over
// the 5 s window read ~1000 records/s at every heartbeat, not 0 between the batches.
TEST(TaskMetricsHistoryTest, RatesSpanTheWindowSoBurstyTasksDoNotReadZero) {
  ManualClock clock;
  TaskMetricsHistory history(&clock, /*window_ms=*/5000);
  int64_t records = 0;
  auto beat = [&](int64_t busy_ms) {
    proto::HeartbeatRequest hb;
    hb.set_tm_id("tm-1");
    proto::TaskMetrics* m = hb.add_tasks();
    m->set_job_id("j");
    m->set_vertex_id(1);
    m->set_records_in(records);
    m->set_busy_ms(busy_ms);
    history.Record(hb);
  };
  EXPECT_FALSE(history.Rates("j", 0, 1, 0).has_value());
  for (int tick = 0; tick <= 60; ++tick) {  // 12 s
    if (tick % 10 == 0) records += 2000;
    beat(tick * 100);  // busy half the time
    if (tick >= 30) {  // a full window behind us
      std::optional<TaskRates> r = history.Rates("j", 0, 1, 0);
      ASSERT_TRUE(r.has_value());
      EXPECT_GE(r->records_in_per_second, 800) << "tick " << tick;
      EXPECT_LE(r->records_in_per_second, 1250) << "tick " << tick;
      EXPECT_NEAR(r->busy_ms_per_second, 500, 1) << "tick " << tick;
    }
    clock.Advance(200);
  }
  // Another attempt starts from scratch.
  proto::HeartbeatRequest restarted;
  proto::TaskMetrics* m = restarted.add_tasks();
  m->set_job_id("j");
  m->set_attempt(1);
  m->set_vertex_id(1);
  history.Record(restarted);
  EXPECT_FALSE(history.Rates("j", 1, 1, 0).has_value());
  EXPECT_FALSE(history.Rates("j", 0, 1, 0).has_value());
}

// The development directory is the one place the dashboard reads files from disk: only
// names of the dashboard's own form are read, only from that directory.
TEST(DashboardFilesTest, ServesOnlyDashboardFilesFromTheDevelopmentDirectory) {
  const std::filesystem::path root =
      std::filesystem::temp_directory_path() / ("sluice-dashboard-" + std::to_string(getpid()));
  std::filesystem::remove_all(root);
  std::filesystem::create_directories(root / "web" / "sub");
  auto write = [](const std::filesystem::path& path, const std::string& text) {
    std::ofstream(path) << text;
  };
  write(root / "web" / "index.html", "<html>dev</html>");
  write(root / "web" / "app.js", "export const x = 1;");
  write(root / "web" / "notes.txt", "not ours");
  write(root / "web" / ".hidden.js", "hidden");
  write(root / "web" / "sub" / "deep.js", "deep");
  write(root / "secret.js", "SECRET");
  write(root / "secret.html", "SECRET");

  const DashboardFiles files((root / "web").string());
  auto body = [&](const std::string& path) -> std::string {
    std::optional<http::HttpResponse> r = files.Serve(path);
    return r.has_value() ? r->body : "<none>";
  };
  EXPECT_EQ(body("/"), "<html>dev</html>");
  EXPECT_EQ(files.Serve("/")->content_type, "text/html; charset=utf-8");
  EXPECT_EQ(body("/index.html"), "<html>dev</html>");
  EXPECT_EQ(body("/web/app.js"), "export const x = 1;");
  EXPECT_EQ(files.Serve("/web/app.js")->content_type, "text/javascript; charset=utf-8");
  for (const std::string& path : std::vector<std::string>{
           "/web/../secret.js", "/web/../secret.html", "/web/..", "/web/", "/web/notes.txt",
        "/web/.hidden.js", "/web/sub/deep.js", "/web/sub%2fdeep.js", "/web//secret.js",
        "/web/" + (root / "secret.js").string(), "/web/..\\secret.js", "/web/APP.JS",
        "/web/app.js.", "/web/app..js", "/web/missing.js", "/secret.js", "/../secret.js",
        "/app.js"}) {
    EXPECT_FALSE(files.Serve(path).has_value()) << path;
  }
  std::filesystem::remove_all(root);

  EXPECT_TRUE(DashboardFiles::IsDashboardFileName("dag-view_2.js"));
  EXPECT_FALSE(DashboardFiles::IsDashboardFileName("x.map"));
  EXPECT_FALSE(DashboardFiles::IsDashboardFileName(".js"));
  EXPECT_FALSE(DashboardFiles::IsDashboardFileName("a/b.js"));
}

// Through the handler: the dashboard only answers GET; other paths stay 404 JSON.
TEST_F(RestHandlerTest, DashboardRoutesAnswerGetOnly) {
  EXPECT_EQ(Call("POST", "/").status, 405);
  EXPECT_EQ(Call("DELETE", "/web/app.js").status, 405);
  http::HttpResponse missing = Call("GET", "/web/../../etc/passwd");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.content_type, "application/json");
  EXPECT_EQ(Call("GET", "/web/nothing-here.js").status, 404);
}

}  // namespace
}  // namespace sluice::jobmanager

namespace sluice::jobmanager {
namespace {

// With security.auth.token_file only health checks and the dashboard's static files are
// served without the token; the API, /metrics and anything unknown need it.
TEST(IsPublicRestPathTest, HealthAndDashboardFilesOnly) {
  for (const char* path : {"/", "/index.html", "/web/app.js", "/v1/health", "/v1/ready"}) {
    EXPECT_TRUE(IsPublicRestPath(path)) << path;
  }
  for (const char* path : {"/v1", "/v1/", "/v1/jobs", "/v1/overview", "/v1/taskmanagers",
                           "/metrics", "//v1/jobs", "/webx", "/v1/jobs/health", "/v1/healthz", "/v1/ready/x", "/unknown", ""}) {
    EXPECT_FALSE(IsPublicRestPath(path)) << path;
  }
}

}  // namespace
}  // namespace sluice::jobmanager
