// sluice-jobmanager: the JobManager process.
//   sluice-jobmanager [--config FILE] [--set key=value]... [--ready-file PATH]
// Serves the JobManagerService on jobmanager.address:jobmanager.rpc.port and the REST API +
// /metrics on jobmanager.address:rest.port until SIGTERM or SIGINT (then exits 0 without
// cancelling jobs). When serving, writes the ready file atomically:
// {"rpc_address":"127.0.0.1:PORT","rest_address":"127.0.0.1:PORT","rest_port":N,"pid":N}.
// With high_availability.dir set it first recovers the jobs of its job store and writes
// <dir>/leader (common/ha_leader.h) before the ready file.
// The dashboard is embedded; SLUICE_WEB_DIR=<dir> serves it from <dir> instead (development).
// Bad flags or config, or a port that cannot be bound: one line on stderr, exit 2.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/config.h"
#include "common/file_util.h"
#include "common/ha_leader.h"
#include "common/process_util.h"
#include "common/server_process.h"
#include "jobmanager/jobmanager_server.h"
#include "jobmanager/rest/rest_server.h"
#include "jobmanager/rest/task_metrics_history.h"
#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"

namespace {

constexpr char kProgram[] = "sluice-jobmanager";

// SLUICE_WEB_DIR: serve the dashboard from this directory (edit web/ without rebuilding).
std::string WebDevDir() {
  const char* dir = std::getenv("SLUICE_WEB_DIR");
  if (dir == nullptr || *dir == '\0') return "";
  spdlog::warn("SLUICE_WEB_DIR is set: serving the dashboard from {} (development mode)", dir);
  return dir;
}

}  // namespace

int main(int argc, char** argv) {
  // SIGTERM/SIGINT are taken by WaitForTerminationSignal; blocked before any thread starts.
  sluice::BlockTerminationSignals();
  CLI::App app{"sluice-jobmanager: the Sluice JobManager (schedules jobs onto TaskManagers)"};
  sluice::ServerOptions options;
  sluice::AddServerOptions(app, &options);
  if (auto exit_code = sluice::ParseServerCommandLine(app, argc, argv, kProgram)) return *exit_code;
  absl::StatusOr<sluice::Config> config = sluice::LoadServerConfig(options);
  if (!config.ok()) return sluice::FailStartup(kProgram, config.status().message());

  // Task metrics from heartbeats, for the REST API's rates (outlives both servers).
  sluice::jobmanager::TaskMetricsHistory history(sluice::SystemClock::Get());
  sluice::jobmanager::JobManagerServerOptions server_options;
  server_options.on_heartbeat = [&history](const sluice::proto::HeartbeatRequest& heartbeat) {
    history.Record(heartbeat);
  };
  auto server = sluice::jobmanager::JobManagerServer::Start(*config, std::move(server_options));
  if (!server.ok()) return sluice::FailStartup(kProgram, server.status().message());
  auto rest = sluice::jobmanager::RestServer::Start(
      config->GetString("jobmanager.address"), static_cast<int>(config->GetInt("rest.port")),
      (*server)->dispatcher(), &history, (*server)->address(), WebDevDir(), (*server)->security());
  if (!rest.ok()) {
    (*server)->Shutdown();
    return sluice::FailStartup(kProgram, rest.status().message());
  }

  // High availability: TaskManagers find this JobManager through <ha dir>/leader.
  if (!(*server)->ha_dir().empty()) {
    sluice::LeaderInfo leader;
    leader.rpc_address = (*server)->address();
    leader.rest_address = (*rest)->address();
    leader.session_id = (*server)->dispatcher()->session_id();
    leader.pid = getpid();
    if (absl::Status s = sluice::WriteLeaderFile((*server)->ha_dir(), leader); !s.ok()) {
      (*rest)->Stop();
      (*server)->Shutdown();
      return sluice::FailStartup(kProgram, s.message());
    }
  }

  if (!options.ready_file.empty()) {
    nlohmann::json ready = {{"rpc_address", (*server)->address()},
                            {"rest_address", (*rest)->address()},
                            {"rest_port", (*rest)->port()},
                            {"pid", static_cast<int64_t>(getpid())}};
    absl::Status s = sluice::WriteFileAtomically(options.ready_file, ready.dump());
    if (!s.ok()) {
      (*rest)->Stop();
      (*server)->Shutdown();
      return sluice::FailStartup(kProgram, s.message());
    }
  }

  const int signal_number = sluice::WaitForTerminationSignal();
  spdlog::info("JobManager shutting down ({})", signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
  (*rest)->Stop();
  (*server)->Shutdown();
  rest->reset();
  server->reset();
  spdlog::debug("JobManager stopped");
  return 0;
}
