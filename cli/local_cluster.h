// LocalCluster: the mini-cluster of `sluice local`: one `sluice-jobmanager` and N
// `sluice-taskmanager` processes (real processes, found in bin_dir), each logging to a file in
// log_dir and announcing itself through a ready file (JSON, written atomically):
//   JobManager:  {"rpc_address": "127.0.0.1:PORT", "rest_address": "...", "pid": N}
//   TaskManager: {"tm_id": "...", "address": "127.0.0.1:PORT", "metrics_address": "...",
//                 "pid": N}
// Start() launches the JobManager (--set jobmanager.rpc.port=P), waits for it, then the
// TaskManagers (--jobmanager <its address> --set taskmanager.port=0
// --set taskmanager.slots=S), each with the user's --config and --set flags after ours.
// A child that exits during startup fails Start() with its exit and last log line; a child
// that dies later is only reported by PollDeaths() (the rest keeps running: a TaskManager
// being killed and restarted is a scenario users test). Stop() sends SIGTERM to every child,
// then SIGKILL after the grace period. One thread owns a LocalCluster.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "cli/child_process.h"
#include "nlohmann/json.hpp"

namespace sluice::cli {

struct LocalClusterOptions {
  std::string bin_dir;   // holds sluice-jobmanager and sluice-taskmanager
  std::string log_dir;   // must exist
  int taskmanagers = 2;
  int slots = 2;
  int jobmanager_port = 6123;  // 0 = a free port
  std::string config_file;     // passed as --config when not empty
  std::vector<std::string> set_flags;  // "key=value", passed as --set to every process
  int64_t startup_timeout_ms = 30000;  // per process
  int64_t shutdown_grace_ms = 5000;
};

// One started process as announced by its ready file.
struct LocalProcess {
  std::string name;     // "jobmanager", "taskmanager-1", ...
  std::string tm_id;    // TaskManagers only
  std::string address;  // host:port of its RPC server
  // host:port of its HTTP server: the JobManager's REST API and dashboard, a TaskManager's
  // /metrics (empty when it has none).
  std::string http_address;
  int64_t pid = 0;
  std::string log_path;
};

class LocalCluster {
 public:
  explicit LocalCluster(LocalClusterOptions options);
  // Stops whatever still runs.
  ~LocalCluster();

  // Starts every process and waits for their ready files. `interrupted` is polled while
  // waiting (Cancelled when it returns true). Errors carry a one-line reason, e.g.
  // "sluice-jobmanager exited with status 1 before it was ready: cannot listen on
  // 127.0.0.1:6123 (address in use?)"; failed_log_tail() then holds that child's last lines.
  absl::Status Start(const std::function<bool()>& interrupted);

  const LocalProcess& jobmanager() const { return jobmanager_; }
  const std::vector<LocalProcess>& taskmanagers() const { return taskmanagers_; }
  const std::vector<std::string>& failed_log_tail() const { return failed_log_tail_; }

  // {"jobmanager": "127.0.0.1:PORT", "jobmanager_pid": N, "rest_address": "127.0.0.1:PORT",
  //  "log_dir": "...", "taskmanagers": [{"tm_id", "address", "metrics_address", "pid", "log"}]}
  nlohmann::json ReadyJson() const;

  // Reaps children that exited since the last call; one line for each, e.g.
  // "taskmanager-2 (pid 1234) exited with status 1; log: /tmp/.../taskmanager-2.log".
  std::vector<std::string> PollDeaths();

  // SIGTERM to every running child, SIGKILL to those still running after the grace period.
  void Stop();

 private:
  struct Child {
    LocalProcess info;
    std::unique_ptr<ChildProcess> process;
    bool death_reported = false;
  };

  absl::StatusOr<Child> StartChild(const std::string& name, const std::string& binary,
                                   std::vector<std::string> args);
  // Waits for `child`'s ready file; fills info from it.
  absl::Status WaitReady(Child& child, const std::string& ready_path,
                         const std::function<bool()>& interrupted);
  std::vector<std::string> CommonFlags() const;

  LocalClusterOptions options_;
  std::vector<Child> children_;  // [0] is the JobManager once started
  LocalProcess jobmanager_;
  std::vector<LocalProcess> taskmanagers_;
  std::vector<std::string> failed_log_tail_;
};

}  // namespace sluice::cli
