// TaskProbe: the time accounting of one Task (Flink's busy / idle / backpressured time).
// The task thread marks when it starts running and ends, and adds the time it spends waiting
// for input (its mailbox wait: no record ready, or a source throttled) with one relaxed
// atomic add per wait; the time its RecordWriters spend blocked on a full buffer pool
// (backpressure) is counted by the writers. Busy time is the rest of the running time.
// Written by the task thread; Fill() may be called from any thread (heartbeats, /metrics).
#pragma once

#include <atomic>
#include <cstdint>

#include "common/clock.h"
#include "proto/control.pb.h"

namespace sluice::taskmanager {

class TaskProbe {
 public:
  void MarkRunning() { running_since_ns_.store(MonotonicNanos(), std::memory_order_relaxed); }
  void MarkEnded() { ended_ns_.store(MonotonicNanos(), std::memory_order_relaxed); }
  void AddIdle(int64_t ns) { idle_ns_.fetch_add(ns, std::memory_order_relaxed); }

  // Sets busy_ms, idle_ms and backpressured_ms of `m`, given the writers' blocked time.
  void Fill(int64_t backpressured_ns, proto::TaskMetrics* m) const {
    const int64_t since = running_since_ns_.load(std::memory_order_relaxed);
    if (since == 0) return;  // not running yet
    const int64_t ended = ended_ns_.load(std::memory_order_relaxed);
    const int64_t running = (ended != 0 ? ended : MonotonicNanos()) - since;
    const int64_t idle = idle_ns_.load(std::memory_order_relaxed);
    int64_t busy = running - idle - backpressured_ns;
    if (busy < 0) busy = 0;
    m->set_busy_ms(busy / 1'000'000);
    m->set_idle_ms(idle / 1'000'000);
    m->set_backpressured_ms(backpressured_ns / 1'000'000);
  }

 private:
  std::atomic<int64_t> running_since_ns_{0};
  std::atomic<int64_t> ended_ns_{0};
  std::atomic<int64_t> idle_ns_{0};
};

}  // namespace sluice::taskmanager
