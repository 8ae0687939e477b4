// JobManagerService: the gRPC face of the JobManager (proto/control.proto), used by
// TaskManagers (RegisterTaskManager, Heartbeat, UpdateTaskState) and the CLI (SubmitJob,
// ListJobs, GetJob, CancelJob, ListTaskManagers). Each handler converts and delegates to the
// Dispatcher; absl status codes map 1:1 to gRPC codes. Runs on gRPC's server threads;
// handlers never block on TaskManagers. Thread-safe.
#pragma once

#include "jobmanager/dispatcher.h"
#include "proto/control.grpc.pb.h"

namespace sluice::jobmanager {

class JobManagerServiceImpl final : public proto::JobManagerService::Service {
 public:
  explicit JobManagerServiceImpl(Dispatcher* dispatcher) : dispatcher_(dispatcher) {}

  grpc::Status RegisterTaskManager(grpc::ServerContext* context,
                                   const proto::RegisterTaskManagerRequest* request,
                                   proto::RegisterTaskManagerResponse* response) override;
  grpc::Status Heartbeat(grpc::ServerContext* context, const proto::HeartbeatRequest* request,
                         proto::HeartbeatResponse* response) override;
  grpc::Status UpdateTaskState(grpc::ServerContext* context, const proto::TaskStateUpdate* request,
                               proto::Ack* response) override;
  grpc::Status TriggerSavepoint(grpc::ServerContext* context,
                                const proto::TriggerSavepointRequest* request,
                                proto::TriggerSavepointResponse* response) override;
  grpc::Status ReportCheckpoint(grpc::ServerContext* context,
                                const proto::CheckpointReport* request,
                                proto::Ack* response) override;
  grpc::Status SubmitJob(grpc::ServerContext* context, const proto::SubmitJobRequest* request,
                         proto::SubmitJobResponse* response) override;
  grpc::Status ListJobs(grpc::ServerContext* context, const proto::ListJobsRequest* request,
                        proto::ListJobsResponse* response) override;
  grpc::Status GetJob(grpc::ServerContext* context, const proto::GetJobRequest* request,
                      proto::JobDetail* response) override;
  grpc::Status CancelJob(grpc::ServerContext* context, const proto::CancelJobRequest* request,
                         proto::Ack* response) override;
  grpc::Status ListTaskManagers(grpc::ServerContext* context,
                                const proto::ListTaskManagersRequest* request,
                                proto::ListTaskManagersResponse* response) override;

 private:
  Dispatcher* dispatcher_;
};

}  // namespace sluice::jobmanager
