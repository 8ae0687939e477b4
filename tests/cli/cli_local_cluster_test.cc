// `sluice local` with stand-in JobManager/TaskManager executables (shell scripts that follow
// the binaries' ready-file contract), so the real binaries are not needed: startup order,
// flags passed, early exits, deaths while running, shutdown.
#include "cli/local_cluster.h"

#include <signal.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "absl/strings/str_split.h"
#include "common/file_util.h"
#include "common/http/http_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/cli/cli_test_util.h"

namespace sluice::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// Saves its arguments next to its ready file, then announces itself and sleeps.
constexpr char kReadyPrologue[] = R"sh(#!/bin/sh
for a in "$@"; do
  if [ "$prev" = "--ready-file" ]; then ready="$a"; fi
  prev="$a"
done
printf '%s\n' "$@" > "$ready.args"
)sh";

constexpr char kGoodJobManager[] = R"sh(echo "jobmanager starting"
printf '{"rpc_address":"127.0.0.1:7123","rest_address":"127.0.0.1:7124","pid":%d}' $$ > "$ready.tmp" && mv "$ready.tmp" "$ready"
exec sleep 300
)sh";

constexpr char kGoodTaskManager[] = R"sh(echo "taskmanager starting"
printf '{"tm_id":"tm-%d","address":"127.0.0.1:%d","pid":%d}' $$ $(( 20000 + $$ % 10000 )) $$ > "$ready.tmp" && mv "$ready.tmp" "$ready"
exec sleep 300
)sh";

constexpr char kPortInUseJobManager[] = R"sh(echo "jobmanager starting"
echo "error: cannot listen on 127.0.0.1:6123 (address in use?)" >&2
exit 1
)sh";

// Registers, then dies: a TaskManager crash while the cluster runs.
constexpr char kDyingTaskManager[] = R"sh(printf '{"tm_id":"tm-x","address":"127.0.0.1:1","pid":%d}' $$ > "$ready.tmp" && mv "$ready.tmp" "$ready"
exit 3
)sh";

class LocalClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("cli_local_" + std::to_string(::getpid()) + "_" + info->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "bin");
    std::filesystem::create_directories(dir_ / "logs");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void WriteBinaries(const char* jobmanager_body, const char* taskmanager_body) {
    WriteScript("sluice-jobmanager", jobmanager_body);
    WriteScript("sluice-taskmanager", taskmanager_body);
  }
  void WriteScript(const std::string& name, const char* body) {
    const std::string path = (dir_ / "bin" / name).string();
    std::ofstream(path) << kReadyPrologue << body;
    ::chmod(path.c_str(), 0755);
  }
  // What `sluice local` printed, its exit code and the ready file it wrote.
  struct LocalRun {
    int code = -1;
    std::string out;
    std::string err;
    nlohmann::json ready;
  };
  // Runs LocalCommand (ready file and logs in the test dir, fake binaries) on a thread,
  // waits (bounded) for its ready file as a script would, calls `while_running` with it,
  // then interrupts it like Ctrl-C and waits for it to stop.
  LocalRun RunLocal(LocalOptions options,
                    const std::function<void(const nlohmann::json&)>& while_running) {
    const std::string ready_file = (dir_ / "cluster.json").string();
    std::atomic<bool> interrupted{false};
    std::ostringstream out;
    std::ostringstream err;
    CommandEnv env;
    env.out = &out;
    env.err = &err;
    env.interrupted = &interrupted;
    options.port = 0;
    options.ready_file = ready_file;
    options.log_dir = (dir_ / "logs").string();
    options.bin_dir = (dir_ / "bin").string();
    LocalRun run;
    std::thread local([&] { run.code = LocalCommand(options, env); });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!std::filesystem::exists(ready_file) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    run.ready = nlohmann::json::parse(ReadFile(ready_file).value_or("null"));
    if (run.ready.is_object()) while_running(run.ready);
    interrupted = true;
    local.join();
    run.out = out.str();
    run.err = err.str();
    EXPECT_FALSE(std::filesystem::exists(ready_file)) << "removed once the cluster is gone";
    return run;
  }

  LocalClusterOptions Options(int taskmanagers) {
    LocalClusterOptions options;
    options.bin_dir = (dir_ / "bin").string();
    options.log_dir = (dir_ / "logs").string();
    options.taskmanagers = taskmanagers;
    options.slots = 3;
    options.jobmanager_port = 0;
    options.set_flags = {"heartbeat.interval=200ms"};
    options.startup_timeout_ms = 20000;
    options.shutdown_grace_ms = 5000;
    return options;
  }
  std::vector<std::string> ArgsOf(const std::string& name) {
    absl::StatusOr<std::string> text = ReadFile((dir_ / "logs" / (name + ".ready.json.args")).string());
    EXPECT_TRUE(text.ok()) << text.status();
    return absl::StrSplit(text.value_or(""), '\n', absl::SkipEmpty());
  }
  static bool Alive(int64_t pid) { return ::kill(static_cast<pid_t>(pid), 0) == 0; }

  std::filesystem::path dir_;
};

bool Never() { return false; }

TEST_F(LocalClusterTest, StartsJobManagerThenTaskManagersWithTheirFlags) {
  WriteBinaries(kGoodJobManager, kGoodTaskManager);
  LocalCluster cluster(Options(2));
  ASSERT_TRUE(cluster.Start(Never).ok());

  EXPECT_EQ(cluster.jobmanager().address, "127.0.0.1:7123");
  EXPECT_THAT(ArgsOf("jobmanager"),
              ElementsAre("--set", "jobmanager.rpc.port=0", "--set", "heartbeat.interval=200ms",
                          "--ready-file", (dir_ / "logs" / "jobmanager.ready.json").string()));
  ASSERT_EQ(cluster.taskmanagers().size(), 2u);
  for (int i = 0; i < 2; ++i) {
    const LocalProcess& tm = cluster.taskmanagers()[i];
    EXPECT_EQ(tm.name, "taskmanager-" + std::to_string(i + 1));
    EXPECT_EQ(tm.tm_id, "tm-" + std::to_string(tm.pid));
    EXPECT_THAT(tm.address, StartsWith("127.0.0.1:"));
    EXPECT_TRUE(Alive(tm.pid));
    EXPECT_THAT(ArgsOf(tm.name),
                ElementsAre("--jobmanager", "127.0.0.1:7123", "--set", "taskmanager.port=0",
                            "--set", "taskmanager.slots=3", "--set", "heartbeat.interval=200ms",
                            "--ready-file",
                            (dir_ / "logs" / (tm.name + ".ready.json")).string()));
  }
  // Child output goes to its log.
  EXPECT_THAT(ReadFile(cluster.taskmanagers()[0].log_path).value_or(""),
              HasSubstr("taskmanager starting"));

  nlohmann::json ready = cluster.ReadyJson();
  EXPECT_EQ(ready["jobmanager"], "127.0.0.1:7123");
  EXPECT_EQ(ready["taskmanagers"].size(), 2u);
  EXPECT_EQ(ready["taskmanagers"][1]["pid"], cluster.taskmanagers()[1].pid);

  const int64_t jm_pid = cluster.jobmanager().pid;
  cluster.Stop();
  EXPECT_FALSE(Alive(jm_pid));  // reaped, so not even a zombie
  EXPECT_FALSE(Alive(cluster.taskmanagers()[0].pid));
  EXPECT_TRUE(cluster.PollDeaths().empty()) << "a requested stop is not a death";
}

TEST_F(LocalClusterTest, ConfigFileIsPassedToEveryProcess) {
  WriteBinaries(kGoodJobManager, kGoodTaskManager);
  LocalClusterOptions options = Options(1);
  options.config_file = "/etc/sluice.yaml";
  options.set_flags.clear();
  LocalCluster cluster(options);
  ASSERT_TRUE(cluster.Start(Never).ok());
  EXPECT_THAT(ArgsOf("jobmanager"), ::testing::IsSupersetOf({"--config", "/etc/sluice.yaml"}));
  EXPECT_THAT(ArgsOf("taskmanager-1"), ::testing::IsSupersetOf({"--config", "/etc/sluice.yaml"}));
}

TEST_F(LocalClusterTest, EarlyExitFailsStartWithTheLastLogLine) {
  WriteBinaries(kPortInUseJobManager, kGoodTaskManager);
  LocalCluster cluster(Options(2));
  absl::Status status = cluster.Start(Never);
  EXPECT_TRUE(absl::IsFailedPrecondition(status)) << status;
  EXPECT_EQ(status.message(),
            "sluice-jobmanager (jobmanager) exited with status 1 before it was ready: error: "
            "cannot listen on 127.0.0.1:6123 (address in use?)");
  EXPECT_THAT(cluster.failed_log_tail(),
              ElementsAre("jobmanager starting",
                          "error: cannot listen on 127.0.0.1:6123 (address in use?)"));
  EXPECT_TRUE(cluster.taskmanagers().empty());
}

TEST_F(LocalClusterTest, ADyingTaskManagerIsReportedAndTheRestKeepsRunning) {
  WriteBinaries(kGoodJobManager, kDyingTaskManager);
  LocalCluster cluster(Options(1));
  ASSERT_TRUE(cluster.Start(Never).ok());
  std::vector<std::string> deaths;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (deaths.empty() && std::chrono::steady_clock::now() < deadline) {
    deaths = cluster.PollDeaths();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(deaths.size(), 1u);
  EXPECT_THAT(deaths[0], StartsWith("taskmanager-1 (pid "));
  EXPECT_THAT(deaths[0], HasSubstr(") exited with status 3; log: "));
  EXPECT_TRUE(Alive(cluster.jobmanager().pid));
  EXPECT_TRUE(cluster.PollDeaths().empty()) << "reported once";
}

TEST_F(LocalClusterTest, LocalCommandFailsInOneLineWhenTheJobManagerCannotStart) {
  WriteBinaries(kPortInUseJobManager, kGoodTaskManager);
  testing::CliResult r = testing::RunSluice(
      {"local", "--log-dir", (dir_ / "logs").string(), "--taskmanagers", "1"},
      [&](CommandEnv&) { ::setenv("SLUICE_BIN_DIR", (dir_ / "bin").c_str(), 1); });
  ::unsetenv("SLUICE_BIN_DIR");
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("  | error: cannot listen on 127.0.0.1:6123 (address in use?)\n"));
  // The reason is the last line.
  EXPECT_THAT(r.err, ::testing::EndsWith(
                         "\nsluice local: sluice-jobmanager (jobmanager) exited with status 1 "
                         "before it was ready: error: cannot listen on 127.0.0.1:6123 (address "
                         "in use?)\n"));
  EXPECT_EQ(r.out, "");
}

TEST_F(LocalClusterTest, LocalCommandRejectsBadSettingsAndMissingBinaries) {
  testing::CliResult r = testing::RunSluice({"local", "--set", "taskmanager.slotz=2"});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, StartsWith("sluice local: "));
  EXPECT_THAT(r.err, HasSubstr("slotz"));
  EXPECT_EQ(testing::CountLines(r.err), 1);

  ::setenv("SLUICE_BIN_DIR", (dir_ / "bin").c_str(), 1);  // empty: no binaries
  r = testing::RunSluice({"local"});
  ::unsetenv("SLUICE_BIN_DIR");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "sluice local: cannot find sluice-jobmanager in " + (dir_ / "bin").string() +
                       " (build it, or set SLUICE_BIN_DIR)\n");
}

TEST_F(LocalClusterTest, LocalCommandRunsUntilInterruptedThenStopsEverything) {
  WriteBinaries(kGoodJobManager, kGoodTaskManager);
  LocalOptions options;
  options.taskmanagers = 2;
  options.slots = 4;
  LocalRun run = RunLocal(options, [](const nlohmann::json&) {});

  EXPECT_EQ(run.code, 0) << run.err;
  const nlohmann::json& ready = run.ready;
  ASSERT_TRUE(ready.is_object()) << run.err;
  EXPECT_EQ(ready["jobmanager"], "127.0.0.1:7123");
  EXPECT_EQ(ready["rest_address"], "127.0.0.1:7124");
  ASSERT_EQ(ready["taskmanagers"].size(), 2u);
  for (const auto& tm : ready["taskmanagers"]) EXPECT_FALSE(Alive(tm["pid"].get<int64_t>()));
  EXPECT_FALSE(Alive(ready["jobmanager_pid"].get<int64_t>()));
  EXPECT_FALSE(ready.contains("kafka_bootstrap"));
  EXPECT_FALSE(ready.contains("schema_registry_url"));
  EXPECT_THAT(run.out, HasSubstr("Sluice local cluster is running (Ctrl-C stops it)."));
  EXPECT_THAT(run.out, HasSubstr("JobManager:   127.0.0.1:7123\n"));
  EXPECT_THAT(run.out, HasSubstr("Dashboard:    http://127.0.0.1:7124/"));
  EXPECT_THAT(run.out, HasSubstr("TaskManagers: 2 x 4 slots\n"));
  EXPECT_THAT(run.out, HasSubstr(" --jobmanager 127.0.0.1:7123\n"));
  EXPECT_THAT(run.err, HasSubstr("Local cluster stopped.\n"));
}

// Runs `command` through the shell; its stdout (stderr is dropped).
std::string Shell(const std::string& command) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) out.append(buf, n);
  pclose(pipe);
  return out;
}

// `sluice local --kafka` serves an embedded Kafka that a real Kafka client (kcat) produces to
// and consumes from; its address is printed, in the ready file, and the JobManager's
// kafka.bootstrap.
TEST_F(LocalClusterTest, LocalCommandWithKafkaServesAKafkaKcatCanUse) {
  WriteBinaries(kGoodJobManager, kGoodTaskManager);
  LocalOptions options;
  options.taskmanagers = 1;
  options.kafka = true;
  std::string bootstrap, produced, consumed;
  LocalRun run = RunLocal(options, [&](const nlohmann::json& ready) {
    bootstrap = ready.value("kafka_bootstrap", "");
    if (bootstrap.empty()) return;
    // One partition: Kafka orders messages only within a partition (the auto-created topic
    // has several, and kcat spreads keyless messages over them).
    produced = Shell("printf 'hello-sluice\\nsecond\\n' | timeout 30 kcat -b " + bootstrap +
                     " -t sluice-local-test -p 0 -P 2>&1; echo rc=$?");
    consumed = Shell("timeout 30 kcat -b " + bootstrap +
                     " -t sluice-local-test -p 0 -C -o beginning -c 2 -e -q 2>/dev/null");
  });
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_THAT(bootstrap, ::testing::StartsWith("127.0.0.1:")) << run.ready.dump();
  EXPECT_THAT(run.out, HasSubstr("Kafka:        " + bootstrap));
  EXPECT_THAT(produced, HasSubstr("rc=0"));
  EXPECT_EQ(consumed, "hello-sluice\nsecond\n");
  // Kafka sources without a bootstrap read it: the JobManager gets kafka.bootstrap.
  EXPECT_THAT(ArgsOf("jobmanager"), ::testing::Contains("kafka.bootstrap=" + bootstrap));
}

// `sluice local --kafka` also serves the schema registry: its URL is printed, in the ready
// file and every process's kafka.registry; it answers the Confluent API; its data is in the
// log directory.
TEST_F(LocalClusterTest, LocalCommandWithKafkaServesASchemaRegistry) {
  WriteBinaries(kGoodJobManager, kGoodTaskManager);
  LocalOptions options;
  options.taskmanagers = 1;
  options.kafka = true;
  std::string url;
  absl::StatusOr<http::HttpResult> registered, subjects;
  LocalRun run = RunLocal(options, [&](const nlohmann::json& ready) {
    url = ready.value("schema_registry_url", "");
    if (url.rfind("http://", 0) != 0) return;
    const std::string address = url.substr(7);
    registered = http::HttpCall("POST", address, "/subjects/txns-value/versions",
                                R"({"schema": "\"string\""})");
    subjects = http::HttpCall("GET", address, "/subjects");
  });
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_THAT(url, ::testing::StartsWith("http://127.0.0.1:")) << run.ready.dump();
  EXPECT_THAT(run.out, HasSubstr("Schema registry: " + url));
  ASSERT_TRUE(registered.ok()) << registered.status();
  EXPECT_EQ(registered->body, R"({"id":1})");
  ASSERT_TRUE(subjects.ok()) << subjects.status();
  EXPECT_EQ(subjects->body, R"(["txns-value"])");
  EXPECT_TRUE(std::filesystem::exists(dir_ / "logs" / "schema-registry" / "registry.json"));
  EXPECT_THAT(ArgsOf("jobmanager"), ::testing::Contains("kafka.registry=" + url));
  EXPECT_THAT(ArgsOf("taskmanager-1"), ::testing::Contains("kafka.registry=" + url));
}

}  // namespace
}  // namespace sluice::cli
