// Application mode: `sluice-jobmanager --job FILE` submits one job spec when the JobManager
// starts, so a job is deployed with the cluster (on Kubernetes: the spec is a ConfigMap and
// `kubectl apply -k` deploys both). Without high availability the spec is submitted at every
// start. With it, a restarted JobManager must not run the application twice:
//   1. a job recovered from the job store with the spec's name is the application: nothing is
//      submitted (a changed spec is logged: upgrades go through a savepoint, docs/kubernetes.md);
//   2. otherwise `<ha>/applications/<fingerprint>` records that this exact spec and savepoint
//      were already submitted (the job has ended since): nothing is submitted;
//   3. otherwise the spec is submitted (from the savepoint if given) and recorded.
// The fingerprint hashes the planned job graph (deterministic serialization) and the savepoint
// path, so editing the spec or pointing at a new savepoint submits again.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "jobmanager/dispatcher.h"

namespace sluice::jobmanager {

struct ApplicationOptions {
  std::string spec_path;       // the job spec (YAML)
  std::string from_savepoint;  // empty: start without state
  bool allow_non_restored_state = false;
  std::string ha_dir;  // high_availability.dir; empty = off
};

struct ApplicationOutcome {
  enum class Kind { kSubmitted, kRecovered, kAlreadyRan };
  Kind kind = Kind::kSubmitted;
  std::string job_id;
  std::string name;
  std::string record_path;  // the HA record, when high availability is on
};

// Loads the spec (an error names the file, line and column) and applies the rules above.
// Call after the dispatcher recovered its jobs.
absl::StatusOr<ApplicationOutcome> SubmitApplicationJob(Dispatcher* dispatcher,
                                                        const ApplicationOptions& options);

// 16 hex characters identifying `graph` with `from_savepoint` (FNV-1a 64 over the
// deterministic serialization).
std::string ApplicationFingerprint(const proto::JobGraph& graph, const std::string& from_savepoint);

}  // namespace sluice::jobmanager
