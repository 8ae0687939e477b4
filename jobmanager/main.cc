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
#include "grpc/support/log.h"
#include "jobmanager/jobmanager_server.h"
#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"

namespace {

constexpr char kProgram[] = "sluice-jobmanager";

int Fail(absl::string_view message) {
  std::fprintf(stderr, "%s: %s\n", kProgram, std::string(message).c_str());
  return 2;
}

// gRPC's own log lines go to spdlog (debug), never straight to stderr.
void GrpcLogToSpdlog(gpr_log_func_args* args) {
  spdlog::debug("grpc {}:{}: {}", args->file, args->line, args->message);
}

absl::Status WriteReadyFile(const std::string& path, const std::string& content) {
  const std::string tmp = absl::StrCat(path, ".tmp.", getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << content;
    out.flush();
    if (!out) {
      return absl::InternalError(
          absl::StrCat("cannot write ready file ", tmp, ": ", std::strerror(errno)));
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    std::remove(tmp.c_str());
    return absl::InternalError(
        absl::StrCat("cannot write ready file ", path, ": ", std::strerror(err)));
  }
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  gpr_set_log_function(GrpcLogToSpdlog);

  CLI::App app{"sluice-jobmanager: the Sluice JobManager (schedules jobs onto TaskManagers)"};
  std::string config_file;
  std::vector<std::string> assignments;
  std::string ready_file;
  app.add_option("--config", config_file, "YAML configuration file");
  app.add_option("--set", assignments, "Override a config key: --set key=value (repeatable)")
      ->allow_extra_args(false);
  app.add_option("--ready-file", ready_file,
                 "Written (atomically) once serving: {\"rpc_address\":..., \"pid\":...}");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return 0;
  } catch (const CLI::ParseError& e) {
    return Fail(e.what());
  }

  sluice::Config config;
  if (!config_file.empty()) {
    absl::Status s = config.LoadFile(config_file);
    if (!s.ok()) return Fail(s.message());
  }
  for (const std::string& a : assignments) {
    absl::Status s = config.SetFlag(a);
    if (!s.ok()) return Fail(s.message());
  }
  const std::string level = config.GetString("log.level");
  if (level != "trace" && level != "debug" && level != "info" && level != "warn" &&
      level != "error") {
    return Fail(absl::StrCat("config key 'log.level': '", level,
                             "' is not one of trace, debug, info, warn, error"));
  }
  spdlog::set_level(spdlog::level::from_str(level));

  // SIGTERM/SIGINT are taken by sigwait below; block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto server = sluice::jobmanager::JobManagerServer::Start(config);
  if (!server.ok()) return Fail(server.status().message());

  if (!ready_file.empty()) {
    nlohmann::json ready = {{"rpc_address", (*server)->address()},
                            {"pid", static_cast<int64_t>(getpid())}};
    absl::Status s = WriteReadyFile(ready_file, ready.dump());
    if (!s.ok()) {
      (*server)->Shutdown();
      return Fail(s.message());
    }
  }

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  spdlog::info("JobManager shutting down ({})", signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
  (*server)->Shutdown();
  server->reset();
  spdlog::debug("JobManager stopped");
  return 0;
}
