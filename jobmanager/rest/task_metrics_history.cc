#include "jobmanager/rest/task_metrics_history.h"

#include <algorithm>

namespace sluice::jobmanager {

void TaskMetricsHistory::Record(const proto::HeartbeatRequest& heartbeat) {
  const int64_t now = clock_->NowMillis();
  absl::MutexLock lock(&mu_);
  for (const proto::TaskMetrics& m : heartbeat.tasks()) {
    Samples& s = tasks_[Key(m.job_id(), m.vertex_id(), m.subtask())];
    if (s.attempt != m.attempt()) s.samples.clear();
    s.attempt = m.attempt();
    if (!s.samples.empty() && s.samples.back().at_ms >= now) {
      s.samples.back().metrics = m;  // same instant: the newer values
    } else {
      s.samples.push_back(Sample{now, m});
    }
    while (s.samples.size() > 2 && s.samples[1].at_ms <= now - window_ms_) s.samples.pop_front();
  }
  TaskManagerSample& tm = taskmanagers_[heartbeat.tm_id()];
  tm.at_ms = now;
  tm.tasks.assign(heartbeat.tasks().begin(), heartbeat.tasks().end());
  if (now - last_eviction_ms_ > 10'000) EvictLocked(now);
}

void TaskMetricsHistory::EvictLocked(int64_t now_ms) {
  last_eviction_ms_ = now_ms;
  for (auto it = tasks_.begin(); it != tasks_.end();) {
    it = now_ms - it->second.samples.back().at_ms > retention_ms_ ? tasks_.erase(it)
                                                                   : std::next(it);
  }
  for (auto it = taskmanagers_.begin(); it != taskmanagers_.end();) {
    it = now_ms - it->second.at_ms > retention_ms_ ? taskmanagers_.erase(it) : std::next(it);
  }
}

std::optional<TaskRates> TaskMetricsHistory::Rates(absl::string_view job_id, int attempt,
                                                   int vertex_id, int subtask) const {
  absl::MutexLock lock(&mu_);
  auto it = tasks_.find(Key(std::string(job_id), vertex_id, subtask));
  if (it == tasks_.end() || it->second.attempt != attempt || it->second.samples.size() < 2) {
    return std::nullopt;
  }
  const Sample& base = it->second.samples.front();
  const Sample& latest = it->second.samples.back();
  const double seconds = (latest.at_ms - base.at_ms) / 1000.0;
  auto per_second = [seconds](int64_t now, int64_t before) {
    return now >= before ? (now - before) / seconds : 0.0;  // a counter never goes back
  };
  const proto::TaskMetrics& now = latest.metrics;
  const proto::TaskMetrics& then = base.metrics;
  TaskRates r;
  r.records_in_per_second = per_second(now.records_in(), then.records_in());
  r.records_out_per_second = per_second(now.records_out(), then.records_out());
  r.bytes_in_per_second = per_second(now.bytes_in(), then.bytes_in());
  r.bytes_out_per_second = per_second(now.bytes_out(), then.bytes_out());
  r.busy_ms_per_second = std::min(1000.0, per_second(now.busy_ms(), then.busy_ms()));
  r.idle_ms_per_second = std::min(1000.0, per_second(now.idle_ms(), then.idle_ms()));
  r.backpressured_ms_per_second =
      std::min(1000.0, per_second(now.backpressured_ms(), then.backpressured_ms()));
  return r;
}

std::vector<proto::TaskMetrics> TaskMetricsHistory::TasksOf(absl::string_view tm_id) const {
  absl::MutexLock lock(&mu_);
  auto it = taskmanagers_.find(tm_id);
  if (it == taskmanagers_.end()) return {};
  return it->second.tasks;
}

}  // namespace sluice::jobmanager
