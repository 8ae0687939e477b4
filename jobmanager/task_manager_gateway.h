// TaskManagerGateway: the JobManager's only way to call TaskManagers (deploy a task, cancel
// the tasks of a job, trigger and commit checkpoints). Asynchronous: a call returns at once
// and `done` runs later with the outcome, on any thread (a fake may run it before the call returns), so callers must not
// hold locks that `done` takes. Calls to one TaskManager (control address) take effect in the
// order they were made, so a CancelTasks never overtakes an earlier SubmitTask.
// Implementations: GrpcTaskManagerGateway (production), fakes in tests. Thread-safe.
#pragma once

#include <functional>

#include "absl/status/status.h"
#include "jobmanager/task_manager_location.h"
#include "proto/control.pb.h"

namespace sluice::jobmanager {

class TaskManagerGateway {
 public:
  using Callback = std::function<void(absl::Status)>;

  virtual ~TaskManagerGateway() = default;

  virtual void SubmitTask(const TaskManagerLocation& tm, proto::TaskDeploymentDescriptor tdd,
                          Callback done) = 0;
  virtual void CancelTasks(const TaskManagerLocation& tm, proto::CancelTaskRequest request,
                           Callback done) = 0;
  // Checkpoint RPCs. A lost trigger or notification makes a checkpoint time out or its commit
  // wait for the next one, never inconsistent; fakes that do not model checkpoints keep these
  // defaults (Unimplemented).
  virtual void TriggerCheckpoint(const TaskManagerLocation& tm,
                                 proto::TriggerCheckpointRequest request, Callback done) {
    done(absl::UnimplementedError("TriggerCheckpoint"));
  }
  virtual void NotifyCheckpoint(const TaskManagerLocation& tm,
                                proto::CheckpointNotification request, Callback done) {
    done(absl::UnimplementedError("NotifyCheckpoint"));
  }
};

}  // namespace sluice::jobmanager
