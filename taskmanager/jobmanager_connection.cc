#include "taskmanager/jobmanager_connection.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/ha_leader.h"
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
                                           std::function<void()> on_forgotten, std::string ha_dir,
                                           rpc::RpcCredentials credentials)
    : ha_dir_(std::move(ha_dir)),
      max_message_size_(max_message_size),
      credentials_(std::move(credentials)),
      jm_address_(std::move(jm_address)),
      self_(std::move(self)),
      heartbeat_interval_ms_(heartbeat_interval_ms),
      heartbeat_(std::move(heartbeat)),
      on_forgotten_(std::move(on_forgotten)),
      stub_(proto::JobManagerService::NewStub(
          rpc::MakeChannel(jm_address_, max_message_size, credentials_))) {}

std::shared_ptr<proto::JobManagerService::Stub> JobManagerConnection::stub() const {
  absl::MutexLock lock(&mu_);
  return stub_;
}

std::string JobManagerConnection::jm_address() const {
  absl::MutexLock lock(&mu_);
  return jm_address_;
}

bool JobManagerConnection::FollowLeader() {
  if (ha_dir_.empty()) return false;
  absl::StatusOr<LeaderInfo> leader = ReadLeaderFile(ha_dir_);
  absl::MutexLock lock(&mu_);
  if (!leader.ok()) {
    // Logged once per distinct problem: the file is missing until a JobManager serves.
    if (leader_problem_ != leader.status().message()) {
      leader_problem_ = std::string(leader.status().message());
      spdlog::warn("high availability: no JobManager leader yet ({}); trying {}",
                   leader_problem_, jm_address_);
    }
    return false;
  }
  leader_problem_.clear();
  if (leader->rpc_address != jm_address_) {
    spdlog::info("high availability: the JobManager leader is at {} (session {})",
                 leader->rpc_address, leader->session_id);
    jm_address_ = leader->rpc_address;
    stub_ = proto::JobManagerService::NewStub(
        rpc::MakeChannel(jm_address_, max_message_size_, credentials_));
  }
  return !jm_session_.empty() && leader->session_id != jm_session_;
}

JobManagerConnection::~JobManagerConnection() { Stop(); }

absl::Status JobManagerConnection::Register(int64_t timeout_ms,
                                            const std::function<bool()>& give_up) {
  const absl::Time deadline = absl::Now() + absl::Milliseconds(timeout_ms);
  grpc::Status last;
  do {
    grpc::ClientContext ctx;
    SetDeadline(&ctx, 2000);
    proto::RegisterTaskManagerResponse response;
    FollowLeader();
    last = stub()->RegisterTaskManager(&ctx, self_, &response);
    if (last.ok()) {
      absl::MutexLock lock(&mu_);
      jm_session_ = response.jm_session();
      spdlog::info("registered with the JobManager at {} (session {}) as {}", jm_address_,
                   jm_session_, self_.tm_id());
      connected_ = true;
      return absl::OkStatus();
    }
    if (stop_.WaitForNotificationWithTimeout(absl::Milliseconds(500))) break;
    if (give_up && give_up()) {
      return absl::CancelledError("stopped before registering with the JobManager");
    }
  } while (timeout_ms == 0 || absl::Now() < deadline);
  return absl::UnavailableError(absl::StrCat("cannot register with the JobManager at ", jm_address(),
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
    grpc::Status status = stub()->Heartbeat(&ctx, request, &response);
    connected_ = status.ok() && response.known();
    if (!status.ok()) {
      spdlog::warn("heartbeat to the JobManager at {} failed: {}", jm_address(),
                   status.error_message());
      if (FollowLeader()) {
        // A new JobManager leads: the tasks of the old one are stale (the new one redeploys
        // its recovered jobs as new attempts, after this TaskManager registered again).
        spdlog::warn("a new JobManager leads at {}: canceling this TaskManager's tasks and "
                     "registering with it", jm_address());
        on_forgotten_();
        absl::Status s = Register(heartbeat_interval_ms_ * 5);
        if (!s.ok()) spdlog::warn("{}", s.ToString());
      }
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
    grpc::Status status = stub()->UpdateTaskState(&ctx, update, &ack);
    if (status.ok()) return;
    // An unknown job or task (e.g. a stale task reporting to a new JobManager) never becomes
    // known by retrying.
    if (status.error_code() == grpc::StatusCode::NOT_FOUND ||
        status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
      spdlog::info("task state of job {} not taken by the JobManager: {}", update.job_id(),
                   status.error_message());
      return;
    }
    spdlog::warn("reporting task state to the JobManager failed: {}", status.error_message());
    if (stop_.WaitForNotificationWithTimeout(absl::Milliseconds(200 << attempt))) return;
  }
}

void JobManagerConnection::ReportCheckpoint(const proto::CheckpointReport& report) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    grpc::ClientContext ctx;
    SetDeadline(&ctx, 5000);
    proto::Ack ack;
    grpc::Status status = stub()->ReportCheckpoint(&ctx, report, &ack);
    if (status.ok() || status.error_code() == grpc::StatusCode::NOT_FOUND) return;
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
