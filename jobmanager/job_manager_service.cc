#include "jobmanager/job_manager_service.h"

#include <string>

namespace sluice::jobmanager {
namespace {

grpc::Status ToGrpc(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

}  // namespace

grpc::Status JobManagerServiceImpl::RegisterTaskManager(
    grpc::ServerContext*, const proto::RegisterTaskManagerRequest* request,
    proto::RegisterTaskManagerResponse* response) {
  auto result = dispatcher_->RegisterTaskManager(*request);
  if (!result.ok()) return ToGrpc(result.status());
  *response = *std::move(result);
  return grpc::Status::OK;
}

grpc::Status JobManagerServiceImpl::Heartbeat(grpc::ServerContext*,
                                              const proto::HeartbeatRequest* request,
                                              proto::HeartbeatResponse* response) {
  *response = dispatcher_->Heartbeat(*request);
  return grpc::Status::OK;
}

grpc::Status JobManagerServiceImpl::UpdateTaskState(grpc::ServerContext*,
                                                    const proto::TaskStateUpdate* request,
                                                    proto::Ack*) {
  return ToGrpc(dispatcher_->UpdateTaskState(*request));
}

grpc::Status JobManagerServiceImpl::TriggerSavepoint(grpc::ServerContext* context,
                                                     const proto::TriggerSavepointRequest* request,
                                                     proto::TriggerSavepointResponse* response) {
  if (grpc::Status denied = auth_.Check(*context); !denied.ok()) return denied;
  absl::StatusOr<proto::TriggerSavepointResponse> r = dispatcher_->TriggerSavepoint(*request);
  if (!r.ok()) return ToGrpc(r.status());
  *response = *std::move(r);
  return grpc::Status::OK;
}

grpc::Status JobManagerServiceImpl::ReportCheckpoint(grpc::ServerContext*,
                                                     const proto::CheckpointReport* request,
                                                     proto::Ack*) {
  return ToGrpc(dispatcher_->ReportCheckpoint(*request));
}

grpc::Status JobManagerServiceImpl::SubmitJob(grpc::ServerContext* context,
                                              const proto::SubmitJobRequest* request,
                                              proto::SubmitJobResponse* response) {
  if (grpc::Status denied = auth_.Check(*context); !denied.ok()) return denied;
  auto job_id = dispatcher_->SubmitJob(request->graph(), request->restore_path(),
                                       request->allow_non_restored_state());
  if (!job_id.ok()) return ToGrpc(job_id.status());
  response->set_job_id(*job_id);
  return grpc::Status::OK;
}

grpc::Status JobManagerServiceImpl::ListJobs(grpc::ServerContext* context,
                                             const proto::ListJobsRequest*,
                                             proto::ListJobsResponse* response) {
  if (grpc::Status denied = auth_.Check(*context); !denied.ok()) return denied;
  for (proto::JobSummary& job : dispatcher_->ListJobs()) *response->add_jobs() = std::move(job);
  return grpc::Status::OK;
}

grpc::Status JobManagerServiceImpl::GetJob(grpc::ServerContext* context,
                                           const proto::GetJobRequest* request,
                                           proto::JobDetail* response) {
  if (grpc::Status denied = auth_.Check(*context); !denied.ok()) return denied;
  auto detail = dispatcher_->GetJob(request->job_id());
  if (!detail.ok()) return ToGrpc(detail.status());
  *response = *std::move(detail);
  return grpc::Status::OK;
}

grpc::Status JobManagerServiceImpl::CancelJob(grpc::ServerContext* context,
                                              const proto::CancelJobRequest* request, proto::Ack*) {
  if (grpc::Status denied = auth_.Check(*context); !denied.ok()) return denied;
  return ToGrpc(dispatcher_->CancelJob(request->job_id()));
}

grpc::Status JobManagerServiceImpl::ListTaskManagers(grpc::ServerContext* context,
                                                     const proto::ListTaskManagersRequest*,
                                                     proto::ListTaskManagersResponse* response) {
  if (grpc::Status denied = auth_.Check(*context); !denied.ok()) return denied;
  for (proto::TaskManagerInfo& tm : dispatcher_->ListTaskManagers()) {
    *response->add_taskmanagers() = std::move(tm);
  }
  return grpc::Status::OK;
}

}  // namespace sluice::jobmanager
