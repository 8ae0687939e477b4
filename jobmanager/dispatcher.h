// Dispatcher: the JobManager's state and the entry point of every control-plane request
// (JobManagerService delegates here): TaskManager registration and heartbeats, task state
// updates, job submission, listing, details and cancellation. It owns the
// TaskManagerRegistry, SlotPool, Scheduler and one JobMaster per job, all under one mutex;
// RPCs to TaskManagers go through the (asynchronous) TaskManagerGateway after the mutex is
// released, so no request thread waits on a TaskManager.
// Timers (heartbeat timeouts, slot request timeouts, restart delays) fire from Poll(), which
// the JobManager's timer thread calls (tests call it after advancing a ManualClock).
// Thread-safe. The gateway must stop calling back (GrpcTaskManagerGateway::Shutdown) before
// the Dispatcher is destroyed.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "jobmanager/job_master.h"
#include "jobmanager/job_store.h"
#include "jobmanager/scheduler.h"
#include "jobmanager/slot_pool.h"
#include "jobmanager/task_manager_gateway.h"
#include "jobmanager/task_manager_registry.h"
#include "proto/control.pb.h"

namespace sluice::jobmanager {

struct DispatcherOptions {
  int64_t heartbeat_interval_ms = 1'000;
  int64_t heartbeat_timeout_ms = 10'000;
  int64_t slot_request_timeout_ms = 300'000;
  // Seeds job ids, the session id and restart jitter; 0 = from std::random_device.
  uint64_t seed = 0;
  // Called (without the mutex held) after a request that may have set an earlier timer, so
  // the timer thread recomputes NextDeadlineMs().
  std::function<void()> on_timers_changed;
  // Cluster default checkpoint directory (state.checkpoints.dir).
  std::string checkpoint_dir;
  // Bootstrap servers of Kafka sources that name none (kafka.bootstrap); empty: such a job
  // is rejected at submission.
  std::string kafka_bootstrap;
  // Schema registry of Kafka connectors in a registry format that name none (kafka.registry).
  std::string kafka_registry;
  // Called with every heartbeat of a known TaskManager (with the mutex held: it must not call
  // back into the Dispatcher). The REST API keeps task metric history with it.
  std::function<void(const proto::HeartbeatRequest&)> on_heartbeat;
  // High availability (nullptr: off): submitted jobs, their latest checkpoint pointer and
  // deployed attempts are persisted here, ended jobs removed. Must outlive the Dispatcher.
  JobStore* job_store = nullptr;
  // A recovered job waits at most this long for the TaskManagers of its last attempt to
  // register again (they cancel their stale tasks first) before it asks for slots.
  int64_t recovery_wait_ms = 10'000;
};

class Dispatcher {
 public:
  Dispatcher(const Clock* clock, TaskManagerGateway* gateway, DispatcherOptions options);

  // --- TaskManagers ---
  // Registers (or replaces: a restarted TaskManager's old tasks fail) a TaskManager; waiting
  // jobs may get their slots now. InvalidArgument for an empty id/address or slots < 1.
  absl::StatusOr<proto::RegisterTaskManagerResponse> RegisterTaskManager(
      const proto::RegisterTaskManagerRequest& request);
  // known=false for an unknown or lost TaskManager (it must register again).
  proto::HeartbeatResponse Heartbeat(const proto::HeartbeatRequest& request);
  // NotFound "no job with id X" for an unknown job; InvalidArgument for an unknown
  // vertex/subtask; updates of an older attempt are ignored (OK).
  absl::Status UpdateTaskState(const proto::TaskStateUpdate& update);
  std::vector<proto::TaskManagerInfo> ListTaskManagers() const;

  // --- Jobs ---
  // Validates the graph (InvalidArgument "job graph: ...") and returns the new job id
  // (32 lower-case hex characters). The job waits for slots if there are not enough.
  // `restore_path` non-empty: the job starts from that savepoint (InvalidArgument when it
  // cannot be read or does not match the job, see restore_point.h).
  absl::StatusOr<std::string> SubmitJob(const proto::JobGraph& graph,
                                        const std::string& restore_path = "",
                                        bool allow_non_restored_state = false);
  // Starts a savepoint of a running job (NotFound, FailedPrecondition when not running).
  absl::StatusOr<proto::TriggerSavepointResponse> TriggerSavepoint(
      const proto::TriggerSavepointRequest& request);
  // Every job, in submission order.
  std::vector<proto::JobSummary> ListJobs() const;
  // NotFound "no job with id X".
  absl::StatusOr<proto::JobDetail> GetJob(absl::string_view job_id) const;
  // The job graph as submitted (REST: the job's configuration). NotFound as GetJob.
  absl::StatusOr<proto::JobGraph> GetJobGraph(absl::string_view job_id) const;
  // NotFound "no job with id X"; FailedPrecondition when it already ended; OK while cancelling.
  absl::Status CancelJob(absl::string_view job_id);

  // A task's checkpoint acknowledgement or decline. NotFound for an unknown job.
  absl::Status ReportCheckpoint(const proto::CheckpointReport& report);

  // --- High availability (dispatcher_ha.cc) ---
  // At JobManager start, before serving: re-creates every job of the job store with its
  // original id; each waits for the TaskManagers of its last attempt (or recovery_wait_ms),
  // then for slots, and is deployed from its latest completed checkpoint. Returns the number
  // of jobs recovered; an error only when the store cannot be listed.
  absl::StatusOr<int> RecoverJobs();

  // --- Timers ---
  // Fires everything due at the clock's current time: lost TaskManagers, expired slot
  // requests, restart delays.
  void Poll();
  // Monotonic time at which Poll() has something to do next, if anything is pending.
  std::optional<int64_t> NextDeadlineMs() const;

  const std::string& session_id() const { return session_id_; }

 private:
  // An RPC to a TaskManager, queued under mu_ in the order the events produced it.
  struct Rpc {
    std::optional<JobActions::Cancel> cancel;
    std::optional<JobActions::Deploy> deploy;
    std::optional<JobActions::CheckpointRpc> checkpoint;
  };

  JobMaster* FindJob(absl::string_view job_id) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Carries out the slot actions of `job` and queues its RPCs.
  void Apply(JobMaster* job, JobActions actions) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Grants slots to waiting jobs that fit now.
  void Reconcile() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void HandleLost(const LostTaskManager& lost) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string NewId() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // High availability hooks (no-ops without a job store), dispatcher_ha.cc.
  // Persists a submitted job and points its coordinator's on_completed at the store.
  absl::Status StoreSubmittedJob(const std::string& job_id, const proto::JobGraph& graph,
                                 CheckpointOptions* checkpoints) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void StoreAttempt(const JobMaster& job) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ForgetIfEnded(const JobMaster& job) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Starts recovered jobs whose TaskManagers are back (`tm_id` just registered) or whose
  // wait expired.
  void ReleaseRecoveredJobs(const std::string* registered_tm_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Hands the queued RPCs to the gateway, without mu_, in queue order (one thread at a time
  // drains, so a CancelTasks never reaches the gateway before an earlier SubmitTask, even
  // when callbacks run concurrently), then pokes the timer thread (on_timers_changed) unless
  // the timer thread is the caller (Poll: poking itself would make it spin).
  void Flush(bool poke_timer = true) ABSL_LOCKS_EXCLUDED(mu_);
  void OnDeployResult(const proto::TaskDeploymentDescriptor& tdd, const std::string& tm_id,
                      const absl::Status& status);
  void OnCancelResult(const std::string& job_id, int attempt, const std::string& tm_id,
                      const absl::Status& status);

  const Clock* clock_;
  TaskManagerGateway* gateway_;
  const DispatcherOptions options_;
  std::string session_id_;

  mutable absl::Mutex mu_;
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);
  TaskManagerRegistry registry_ ABSL_GUARDED_BY(mu_);
  SlotPool slot_pool_ ABSL_GUARDED_BY(mu_);
  Scheduler scheduler_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::unique_ptr<JobMaster>, std::less<>> jobs_ ABSL_GUARDED_BY(mu_);
  std::vector<JobMaster*> job_order_ ABSL_GUARDED_BY(mu_);  // submission order
  std::deque<Rpc> outbox_ ABSL_GUARDED_BY(mu_);
  bool draining_ ABSL_GUARDED_BY(mu_) = false;
  // Recovered jobs not started yet: job id -> (TaskManagers still expected, deadline).
  struct RecoveryWait {
    std::set<std::string> taskmanagers;
    int64_t deadline_ms = 0;
  };
  std::map<std::string, RecoveryWait> recovery_waits_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> forgotten_jobs_ ABSL_GUARDED_BY(mu_);  // removed from the job store
};

}  // namespace sluice::jobmanager
