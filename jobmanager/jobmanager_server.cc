#include "jobmanager/jobmanager_server.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/rpc/grpc_server.h"
#include "common/server_process.h"
#include "grpcpp/grpcpp.h"
#include "spdlog/spdlog.h"

namespace sluice::jobmanager {

absl::StatusOr<std::unique_ptr<JobManagerServer>> JobManagerServer::Start(
    const Config& config, JobManagerServerOptions options) {
  std::unique_ptr<JobManagerServer> s(new JobManagerServer());
  s->clock_ = options.clock != nullptr ? options.clock : SystemClock::Get();
  absl::StatusOr<ClusterSecurity> security = ClusterSecurity::FromConfig(config);
  if (!security.ok()) return security.status();
  s->security_ = *std::move(security);
  for (const std::string& warning : s->security_.warnings) spdlog::warn("{}", warning);
  const int64_t max_message = config.GetBytes("rpc.max_message_size");
  if (options.gateway != nullptr) {
    s->gateway_ = options.gateway;
  } else {
    GrpcTaskManagerGatewayOptions gateway_options;
    gateway_options.rpc_timeout_ms = config.GetDurationMillis("heartbeat.timeout");
    gateway_options.max_message_size = max_message;
    gateway_options.credentials = s->security_.rpc;
    s->owned_gateway_ = std::make_unique<GrpcTaskManagerGateway>(gateway_options);
    s->gateway_ = s->owned_gateway_.get();
  }

  DispatcherOptions dispatcher_options;
  dispatcher_options.heartbeat_interval_ms = config.GetDurationMillis("heartbeat.interval");
  dispatcher_options.heartbeat_timeout_ms = config.GetDurationMillis("heartbeat.timeout");
  dispatcher_options.checkpoint_dir = config.GetString("state.checkpoints.dir");
  dispatcher_options.kafka_bootstrap = config.GetString("kafka.bootstrap");
  dispatcher_options.kafka_registry = config.GetString("kafka.registry");
  dispatcher_options.slot_request_timeout_ms =
      config.GetDurationMillis("jobmanager.slot_request_timeout");
  dispatcher_options.seed = options.seed;
  dispatcher_options.on_heartbeat = std::move(options.on_heartbeat);
  JobManagerServer* raw = s.get();
  dispatcher_options.on_timers_changed = [raw] { raw->WakeTimer(); };
  s->ha_dir_ = config.GetString("high_availability.dir");
  if (!s->ha_dir_.empty()) {
    absl::StatusOr<std::unique_ptr<DirectoryJobStore>> store = DirectoryJobStore::Open(s->ha_dir_);
    if (!store.ok()) {
      if (s->owned_gateway_) s->owned_gateway_->Shutdown();
      return store.status();
    }
    s->job_store_ = *std::move(store);
    dispatcher_options.job_store = s->job_store_.get();
    dispatcher_options.recovery_wait_ms = dispatcher_options.heartbeat_timeout_ms;
  }
  s->dispatcher_ = std::make_unique<Dispatcher>(s->clock_, s->gateway_, dispatcher_options);
  if (s->job_store_ != nullptr) {
    absl::StatusOr<int> recovered = s->dispatcher_->RecoverJobs();
    if (!recovered.ok()) {
      if (s->owned_gateway_) s->owned_gateway_->Shutdown();
      return recovered.status();
    }
    spdlog::info("high availability on ({}): {} job(s) recovered", s->ha_dir_, *recovered);
  }
  s->service_ = std::make_unique<JobManagerServiceImpl>(s->dispatcher_.get(),
                                                        rpc::CallAuthenticator(s->security_.token));

  const std::string host = config.GetString("jobmanager.address");
  const std::string bind_host = BindHost(config, "jobmanager.bind_host", "jobmanager.address");
  const int64_t port = config.GetInt("jobmanager.rpc.port");
  if (port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("jobmanager.rpc.port must be between 0 and 65535, got ", port));
  }
  absl::StatusOr<rpc::RunningServer> server = rpc::StartServer(
      bind_host, static_cast<int>(port), {s->service_.get()}, max_message, s->security_.rpc);
  if (!server.ok()) {
    if (s->owned_gateway_) s->owned_gateway_->Shutdown();
    return server.status();
  }
  s->server_ = std::move(server->server);
  s->port_ = server->port;
  s->address_ = rpc::JoinHostPort(host, server->port);
  s->timer_thread_ = std::thread([raw] { raw->TimerLoop(); });
  spdlog::info("JobManager listening on {}, advertised as {} ({}{})",
               rpc::JoinHostPort(bind_host, s->port_), s->address_, s->security_.rpc.ModeName(),
               s->security_.token ? ", bearer token required from clients" : "");
  return s;
}

JobManagerServer::~JobManagerServer() { Shutdown(); }

void JobManagerServer::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  if (server_ != nullptr) {
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
    spdlog::debug("JobManager: gRPC server stopped");
  }
  {
    absl::MutexLock lock(&timer_mu_);
    stopping_ = true;
    timer_cv_.Signal();
  }
  if (timer_thread_.joinable()) timer_thread_.join();
  spdlog::debug("JobManager: timer thread stopped");
  if (owned_gateway_ != nullptr) owned_gateway_->Shutdown();
  spdlog::debug("JobManager: TaskManager gateway stopped");
}

void JobManagerServer::WakeTimer() {
  absl::MutexLock lock(&timer_mu_);
  woken_ = true;
  timer_cv_.Signal();
}

void JobManagerServer::TimerLoop() {
  constexpr int64_t kMaxWaitMs = 1000;
  while (true) {
    {
      absl::MutexLock lock(&timer_mu_);
      if (stopping_) return;
    }
    dispatcher_->Poll();
    // Wakes that came while polling are covered by the NextDeadlineMs below (Poll itself does
    // not wake this loop: it would spin); a wake from another thread from here on is kept.
    {
      absl::MutexLock lock(&timer_mu_);
      woken_ = false;
    }
    std::optional<int64_t> next = dispatcher_->NextDeadlineMs();
    int64_t wait_ms = kMaxWaitMs;
    if (next.has_value()) {
      wait_ms = std::clamp<int64_t>(*next - clock_->NowMillis(), 1, kMaxWaitMs);
    }
    absl::MutexLock lock(&timer_mu_);
    if (stopping_) return;
    if (woken_) continue;
    timer_cv_.WaitWithTimeout(&timer_mu_, absl::Milliseconds(wait_ms));
  }
}

}  // namespace sluice::jobmanager
