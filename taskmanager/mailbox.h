// Mailbox: wakes a task's thread. Network threads (new input), the task executor
// (cancellation) and timers call Notify from any thread; the task thread alone calls Wait,
// which returns when notified since its last Wait or when the deadline passes.
#pragma once

#include <cstdint>

#include "absl/synchronization/mutex.h"

namespace sluice::taskmanager {

class Mailbox {
 public:
  void Notify() {
    absl::MutexLock lock(&mu_);
    notified_ = true;
    cv_.Signal();
  }

  // Waits at most `timeout_ms` (real time) for a notification and consumes it.
  void Wait(int64_t timeout_ms) {
    absl::MutexLock lock(&mu_);
    if (!notified_ && timeout_ms > 0) {
      cv_.WaitWithTimeout(&mu_, absl::Milliseconds(timeout_ms));
    }
    notified_ = false;
  }

 private:
  absl::Mutex mu_;
  absl::CondVar cv_;
  bool notified_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace sluice::taskmanager
