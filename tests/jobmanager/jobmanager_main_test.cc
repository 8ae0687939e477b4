// The sluice-jobmanager binary as a user runs it: ready file, one-line errors with exit 2
// (port in use, bad flags, bad config), clean exit 0 on SIGTERM. Needs SLUICE_BIN_DIR (set by
// ctest). Waiting for the child's ready file is the one place that polls (bounded).
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/http/http_client.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "proto/control.grpc.pb.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;

struct Child {
  pid_t pid = -1;
  int stderr_fd = -1;
};

std::string Binary() {
  const char* dir = std::getenv("SLUICE_BIN_DIR");
  return dir == nullptr ? "" : std::string(dir) + "/sluice-jobmanager";
}

Child Spawn(const std::vector<std::string>& args) {
  int pipe_fds[2];
  EXPECT_EQ(pipe(pipe_fds), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 2);
  posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  std::vector<char*> argv;
  std::string bin = Binary();
  argv.push_back(bin.data());
  std::vector<std::string> copy = args;
  for (std::string& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  Child child;
  EXPECT_EQ(posix_spawn(&child.pid, bin.c_str(), &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[1]);
  child.stderr_fd = pipe_fds[0];
  return child;
}

// Waits for the child to exit; returns its exit code and (via `err`) all it wrote to stderr.
int Wait(Child& child, std::string* err) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(child.stderr_fd, buf, sizeof(buf))) > 0) out.append(buf, n);
  close(child.stderr_fd);
  int status = 0;
  waitpid(child.pid, &status, 0);
  if (err != nullptr) *err = out;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

class JobManagerMainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (Binary().empty()) GTEST_SKIP() << "SLUICE_BIN_DIR is not set (run through ctest)";
    dir_ = fs::temp_directory_path() / ("sluice-jm-main-" + std::to_string(getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  fs::path dir_;
};

TEST_F(JobManagerMainTest, ServesWritesReadyFileRefusesABusyPortAndStopsOnSigterm) {
  const fs::path ready = dir_ / "jm.ready";
  Child jm = Spawn({"--set", "jobmanager.rpc.port=0", "--set", "rest.port=0", "--ready-file",
                    ready.string()});
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!fs::exists(ready) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(fs::exists(ready)) << "no ready file";
  std::ifstream in(ready);
  nlohmann::json info = nlohmann::json::parse(in);
  EXPECT_EQ(info["pid"].get<int64_t>(), jm.pid);
  const std::string address = info["rpc_address"].get<std::string>();
  ASSERT_EQ(address.rfind("127.0.0.1:", 0), 0u) << address;
  const std::string port = address.substr(std::string("127.0.0.1:").size());
  const std::string rest_address = info["rest_address"].get<std::string>();
  EXPECT_EQ(rest_address, "127.0.0.1:" + std::to_string(info["rest_port"].get<int>()));

  // It answers REST.
  auto overview = sluice::http::HttpCall("GET", rest_address, "/v1/overview");
  ASSERT_TRUE(overview.ok()) << overview.status();
  EXPECT_EQ(overview->status, 200) << overview->body;

  // It answers gRPC.
  auto stub = sluice::proto::JobManagerService::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  sluice::proto::ListJobsResponse jobs;
  ASSERT_TRUE(stub->ListJobs(&ctx, sluice::proto::ListJobsRequest(), &jobs).ok());
  EXPECT_EQ(jobs.jobs_size(), 0);

  // A second JobManager on the same port: one line, exit 2.
  Child second = Spawn({"--set", "jobmanager.rpc.port=" + port, "--set", "rest.port=0"});
  std::string err;
  EXPECT_EQ(Wait(second, &err), 2);
  EXPECT_EQ(err, "sluice-jobmanager: cannot listen on 127.0.0.1:" + port + " (address in use?)\n");

  // A busy REST port: one line, exit 2.
  const std::string rest_port = std::to_string(info["rest_port"].get<int>());
  Child third = Spawn({"--set", "jobmanager.rpc.port=0", "--set", "rest.port=" + rest_port});
  EXPECT_EQ(Wait(third, &err), 2);
  EXPECT_EQ(err, "sluice-jobmanager: cannot listen on 127.0.0.1:" + rest_port +
                     " for the REST API (address in use?)\n");

  ASSERT_EQ(kill(jm.pid, SIGTERM), 0);
  EXPECT_EQ(Wait(jm, &err), 0);
  EXPECT_EQ(err, "");
}

TEST_F(JobManagerMainTest, BadFlagsAndConfigAreOneLineAndExit2) {
  std::string err;
  Child bad_flag = Spawn({"--bogus"});
  EXPECT_EQ(Wait(bad_flag, &err), 2);
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  EXPECT_EQ(err.rfind("sluice-jobmanager: ", 0), 0u) << err;

  Child bad_key = Spawn({"--set", "jobmanager.rpc.prot=1"});
  EXPECT_EQ(Wait(bad_key, &err), 2);
  EXPECT_EQ(err,
            "sluice-jobmanager: unknown config key 'jobmanager.rpc.prot' (did you mean "
            "'jobmanager.rpc.port'?)\n");

  Child missing = Spawn({"--config", (dir_ / "nope.yaml").string()});
  EXPECT_EQ(Wait(missing, &err), 2);
  EXPECT_THAT(err, ::testing::HasSubstr("nope.yaml: cannot be read"));
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
}

}  // namespace
