// ChildProcess: a child started with fork+exec for `sluice local`: stdin from /dev/null,
// stdout and stderr appended to a log file, in its own process group (so a terminal's Ctrl-C
// reaches only `sluice local`, which then stops its children in order), and sent SIGTERM by
// the kernel if `sluice local` dies first (PR_SET_PDEATHSIG), so no orphan keeps a port.
// Owned and used by one thread (the thread that started it must outlive it: the death signal
// follows the starting thread).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace sluice::cli {

class ChildProcess {
 public:
  // argv[0] is the path of the executable. Errors: the log file cannot be opened, fork fails.
  // A failing exec shows up as exit status 127 with the reason in the log.
  static absl::StatusOr<std::unique_ptr<ChildProcess>> Start(const std::vector<std::string>& argv,
                                                             const std::string& log_path);
  // Kills (SIGKILL) and reaps the child if it still runs.
  ~ChildProcess();

  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return log_path_; }

  // Reaps the child without blocking if it exited; true while it runs.
  bool Running();
  // Sends `signal` if it still runs.
  void Signal(int signal);
  // Waits up to `timeout_ms` for the child to exit; true once it has exited.
  bool WaitForExit(int64_t timeout_ms);
  // "exited with status 1", "was killed by signal 9 (Killed)"; empty while running.
  std::string ExitDescription() const;
  // The last `lines` non-empty lines of its log.
  std::vector<std::string> LogTail(int lines) const;

 private:
  ChildProcess(pid_t pid, std::string log_path) : pid_(pid), log_path_(std::move(log_path)) {}

  pid_t pid_;
  std::string log_path_;
  bool exited_ = false;
  int wait_status_ = 0;
};

}  // namespace sluice::cli
