// `sluice schema-registry`: serves a Confluent-compatible schema registry
// (common/schema_registry/) from a directory until Ctrl-C or SIGTERM.
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "cli/command_util.h"
#include "cli/commands.h"
#include "common/file_util.h"
#include "common/schema_registry/registry_server.h"
#include "nlohmann/json.hpp"

namespace sluice::cli {
namespace {

constexpr char kVerb[] = "schema-registry";
constexpr int64_t kWatchIntervalMs = 100;

}  // namespace

int SchemaRegistryCommand(const SchemaRegistryOptions& options, CommandEnv& env) {
  if (options.port < 0 || options.port > 65535) {
    return Fail(env, kVerb, "--port must be between 0 and 65535");
  }
  schema_registry::SchemaRegistryServerOptions server_options;
  server_options.host = options.host;
  server_options.port = options.port;
  server_options.dir = options.dir;
  absl::StatusOr<std::unique_ptr<schema_registry::SchemaRegistryServer>> server =
      schema_registry::SchemaRegistryServer::Start(server_options);
  if (!server.ok()) return Fail(env, kVerb, server.status());

  std::error_code ec;
  const std::string dir = std::filesystem::absolute(options.dir, ec).string();
  *env.out << "Schema registry: " << (*server)->url() << "  (data in " << dir
           << "; Ctrl-C stops it)" << std::endl;
  if (!options.ready_file.empty()) {
    const nlohmann::json ready = {
        {"url", (*server)->url()}, {"port", (*server)->port()}, {"dir", dir}};
    if (absl::Status s = WriteFileAtomically(options.ready_file, ready.dump(2) + "\n"); !s.ok()) {
      return Fail(env, kVerb, s);
    }
  }
  while (!env.Interrupted()) SleepInterruptibly(env, kWatchIntervalMs);
  (*server)->Stop();
  if (!options.ready_file.empty()) std::filesystem::remove(options.ready_file, ec);
  *env.err << "Schema registry stopped." << std::endl;
  return kExitOk;
}

}  // namespace sluice::cli
