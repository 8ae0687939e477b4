// JobStore: what a JobManager must keep to survive its own restart (high availability,
// `high_availability.dir`): every submitted job that has not ended (its JobGraph), the pointer
// to its latest completed checkpoint, and its last deployed attempt (number and TaskManagers,
// so a recovered job's attempts never reuse a number still running somewhere and it waits
// for those TaskManagers to drop their stale tasks). An interface because it is an external
// dependency (STYLE.md): the directory implementation below serves a local disk or a
// Kubernetes volume; tests inject failures.
// Used by the Dispatcher (under its mutex) and by JobManagerServer at start (recovery).
// Implementations must be safe for concurrent use.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/checkpoint.pb.h"
#include "proto/jobgraph.pb.h"

namespace sluice::jobmanager {

// The latest completed checkpoint of a job.
struct CheckpointPointer {
  int64_t checkpoint_id = 0;
  std::string metadata_path;  // <checkpoint job dir>/chk-<id>/_metadata
};

// A job read back from the store.
struct StoredJob {
  std::string job_id;
  proto::JobGraph graph;
  std::optional<CheckpointPointer> checkpoint;
  // The last attempt deployed (-1: none) and the TaskManagers it ran on.
  int last_attempt = -1;
  std::vector<std::string> taskmanagers;
};

class JobStore {
 public:
  virtual ~JobStore() = default;

  // A job was submitted (before it is accepted: an error rejects the submission).
  virtual absl::Status PutJob(const std::string& job_id, const proto::JobGraph& graph) = 0;
  // A checkpoint completed (before any task is told to commit it).
  virtual absl::Status PutCheckpoint(const std::string& job_id, const CheckpointPointer& pointer) = 0;
  // Attempt `attempt` was deployed onto `taskmanagers`.
  virtual absl::Status PutAttempt(const std::string& job_id, int attempt,
                                  const std::vector<std::string>& taskmanagers) = 0;
  // The job reached FINISHED, FAILED or CANCELED: it is forgotten.
  virtual absl::Status RemoveJob(const std::string& job_id) = 0;
  // Every stored job, oldest submission first. An entry that cannot be read (corrupt or
  // partial) is logged and skipped, never an error; an error means the store itself is
  // unreadable.
  virtual absl::StatusOr<std::vector<StoredJob>> RecoverJobs() = 0;
};

// Layout under `dir` (every file replaced atomically: temp + fsync + rename):
//   jobs/<job_id>/jobgraph.pb   the serialized JobGraph (written first: it makes the entry)
//   jobs/<job_id>/checkpoint    {"checkpoint_id": N, "metadata_path": "..."}
//   jobs/<job_id>/attempt       {"attempt": N, "taskmanagers": ["tm-...", ...]}
// RemoveJob deletes jobs/<job_id>. The submission order is the jobgraph.pb's modification
// time, then the id.
class DirectoryJobStore : public JobStore {
 public:
  // Creates `dir`/jobs if needed. Unavailable naming the directory when it cannot.
  static absl::StatusOr<std::unique_ptr<DirectoryJobStore>> Open(std::string dir);

  absl::Status PutJob(const std::string& job_id, const proto::JobGraph& graph) override;
  absl::Status PutCheckpoint(const std::string& job_id, const CheckpointPointer& pointer) override;
  absl::Status PutAttempt(const std::string& job_id, int attempt,
                          const std::vector<std::string>& taskmanagers) override;
  absl::Status RemoveJob(const std::string& job_id) override;
  absl::StatusOr<std::vector<StoredJob>> RecoverJobs() override;

  const std::string& dir() const { return dir_; }

 private:
  explicit DirectoryJobStore(std::string dir) : dir_(std::move(dir)) {}
  std::string JobDir(const std::string& job_id) const;
  // Reads one entry; an error says what is wrong with it.
  absl::StatusOr<StoredJob> ReadJob(const std::string& job_id) const;

  const std::string dir_;
};

// The completed checkpoints of a recovered job: every `<job_dir>/chk-<N>/_metadata` with
// N <= up_to_id that parses (oldest first), for CheckpointCoordinator::RecoverCompleted, and
// the highest N of any chk-<N> directory (so new checkpoint ids continue after it).
struct RecoveredCheckpoints {
  std::vector<proto::CheckpointMetadata> completed;
  int64_t max_id = 0;
};
RecoveredCheckpoints ScanCheckpoints(const std::string& job_dir, int64_t up_to_id);

}  // namespace sluice::jobmanager
