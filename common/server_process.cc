#include "common/server_process.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "grpc/support/log.h"
#include "spdlog/spdlog.h"

namespace sluice {
namespace {

void GrpcLogToSpdlog(gpr_log_func_args* args) {
  spdlog::debug("grpc {}:{}: {}", args->file, args->line, args->message);
}

}  // namespace

void AddServerOptions(CLI::App& app, ServerOptions* options) {
  app.add_option("--config", options->config_file, "YAML configuration file");
  app.add_option("--set", options->sets, "Override a config key: --set key=value (repeatable)")
      ->allow_extra_args(false);
  app.add_option("--ready-file", options->ready_file,
                 "Written atomically as JSON once the process serves");
}

std::optional<int> ParseServerCommandLine(CLI::App& app, int argc, char** argv,
                                          const char* program) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return 0;
  } catch (const CLI::ParseError& e) {
    return FailStartup(program, e.what());
  }
  return std::nullopt;
}

absl::StatusOr<Config> LoadServerConfig(const ServerOptions& options) {
  gpr_set_log_function(GrpcLogToSpdlog);
  Config config;
  if (!options.config_file.empty()) RETURN_IF_ERROR(config.LoadFile(options.config_file));
  for (const std::string& assignment : options.sets) RETURN_IF_ERROR(config.SetFlag(assignment));
  const std::string level = config.GetString("log.level");
  if (level != "trace" && level != "debug" && level != "info" && level != "warn" &&
      level != "error") {
    return absl::InvalidArgumentError(absl::StrCat(
        "config key 'log.level': '", level, "' is not one of trace, debug, info, warn, error"));
  }
  spdlog::set_level(spdlog::level::from_str(level));
  return config;
}

int FailStartup(const char* program, absl::string_view message) {
  std::fprintf(stderr, "%s: %s\n", program, std::string(message).c_str());
  return 2;
}

std::string BindHost(const Config& config, absl::string_view bind_key, absl::string_view host_key) {
  std::string bind = config.GetString(bind_key);
  return bind.empty() ? config.GetString(host_key) : bind;
}

}  // namespace sluice
