// JobManagerServer: a running JobManager: the Dispatcher, the gRPC server with the
// JobManagerService on `jobmanager.address`:`jobmanager.rpc.port` (0 = a free port), the
// TaskManagerGateway and the timer thread that calls Dispatcher::Poll() when a timer is due.
// Built by sluice-jobmanager's main and by in-process tests. Start/Shutdown from one thread;
// the accessors are safe from any thread while it runs.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "common/cluster_security.h"
#include "common/config.h"
#include "jobmanager/dispatcher.h"
#include "jobmanager/grpc_task_manager_gateway.h"
#include "jobmanager/job_manager_service.h"
#include "jobmanager/job_store.h"

namespace grpc {
class Server;
}

namespace sluice::jobmanager {

struct JobManagerServerOptions {
  const Clock* clock = nullptr;  // nullptr: SystemClock
  // nullptr: a GrpcTaskManagerGateway (deadline heartbeat.timeout, rpc.max_message_size).
  // An injected gateway must outlive the server and stop calling back when it is shut down.
  TaskManagerGateway* gateway = nullptr;
  uint64_t seed = 0;  // DispatcherOptions::seed
  // DispatcherOptions::on_heartbeat (the REST API's task metrics history).
  std::function<void(const proto::HeartbeatRequest&)> on_heartbeat;
};

class JobManagerServer {
 public:
  // Reads jobmanager.*, heartbeat.*, rpc.max_message_size and security.* from `config`,
  // binds and serves (InvalidArgument naming the key and file for bad security settings).
  // With high_availability.dir set, first recovers the jobs of its job store (Unavailable
  // when the store cannot be opened or listed).
  // Unavailable "cannot listen on HOST:PORT (address in use?)" when the port cannot be bound.
  static absl::StatusOr<std::unique_ptr<JobManagerServer>> Start(
      const Config& config, JobManagerServerOptions options = {});
  ~JobManagerServer();

  // The bound port (the chosen one when configured as 0) and "host:port".
  int port() const { return port_; }
  const std::string& address() const { return address_; }
  Dispatcher* dispatcher() { return dispatcher_.get(); }
  // security.*, as checked at start (the REST server uses its HTTPS and token settings).
  const ClusterSecurity& security() const { return security_; }
  // high_availability.dir; empty when high availability is off.
  const std::string& ha_dir() const { return ha_dir_; }

  // Stops serving (in-flight requests get a short grace period), the timer thread and the
  // gateway. Cancels no job. Idempotent.
  void Shutdown();

 private:
  JobManagerServer() = default;
  void TimerLoop();
  void WakeTimer();

  const Clock* clock_ = nullptr;
  ClusterSecurity security_;
  std::unique_ptr<GrpcTaskManagerGateway> owned_gateway_;
  TaskManagerGateway* gateway_ = nullptr;
  std::string ha_dir_;
  std::unique_ptr<JobStore> job_store_;  // outlives dispatcher_
  std::unique_ptr<Dispatcher> dispatcher_;
  std::unique_ptr<JobManagerServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::string address_;

  absl::Mutex timer_mu_;
  bool stopping_ ABSL_GUARDED_BY(timer_mu_) = false;
  bool woken_ ABSL_GUARDED_BY(timer_mu_) = false;
  absl::CondVar timer_cv_;
  std::thread timer_thread_;
  bool shut_down_ = false;
};

}  // namespace sluice::jobmanager
