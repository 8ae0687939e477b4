// The verbs of the `sluice` command line, one function each: they take the parsed options
// and a CommandEnv (output streams, interrupt flag, seams for tests) and return the process
// exit code: 0 ok, 1 the job failed (or was canceled), 2 usage or bad input (one line on
// stderr starting "sluice <verb>: "), 130 interrupted while attached to a job.
// Called from the main thread (cli/app.cc parses argv and dispatches here).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cli/jobmanager_client.h"
#include "common/clock.h"
#include "proto/jobgraph.pb.h"

namespace sluice::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitJobFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitInterrupted = 130;

inline constexpr char kDefaultJobManager[] = "localhost:6123";

enum class OutputFormat { kTable, kJson };

// Parses a job spec file; `parallelism_override` 0 keeps the spec's parallelism.
using SpecLoader =
    std::function<absl::StatusOr<proto::JobGraph>(const std::string& path, int parallelism_override)>;
// The real loader: jobgraph::LoadJobSpecFile.
absl::StatusOr<proto::JobGraph> LoadJobSpec(const std::string& path, int parallelism_override);

// Where commands write and what they may observe; tests replace the defaults.
struct CommandEnv {
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
  // Progress of an attached `run` is one rewritten line when stderr is a terminal.
  bool err_is_tty = false;
  // Set (from a signal handler) on Ctrl-C / SIGTERM; may be null.
  const std::atomic<bool>* interrupted = nullptr;
  const Clock* clock = SystemClock::Get();  // WallMillis() for "ago" and durations
  int64_t poll_interval_ms = 500;           // attached run and cancel polling
  SpecLoader load_spec = LoadJobSpec;
  JobManagerClientOptions client_options;

  bool Interrupted() const { return interrupted != nullptr && interrupted->load(); }
};

struct GlobalOptions {
  std::string jobmanager = kDefaultJobManager;
  OutputFormat output = OutputFormat::kTable;
};

struct RunOptions {
  std::string spec_path;
  bool detached = false;
  int parallelism = 0;  // 0 = as in the spec
  std::string from_savepoint;
  bool allow_non_restored_state = false;
};
int RunCommand(const GlobalOptions& global, const RunOptions& options, CommandEnv& env);

int ListCommand(const GlobalOptions& global, CommandEnv& env);

struct JobIdOptions {
  std::string job_id;
};
int InfoCommand(const GlobalOptions& global, const JobIdOptions& options, CommandEnv& env);

struct CancelOptions {
  std::string job_id;
  int64_t timeout_ms = 30000;  // how long to wait for CANCELED
};
int CancelCommand(const GlobalOptions& global, const CancelOptions& options, CommandEnv& env);

int TaskManagersCommand(const GlobalOptions& global, CommandEnv& env);

// Not supported yet (savepoints and checkpoints come with a later issue): exit 2.
struct StopOptions {
  std::string job_id;
  std::string savepoint_dir;
  bool drain = false;
  int64_t timeout_ms = 600'000;
};
int StopCommand(const GlobalOptions& global, const StopOptions& options, CommandEnv& env);
struct SavepointOptions {
  std::string job_id;
  std::string dir;
  int64_t timeout_ms = 600'000;
};
int SavepointCommand(const GlobalOptions& global, const SavepointOptions& options,
                     CommandEnv& env);
int CheckpointsCommand(const GlobalOptions& global, const JobIdOptions& options, CommandEnv& env);

int ConfigDocsCommand(CommandEnv& env);

struct LocalOptions {
  int taskmanagers = 2;
  int slots = 2;
  bool kafka = false;
  std::string config_file;
  std::vector<std::string> set_flags;  // "key=value", passed to every process
  int port = 6123;                     // JobManager RPC port (0 = pick a free one)
  std::string ready_file;
  std::string log_dir;                 // empty: a new /tmp/sluice-local-XXXXXX
  int64_t startup_timeout_ms = 30000;
  int64_t shutdown_grace_ms = 5000;
  std::string bin_dir;                 // empty: $SLUICE_BIN_DIR, else next to this binary
};
int LocalCommand(const LocalOptions& options, CommandEnv& env);

// `sluice schema-registry`: serves the schema registry until interrupted (exit 0); a bad
// port, a port in use or a directory it cannot write is one line and exit 2.
struct SchemaRegistryOptions {
  std::string host = "127.0.0.1";
  int port = 8085;  // 0 = pick a free one
  std::string dir = "schema-registry";
  std::string ready_file;  // {"url", "port", "dir"} once serving
};
int SchemaRegistryCommand(const SchemaRegistryOptions& options, CommandEnv& env);

}  // namespace sluice::cli
