// CheckpointCoordinator: the checkpoints of one job (Flink's CheckpointCoordinator). Every
// `interval` it triggers checkpoint N at the source tasks of the running attempt (barriers
// flow from there through the job), collects every task's acknowledgement with its state
// handles, and when all arrived writes `<job_dir>/chk-N/_metadata` atomically (temp + fsync
// + rename), keeps the newest `retained` completed checkpoints (deleting older ones and the
// shared files only they referenced) and tells the tasks to commit. A decline, a timeout or
// a failed attempt aborts pending checkpoints and deletes their directories. On restart it
// hands out the newest completed checkpoint whose files are all present (falling back to an
// older one, with a log line, when a file is missing or truncated). Savepoints go through the
// same barriers, written self-contained to their own directory; they are not used for
// failover and never deleted by it.
// Not thread-safe: owned by a JobMaster, called under the Dispatcher's mutex.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "proto/checkpoint.pb.h"
#include "proto/control.pb.h"
#include "proto/jobgraph.pb.h"

namespace sluice::jobmanager {

struct CheckpointOptions {
  int64_t interval_ms = 0;  // 0: checkpointing off
  int64_t timeout_ms = 600'000;
  int64_t min_pause_ms = 0;
  int max_concurrent = 1;
  int retained = 1;
  std::string job_dir;  // "<checkpointing.dir or the cluster default>/<job_id>"
  // High availability: called once a checkpoint's _metadata is written, before it counts as
  // completed (and so before any task commits it) with its id and _metadata path; an error
  // aborts the checkpoint. The Dispatcher persists the job store's pointer with it.
  std::function<absl::Status(int64_t id, const std::string& metadata_path)> on_completed;
};

// The job's checkpointing.* keys; `default_dir` is the cluster's state.checkpoints.dir.
absl::StatusOr<CheckpointOptions> CheckpointOptionsForJob(const proto::JobGraph& graph,
                                                          const std::string& job_id,
                                                          const std::string& default_dir);

class CheckpointCoordinator {
 public:
  // One task of the running attempt: (vertex id, subtask).
  using TaskKey = std::pair<int, int>;

  CheckpointCoordinator(std::string job_id, CheckpointOptions options, const proto::JobGraph* graph,
                        const Clock* clock);

  bool enabled() const { return options_.interval_ms > 0; }
  const CheckpointOptions& options() const { return options_; }

  // Every task of `attempt` is running: savepoints may be taken and the first periodic
  // trigger is due one interval from now.
  void OnAllRunning(int attempt);
  // The attempt ended (failure, cancel, finish, or a task finished): pending checkpoints are
  // aborted with `reason` and no more are triggered until OnAllRunning.
  void OnAttemptStopped(const std::string& reason);

  // Monotonic time the next trigger or timeout is due, if any.
  std::optional<int64_t> NextTimerMs() const;

  // Triggers a checkpoint if one is due (returns its id and the tasks that must ack) and
  // times out expired ones. `tasks` are all tasks of the running attempt.
  std::optional<int64_t> MaybeTrigger(const std::vector<TaskKey>& tasks);

  // Starts savepoint N into a new directory `<dir>/savepoint-<job id prefix>-<N>` (created
  // here). FailedPrecondition unless every task runs; Unavailable when the directory cannot be
  // created. Returns (id, path).
  absl::StatusOr<std::pair<int64_t, std::string>> TriggerSavepoint(const std::string& dir,
                                                                   const std::vector<TaskKey>& tasks);

  // A task's report for the current attempt. Returns the id of a checkpoint it completed.
  std::optional<int64_t> OnReport(const proto::CheckpointReport& report);

  // Ids aborted since the last call (at most the last 50; for callers that tell tasks).
  std::vector<int64_t> TakeAborted();

  // For the next attempt: the newest completed checkpoint whose _metadata parses and whose
  // files all exist with their recorded sizes; nullopt when there is none.
  std::optional<proto::CheckpointMetadata> LatestForRestore();

  // High availability, before the first attempt of a job recovered by a restarted
  // JobManager: a completed checkpoint read back from disk (call oldest first);
  // LatestForRestore considers it and later checkpoints subsume it.
  void RecoverCompleted(const proto::CheckpointMetadata& metadata);
  // New checkpoint ids continue after `id` (barrier ids keep increasing across JobManagers).
  void ContinueIdsAfter(int64_t id) { next_id_ = std::max(next_id_, id + 1); }

  // History, newest last (for `sluice checkpoints` and REST).
  const std::deque<proto::CheckpointStats>& history() const { return history_; }
  int64_t num_completed() const { return num_completed_; }
  int64_t num_failed() const { return num_failed_; }

 private:
  struct Pending {
    int64_t id = 0;
    std::string savepoint_path;  // non-empty: a savepoint
    int attempt = 0;
    int64_t trigger_ms = 0;       // monotonic
    int64_t trigger_wall_ms = 0;
    std::set<TaskKey> waiting;
    proto::CheckpointMetadata metadata;
  };

  void Abort(int64_t id, const std::string& reason);
  absl::Status Complete(Pending& pending);
  Pending NewPending(const std::vector<TaskKey>& tasks);
  void Subsume();
  proto::CheckpointStats& StatsFor(int64_t id);
  std::string ChkDir(int64_t id) const;

  const std::string job_id_;
  const CheckpointOptions options_;
  const proto::JobGraph* graph_;
  const Clock* clock_;

  int attempt_ = -1;
  bool running_ = false;
  int64_t next_id_ = 1;
  int64_t next_trigger_ms_ = 0;
  int64_t last_completion_ms_ = 0;
  std::map<int64_t, Pending> pending_;
  std::deque<int64_t> completed_;  // ids, oldest first, at most `retained`
  std::map<int64_t, proto::CheckpointMetadata> completed_metadata_;
  std::vector<int64_t> aborted_;
  std::deque<proto::CheckpointStats> history_;
  int64_t num_completed_ = 0;
  int64_t num_failed_ = 0;
};

}  // namespace sluice::jobmanager
