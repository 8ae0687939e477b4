// The web dashboard in headless Chromium (Debian's chromium, driven by npm's playwright-core
// from tests/web/dashboard_test.mjs) against a real local cluster running a job submitted
// with the real CLI: every page loads, the DAG shows every vertex, rates become non-zero,
// the source is shown backpressured behind its throttled sink, and the Cancel button
// cancels the job (checked here through the CLI too). Screenshots go to
// <build dir>/screenshots/dashboard/. Needs node, /usr/bin/chromium and
// tests/web/node_modules (scripts/install-deps.sh installs all three).
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "tests/integration/cluster_harness.h"
#include "tests/test_dirs.h"

namespace sluice::testing {
namespace {

using json = nlohmann::json;

TEST(DashboardBrowserTest, PagesDagRatesBackpressureAndCancelInChromium) {
  const std::filesystem::path web_tests = SourceDir() / "tests" / "web";
  ASSERT_TRUE(std::filesystem::exists(web_tests / "node_modules" / "playwright-core"))
      << "run scripts/install-deps.sh (npm ci in tests/web)";
  ASSERT_TRUE(std::filesystem::exists("/usr/bin/chromium")) << "run scripts/install-deps.sh";

  Cluster cluster("dashboard");
  ASSERT_NO_FATAL_FAILURE(cluster.Start(2, 2));
  const std::string rest = cluster.rest_address();
  ASSERT_FALSE(rest.empty());

  // A fast source behind a sink throttled to 200 rows/s: the source is backpressured.
  const std::string spec = cluster.WriteFile(
      "job.yaml", absl::StrCat(R"yaml(name: dashboard-watch
parallelism: 2
checkpointing: {interval: 1s, dir: )yaml",
                               cluster.dir().string(), R"yaml(/checkpoints}
sources:
  - name: payments
    connector: datagen
    rows_per_second: 20000
    seed: 3
    schema: {card: int64, amount: float64}
    fields: {card: {kind: random, min: 0, max: 999}, amount: {kind: random, min: 1, max: 500}}
operators:
  - name: large
    input: payments
    filter: "amount > 50"
  - name: per_card
    input: large
    key_by: [card]
    aggregate: {n: "count(*)", total: "sum(amount)"}
sinks:
  - {name: slow_store, input: per_card, connector: blackhole, rows_per_second: 200}
)yaml"));
  CommandResult run = cluster.Sluice({"run", spec, "--detached", "--output", "json"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const std::string job = json::parse(run.output.substr(run.output.find('{')))["job_id"];

  // The source's vertex: the one whose chain starts with "payments".
  json info = cluster.JobInfo(job);
  std::string source_vertex;
  for (const json& v : info["vertices"]) {
    if (v["name"].get<std::string>().rfind("payments", 0) == 0) {
      source_vertex = std::to_string(v.value("id", 0));
    }
  }
  ASSERT_FALSE(source_vertex.empty()) << info.dump(2);

  const std::filesystem::path shots = std::filesystem::current_path() / "screenshots" / "dashboard";
  std::filesystem::create_directories(shots);
  Process browser({"/usr/bin/env", "node", (web_tests / "dashboard_test.mjs").string(), "--url",
                   "http://" + rest, "--job", job, "--backpressured-vertex", source_vertex,
                   "--screenshots", shots.string()},
                  (cluster.dir() / "browser.log").string());
  const int code = browser.Wait();
  EXPECT_EQ(code, 0) << browser.Log();
  std::printf("%s", browser.Log().c_str());

  // The Cancel button went through to the JobManager.
  ASSERT_TRUE(WaitFor(
      [&] { return cluster.JobInfo(job)["summary"].value("state", "") == "JOB_CANCELED"; },
      std::chrono::seconds(30)))
      << cluster.JobInfo(job).dump(2);
  for (const char* page : {"overview", "jobs", "job", "taskmanagers"}) {
    bool found = false;
    for (const auto& entry : std::filesystem::directory_iterator(shots)) {
      found |= entry.path().filename().string().find(page) != std::string::npos;
    }
    EXPECT_TRUE(found) << "no screenshot of the " << page << " page in " << shots;
  }
}

}  // namespace
}  // namespace sluice::testing
