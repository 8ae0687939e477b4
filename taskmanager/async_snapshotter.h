// AsyncSnapshotter: runs the asynchronous part of a task's checkpoints (writing state files,
// then acknowledging) on one worker thread of its own, in submission order, so the task
// thread goes on processing records meanwhile. The thread starts with the first Submit.
// Submit from the task thread; the destructor waits for submitted work unless Abandon was
// called (a canceled task drops work not started yet).
#pragma once

#include <deque>
#include <functional>
#include <thread>

#include "absl/synchronization/mutex.h"

namespace sluice::taskmanager {

class AsyncSnapshotter {
 public:
  AsyncSnapshotter() = default;
  ~AsyncSnapshotter();
  AsyncSnapshotter(const AsyncSnapshotter&) = delete;
  AsyncSnapshotter& operator=(const AsyncSnapshotter&) = delete;

  void Submit(std::function<void()> work);
  // Work not started yet is dropped; the running one finishes.
  void Abandon();

 private:
  void Loop();

  absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace sluice::taskmanager
