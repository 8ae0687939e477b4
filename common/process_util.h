// Process facts and signal handling shared by the JobManager and TaskManager binaries.
#pragma once

#include <cstdint>

namespace sluice {

// Resident set size of this process in bytes (from /proc/self/statm), 0 if unknown.
int64_t CurrentRssBytes();
// Blocks SIGINT and SIGTERM in this and every later thread. Call first thing in main().
void BlockTerminationSignals();
// Waits (on the calling thread) until SIGINT or SIGTERM arrives; returns the signal.
int WaitForTerminationSignal();
// True when SIGINT or SIGTERM arrived and waits (blocked) to be taken by
// WaitForTerminationSignal: lets start-up work that may take long (a TaskManager waiting for
// its JobManager) give up when the process is asked to stop.
bool TerminationSignalPending();

}  // namespace sluice
