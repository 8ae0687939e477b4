// JobMaster: the lifecycle of one submitted job: its JobState, attempts, ExecutionGraph,
// restart strategy, failure cause and exception history. It reacts to events (slots granted,
// task state updates, a lost TaskManager, a failed deployment, cancellation, timers) and says
// what must happen next as JobActions (ask for / give back slots, deploy, cancel), which the
// Dispatcher carries out: slot actions under its mutex, RPCs to TaskManagers after unlocking.
//
// Lifecycle: CREATED (waiting for slots) -> RUNNING (tasks deployed) -> FINISHED when every
// task finished. A failed task (or lost TaskManager, or failed deployment) fails the attempt:
// the other tasks are cancelled, the exception recorded and the restart strategy asked:
// RESTARTING (after the delay and once every task of the attempt is terminal, slots are asked
// for again and attempt+1 is deployed) or FAILED. CancelJob: CANCELLING -> CANCELED once every
// task is terminal (TaskManagers ack CancelTasks, report CANCELED, or are lost). A job that
// waits longer than the slot request timeout fails with "not enough task slots: ...".
// Not thread-safe: called under the Dispatcher's mutex.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/clock.h"
#include "jobmanager/checkpoint_coordinator.h"
#include "jobmanager/execution_graph.h"
#include "jobmanager/restart_strategy.h"
#include "jobmanager/restore_point.h"
#include "jobmanager/task_manager_location.h"
#include "proto/control.pb.h"
#include "proto/jobgraph.pb.h"

namespace sluice::jobmanager {

// What a JobMaster asks the Dispatcher to do after an event, in this order: give back the
// job's slots, drop its slot request, queue a slot request, then the RPCs.
struct JobActions {
  struct Deploy {
    TaskManagerLocation tm;
    proto::TaskDeploymentDescriptor tdd;
  };
  struct Cancel {
    TaskManagerLocation tm;
    proto::CancelTaskRequest request;
  };
  // A checkpoint trigger or notification for one TaskManager.
  struct CheckpointRpc {
    TaskManagerLocation tm;
    std::optional<proto::TriggerCheckpointRequest> trigger;
    std::optional<proto::CheckpointNotification> notify;
  };
  bool release_slots = false;
  bool cancel_slot_request = false;
  bool request_slots = false;  // for num_slots() shared slots
  std::vector<Cancel> cancels;
  std::vector<Deploy> deploys;
  std::vector<CheckpointRpc> checkpoint_rpcs;
};

class JobMaster {
 public:
  // `graph` must have passed ValidateJobGraph.
  JobMaster(std::string job_id, proto::JobGraph graph, std::unique_ptr<RestartStrategy> restart,
            const Clock* clock, CheckpointOptions checkpoints = {},
            std::optional<RestorePoint> restore_point = std::nullopt);

  // The job starts waiting for slots.
  void Start(JobActions* actions);
  // High availability, before Start: this job was recovered from the job store by a restarted
  // JobManager. Its attempt numbers continue after `last_attempt` (so no stale task of the
  // previous JobManager is mistaken for one of the new attempts), its coordinator knows the
  // completed checkpoints read back from disk (oldest first) and new checkpoint ids continue
  // after `max_checkpoint_id`. The restart counter starts again at 0.
  void Recover(int last_attempt, const std::vector<proto::CheckpointMetadata>& completed,
               int64_t max_checkpoint_id);

  const std::string& job_id() const { return job_id_; }
  const std::string& name() const { return graph_.name(); }
  proto::JobState state() const { return state_; }
  int attempt() const { return executions_.attempt(); }
  int num_slots() const { return executions_.num_slots(); }
  const ExecutionGraph& executions() const { return executions_; }

  // Slots for the next attempt: tm of shared slot i. Deploys every task.
  void OnSlotsGranted(std::vector<TaskManagerLocation> slots, JobActions* actions);
  // The slot request timed out: the job fails.
  void OnSlotRequestExpired(int needed, int free, JobActions* actions);
  // A TaskManager reported a task state (stale attempts are ignored). InvalidArgument for an
  // unknown vertex or subtask.
  absl::Status OnTaskStateUpdate(const proto::TaskStateUpdate& update, JobActions* actions);
  // Latest metrics of a task from a heartbeat (ignored for other attempts and once final).
  void OnMetrics(const proto::TaskMetrics& metrics);
  // SubmitTask of a task failed: the attempt fails.
  void OnDeployFailed(int attempt, int vertex_id, int subtask, const absl::Status& status,
                      JobActions* actions);
  // CancelTasks(attempt) to `tm_id` completed (acked or failed): its cancelling tasks are
  // considered CANCELED.
  void OnCancelCompleted(int attempt, const std::string& tm_id, JobActions* actions);
  // The TaskManager is gone: its tasks fail with `cause`.
  void OnTaskManagerLost(const std::string& tm_id, const std::string& cause, JobActions* actions);
  // CancelJob. FailedPrecondition when the job already ended.
  absl::Status Cancel(JobActions* actions);
  // A task's checkpoint acknowledgement or decline. A completed checkpoint is committed at
  // every TaskManager of the attempt.
  void OnCheckpointReport(const proto::CheckpointReport& report, JobActions* actions);
  // `sluice savepoint` / `sluice stop`: starts a savepoint under `dir`; with `stop`, the job
  // is stopped (its tasks cancelled, the job FINISHED) once the savepoint completed.
  absl::StatusOr<proto::TriggerSavepointResponse> TriggerSavepoint(const std::string& dir,
                                                                   bool stop, JobActions* actions);
  // Fires due timers: a restart delay, a checkpoint trigger or timeout.
  void OnTimer(JobActions* actions);
  // Monotonic time of the next timer (a pending restart delay), if any.
  std::optional<int64_t> NextTimerMs() const;

  proto::JobSummary Summary() const;
  proto::JobDetail Detail() const;
  const proto::JobGraph& graph() const { return graph_; }

 private:
  void SetState(proto::JobState state, absl::string_view why);
  void FailAttempt(const std::string& cause, JobActions* actions);
  void CancelUnfinishedTasks(JobActions* actions);
  void RecordException(const std::string& cause);
  // Moves the job on once its tasks reached terminal states.
  void Settle(JobActions* actions);
  bool deployed() const { return deployed_once_ && !waiting_for_slots_; }
  // Checkpoint RPCs to every TaskManager running a task of the attempt (sources_only: those
  // running a source task).
  void AddCheckpointRpcs(bool sources_only, const proto::TriggerCheckpointRequest* trigger,
                         const proto::CheckpointNotification* notify, JobActions* actions);
  // Restore state and checkpoint directory of a task of the attempt being deployed.
  void AddCheckpointFields(const std::optional<proto::CheckpointMetadata>& restore,
                           const std::string& restore_dir, int v, int s,
                           proto::TaskDeploymentDescriptor* tdd) const;
  std::vector<CheckpointCoordinator::TaskKey> AllTasks() const;

  std::string job_id_;
  proto::JobGraph graph_;
  std::unique_ptr<RestartStrategy> restart_;
  const Clock* clock_;
  ExecutionGraph executions_;
  CheckpointCoordinator checkpoints_;
  std::optional<RestorePoint> restore_point_;  // --from-savepoint, until a checkpoint completes
  std::optional<int64_t> stop_savepoint_;       // stop the job when this savepoint completes
  std::string stopped_with_savepoint_;          // the job is stopping: its savepoint path
  proto::JobState state_ = proto::JOB_CREATED;
  bool waiting_for_slots_ = false;
  bool holds_slots_ = false;
  bool deployed_once_ = false;
  int first_attempt_ = 0;  // > 0 for a job recovered by a restarted JobManager
  int restarts_ = 0;
  std::optional<int64_t> restart_at_ms_;
  int64_t start_wall_ms_ = 0;
  int64_t end_wall_ms_ = 0;
  std::string failure_cause_;
  std::vector<std::string> exceptions_;
};

}  // namespace sluice::jobmanager
