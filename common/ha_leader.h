// The JobManager leader file of high availability (`high_availability.dir`): the serving
// JobManager writes `<ha dir>/leader` atomically (JSON: rpc_address, rest_address, session_id,
// pid) once it serves; TaskManagers read it on every (re-)registration attempt and when their
// heartbeats fail, so a JobManager restarted on another port is found. Used by the JobManager
// main and taskmanager/jobmanager_connection.cc. Thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace sluice {

struct LeaderInfo {
  std::string rpc_address;   // host:port of the JobManagerService
  std::string rest_address;  // host:port of REST + /metrics; empty when unknown
  std::string session_id;    // changes with every JobManager process
  int64_t pid = 0;
};

// `<ha_dir>/leader`.
std::string LeaderFilePath(const std::string& ha_dir);
// Creates `ha_dir` if needed and replaces the leader file atomically.
absl::Status WriteLeaderFile(const std::string& ha_dir, const LeaderInfo& leader);
// NotFound when there is no leader file yet; DataLoss when it is not the JSON above.
absl::StatusOr<LeaderInfo> ReadLeaderFile(const std::string& ha_dir);

}  // namespace sluice
