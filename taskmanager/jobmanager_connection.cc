#include "taskmanager/jobmanager_connection.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/rpc/grpc_server.h"
#include "spdlog/spdlog.h"

namespace sluice::taskmanager {
namespace {

void SetDeadline(grpc::ClientContext* ctx, int64_t ms) {
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(ms));
}

}  // namespace

JobManagerConnection::JobManagerConnection(std::string jm_address,
                                           proto::RegisterTaskManagerRequest self,
                                           int64_t heartbeat_interval_ms, int64_t max_message_size,
                                           std::function<proto::HeartbeatRequest()> heartbeat,
                                           std::function<void()> on_forgotten)
    : jm_address_(std::move(jm_address)),
      self_(std::move(self)),
      heartbeat_interval_ms_(heartbeat_interval_ms),
      heartbeat_(std::move(heartbeat)),
      on_forgotten_(std::move(on_forgotten)),
      stub_(proto::JobManagerService::NewStub(rpc::MakeChannel(jm_address_, max_message_size))) {}

JobManagerConnection::~JobManagerConnection() { Stop(); }

absl::Status JobManagerConnection::Register(int64_t timeout_ms) {
  const absl::Time deadline = absl::Now() + absl::Milliseconds(timeout_ms);
  grpc::Status last;
  do {
    grpc::ClientContext ctx;
    SetDeadline(&ctx, 2000);
    proto::RegisterTaskManagerResponse response;
    last = stub_->RegisterTaskManager(&ctx, self_, &response);
    if (last.ok()) {
      spdlog::info("registered with the JobManager at {} as {}", jm_address_, self_.tm_id());
      return absl::OkStatus();
    }
    if (stop_.WaitForNotificationWithTimeout(absl::Milliseconds(500))) break;
  } while (absl::Now() < deadline);
  return absl::UnavailableError(absl::StrCat("cannot register with the JobManager at ", jm_address_,
                                             ": ", last.error_message()));
}

void JobManagerConnection::StartHeartbeats() {
  thread_ = std::thread([this] { HeartbeatLoop(); });
}

void JobManagerConnection::HeartbeatLoop() {
  // The first heartbeat goes out at once so the JobManager has this TaskManager's memory
  // figures right after registration; then one every interval.
  for (bool first = true;
       first || !stop_.WaitForNotificationWithTimeout(absl::Milliseconds(heartbeat_interval_ms_));
       first = false) {
    proto::HeartbeatRequest request = heartbeat_();
    request.set_tm_id(self_.tm_id());
    grpc::ClientContext ctx;
    SetDeadline(&ctx, std::max<int64_t>(heartbeat_interval_ms_, 1000));
    proto::HeartbeatResponse response;
    grpc::Status status = stub_->Heartbeat(&ctx, request, &response);
    if (!status.ok()) {
      spdlog::warn("heartbeat to the JobManager at {} failed: {}", jm_address_,
                   status.error_message());
      continue;
    }
    if (!response.known()) {
      spdlog::warn("the JobManager does not know this TaskManager: canceling its tasks and "
                   "registering again");
      on_forgotten_();
      absl::Status s = Register(heartbeat_interval_ms_ * 5);
      if (!s.ok()) spdlog::warn("{}", s.ToString());
    }
  }
}

void JobManagerConnection::ReportTaskState(const proto::TaskStateUpdate& update) {
  for (int attempt = 0; attempt < 5; ++attempt) {
    grpc::ClientContext ctx;
    SetDeadline(&ctx, 5000);
    proto::Ack ack;
    grpc::Status status = stub_->UpdateTaskState(&ctx, update, &ack);
    if (status.ok()) return;
    spdlog::warn("reporting task state to the JobManager failed: {}", status.error_message());
    if (stop_.WaitForNotificationWithTimeout(absl::Milliseconds(200 << attempt))) return;
  }
}

void JobManagerConnection::ReportCheckpoint(const proto::CheckpointReport& report) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    grpc::ClientContext ctx;
    SetDeadline(&ctx, 5000);
    proto::Ack ack;
    grpc::Status status = stub_->ReportCheckpoint(&ctx, report, &ack);
    if (status.ok()) return;
    spdlog::warn("reporting checkpoint {} to the JobManager failed: {}", report.checkpoint_id(),
                 status.error_message());
    if (stop_.WaitForNotificationWithTimeout(absl::Milliseconds(200 << attempt))) return;
  }
}

void JobManagerConnection::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

}  // namespace sluice::taskmanager
