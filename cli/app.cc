#include "cli/app.h"

#include <algorithm>

#include "CLI/CLI.hpp"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/client_security.h"
#include "cli/command_util.h"
#include "common/duration.h"

namespace sluice::cli {
namespace {

constexpr char kCommandList[] =
    "run, list, info, cancel, stop, savepoint, checkpoints, taskmanagers, local, schema-registry, "
    "config-docs";

CLI::Option* AddOutputOption(CLI::App* command, std::string* output) {
  return command->add_option("--output,-o", *output, "Output format: table or json")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
}

CLI::Option* AddJobId(CLI::App* command, std::string* job_id) {
  return command->add_option("JOB_ID", *job_id, "Job id (see `sluice list`)")->required();
}

// CLI11 messages start with a capital letter; ours continue after "sluice <verb>: ".
std::string LowerFirst(std::string message) {
  if (!message.empty() && absl::ascii_isupper(message[0]) &&
      (message.size() < 2 || !absl::ascii_isupper(message[1]))) {
    message[0] = absl::ascii_tolower(message[0]);
  }
  return message;
}

}  // namespace

int RunCli(const std::vector<std::string>& args, CommandEnv& env) {
  CLI::App app("Sluice: a distributed stream processor.", "sluice");
  app.require_subcommand(1);
  app.footer(
      "Exit codes: 0 ok; 1 the job failed or was canceled; 2 usage error or bad input (one line "
      "on stderr); 130 Ctrl-C while attached to a job (the job keeps running).");
  // Subcommands inherit this: global options may follow the verb (`sluice list --jobmanager h:p`).
  app.fallthrough();

  GlobalOptions global;
  std::string output = "table";
  app.add_option("--jobmanager", global.jobmanager, "JobManager RPC address (host:port)")
      ->envname("SLUICE_JOBMANAGER")
      ->capture_default_str();
  // Cluster security (docs/security.md): TLS to the JobManager and its bearer token.
  ClientSecurityFlags security;
  app.add_option("--tls-ca", security.tls_ca,
                 "Use TLS: CA certificates (PEM) that signed the JobManager's certificate")
      ->envname("SLUICE_TLS_CA");
  app.add_option("--tls-cert", security.tls_cert,
                 "Client certificate (PEM) for a JobManager with mutual TLS")
      ->envname("SLUICE_TLS_CERT");
  app.add_option("--tls-key", security.tls_key, "Private key (PEM) of --tls-cert")
      ->envname("SLUICE_TLS_KEY");
  app.add_option("--tls-server-name", security.tls_server_name,
                 "Name expected in the JobManager's certificate (default: the host dialed)")
      ->envname("SLUICE_TLS_SERVER_NAME");
  app.add_option("--token-file", security.token_file,
                 "File with the bearer token of the JobManager (its security.auth.token_file)")
      ->envname("SLUICE_TOKEN_FILE");

  RunOptions run;
  CLI::App* run_cmd = app.add_subcommand("run", "Submit a job spec (YAML) and follow it to its end");
  run_cmd->add_option("JOB.yaml", run.spec_path, "Job spec file")->required();
  run_cmd->add_flag("--detached,-d", run.detached, "Print the job id and return at once");
  run_cmd->add_option("--parallelism,-p", run.parallelism,
                      "Parallelism of every operator (overrides the spec)")
      ->check(CLI::PositiveNumber);
  run_cmd->add_option("--from-savepoint", run.from_savepoint,
                      "Start from a savepoint (or retained checkpoint) directory");
  run_cmd->add_flag("--allow-non-restored-state", run.allow_non_restored_state,
                    "Start even if the savepoint has state of operators the job lacks");
  AddOutputOption(run_cmd, &output);

  CLI::App* list_cmd = app.add_subcommand("list", "List jobs");
  AddOutputOption(list_cmd, &output);

  JobIdOptions info;
  CLI::App* info_cmd = app.add_subcommand("info", "Show a job: vertices, edges, failures");
  AddJobId(info_cmd, &info.job_id);
  AddOutputOption(info_cmd, &output);

  CancelOptions cancel;
  std::string cancel_timeout = "30s";
  CLI::App* cancel_cmd = app.add_subcommand("cancel", "Cancel a job and wait until it is CANCELED");
  AddJobId(cancel_cmd, &cancel.job_id);
  cancel_cmd->add_option("--timeout", cancel_timeout, "How long to wait for CANCELED")
      ->capture_default_str();
  AddOutputOption(cancel_cmd, &output);

  StopOptions stop;
  CLI::App* stop_cmd =
      app.add_subcommand("stop", "Take a savepoint, then stop the job (FINISHED)");
  AddJobId(stop_cmd, &stop.job_id);
  stop_cmd->add_option("--savepoint-dir", stop.savepoint_dir, "Where to write the savepoint")
      ->required();
  stop_cmd->add_flag("--drain", stop.drain,
                     "Fire all timers and windows before stopping (no windows or timers exist yet: "
                     "accepted, nothing to flush)");
  AddOutputOption(stop_cmd, &output);

  SavepointOptions savepoint;
  CLI::App* savepoint_cmd =
      app.add_subcommand("savepoint", "Take a savepoint of a running job and print its path");
  AddJobId(savepoint_cmd, &savepoint.job_id);
  savepoint_cmd->add_option("DIR", savepoint.dir,
                            "Parent directory (the savepoint is a new subdirectory of it)")
      ->required();
  AddOutputOption(savepoint_cmd, &output);

  JobIdOptions checkpoints;
  CLI::App* checkpoints_cmd =
      app.add_subcommand("checkpoints", "List a job's checkpoints (history, sizes, durations)");
  AddJobId(checkpoints_cmd, &checkpoints.job_id);
  AddOutputOption(checkpoints_cmd, &output);

  CLI::App* tms_cmd = app.add_subcommand("taskmanagers", "List TaskManagers");
  AddOutputOption(tms_cmd, &output);

  LocalOptions local;
  std::string startup_timeout = "30s";
  CLI::App* local_cmd = app.add_subcommand(
      "local", "Run a JobManager and TaskManagers as local processes until Ctrl-C");
  local_cmd->footer(
      "Processes are found next to `sluice` (or in $SLUICE_BIN_DIR) and log to --log-dir. "
      "Ctrl-C or SIGTERM stops them all (SIGTERM, then SIGKILL after 5s) and exits 0. If a "
      "process dies, `sluice local` reports it and keeps the others running: you may start a "
      "replacement with `sluice-taskmanager --jobmanager <address> --set taskmanager.port=0`.");
  local_cmd->add_option("--taskmanagers,-n", local.taskmanagers, "Number of TaskManagers")
      ->check(CLI::Range(0, 64))
      ->capture_default_str();
  local_cmd->add_option("--slots,-s", local.slots, "Task slots per TaskManager")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  local_cmd->add_flag("--kafka", local.kafka, "Also serve an embedded Kafka (librdkafka's mock cluster, in memory; development and tests only) and a schema registry; their addresses are printed and in the ready file");
  local_cmd->add_option("--config", local.config_file, "Cluster configuration file (YAML)");
  local_cmd->add_option("--set", local.set_flags, "Configuration override key=value (repeatable)")
      ->allow_extra_args(false);
  local_cmd->add_option("--port", local.port, "JobManager RPC port (0 = a free port)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  local_cmd->add_option("--ready-file", local.ready_file,
                        "Write the cluster's addresses (JSON) here once it is ready");
  local_cmd->add_option("--log-dir", local.log_dir,
                        "Directory for the processes' logs (default: a new /tmp/sluice-local-*)");
  local_cmd->add_option("--startup-timeout", startup_timeout,
                        "How long each process may take to become ready")
      ->capture_default_str();

  SchemaRegistryOptions registry;
  CLI::App* registry_cmd = app.add_subcommand(
      "schema-registry",
      "Serve a Confluent-compatible schema registry (Avro, Protobuf) until Ctrl-C");
  registry_cmd->footer(
      "For development, tests and small deployments (docs/schema-registry.md). Schemas are "
      "kept in --dir and found again after a restart.");
  registry_cmd->add_option("--port", registry.port, "HTTP port (0 = a free port)")
      ->capture_default_str();
  registry_cmd->add_option("--host", registry.host,
                           "Address to listen on (0.0.0.0: every interface)")
      ->capture_default_str();
  registry_cmd->add_option("--dir", registry.dir, "Directory of the registry's data")
      ->capture_default_str();
  registry_cmd->add_option("--ready-file", registry.ready_file,
                           "Write the registry's URL (JSON) here once it serves");

  CLI::App* config_docs_cmd =
      app.add_subcommand("config-docs", "Print the configuration reference (Markdown)");

  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 parses from the back
  try {
    app.parse(reversed);
  } catch (const CLI::Success& e) {  // --help
    return app.exit(e, *env.out, *env.err);
  } catch (const CLI::ParseError& e) {
    const std::vector<CLI::App*> chosen = app.get_subcommands();
    if (chosen.empty()) {
      if (!args.empty() && !args[0].empty() && args[0][0] != '-') {
        return Fail(env, "", absl::StrCat("unknown command '", args[0], "' (commands: ",
                                          kCommandList, ")"));
      }
      return Fail(env, "", absl::StrCat("a command is required: ", kCommandList,
                                        " (see: sluice --help)"));
    }
    const std::string verb = chosen.front()->get_name();
    return Fail(env, verb,
                absl::StrCat(LowerFirst(e.what()), " (see: sluice ", verb, " --help)"));
  }
  global.output = output == "json" ? OutputFormat::kJson : OutputFormat::kTable;
  for (CLI::App* talks_to_jobmanager : {run_cmd, list_cmd, info_cmd, cancel_cmd, stop_cmd,
                                        savepoint_cmd, checkpoints_cmd, tms_cmd}) {
    if (!talks_to_jobmanager->parsed()) continue;
    if (absl::Status s = ApplyClientSecurity(security, &env.client_options); !s.ok()) {
      return Fail(env, talks_to_jobmanager->get_name(), s.message());
    }
  }

  if (run_cmd->parsed()) return RunCommand(global, run, env);
  if (list_cmd->parsed()) return ListCommand(global, env);
  if (info_cmd->parsed()) return InfoCommand(global, info, env);
  if (cancel_cmd->parsed()) {
    absl::StatusOr<int64_t> timeout = ParseDurationMillis(cancel_timeout);
    if (!timeout.ok()) return Fail(env, "cancel", absl::StrCat("--timeout: ", timeout.status().message()));
    cancel.timeout_ms = *timeout;
    return CancelCommand(global, cancel, env);
  }
  if (stop_cmd->parsed()) return StopCommand(global, stop, env);
  if (savepoint_cmd->parsed()) return SavepointCommand(global, savepoint, env);
  if (checkpoints_cmd->parsed()) return CheckpointsCommand(global, checkpoints, env);
  if (tms_cmd->parsed()) return TaskManagersCommand(global, env);
  if (local_cmd->parsed()) {
    absl::StatusOr<int64_t> timeout = ParseDurationMillis(startup_timeout);
    if (!timeout.ok()) {
      return Fail(env, "local", absl::StrCat("--startup-timeout: ", timeout.status().message()));
    }
    local.startup_timeout_ms = *timeout;
    return LocalCommand(local, env);
  }
  if (registry_cmd->parsed()) return SchemaRegistryCommand(registry, env);
  if (config_docs_cmd->parsed()) return ConfigDocsCommand(env);
  return Fail(env, "", absl::StrCat("a command is required: ", kCommandList));
}

}  // namespace sluice::cli
