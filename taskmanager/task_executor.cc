#include "taskmanager/task_executor.h"

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace sluice::taskmanager {

TaskExecutor::TaskExecutor(network::NetworkEnvironment* network, const Clock* clock,
                           TaskStateListener listener, TaskCheckpointServices checkpoint_services)
    : network_(network),
      clock_(clock),
      listener_(std::move(listener)),
      checkpoint_services_(std::move(checkpoint_services)) {}

TaskExecutor::~TaskExecutor() { CancelAll(); }

void TaskExecutor::ReapLocked() {
  std::vector<std::unique_ptr<Task>> keep;
  for (auto& task : tasks_) {
    if (task->IsDone()) {
      task->Join();
    } else {
      keep.push_back(std::move(task));
    }
  }
  tasks_ = std::move(keep);
}

grpc::Status TaskExecutor::SubmitTask(grpc::ServerContext*, const proto::TaskDeploymentDescriptor* tdd,
                                      proto::Ack*) {
  if (tdd->chain_size() == 0) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "task has an empty operator chain");
  }
  auto task = std::make_unique<Task>(*tdd, network_, clock_, listener_, checkpoint_services_);
  spdlog::info("deploying {} of job {} (attempt {})", task->name(), tdd->job_id(), tdd->attempt());
  Task* raw = task.get();
  {
    absl::MutexLock lock(&mu_);
    ReapLocked();
    tasks_.push_back(std::move(task));
  }
  raw->Start();
  return grpc::Status::OK;
}

grpc::Status TaskExecutor::CancelTasks(grpc::ServerContext*, const proto::CancelTaskRequest* request,
                                       proto::Ack*) {
  {
    absl::MutexLock lock(&mu_);
    for (auto& task : tasks_) {
      const auto& tdd = task->descriptor();
      if (tdd.job_id() == request->job_id() && tdd.attempt() <= request->attempt()) task->Cancel();
    }
    ReapLocked();
  }
  network_->ReleasePartitions(request->job_id(), request->attempt());
  return grpc::Status::OK;
}

grpc::Status TaskExecutor::TriggerCheckpoint(grpc::ServerContext*,
                                             const proto::TriggerCheckpointRequest* request,
                                             proto::Ack*) {
  absl::MutexLock lock(&mu_);
  for (auto& task : tasks_) {
    const auto& tdd = task->descriptor();
    if (tdd.job_id() == request->job_id() && tdd.attempt() == request->attempt()) {
      task->TriggerCheckpoint(request->checkpoint_id(), request->savepoint_dir());
    }
  }
  return grpc::Status::OK;
}

grpc::Status TaskExecutor::NotifyCheckpoint(grpc::ServerContext*,
                                            const proto::CheckpointNotification* request,
                                            proto::Ack*) {
  absl::MutexLock lock(&mu_);
  for (auto& task : tasks_) {
    const auto& tdd = task->descriptor();
    if (tdd.job_id() == request->job_id() && tdd.attempt() == request->attempt()) {
      task->NotifyCheckpoint(request->checkpoint_id(), request->aborted());
    }
  }
  return grpc::Status::OK;
}

std::vector<proto::TaskMetrics> TaskExecutor::Metrics() {
  absl::MutexLock lock(&mu_);
  ReapLocked();
  std::vector<proto::TaskMetrics> out;
  for (const auto& task : tasks_) out.push_back(task->Metrics());
  return out;
}

void TaskExecutor::CancelAll() {
  std::vector<std::unique_ptr<Task>> tasks;
  {
    absl::MutexLock lock(&mu_);
    tasks.swap(tasks_);
  }
  for (auto& task : tasks) task->Cancel();
  for (auto& task : tasks) task->Join();
}

}  // namespace sluice::taskmanager
