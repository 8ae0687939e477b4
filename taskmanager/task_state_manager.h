// TaskStateManager: the checkpoint side of one task. It restores the operators of the task's
// chain from the descriptor's restore state (non-keyed state per operator, keyed state into
// the task's KeyedStateBackend, created on first use), takes the synchronous part of a
// checkpoint when the barrier passes the task, and hands the asynchronous part (writing the
// keyed state files) to an AsyncSnapshotter that acknowledges or declines the checkpoint to
// the JobManager through the TaskCheckpointServices.
// Task thread only (the reporter is called from the snapshotter's thread).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/clock.h"
#include "proto/control.pb.h"
#include "taskmanager/async_snapshotter.h"
#include "taskmanager/operators/operator.h"
#include "taskmanager/state/keyed_state_backend.h"

namespace sluice::taskmanager {

// What a task needs from its TaskManager for checkpoints.
struct TaskCheckpointServices {
  // Sends an acknowledgement or decline to the JobManager (any thread).
  std::function<void(const proto::CheckpointReport&)> report;
  // Parent of the tasks' private working directories (RocksDB).
  std::string local_state_dir;
};

class TaskStateManager {
 public:
  TaskStateManager(const proto::TaskDeploymentDescriptor& tdd, TaskCheckpointServices services,
                   const Clock* clock, std::string task_name);
  ~TaskStateManager();

  // Calls InitializeState on every member of the chain (chain[i] runs tdd.chain(i)).
  absl::Status InitializeChain(const std::vector<StatefulOperator*>& chain);

  // Checkpointing is on for this task (the job has a checkpoint directory).
  bool enabled() const { return !tdd_.checkpoint_job_dir().empty(); }

  // Snapshots every chain member and the keyed backend (synchronous part) and submits the
  // rest; the JobManager gets an acknowledgement with the state handles, or a decline
  // naming the failure (the task keeps running either way).
  // `savepoint_dir` non-empty: a savepoint, every file written under that directory
  // (self-contained, no shared files) with handles relative to it.
  void Checkpoint(int64_t checkpoint_id, const std::vector<StatefulOperator*>& chain,
                  int64_t alignment_us, const std::string& savepoint_dir = "");

  // The checkpoint completed: every chain member commits (sinks) and the backend may drop
  // what only older checkpoints needed. An error fails the task.
  absl::Status NotifyComplete(int64_t checkpoint_id, const std::vector<StatefulOperator*>& chain);

  // The task is canceled or failed: snapshots not written yet are dropped.
  void Abandon() { snapshotter_.Abandon(); }

 private:
  absl::StatusOr<state::KeyedStateBackend*> KeyedBackend();
  // The job's state.incremental (default true; only RocksDB has incremental checkpoints).
  bool IncrementalCheckpoints() const;
  void Decline(int64_t checkpoint_id, const absl::Status& why);

  const proto::TaskDeploymentDescriptor& tdd_;
  TaskCheckpointServices services_;
  const Clock* clock_;
  const std::string task_name_;
  std::unique_ptr<state::KeyedStateBackend> keyed_;
  bool keyed_restored_ = false;
  AsyncSnapshotter snapshotter_;  // last: its thread may use the members above
};

}  // namespace sluice::taskmanager
