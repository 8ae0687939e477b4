// TaskExecutor: the TaskManagerService of a TaskManager. Accepts task deployments from the
// JobManager, runs each as a Task (own thread), cancels tasks of a job attempt, releases
// their network partitions and reaps finished tasks. Thread-safe: gRPC threads call it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "proto/control.grpc.pb.h"
#include "taskmanager/network/network_environment.h"
#include "taskmanager/task.h"

namespace sluice::taskmanager {

class TaskExecutor final : public proto::TaskManagerService::Service {
 public:
  TaskExecutor(network::NetworkEnvironment* network, const Clock* clock,
               TaskStateListener listener, TaskCheckpointServices checkpoint_services = {});
  ~TaskExecutor() override;

  grpc::Status SubmitTask(grpc::ServerContext* context, const proto::TaskDeploymentDescriptor* tdd,
                          proto::Ack* ack) override;
  grpc::Status CancelTasks(grpc::ServerContext* context, const proto::CancelTaskRequest* request,
                           proto::Ack* ack) override;
  // Forwarded to every task of the job attempt on this TaskManager.
  grpc::Status TriggerCheckpoint(grpc::ServerContext* context,
                                 const proto::TriggerCheckpointRequest* request,
                                 proto::Ack* ack) override;
  grpc::Status NotifyCheckpoint(grpc::ServerContext* context,
                                const proto::CheckpointNotification* request,
                                proto::Ack* ack) override;

  // Metrics of the running tasks, for heartbeats.
  std::vector<proto::TaskMetrics> Metrics();
  // Cancels every task and waits for them (shutdown).
  void CancelAll();

 private:
  // Joins and drops finished tasks. Caller holds mu_.
  void ReapLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  network::NetworkEnvironment* network_;
  const Clock* clock_;
  TaskStateListener listener_;
  TaskCheckpointServices checkpoint_services_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<Task>> tasks_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sluice::taskmanager
