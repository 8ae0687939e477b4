// Job-level settings of a job: the restart strategy (JobGraph.restart) and the job config
// keys copied into JobGraph.config (checkpointing.*, state.*, buffer_timeout). One table of
// keys, types and defaults validates what either front end (job spec, JobBuilder) recorded.
// Used by the planner; readers of JobGraph.config may use JobConfigKeys() for the defaults'
// documentation. Stateless functions; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/jobgraph/logical_plan.h"
#include "google/protobuf/map.h"
#include "proto/jobgraph.pb.h"

namespace sluice::jobgraph {

enum class JobConfigType {
  kDuration,     // "500ms", "2s", "1m" (common/duration.h)
  kPositiveInt,  // an integer >= 1
  kChoice,       // one of `choices`
  kString,
};

struct JobConfigKey {
  absl::string_view name;  // as in JobGraph.config, e.g. "checkpointing.interval"
  JobConfigType type;
  std::vector<absl::string_view> choices;  // kChoice only
  absl::string_view doc;
};

// Every key a job may set. In a job spec, `checkpointing: {interval: 5s}` sets
// "checkpointing.interval", `state: {backend: rocksdb}` sets "state.backend", and
// `config: {buffer_timeout: 5ms}` sets "buffer_timeout".
const std::vector<JobConfigKey>& JobConfigKeys();

// Validates plan.config (known keys, values of the right type, no key twice) and copies it
// into `config`, values as written.
absl::Status PlanJobConfig(const LogicalPlan& plan,
                           google::protobuf::Map<std::string, std::string>* config);

// Validates the restart strategy and its options and fills in the defaults:
//   none (when absent)
//   fixed_delay:       attempts (3), delay (1s)
//   exponential_delay: initial (1s), max (1m), multiplier (2.0), jitter (0.1), reset_after (1h)
//   failure_rate:      max_failures (1), interval (1m), delay (1s)
absl::StatusOr<proto::RestartStrategy> PlanRestartStrategy(const LogicalPlan& plan);

}  // namespace sluice::jobgraph
