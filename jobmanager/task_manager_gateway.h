// TaskManagerGateway: the JobManager's only way to call TaskManagers (deploy a task, cancel
// the tasks of a job). Asynchronous: a call returns at once and `done` runs later with the
// outcome, on any thread (a fake may run it before the call returns), so callers must not
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
};

}  // namespace sluice::jobmanager
