// GrpcTaskManagerGateway: the TaskManagerGateway over gRPC (TaskManagerService). One channel
// and stub per TaskManager control address, one call in flight per TaskManager (later calls
// queue behind it, which keeps them in order), a deadline on every call. Uses gRPC's callback
// API: no thread of ours blocks on a TaskManager. Thread-safe.
#pragma once

#include <cstdint>
#include <memory>

#include "common/rpc/credentials.h"
#include "jobmanager/task_manager_gateway.h"

namespace sluice::jobmanager {

struct GrpcTaskManagerGatewayOptions {
  int64_t rpc_timeout_ms = 10'000;  // deadline of each SubmitTask/CancelTasks
  int64_t max_message_size = 64 << 20;
  rpc::RpcCredentials credentials;  // of the channels to the TaskManagers (security.tls.*)
};

class GrpcTaskManagerGateway : public TaskManagerGateway {
 public:
  explicit GrpcTaskManagerGateway(GrpcTaskManagerGatewayOptions options);
  ~GrpcTaskManagerGateway() override;

  void SubmitTask(const TaskManagerLocation& tm, proto::TaskDeploymentDescriptor tdd,
                  Callback done) override;
  void TriggerCheckpoint(const TaskManagerLocation& tm, proto::TriggerCheckpointRequest request,
                         Callback done) override;
  void NotifyCheckpoint(const TaskManagerLocation& tm, proto::CheckpointNotification request,
                        Callback done) override;
  void CancelTasks(const TaskManagerLocation& tm, proto::CancelTaskRequest request,
                   Callback done) override;

  // Cancels the calls in flight and drops queued and later calls; returns once no callback
  // is running, and none runs afterwards. Idempotent; the destructor calls it.
  void Shutdown();

 private:
  struct Core;
  std::shared_ptr<Core> core_;
};

}  // namespace sluice::jobmanager
