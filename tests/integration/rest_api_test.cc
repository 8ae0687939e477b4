// The REST API and /metrics against a real local cluster (a JobManager and two TaskManagers
// as processes, the job submitted with the real CLI): every endpoint answers with the
// documented shape, unknown ids get 404 JSON, /metrics of the JobManager and of each
// TaskManager pass `promtool check metrics`, task counters and REST rates move while an
// unbounded datagen job runs, and POST /v1/jobs/{id}/cancel cancels it. The dashboard's
// files are served and path traversal on any route (Flink's CVE-2020-17519: "..", encoded and
// double-encoded, absolute paths) never returns a file of the machine; oversized and malformed
// requests get 4xx and the server keeps serving.
#include <set>

#include "absl/strings/str_cat.h"
#include "common/http/http_client.h"
#include "tests/integration/cluster_harness.h"
#include "tests/promtool_util.h"
#include "tests/raw_http_util.h"

namespace sluice::testing {
namespace {

using json = nlohmann::json;

struct Reply {
  int status = 0;
  json body;
  std::string text;
  std::string content_type;
  std::string allow;
};

Reply Call(const std::string& method, const std::string& address, const std::string& path) {
  Reply r;
  absl::StatusOr<http::HttpResult> res = http::HttpCall(method, address, path);
  if (!res.ok()) {
    ADD_FAILURE() << method << " " << path << ": " << res.status();
    return r;
  }
  r.status = res->status;
  r.text = res->body;
  r.content_type = res->header("Content-Type");
  r.allow = res->header("Allow");
  if (r.content_type == "application/json") r.body = json::parse(res->body, nullptr, false);
  return r;
}

// GET that must answer `status` with JSON.
json GetJson(const std::string& address, const std::string& path, int status = 200) {
  Reply r = Call("GET", address, path);
  EXPECT_EQ(r.status, status) << path << ": " << r.text;
  EXPECT_EQ(r.content_type, "application/json") << path;
  EXPECT_FALSE(r.body.is_discarded()) << path << ": " << r.text;
  return r.body;
}

void ExpectPromtoolAccepts(const std::string& text, const std::string& what) {
  std::string out;
  EXPECT_EQ(PromtoolCheck(text, &out), 0) << what << ": " << out << "\n" << text;
}

// The dashboard is served from the binary; no request, however its path is spelled, returns
// a file of the machine; oversized and malformed requests get 4xx and the server keeps going.
void ExpectNoTraversalAndKeepsServing(const std::string& rest, const std::string& job) {
  Reply page = Call("GET", rest, "/");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
  EXPECT_NE(page.text.find("<html"), std::string::npos) << page.text.substr(0, 200);
  absl::StatusOr<http::HttpResult> headers = http::HttpCall("GET", rest, "/");
  ASSERT_TRUE(headers.ok());
  EXPECT_NE(headers->header("Content-Security-Policy").find("default-src 'self'"), std::string::npos);
  EXPECT_EQ(headers->header("X-Content-Type-Options"), "nosniff");
  Reply app = Call("GET", rest, "/web/app.js");
  EXPECT_EQ(app.status, 200);
  EXPECT_EQ(app.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(Call("POST", rest, "/web/app.js").status, 405);

  const int port = std::stoi(rest.substr(rest.rfind(':') + 1));
  const std::string secret = "root:x:0:0";  // /etc/passwd
  const std::vector<std::string> attacks = {
      "/../../../../etc/passwd",
      "/web/../../../../etc/passwd",
      "/web/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
      "/web/..%2f..%2f..%2f..%2fetc%2fpasswd",
      "/web/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
      "/web/..%252f..%252f..%252fetc%252fpasswd",
      "/web/%252e%252e/%252e%252e/etc/passwd",
      "/web/..%5c..%5c..%5cetc%5cpasswd",
      "/web/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd",
      "//etc/passwd",
      "/web//etc/passwd",
      "/web/%2fetc%2fpasswd",
      "/web/passwd",
      "/web/.htaccess",
      "/index.html/../../../etc/passwd",
      "/v1/jobs/..%2f..%2f..%2f..%2fetc%2fpasswd",
      "/v1/jobs/" + job + "/vertices/..%2f..%2f..%2fetc%2fpasswd",
      "/metrics/../../../etc/passwd",
      "/jobmanager/logs/..%252f..%252f..%252fetc%252fpasswd",  // the CVE's route
      "/etc/passwd",
      "/proc/self/environ",
  };
  for (const std::string& path : attacks) {
    const std::string answer =
        RawExchange(port, "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(answer.find(secret), std::string::npos) << path << ":\n" << answer;
    EXPECT_EQ(answer.find("SLUICE"), std::string::npos) << path << ":\n" << answer;  // environ
    const bool client_error = answer.rfind("HTTP/1.1 4", 0) == 0;
    EXPECT_TRUE(client_error) << path << ":\n" << answer.substr(0, 300);
  }

  // Oversized URI, oversized headers, oversized body, not HTTP at all: 4xx or a closed
  // connection, never a crash.
  const std::string long_uri =
      RawExchange(port, "GET /v1/" + std::string(64 * 1024, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(long_uri.empty() || long_uri.rfind("HTTP/1.1 4", 0) == 0) << long_uri.substr(0, 200);
  const std::string long_header = RawExchange(
      port, "GET /v1/overview HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(256 * 1024, 'b') +
                "\r\n\r\n");
  EXPECT_TRUE(long_header.empty() || long_header.rfind("HTTP/1.1 4", 0) == 0)
      << long_header.substr(0, 200);
  absl::StatusOr<http::HttpResult> big_body = http::HttpCall(
      "POST", rest, "/v1/jobs/" + job + "/savepoints", std::string(2 * 1024 * 1024, '{'));
  ASSERT_TRUE(big_body.ok()) << big_body.status();
  EXPECT_EQ(big_body->status, 413);
  const std::string garbage = RawExchange(port, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n");
  EXPECT_TRUE(garbage.empty() || garbage.rfind("HTTP/1.1 400", 0) == 0) << garbage;
  Reply bad_json = Call("POST", rest, "/v1/jobs/" + job + "/savepoints");
  EXPECT_EQ(bad_json.status, 400) << bad_json.text;

  // A cross-site POST (a page elsewhere making the browser cancel the job) is refused.
  const std::string forged = RawExchange(
      port, "POST /v1/jobs/" + job + "/cancel HTTP/1.1\r\nHost: " + rest +
                "\r\nOrigin: http://evil.example\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(forged.rfind("HTTP/1.1 403", 0), 0u) << forged;

  // Still serving, and the job still runs.
  EXPECT_EQ(GetJson(rest, "/v1/overview")["jobs"]["running"], 1);
}

TEST(RestApiTest, EveryEndpointMetricsMoveAndCancelCancels) {
  Cluster cluster("rest-api");
  ASSERT_NO_FATAL_FAILURE(cluster.Start(2, 2));
  const std::string rest = cluster.rest_address();
  ASSERT_FALSE(rest.empty()) << "the JobManager ready file has no rest_address";
  ASSERT_FALSE(cluster.taskmanager_metrics_address(0).empty());
  ASSERT_FALSE(cluster.taskmanager_metrics_address(1).empty());

  const std::string spec = cluster.WriteFile("job.yaml", absl::StrCat(R"yaml(name: rest-watch
parallelism: 2
checkpointing: {interval: 500ms, dir: )yaml", cluster.dir().string(), R"yaml(/checkpoints}
sources:
  - name: gen
    connector: datagen
    rows_per_second: 20000
    seed: 5
    schema: {id: int64, card: int64, amount: float64}
    fields: {id: {kind: sequence, min: 0}, card: {kind: random, min: 0, max: 99}, amount: {kind: random, min: 0, max: 100}}
operators:
  - name: big
    input: gen
    filter: "amount > 10"
  - name: per_card
    input: big
    key_by: [card]
    aggregate: {n: "count(*)", total: "sum(amount)"}
sinks:
  - {name: out, input: per_card, connector: blackhole}
)yaml"));
  CommandResult run = cluster.Sluice({"run", spec, "--detached", "--output", "json"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const std::string job = json::parse(run.output)["job_id"];

  // Running: every vertex of the job reports running.
  json detail;
  ASSERT_TRUE(WaitFor(
      [&] {
        detail = GetJson(rest, "/v1/jobs/" + job);
        if (detail.value("state", "") != "running") return false;
        for (const json& v : detail["vertices"]) {
          if (v["state"] != "running") return false;
        }
        return true;
      },
      std::chrono::seconds(30)))
      << detail.dump(2);

  // --- shapes ---
  json index = GetJson(rest, "/v1");
  EXPECT_FALSE(index["endpoints"].empty());
  json config = GetJson(rest, "/v1/jobs/" + job + "/config");
  EXPECT_EQ(config["name"], "rest-watch");
  EXPECT_EQ(config["max_parallelism"], 128);
  EXPECT_EQ(config["checkpointing"]["enabled"], true);
  EXPECT_EQ(config["checkpointing"]["interval_ms"], 500);
  EXPECT_TRUE(config["restart"].contains("strategy")) << config.dump();
  ASSERT_GE(config["vertices"].size(), 2u);
  EXPECT_EQ(config["vertices"][0]["operators"][0]["name"], "gen");
  EXPECT_EQ(config["vertices"][0]["operators"][0]["kind"], "datagen_source");

  json overview = GetJson(rest, "/v1/overview");
  EXPECT_EQ(overview["taskmanagers"]["alive"], 2);
  EXPECT_EQ(overview["slots"]["total"], 4);
  EXPECT_EQ(overview["slots"]["free"], 2);
  EXPECT_EQ(overview["jobs"]["running"], 1);
  EXPECT_EQ(overview["jobmanager"]["rpc_address"], cluster.jobmanager_address());

  json jobs = GetJson(rest, "/v1/jobs");
  ASSERT_EQ(jobs["jobs"].size(), 1u);
  EXPECT_EQ(jobs["jobs"][0]["id"], job);
  EXPECT_EQ(jobs["jobs"][0]["name"], "rest-watch");
  EXPECT_EQ(jobs["jobs"][0]["state"], "running");
  EXPECT_EQ(jobs["jobs"][0]["restarts"], 0);
  EXPECT_GT(jobs["jobs"][0]["start_time_ms"].get<int64_t>(), 0);

  EXPECT_EQ(detail["name"], "rest-watch");
  ASSERT_GE(detail["vertices"].size(), 2u);
  std::set<int> vertex_ids;
  for (const json& v : detail["vertices"]) {
    vertex_ids.insert(v["id"].get<int>());
    EXPECT_EQ(v["parallelism"], 2) << v.dump();
    EXPECT_TRUE(v["metrics"].contains("records_in")) << v.dump();
    EXPECT_TRUE(v["metrics"].contains("busy_ms_per_second")) << v.dump();
  }
  ASSERT_GE(detail["edges"].size(), 1u);
  bool hash_edge = false;
  for (const json& e : detail["edges"]) {
    EXPECT_TRUE(vertex_ids.count(e["source"].get<int>())) << e.dump();
    EXPECT_TRUE(vertex_ids.count(e["target"].get<int>())) << e.dump();
    if (e["partitioning"] == "hash") {
      hash_edge = true;
      EXPECT_EQ(e["keys"], json::array({"card"}));
    }
  }
  EXPECT_TRUE(hash_edge) << detail["edges"].dump();
  EXPECT_TRUE(detail["failure_cause"].is_null());

  json tms = GetJson(rest, "/v1/taskmanagers");
  ASSERT_EQ(tms["taskmanagers"].size(), 2u);
  std::set<std::string> tm_ids;
  std::set<std::string> metrics_addresses;
  for (const json& tm : tms["taskmanagers"]) {
    tm_ids.insert(tm["id"].get<std::string>());
    metrics_addresses.insert(tm["metrics_address"].get<std::string>());
    EXPECT_EQ(tm["alive"], true);
    EXPECT_EQ(tm["slots"]["total"], 2);
    EXPECT_GT(tm["memory"]["rss_bytes"].get<int64_t>(), 0);
  }
  EXPECT_EQ(metrics_addresses, (std::set<std::string>{cluster.taskmanager_metrics_address(0),
                                                      cluster.taskmanager_metrics_address(1)}));
  json one_tm = GetJson(rest, "/v1/taskmanagers/" + *tm_ids.begin());
  EXPECT_EQ(one_tm["id"], *tm_ids.begin());
  EXPECT_TRUE(one_tm["tasks"].is_array());

  for (int vid : vertex_ids) {
    json vertex = GetJson(rest, "/v1/jobs/" + job + "/vertices/" + std::to_string(vid));
    EXPECT_EQ(vertex["id"], vid);
    ASSERT_EQ(vertex["subtasks"].size(), 2u) << vertex.dump();
    for (const json& s : vertex["subtasks"]) {
      EXPECT_EQ(s["state"], "running");
      EXPECT_TRUE(tm_ids.count(s["taskmanager"].get<std::string>())) << s.dump();
      EXPECT_TRUE(s["metrics"].contains("records_out"));
    }
  }
  json exceptions = GetJson(rest, "/v1/jobs/" + job + "/exceptions");
  EXPECT_TRUE(exceptions["root_cause"].is_null());
  EXPECT_EQ(exceptions["history"], json::array());
  json backpressure = GetJson(rest, "/v1/jobs/" + job + "/backpressure");
  EXPECT_EQ(backpressure["vertices"].size(), vertex_ids.size());

  // --- errors: JSON with HTTP codes ---
  const std::string unknown(32, 'f');
  for (const std::string& path :
       {"/v1/jobs/" + unknown, "/v1/jobs/" + unknown + "/exceptions",
        "/v1/jobs/" + unknown + "/vertices/1", "/v1/jobs/" + unknown + "/backpressure",
        "/v1/jobs/" + unknown + "/checkpoints", std::string("/v1/jobs/not-a-job")}) {
    json err = GetJson(rest, path, 404);
    EXPECT_EQ(err["error"].get<std::string>().rfind("no job with id ", 0), 0u) << path;
  }
  EXPECT_EQ(GetJson(rest, "/v1/jobs/" + job + "/vertices/999", 404)["error"],
            "job " + job + " has no vertex 999");
  EXPECT_EQ(GetJson(rest, "/v1/jobs/" + job + "/vertices/x", 400)["error"],
            "vertex id 'x' is not an integer");
  EXPECT_EQ(GetJson(rest, "/v1/taskmanagers/tm-nope", 404)["error"],
            "no TaskManager with id tm-nope");
  EXPECT_TRUE(GetJson(rest, "/v2/anything", 404).contains("error"));
  json checkpoints = GetJson(rest, "/v1/jobs/" + job + "/checkpoints");
  EXPECT_TRUE(checkpoints.contains("history")) << checkpoints.dump();
  EXPECT_TRUE(checkpoints["config"].contains("interval_ms")) << checkpoints.dump();
  EXPECT_NE(GetJson(rest, "/v1/jobs/" + job + "/savepoints/1", 404)["error"].get<std::string>().find(
                "has no savepoint request"),
            std::string::npos);
  Reply wrong = Call("DELETE", rest, "/v1/overview");
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(wrong.allow, "GET");
  EXPECT_TRUE(wrong.body.contains("error"));

  // --- /metrics: valid Prometheus text, and counters move while the job runs ---
  Reply jm_metrics = Call("GET", rest, "/metrics");
  ASSERT_EQ(jm_metrics.status, 200);
  EXPECT_EQ(jm_metrics.content_type.rfind("text/plain", 0), 0u) << jm_metrics.content_type;
  ExpectPromtoolAccepts(jm_metrics.text, "JobManager /metrics");
  EXPECT_EQ(SumSamples(jm_metrics.text, "sluice_jobmanager_jobs", {"state=\"running\""}), 1);
  EXPECT_EQ(SumSamples(jm_metrics.text, "sluice_jobmanager_taskmanagers"), 2);
  EXPECT_EQ(SumSamples(jm_metrics.text, "sluice_job_restarts_total", {"job=\"" + job + "\""}), 0);
  // Checkpoint metrics: completed ones counted, the latest one's size and duration shown.
  ASSERT_TRUE(WaitFor(
      [&] {
        jm_metrics = Call("GET", rest, "/metrics");
        return SumSamples(jm_metrics.text, "sluice_job_checkpoints_total",
                          {"job=\"" + job + "\"", "status=\"completed\""}) >= 2;
      },
      std::chrono::seconds(30)))
      << jm_metrics.text;
  ExpectPromtoolAccepts(jm_metrics.text, "JobManager /metrics with checkpoints");
  EXPECT_GT(SumSamples(jm_metrics.text, "sluice_job_last_checkpoint_size_bytes",
                       {"job=\"" + job + "\""}),
            0);
  EXPECT_GE(SumSamples(jm_metrics.text, "sluice_job_last_checkpoint_duration_seconds",
                       {"job=\"" + job + "\""}),
            0);

  auto source_out = [&](std::string* page) {
    double total = 0;
    for (size_t i = 0; i < 2; ++i) {
      Reply r = Call("GET", cluster.taskmanager_metrics_address(i), "/metrics");
      if (r.status != 200) return -1.0;
      if (page != nullptr) *page += r.text;
      const double v = SumSamples(r.text, "sluice_task_records_out_total",
                                  {"job=\"" + job + "\"", "vertex=\"gen"});
      if (v < 0) return -1.0;
      total += v;
    }
    return total;
  };
  for (size_t i = 0; i < 2; ++i) {
    Reply r = Call("GET", cluster.taskmanager_metrics_address(i), "/metrics");
    ASSERT_EQ(r.status, 200);
    ExpectPromtoolAccepts(r.text, "TaskManager /metrics");
    EXPECT_EQ(SumSamples(r.text, "sluice_taskmanager_slots"), 2);
    EXPECT_EQ(SumSamples(r.text, "sluice_taskmanager_slots_used"), 1);
    EXPECT_GT(SumSamples(r.text, "sluice_taskmanager_memory_rss_bytes"), 0);
    EXPECT_GT(SumSamples(r.text, "sluice_task_busy_seconds_total", {"job=\"" + job + "\""}), -1);
    EXPECT_EQ(Call("GET", cluster.taskmanager_metrics_address(i), "/nope").status, 404);
  }
  double first = -1;
  ASSERT_TRUE(WaitFor([&] { return (first = source_out(nullptr)) > 0; }, std::chrono::seconds(20)));
  double later = -1;
  std::string pages;
  ASSERT_TRUE(
      WaitFor([&] { return (later = source_out(nullptr)) > first; }, std::chrono::seconds(20)))
      << "records_out stayed at " << first;
  // The sink's input moves too, and bytes cross the network.
  ASSERT_GE(source_out(&pages), later);
  EXPECT_GT(SumSamples(pages, "sluice_task_records_in_total", {"vertex=\"per_card"}), 0) << pages;
  EXPECT_GT(SumSamples(pages, "sluice_task_bytes_out_total", {"job=\"" + job + "\""}), 0);

  // REST rates become non-zero (two heartbeats with progress).
  ASSERT_TRUE(WaitFor(
      [&] {
        json d = GetJson(rest, "/v1/jobs/" + job);
        const json& rate = d["vertices"][0]["metrics"]["records_out_per_second"];
        return rate.is_number() && rate.get<double>() > 0;
      },
      std::chrono::seconds(20)));

  ExpectNoTraversalAndKeepsServing(rest, job);

  // --- cancel through REST ---
  Reply cancel = Call("POST", rest, "/v1/jobs/" + job + "/cancel");
  EXPECT_EQ(cancel.status, 202) << cancel.text;
  EXPECT_EQ(cancel.body["job_id"], job);
  ASSERT_TRUE(WaitFor([&] { return GetJson(rest, "/v1/jobs/" + job)["state"] == "canceled"; },
                      std::chrono::seconds(30)));
  EXPECT_EQ(Call("POST", rest, "/v1/jobs/" + job + "/cancel").status, 409);
  EXPECT_EQ(GetJson(rest, "/v1/overview")["jobs"]["canceled"], 1);
  // The CLI sees the same state.
  json info = cluster.JobInfo(job);
  EXPECT_EQ(info["summary"]["state"], "JOB_CANCELED") << info.dump();
}

}  // namespace
}  // namespace sluice::testing
