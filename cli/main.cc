// The `sluice` command line (see cli/app.h). Ctrl-C and SIGTERM set a flag that the running
// verb observes: an attached `run` detaches (exit 130), `local` stops its processes (exit 0);
// a second Ctrl-C ends the process immediately.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <iostream>
#include <string>
#include <vector>

#include "cli/app.h"
#include "common/process_util.h"

namespace {

std::atomic<bool> g_interrupted{false};

// The first signal asks the running verb to wind down; a second one ends the process at once.
void OnTerminationSignal(int signal) {
  if (g_interrupted.exchange(true)) {
    ::signal(signal, SIG_DFL);
    ::raise(signal);
  }
}

}  // namespace

int main(int argc, char** argv) {
  sluice::DisableMutexDeadlockDetection();
  struct sigaction action = {};
  action.sa_handler = OnTerminationSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);

  sluice::cli::CommandEnv env;
  env.out = &std::cout;
  env.err = &std::cerr;
  env.err_is_tty = ::isatty(STDERR_FILENO) == 1;
  env.interrupted = &g_interrupted;
  return sluice::cli::RunCli(std::vector<std::string>(argv + 1, argv + argc), env);
}
