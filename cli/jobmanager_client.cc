#include "cli/jobmanager_client.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "cli/format.h"
#include "common/rpc/call_auth.h"
#include "common/rpc/grpc_server.h"

namespace sluice::cli {
namespace {

constexpr int64_t kMaxMessageSize = 64 << 20;

std::chrono::system_clock::time_point DeadlineAfter(int64_t ms) {
  return std::chrono::system_clock::now() + std::chrono::milliseconds(ms);
}

}  // namespace

JobManagerClient::JobManagerClient(std::string address, JobManagerClientOptions options)
    : address_(std::move(address)),
      options_(options),
      channel_(rpc::MakeChannel(address_, kMaxMessageSize, options_.credentials)),
      stub_(proto::JobManagerService::NewStub(channel_)) {}

absl::Status JobManagerClient::UnreachableError(absl::string_view address, bool tls) {
  if (tls) {
    return absl::UnavailableError(absl::StrCat(
        "cannot reach the JobManager at ", address,
        " (is it running? or the TLS handshake failed: check --tls-ca, --tls-cert/--tls-key "
        "and --tls-server-name against its certificates)"));
  }
  return absl::UnavailableError(absl::StrCat("cannot reach the JobManager at ", address,
                                             " (is it running? start one with `sluice local`)"));
}

absl::Status JobManagerClient::EnsureConnected() {
  const auto deadline = DeadlineAfter(options_.connect_timeout_ms);
  grpc_connectivity_state state = channel_->GetState(/*try_to_connect=*/true);
  while (state != GRPC_CHANNEL_READY) {
    // A refused connection shows up as TRANSIENT_FAILURE right away: fail fast instead of
    // waiting for gRPC's reconnect backoff.
    if (state == GRPC_CHANNEL_TRANSIENT_FAILURE || state == GRPC_CHANNEL_SHUTDOWN) {
      return UnreachableError(address_, options_.credentials.tls());
    }
    if (!channel_->WaitForStateChange(state, deadline))
      return UnreachableError(address_, options_.credentials.tls());
    state = channel_->GetState(/*try_to_connect=*/true);
  }
  return absl::OkStatus();
}

void JobManagerClient::PrepareContext(grpc::ClientContext* context) const {
  context->set_wait_for_ready(false);
  context->set_deadline(DeadlineAfter(options_.call_timeout_ms));
  if (options_.token.has_value()) rpc::AttachToken(*options_.token, context);
}

absl::Status JobManagerClient::ToStatus(const grpc::Status& status, absl::string_view method) {
  switch (status.error_code()) {
    case grpc::StatusCode::OK:
      return absl::OkStatus();
    case grpc::StatusCode::UNAVAILABLE:
      return UnreachableError(address_, options_.credentials.tls());
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return absl::DeadlineExceededError(
          absl::StrCat("the JobManager at ", address_, " did not answer ", method, " within ",
                       HumanDuration(options_.call_timeout_ms)));
    case grpc::StatusCode::UNAUTHENTICATED:
      return absl::UnauthenticatedError(absl::StrCat(
          "the JobManager at ", address_, " refused the call: ", status.error_message()));
    case grpc::StatusCode::UNIMPLEMENTED:
      return absl::UnimplementedError(
          absl::StrCat("the JobManager at ", address_, " does not support ", method));
    default:
      return rpc::ToAbsl(status);
  }
}

absl::StatusOr<proto::TriggerSavepointResponse> JobManagerClient::TriggerSavepoint(
    const proto::TriggerSavepointRequest& request) {
  if (absl::Status s = EnsureConnected(); !s.ok()) return s;
  grpc::ClientContext context;
  PrepareContext(&context);
  proto::TriggerSavepointResponse response;
  if (absl::Status s =
          ToStatus(stub_->TriggerSavepoint(&context, request, &response), "TriggerSavepoint");
      !s.ok()) {
    return s;
  }
  return response;
}

absl::StatusOr<std::string> JobManagerClient::SubmitJob(const proto::SubmitJobRequest& request) {
  if (absl::Status s = EnsureConnected(); !s.ok()) return s;
  grpc::ClientContext context;
  PrepareContext(&context);
  proto::SubmitJobResponse response;
  if (absl::Status s = ToStatus(stub_->SubmitJob(&context, request, &response), "SubmitJob");
      !s.ok()) {
    return s;
  }
  return response.job_id();
}

absl::StatusOr<std::vector<proto::JobSummary>> JobManagerClient::ListJobs() {
  if (absl::Status s = EnsureConnected(); !s.ok()) return s;
  grpc::ClientContext context;
  PrepareContext(&context);
  proto::ListJobsResponse response;
  if (absl::Status s =
          ToStatus(stub_->ListJobs(&context, proto::ListJobsRequest(), &response), "ListJobs");
      !s.ok()) {
    return s;
  }
  return std::vector<proto::JobSummary>(response.jobs().begin(), response.jobs().end());
}

absl::StatusOr<proto::JobDetail> JobManagerClient::GetJob(const std::string& job_id) {
  if (absl::Status s = EnsureConnected(); !s.ok()) return s;
  grpc::ClientContext context;
  PrepareContext(&context);
  proto::GetJobRequest request;
  request.set_job_id(job_id);
  proto::JobDetail response;
  if (absl::Status s = ToStatus(stub_->GetJob(&context, request, &response), "GetJob");
      !s.ok()) {
    return s;
  }
  return response;
}

absl::Status JobManagerClient::CancelJob(const std::string& job_id) {
  if (absl::Status s = EnsureConnected(); !s.ok()) return s;
  grpc::ClientContext context;
  PrepareContext(&context);
  proto::CancelJobRequest request;
  request.set_job_id(job_id);
  proto::Ack response;
  return ToStatus(stub_->CancelJob(&context, request, &response), "CancelJob");
}

absl::StatusOr<std::vector<proto::TaskManagerInfo>> JobManagerClient::ListTaskManagers() {
  if (absl::Status s = EnsureConnected(); !s.ok()) return s;
  grpc::ClientContext context;
  PrepareContext(&context);
  proto::ListTaskManagersResponse response;
  if (absl::Status s = ToStatus(
          stub_->ListTaskManagers(&context, proto::ListTaskManagersRequest(), &response),
          "ListTaskManagers");
      !s.ok()) {
    return s;
  }
  return std::vector<proto::TaskManagerInfo>(response.taskmanagers().begin(),
                                             response.taskmanagers().end());
}

}  // namespace sluice::cli
