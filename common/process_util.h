// Process facts, signal handling and process-wide settings shared by the JobManager,
// TaskManager and CLI binaries.
#pragma once

#include <cstdint>

namespace sluice {

// Resident set size of this process in bytes (from /proc/self/statm), 0 if unknown.
int64_t CurrentRssBytes();
// Blocks SIGINT and SIGTERM in this and every later thread. Call first thing in main().
void BlockTerminationSignals();
// Turns off Abseil's mutex deadlock detection for this process. Debian's Abseil is built
// without NDEBUG, so by default every absl::Mutex lock also updates a lock-order graph: an
// uncontended lock/unlock costs 48.7 ns instead of 14.3 ns on the development VM. The
// JobManager, TaskManager, CLI and benchmarks call it first thing in main(); unit tests keep
// the detection (it reports lock-order inversions).
void DisableMutexDeadlockDetection();
// Waits (on the calling thread) until SIGINT or SIGTERM arrives; returns the signal.
int WaitForTerminationSignal();
// True when SIGINT or SIGTERM arrived and waits (blocked) to be taken by
// WaitForTerminationSignal: lets start-up work that may take long (a TaskManager waiting for
// its JobManager) give up when the process is asked to stop.
bool TerminationSignalPending();

}  // namespace sluice
