// Test harness for integration tests: starts a real JobManager and TaskManagers as separate
// processes on free loopback ports, runs the real `sluice` CLI, and cleans up. Used by the
// test thread only. Waiting is by polling a condition with a deadline, never a fixed sleep.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

extern char** environ;

namespace sluice::testing {

inline std::string BinDir() {
  const char* dir = std::getenv("SLUICE_BIN_DIR");
  return dir != nullptr ? dir : "build/bin";
}

inline std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Polls `condition` every 20 ms until it holds or `timeout` passes.
inline bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return condition();
}

// A child process with stdout+stderr redirected to a log file.
class Process {
 public:
  Process(std::vector<std::string> argv, std::string log_path) : log_path_(std::move(log_path)) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    int rc = posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {  // e.g. the binary is being relinked: an exit code, never waitpid(-1)
      pid_ = -1;
      exited_ = true;
      code_ = 127;
      std::ofstream(log_path_, std::ios::app)
          << "cannot start " << args[0] << ": " << std::strerror(rc) << "\n";
    }
  }
  ~Process() { Kill(SIGKILL); }

  pid_t pid() const { return pid_; }
  void Kill(int sig) {
    if (pid_ <= 0 || exited_) return;
    ::kill(pid_, sig);
    Wait();
  }
  // Waits for exit; returns the exit code (128+signal when killed).
  int Wait() {
    if (exited_) return code_;
    int status = 0;
    waitpid(pid_, &status, 0);
    exited_ = true;
    code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return code_;
  }
  bool Running() {
    if (exited_) return false;
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exited_ = true;
      code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return false;
    }
    return true;
  }
  std::string Log() const { return ReadAll(log_path_); }

 private:
  std::string log_path_;
  pid_t pid_ = -1;
  bool exited_ = false;
  int code_ = -1;
};

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// A loopback port nothing listens on (bound to 127.0.0.1:0, then closed), for a process that
// must listen on a fixed port across restarts.
inline int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// A real cluster: one JobManager and N TaskManagers, all on free ports, in a temp dir.
class Cluster {
 public:
  explicit Cluster(std::string name) {
    dir_ = std::filesystem::temp_directory_path() /
           ("sluice-it-" + name + "-" + std::to_string(getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  ~Cluster() {
    for (auto& tm : taskmanagers_) if (tm) tm->Kill(SIGKILL);
    if (jobmanager_) jobmanager_->Kill(SIGKILL);
    if (std::getenv("SLUICE_KEEP_TEST_DIRS") == nullptr) std::filesystem::remove_all(dir_);
  }

  const std::filesystem::path& dir() const { return dir_; }
  const std::string& jobmanager_address() const { return jm_address_; }
  // host:port of the JobManager's REST API and /metrics (from its ready file).
  const std::string& rest_address() const { return rest_address_; }
  // host:port of TaskManager `index`'s /metrics (from its ready file).
  const std::string& taskmanager_metrics_address(size_t index) const {
    return tm_metrics_addresses_[index];
  }
  std::vector<std::string> common_settings = {"heartbeat.interval=200ms", "heartbeat.timeout=2s"};
  // As Kubernetes runs them: a fixed JobManager RPC port (0 = a free one per start), extra
  // JobManager arguments (e.g. --job), and the address TaskManagers are given (empty = the
  // JobManager's advertised address, e.g. "localhost:PORT" for a Service name).
  int jobmanager_rpc_port = 0;
  std::vector<std::string> jobmanager_args;
  std::string taskmanager_jobmanager;

  void StartJobManager() {
    std::string ready = (dir_ / "jm.ready").string();
    std::filesystem::remove(ready);  // a restart must not read the old one
    const std::string log = jm_starts_++ == 0 ? "jm.log" : "jm-" + std::to_string(jm_starts_) + ".log";
    std::vector<std::string> argv = {BinDir() + "/sluice-jobmanager", "--ready-file", ready,
                                     "--set", "jobmanager.rpc.port=" + std::to_string(jobmanager_rpc_port),
                                     "--set", "rest.port=0"};
    for (auto& s : common_settings) { argv.push_back("--set"); argv.push_back(s); }
    argv.insert(argv.end(), jobmanager_args.begin(), jobmanager_args.end());
    jobmanager_ = std::make_unique<Process>(argv, (dir_ / log).string());
    ASSERT_TRUE(WaitFor([&] { return std::filesystem::exists(ready) || !jobmanager_->Running(); },
                        std::chrono::seconds(30)))
        << jobmanager_->Log();
    ASSERT_TRUE(std::filesystem::exists(ready)) << jobmanager_->Log();
    nlohmann::json info = nlohmann::json::parse(ReadAll(ready));
    jm_address_ = info["rpc_address"].get<std::string>();
    rest_address_ = info.value("rest_address", "");
  }

  // JobManager high availability for every process started from now on:
  // high_availability.dir=<test dir>/ha (returned).
  std::filesystem::path UseHighAvailability() {
    std::filesystem::path ha = dir_ / "ha";
    common_settings.push_back("high_availability.dir=" + ha.string());
    return ha;
  }

  // kill -9 (or `sig`) of the JobManager (when it runs), then a new one with the same settings (so the
  // same high_availability.dir) on new free ports; the addresses are re-read from its ready
  // file. TaskManagers are left alone.
  // With `sig` SIGTERM (a pod stopped by Kubernetes) the old process must exit 0 first.
  void RestartJobManager(int sig = SIGKILL) {
    if (jobmanager_) {
      jobmanager_->Kill(sig);
      const int code = jobmanager_->Wait();
      if (sig == SIGTERM) ASSERT_EQ(code, 0) << jobmanager_->Log();
    }
    StartJobManager();
  }

  // Starts TaskManager number `index` (a restart reuses the index).
  void StartTaskManager(size_t index, int slots, std::vector<std::string> extra = {}) {
    if (taskmanagers_.size() <= index) taskmanagers_.resize(index + 1);
    std::string ready = (dir_ / ("tm" + std::to_string(index) + ".ready")).string();
    std::filesystem::remove(ready);
    std::vector<std::string> argv = {BinDir() + "/sluice-taskmanager", "--jobmanager",
                                     taskmanager_jobmanager.empty() ? jm_address_ : taskmanager_jobmanager,
                                     "--ready-file", ready, "--set", "taskmanager.port=0",
                                     "--set", "taskmanager.slots=" + std::to_string(slots)};
    for (auto& s : common_settings) { argv.push_back("--set"); argv.push_back(s); }
    for (auto& s : extra) { argv.push_back("--set"); argv.push_back(s); }
    taskmanagers_[index] = std::make_unique<Process>(
        argv, (dir_ / ("tm" + std::to_string(index) + ".log")).string());
    Process* tm = taskmanagers_[index].get();
    ASSERT_TRUE(WaitFor([&] { return std::filesystem::exists(ready) || !tm->Running(); },
                        std::chrono::seconds(30)))
        << tm->Log();
    ASSERT_TRUE(std::filesystem::exists(ready)) << tm->Log();
    if (tm_metrics_addresses_.size() <= index) tm_metrics_addresses_.resize(index + 1);
    tm_metrics_addresses_[index] =
        nlohmann::json::parse(ReadAll(ready)).value("metrics_address", "");
  }

  void Start(int taskmanagers, int slots) {
    StartJobManager();
    for (int i = 0; i < taskmanagers; ++i) StartTaskManager(i, slots);
  }

  Process* taskmanager(size_t index) { return taskmanagers_[index].get(); }
  Process* jobmanager() { return jobmanager_.get(); }

  // Runs the CLI with `args` (the JobManager address is added) and captures its output.
  CommandResult Sluice(std::vector<std::string> args, bool with_jobmanager = true) {
    std::string out = (dir_ / ("cli-" + std::to_string(++cli_runs_) + ".out")).string();
    std::vector<std::string> argv = {BinDir() + "/sluice"};
    argv.insert(argv.end(), args.begin(), args.end());
    if (with_jobmanager) {
      argv.push_back("--jobmanager");
      argv.push_back(jm_address_);
    }
    Process p(argv, out);
    CommandResult r;
    r.exit_code = p.Wait();
    r.output = ReadAll(out);
    return r;
  }

  nlohmann::json JobInfo(const std::string& job_id) {
    CommandResult r = Sluice({"info", job_id, "--output", "json"});
    if (r.exit_code != 0) return nlohmann::json();
    return nlohmann::json::parse(r.output, nullptr, false);
  }

  std::string WriteFile(const std::string& name, const std::string& content) {
    std::filesystem::path p = dir_ / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
  }

 private:
  std::filesystem::path dir_;
  std::string jm_address_;
  std::string rest_address_;
  std::vector<std::string> tm_metrics_addresses_;
  std::unique_ptr<Process> jobmanager_;
  std::vector<std::unique_ptr<Process>> taskmanagers_;
  int cli_runs_ = 0;
  int jm_starts_ = 0;
};

}  // namespace sluice::testing
