// Start-up shared by the sluice-jobmanager and sluice-taskmanager processes: the common
// flags (--config, --set, --ready-file), configuration loading, logging set-up (spdlog level,
// gRPC's own log lines routed to spdlog so stderr carries only our one-line errors), the
// ready file and the one-line start-up failure. Main thread only.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "common/config.h"

namespace sluice {

struct ServerOptions {
  std::string config_file;
  std::vector<std::string> sets;
  std::string ready_file;
};

// Adds --config, --set (repeatable) and --ready-file to `app`.
void AddServerOptions(CLI::App& app, ServerOptions* options);

// Parses the command line. Returns an exit code when the process should stop now (0 after
// --help, 2 after a usage error, printed as one line), nullopt to go on.
std::optional<int> ParseServerCommandLine(CLI::App& app, int argc, char** argv,
                                          const char* program);

// The config file then the --set flags; sets the log level and routes gRPC logs.
absl::StatusOr<Config> LoadServerConfig(const ServerOptions& options);

// The host a server binds to: the value of `bind_key` (jobmanager.bind_host,
// taskmanager.bind_host) when set, else that of `host_key`, the host the process advertises.
std::string BindHost(const Config& config, absl::string_view bind_key, absl::string_view host_key);

// Prints "<program>: <message>" on stderr; returns exit code 2.
int FailStartup(const char* program, absl::string_view message);

}  // namespace sluice
