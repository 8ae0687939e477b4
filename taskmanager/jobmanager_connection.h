// JobManagerConnection: a TaskManager's link to its JobManager. Registers (retrying until the
// JobManager answers), sends heartbeats on its own thread (re-registering when the JobManager
// no longer knows it, e.g. after a JobManager restart) and reports task state changes.
// High availability (`ha_dir` non-empty): the JobManager's address is read from
// `<ha_dir>/leader` (common/ha_leader.h) on every registration attempt, and when heartbeats
// fail; a leader with another session than the one registered with is a new JobManager:
// the TaskManager cancels its (stale) tasks and registers with it, without restarting.
// Thread-safe: task threads call ReportTaskState concurrently.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "common/rpc/credentials.h"
#include "proto/control.grpc.pb.h"

namespace sluice::taskmanager {

class JobManagerConnection {
 public:
  // `heartbeat` builds each heartbeat's payload (task metrics, RSS). `on_forgotten` runs
  // when the JobManager no longer knows this TaskManager (it declared it lost, or restarted):
  // the TaskManager's tasks are orphans then and must be canceled before registering again.
  JobManagerConnection(std::string jm_address, proto::RegisterTaskManagerRequest self,
                       int64_t heartbeat_interval_ms, int64_t max_message_size,
                       std::function<proto::HeartbeatRequest()> heartbeat,
                       std::function<void()> on_forgotten, std::string ha_dir = "",
                       rpc::RpcCredentials credentials = rpc::RpcCredentials());
  ~JobManagerConnection();

  // Registers, retrying every 500 ms until `timeout_ms` passes (then Unavailable); 0 retries
  // until it succeeds or Stop(). `give_up`, when set, is asked before every retry (Cancelled
  // when it says yes).
  absl::Status Register(int64_t timeout_ms, const std::function<bool()>& give_up = nullptr);
  // True while registered and the last heartbeat was accepted (the readiness probe).
  bool connected() const { return connected_.load(std::memory_order_relaxed); }
  void StartHeartbeats();
  void ReportTaskState(const proto::TaskStateUpdate& update);
  // A task's checkpoint acknowledgement or decline (retried a few times like task states; a
  // lost report makes the checkpoint time out, never inconsistent).
  void ReportCheckpoint(const proto::CheckpointReport& report);
  void Stop();

 private:
  void HeartbeatLoop();
  std::shared_ptr<proto::JobManagerService::Stub> stub() const ABSL_LOCKS_EXCLUDED(mu_);
  // With high availability: reads the leader file and points the stub at its address.
  // Returns true when the leader is a JobManager session other than the registered one.
  bool FollowLeader() ABSL_LOCKS_EXCLUDED(mu_);
  std::string jm_address() const ABSL_LOCKS_EXCLUDED(mu_);

  const std::string ha_dir_;
  const int64_t max_message_size_;
  const rpc::RpcCredentials credentials_;  // of the channel to the JobManager
  mutable absl::Mutex mu_;
  std::string jm_address_ ABSL_GUARDED_BY(mu_);
  std::string jm_session_ ABSL_GUARDED_BY(mu_);  // of the last successful registration
  std::string leader_problem_ ABSL_GUARDED_BY(mu_);  // last leader-file error logged
  proto::RegisterTaskManagerRequest self_;
  int64_t heartbeat_interval_ms_;
  std::function<proto::HeartbeatRequest()> heartbeat_;
  std::function<void()> on_forgotten_;
  std::shared_ptr<proto::JobManagerService::Stub> stub_ ABSL_GUARDED_BY(mu_);
  std::atomic<bool> connected_{false};
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace sluice::taskmanager
