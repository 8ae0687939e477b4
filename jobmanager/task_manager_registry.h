// TaskManagerRegistry: the TaskManagers known to the JobManager: registration, heartbeats
// (the latest per-task metrics and RSS of each) and detection of TaskManagers that stopped
// heartbeating (`heartbeat.timeout`). It only keeps the records; the Dispatcher fails the tasks
// of a lost TaskManager and gives its slots back. Lost TaskManagers stay listed (alive=false)
// until they register again (the newest 64 are kept).
// Not thread-safe: called under the Dispatcher's mutex.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/clock.h"
#include "jobmanager/task_manager_location.h"
#include "proto/control.pb.h"

namespace sluice::jobmanager {

struct TaskManagerRecord {
  TaskManagerLocation location;
  int32_t slots = 0;
  int64_t pid = 0;
  std::string metrics_address;  // its /metrics endpoint, host:port
  int64_t registered_wall_ms = 0;
  int64_t last_heartbeat_ms = 0;       // monotonic (Clock::NowMillis), for the timeout
  int64_t last_heartbeat_wall_ms = 0;  // wall clock, for display
  int64_t rss_bytes = 0;
  std::vector<proto::TaskMetrics> task_metrics;  // from the latest heartbeat
  bool alive = true;
};

// A TaskManager that was dropped, with the cause its tasks fail with.
struct LostTaskManager {
  TaskManagerRecord record;
  std::string cause;  // "TaskManager tm-1 (127.0.0.1:6124) lost: no heartbeat for 10003 ms"
};

class TaskManagerRegistry {
 public:
  TaskManagerRegistry(const Clock* clock, int64_t heartbeat_timeout_ms);

  // Registers a TaskManager (InvalidArgument for an empty id or address or slots < 1; an empty
  // data address means the control address). When the same tm_id is alive already (the
  // process restarted), the old registration is replaced and returned as lost.
  absl::StatusOr<std::optional<LostTaskManager>> Register(
      const proto::RegisterTaskManagerRequest& request);

  // Records a heartbeat. False when the TaskManager is unknown or was declared lost: it must
  // register again.
  bool Heartbeat(const proto::HeartbeatRequest& request);

  // Marks every alive TaskManager silent for longer than the timeout as lost and returns them.
  std::vector<LostTaskManager> ExpireSilent();
  // Marks an alive TaskManager lost now (e.g. it refused a connection), with `reason`.
  std::optional<LostTaskManager> MarkLost(absl::string_view tm_id, absl::string_view reason);
  // When the next TaskManager would expire (monotonic ms), if any is alive.
  std::optional<int64_t> NextExpiryMs() const;

  // An alive TaskManager, or nullptr.
  const TaskManagerRecord* FindAlive(absl::string_view tm_id) const;
  // Alive and remembered lost TaskManagers, in registration order.
  std::vector<const TaskManagerRecord*> List() const;

  int64_t heartbeat_timeout_ms() const { return heartbeat_timeout_ms_; }

 private:
  struct Entry {
    TaskManagerRecord record;
    uint64_t sequence;  // registration order
  };

  const Clock* clock_;
  int64_t heartbeat_timeout_ms_;
  uint64_t next_sequence_ = 0;
  absl::flat_hash_map<std::string, Entry> entries_;
};

}  // namespace sluice::jobmanager
