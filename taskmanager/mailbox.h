// Mailbox: wakes a task's thread and hands it actions. Network threads (new input), the task
// executor (cancellation, checkpoint triggers and notifications) and timers call Notify or
// Post from any thread; the task thread alone calls Wait, which returns when notified since
// its last Wait or when the deadline passes, and RunActions, which runs the posted actions
// in the order they were posted.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace sluice::taskmanager {

class Mailbox {
 public:
  void Notify() {
    absl::MutexLock lock(&mu_);
    notified_ = true;
    cv_.Signal();
  }

  // Queues `action` for the task thread and wakes it.
  void Post(std::function<void()> action) {
    absl::MutexLock lock(&mu_);
    actions_.push_back(std::move(action));
    has_actions_.store(true, std::memory_order_release);
    notified_ = true;
    cv_.Signal();
  }

  // Runs the posted actions (task thread). Cheap when there are none.
  void RunActions() {
    if (!has_actions_.load(std::memory_order_acquire)) return;
    std::vector<std::function<void()>> actions;
    {
      absl::MutexLock lock(&mu_);
      actions.swap(actions_);
      has_actions_.store(false, std::memory_order_release);
    }
    for (auto& action : actions) action();
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
  std::vector<std::function<void()>> actions_ ABSL_GUARDED_BY(mu_);
  std::atomic<bool> has_actions_{false};
};

}  // namespace sluice::taskmanager
