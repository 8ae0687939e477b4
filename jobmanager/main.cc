// sluice-jobmanager: the JobManager process.
//   sluice-jobmanager [--config FILE] [--set key=value]... [--ready-file PATH]
//                     [--job SPEC.yaml [--from-savepoint PATH] [--allow-non-restored-state]]
// Serves the JobManagerService on jobmanager.address:jobmanager.rpc.port and the REST API +
// /metrics on jobmanager.address:rest.port until SIGTERM or SIGINT (then exits 0 without
// cancelling jobs). When serving, writes the ready file atomically:
// {"rpc_address":"127.0.0.1:PORT","rest_address":"127.0.0.1:PORT","rest_port":N,"pid":N}.
// With high_availability.dir set it first recovers the jobs of its job store and writes
// <dir>/leader (common/ha_leader.h) before the ready file.
// --job: application mode (jobmanager/application_job.h): the spec is submitted once serving,
// before the ready file is written and /v1/ready answers 200; a bad spec exits 2.
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
#include "common/rpc/grpc_server.h"
#include "common/server_process.h"
#include "jobmanager/application_job.h"
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

void LogApplication(const sluice::jobmanager::ApplicationOutcome& outcome,
                    const sluice::jobmanager::ApplicationOptions& options) {
  using Kind = sluice::jobmanager::ApplicationOutcome::Kind;
  switch (outcome.kind) {
    case Kind::kSubmitted:
      spdlog::info("application mode: job {} ({}) submitted from {}{}", outcome.job_id,
                   outcome.name, options.spec_path,
                   options.from_savepoint.empty() ? "" : " from savepoint " + options.from_savepoint);
      break;
    case Kind::kRecovered:
      spdlog::info("application mode: job {} ({}) was recovered from the job store; not "
                   "submitted again", outcome.job_id, outcome.name);
      break;
    case Kind::kAlreadyRan:
      spdlog::warn("application mode: {} with this savepoint already ran as job {} ({}), which "
                   "has ended; not submitted again (delete {} to run it again)",
                   options.spec_path, outcome.job_id, outcome.name, outcome.record_path);
      break;
  }
}

}  // namespace

int main(int argc, char** argv) {
  // SIGTERM/SIGINT are taken by WaitForTerminationSignal; blocked before any thread starts.
  sluice::BlockTerminationSignals();
  sluice::DisableMutexDeadlockDetection();
  CLI::App app{"sluice-jobmanager: the Sluice JobManager (schedules jobs onto TaskManagers)"};
  sluice::ServerOptions options;
  sluice::AddServerOptions(app, &options);
  sluice::jobmanager::ApplicationOptions application;
  app.add_option("--job", application.spec_path,
                 "Application mode: submit this job spec (YAML) at start")
      ->check(CLI::ExistingFile);
  app.add_option("--from-savepoint", application.from_savepoint,
                 "With --job: start the job from this savepoint");
  app.add_flag("--allow-non-restored-state", application.allow_non_restored_state,
               "With --job and --from-savepoint: skip savepoint state no operator takes");
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
      sluice::BindHost(*config, "jobmanager.bind_host", "jobmanager.address"),
      static_cast<int>(config->GetInt("rest.port")), (*server)->dispatcher(), &history,
      (*server)->address(), WebDevDir(), (*server)->security());
  if (!rest.ok()) {
    (*server)->Shutdown();
    return sluice::FailStartup(kProgram, rest.status().message());
  }

  if (!application.spec_path.empty()) {
    application.ha_dir = (*server)->ha_dir();
    auto submitted = sluice::jobmanager::SubmitApplicationJob((*server)->dispatcher(), application);
    if (!submitted.ok()) {
      (*rest)->Stop();
      (*server)->Shutdown();
      return sluice::FailStartup(kProgram, submitted.status().message());
    }
    LogApplication(*submitted, application);
  }
  (*rest)->SetReady();

  // Addresses as clients reach them: jobmanager.address, whatever host the servers bind.
  const std::string rest_address =
      sluice::rpc::JoinHostPort(config->GetString("jobmanager.address"), (*rest)->port());

  // High availability: TaskManagers find this JobManager through <ha dir>/leader.
  if (!(*server)->ha_dir().empty()) {
    sluice::LeaderInfo leader;
    leader.rpc_address = (*server)->address();
    leader.rest_address = rest_address;
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
                            {"rest_address", rest_address},
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
