// sluice-jobmanager: the JobManager process.
//   sluice-jobmanager [--config FILE] [--set key=value]... [--ready-file PATH]
// Serves the JobManagerService on jobmanager.address:jobmanager.rpc.port until SIGTERM or
// SIGINT (then exits 0 without cancelling jobs). When serving, writes the ready file
// atomically: {"rpc_address":"127.0.0.1:PORT","pid":N}. Bad flags or config, or a port that
// cannot be bound: one line on stderr, exit 2.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
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
#include "common/process_util.h"
#include "common/server_process.h"
#include "jobmanager/jobmanager_server.h"
#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"

namespace {

constexpr char kProgram[] = "sluice-jobmanager";

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

  auto server = sluice::jobmanager::JobManagerServer::Start(*config);
  if (!server.ok()) return sluice::FailStartup(kProgram, server.status().message());

  if (!options.ready_file.empty()) {
    nlohmann::json ready = {{"rpc_address", (*server)->address()},
                            {"pid", static_cast<int64_t>(getpid())}};
    absl::Status s = sluice::WriteFileAtomically(options.ready_file, ready.dump());
    if (!s.ok()) {
      (*server)->Shutdown();
      return sluice::FailStartup(kProgram, s.message());
    }
  }

  const int signal_number = sluice::WaitForTerminationSignal();
  spdlog::info("JobManager shutting down ({})", signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
  (*server)->Shutdown();
  server->reset();
  spdlog::debug("JobManager stopped");
  return 0;
}
