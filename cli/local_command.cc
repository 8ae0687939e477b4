// `sluice local`: a foreground mini-cluster of real JobManager and TaskManager processes.
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "cli/command_util.h"
#include "cli/commands.h"
#include "common/kafka/embedded_kafka.h"
#include "common/schema_registry/registry_server.h"
#include "cli/json_output.h"
#include "cli/local_cluster.h"
#include "cli/table.h"
#include "common/config.h"
#include "common/file_util.h"

namespace sluice::cli {

using kafka::EmbeddedKafka;
using schema_registry::SchemaRegistryServer;
namespace {

constexpr char kVerb[] = "local";
constexpr int64_t kWatchIntervalMs = 100;

// --bin-dir, else $SLUICE_BIN_DIR, else the directory of this executable.
std::string ResolveBinDir(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("SLUICE_BIN_DIR"); env != nullptr && *env != '\0') return env;
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? "." : self.parent_path().string();
}

absl::Status CheckBinaries(const std::string& bin_dir) {
  for (const char* name : {"sluice-jobmanager", "sluice-taskmanager"}) {
    const std::string path = (std::filesystem::path(bin_dir) / name).string();
    if (::access(path.c_str(), X_OK) != 0) {
      return absl::NotFoundError(absl::StrCat("cannot find ", name, " in ", bin_dir,
                                              " (build it, or set SLUICE_BIN_DIR)"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> PrepareLogDir(const std::string& flag) {
  if (flag.empty()) {
    char pattern[] = "/tmp/sluice-local-XXXXXX";
    if (::mkdtemp(pattern) == nullptr) {
      return absl::FailedPreconditionError("cannot create a log directory under /tmp");
    }
    return std::string(pattern);
  }
  std::error_code ec;
  std::filesystem::create_directories(flag, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create log directory ", flag, ": ", ec.message()));
  }
  return std::filesystem::absolute(flag).string();
}

// The first example job spec (examples/*.yaml under the working directory), for the banner.
std::string ExampleSpec() {
  std::error_code ec;
  std::vector<std::string> specs;
  for (const auto& entry : std::filesystem::directory_iterator("examples", ec)) {
    if (entry.path().extension() == ".yaml") specs.push_back(entry.path().string());
  }
  if (specs.empty()) return "JOB.yaml";
  return *std::min_element(specs.begin(), specs.end());
}

// "https" when the cluster's configuration (--config, --set) turns on REST TLS.
std::string RestScheme(const LocalOptions& options) {
  Config config;
  if (!options.config_file.empty() && !config.LoadFile(options.config_file).ok()) return "http";
  for (const std::string& assignment : options.set_flags) {
    if (!config.SetFlag(assignment).ok()) return "http";
  }
  return config.GetBool("security.rest.tls.enabled") ? "https" : "http";
}

void PrintBanner(const LocalCluster& cluster, const LocalOptions& options,
                 const std::string& log_dir, const EmbeddedKafka* kafka,
                 const SchemaRegistryServer* registry, std::ostream& out) {
  out << "Sluice local cluster is running (Ctrl-C stops it).\n\n";
  Table table({"PROCESS", "ID", "ADDRESS", {"PID", Align::kRight}, "LOG"}, "  ");
  const LocalProcess& jm = cluster.jobmanager();
  table.AddRow({jm.name, "-", jm.address, absl::StrCat(jm.pid), jm.log_path});
  for (const LocalProcess& tm : cluster.taskmanagers()) {
    table.AddRow({tm.name, tm.tm_id.empty() ? "-" : tm.tm_id, tm.address, absl::StrCat(tm.pid),
                  tm.log_path});
  }
  table.Render(out);
  out << "\nJobManager:   " << jm.address << "\n";
  if (kafka != nullptr) {
    out << "Kafka:        " << kafka->bootstrap()
        << "  (embedded: in memory, for development and tests only)\n";
  }
  if (registry != nullptr) {
    out << "Schema registry: " << registry->url() << "  (Confluent-compatible; data in "
        << log_dir << "/schema-registry)\n";
  }
  if (!jm.http_address.empty()) {
    out << "Dashboard:    " << RestScheme(options) << "://" << jm.http_address
        << "/  (REST API under /v1, metrics at /metrics)\n";
  }
  out
      << "TaskManagers: " << cluster.taskmanagers().size() << " x " << options.slots
      << " slots\n"
      << "Logs:         " << log_dir << "\n"
      << "Submit a job: sluice run " << ExampleSpec() << " --jobmanager " << jm.address << "\n"
      << "Watch it:     sluice list --jobmanager " << jm.address << std::endl;
}

}  // namespace

int LocalCommand(const LocalOptions& options, CommandEnv& env) {
  if (options.taskmanagers < 0) return Fail(env, kVerb, "--taskmanagers must be 0 or more");
  if (options.slots < 1) return Fail(env, kVerb, "--slots must be at least 1");
  if (options.port < 0 || options.port > 65535) {
    return Fail(env, kVerb, "--port must be between 0 and 65535");
  }
  // Catch bad configuration here, in one line, instead of in a child's log.
  Config config;
  if (!options.config_file.empty()) {
    if (absl::Status s = config.LoadFile(options.config_file); !s.ok()) return Fail(env, kVerb, s);
  }
  for (const std::string& flag : options.set_flags) {
    if (absl::Status s = config.SetFlag(flag); !s.ok()) return Fail(env, kVerb, s);
  }
  const std::string bin_dir = ResolveBinDir(options.bin_dir);
  if (absl::Status s = CheckBinaries(bin_dir); !s.ok()) return Fail(env, kVerb, s);
  absl::StatusOr<std::string> log_dir = PrepareLogDir(options.log_dir);
  if (!log_dir.ok()) return Fail(env, kVerb, log_dir.status());
  std::unique_ptr<EmbeddedKafka> kafka;
  if (options.kafka) {
    absl::StatusOr<std::unique_ptr<EmbeddedKafka>> started = EmbeddedKafka::Start(/*brokers=*/1);
    if (!started.ok()) return Fail(env, kVerb, started.status());
    kafka = *std::move(started);
  }
  // The Confluent formats of Kafka jobs need a registry: one in this process, kept in the
  // log directory.
  std::unique_ptr<SchemaRegistryServer> registry;
  if (options.kafka) {
    schema_registry::SchemaRegistryServerOptions registry_options;
    registry_options.port = 0;
    registry_options.dir = (std::filesystem::path(*log_dir) / "schema-registry").string();
    absl::StatusOr<std::unique_ptr<SchemaRegistryServer>> started =
        SchemaRegistryServer::Start(registry_options);
    if (!started.ok()) return Fail(env, kVerb, started.status());
    registry = *std::move(started);
  }

  LocalClusterOptions cluster_options;
  cluster_options.bin_dir = bin_dir;
  cluster_options.log_dir = *log_dir;
  cluster_options.taskmanagers = options.taskmanagers;
  cluster_options.slots = options.slots;
  cluster_options.jobmanager_port = options.port;
  cluster_options.config_file =
      options.config_file.empty() ? "" : std::filesystem::absolute(options.config_file).string();
  // Jobs whose Kafka sources name no bootstrap read the embedded Kafka (the user's own
  // --set kafka.bootstrap=..., after ours, wins).
  if (kafka != nullptr) cluster_options.set_flags.push_back("kafka.bootstrap=" + kafka->bootstrap());
  if (registry != nullptr) cluster_options.set_flags.push_back("kafka.registry=" + registry->url());
  cluster_options.set_flags.insert(cluster_options.set_flags.end(), options.set_flags.begin(),
                                   options.set_flags.end());
  cluster_options.startup_timeout_ms = options.startup_timeout_ms;
  cluster_options.shutdown_grace_ms = options.shutdown_grace_ms;
  LocalCluster cluster(cluster_options);

  *env.err << "Starting a JobManager and " << options.taskmanagers
           << " TaskManager(s); logs in " << *log_dir << std::endl;
  absl::Status started = cluster.Start([&env] { return env.Interrupted(); });
  if (!started.ok()) {
    cluster.Stop();
    if (absl::IsCancelled(started)) {
      *env.err << "sluice local: interrupted during startup; every process was stopped" << std::endl;
      return kExitOk;
    }
    if (!cluster.failed_log_tail().empty()) {
      *env.err << "Last lines of its log:\n";
      for (const std::string& line : cluster.failed_log_tail()) *env.err << "  | " << line << "\n";
    }
    return Fail(env, kVerb, started);
  }

  PrintBanner(cluster, options, *log_dir, kafka.get(), registry.get(), *env.out);
  if (!options.ready_file.empty()) {
    nlohmann::json ready = cluster.ReadyJson();
    if (kafka != nullptr) ready["kafka_bootstrap"] = kafka->bootstrap();
    if (registry != nullptr) ready["schema_registry_url"] = registry->url();
    if (absl::Status s = WriteFileAtomically(options.ready_file, ready.dump(2) + "\n");
        !s.ok()) {
      cluster.Stop();
      return Fail(env, kVerb, s);
    }
  }

  while (!env.Interrupted()) {
    for (const std::string& death : cluster.PollDeaths()) {
      *env.err << "sluice local: " << death << "; the rest of the cluster keeps running"
               << std::endl;
    }
    SleepInterruptibly(env, kWatchIntervalMs);
  }
  *env.err << "Stopping the local cluster..." << std::endl;
  cluster.Stop();
  if (!options.ready_file.empty()) {
    std::error_code ignored;
    std::filesystem::remove(options.ready_file, ignored);
  }
  *env.err << "Local cluster stopped." << std::endl;
  return kExitOk;
}

}  // namespace sluice::cli
