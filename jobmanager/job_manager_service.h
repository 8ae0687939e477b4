// JobManagerService: the gRPC face of the JobManager (proto/control.proto), used by
// TaskManagers (RegisterTaskManager, Heartbeat, UpdateTaskState) and the CLI (SubmitJob,
// ListJobs, GetJob, CancelJob, ListTaskManagers). Each handler converts and delegates to the
// Dispatcher; absl status codes map 1:1 to gRPC codes. Runs on gRPC's server threads;
// handlers never block on TaskManagers. With a bearer token (security.auth.token_file) the
// client-facing calls (SubmitJob, ListJobs, GetJob, CancelJob, ListTaskManagers,
// TriggerSavepoint) need it as `authorization` metadata (UNAUTHENTICATED otherwise); the
// TaskManagers' calls do not (mutual TLS authenticates them; docs/security.md). Thread-safe.
#pragma once

#include "common/rpc/call_auth.h"
#include "jobmanager/dispatcher.h"
#include "proto/control.grpc.pb.h"

namespace sluice::jobmanager {

class JobManagerServiceImpl final : public proto::JobManagerService::Service {
 public:
  explicit JobManagerServiceImpl(Dispatcher* dispatcher, rpc::CallAuthenticator auth = {})
      : dispatcher_(dispatcher), auth_(std::move(auth)) {}

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
  const rpc::CallAuthenticator auth_;  // the client-facing calls' token check
};

}  // namespace sluice::jobmanager
