// TaskMetricsHistory: the task metrics TaskManagers piggy-back on their heartbeats, kept by
// the JobManager for the REST API: the samples of every task over the last `window_ms` (so
// rates per second can be computed: records/s, busy / idle / backpressured ms per second)
// and, per TaskManager, the tasks of its latest heartbeat. Rates span the window (or the
// two latest samples when heartbeats are rarer than that): a task counts a batch of records
// when it takes it, and a slow sink takes one every few seconds, so rates between two
// 200 ms heartbeats would read 0, 0, 0, 10000, 0 ... (Flink's meters average over 60 s). Fed by the Dispatcher's heartbeat hook
// (DispatcherOptions::on_heartbeat), read by the REST handler. Samples not refreshed for
// `retention_ms` are dropped. Thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "proto/control.pb.h"

namespace sluice::jobmanager {

// Per-second rates of one task over the window.
struct TaskRates {
  double records_in_per_second = 0;
  double records_out_per_second = 0;
  double bytes_in_per_second = 0;
  double bytes_out_per_second = 0;
  double busy_ms_per_second = 0;
  double idle_ms_per_second = 0;
  double backpressured_ms_per_second = 0;
};

class TaskMetricsHistory {
 public:
  explicit TaskMetricsHistory(const Clock* clock, int64_t window_ms = 5'000,
                              int64_t retention_ms = 120'000)
      : clock_(clock), window_ms_(window_ms), retention_ms_(retention_ms) {}

  // Records the task metrics of one heartbeat.
  void Record(const proto::HeartbeatRequest& heartbeat);

  // Rates of a task (nullopt until two samples of the same attempt arrived).
  std::optional<TaskRates> Rates(absl::string_view job_id, int attempt, int vertex_id,
                                 int subtask) const;
  // The tasks of a TaskManager's latest heartbeat (empty if none).
  std::vector<proto::TaskMetrics> TasksOf(absl::string_view tm_id) const;

 private:
  using Key = std::tuple<std::string, int, int>;  // job, vertex, subtask
  struct Sample {
    int64_t at_ms = 0;
    proto::TaskMetrics metrics;
  };
  struct Samples {
    int attempt = 0;
    // Oldest first; the oldest is the newest one at least window_ms old (the rates' base).
    std::deque<Sample> samples;
  };
  struct TaskManagerSample {
    int64_t at_ms = 0;
    std::vector<proto::TaskMetrics> tasks;
  };

  void EvictLocked(int64_t now_ms) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Clock* clock_;
  const int64_t window_ms_;
  const int64_t retention_ms_;
  mutable absl::Mutex mu_;
  std::map<Key, Samples> tasks_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, TaskManagerSample, std::less<>> taskmanagers_ ABSL_GUARDED_BY(mu_);
  int64_t last_eviction_ms_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace sluice::jobmanager
