// The Dispatcher's high-availability part (see dispatcher.h, "High availability"): the job
// store hooks and the recovery of stored jobs by a restarted JobManager.
#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/job_state.h"
#include "jobmanager/dispatcher.h"
#include "jobmanager/job_graph_checks.h"
#include "jobmanager/restart_strategy.h"
#include "spdlog/spdlog.h"

namespace sluice::jobmanager {
namespace {

// Every completed checkpoint of the job is pointed at by the store before tasks commit it.
void PointCheckpointsAtStore(JobStore* store, const std::string& job_id,
                             CheckpointOptions* checkpoints) {
  checkpoints->on_completed = [store, job_id](int64_t id, const std::string& metadata_path) {
    absl::Status s = store->PutCheckpoint(job_id, CheckpointPointer{id, metadata_path});
    if (!s.ok()) spdlog::error("{}", std::string(s.message()));
    return s;
  };
}

}  // namespace

absl::Status Dispatcher::StoreSubmittedJob(const std::string& job_id, const proto::JobGraph& graph,
                                           CheckpointOptions* checkpoints) {
  JobStore* store = options_.job_store;
  if (store == nullptr) return absl::OkStatus();
  PointCheckpointsAtStore(store, job_id, checkpoints);
  if (absl::Status s = store->PutJob(job_id, graph); !s.ok()) {
    return absl::UnavailableError(absl::StrCat(
        "job not accepted: high availability cannot persist it (", s.message(), ")"));
  }
  return absl::OkStatus();
}

void Dispatcher::StoreAttempt(const JobMaster& job) {
  JobStore* store = options_.job_store;
  if (store == nullptr || job.state() != proto::JOB_RUNNING) return;
  std::vector<std::string> tms;
  job.executions().ForEach([&](int, int, const Execution& e) {
    if (!e.location.tm_id.empty() &&
        std::find(tms.begin(), tms.end(), e.location.tm_id) == tms.end()) {
      tms.push_back(e.location.tm_id);
    }
  });
  if (absl::Status s = store->PutAttempt(job.job_id(), job.attempt(), tms); !s.ok()) {
    spdlog::error("{}", std::string(s.message()));
  }
}

void Dispatcher::ForgetIfEnded(const JobMaster& job) {
  JobStore* store = options_.job_store;
  if (store == nullptr || !IsJobEnded(job.state()) || forgotten_jobs_.count(job.job_id())) return;
  forgotten_jobs_.insert(job.job_id());
  if (absl::Status s = store->RemoveJob(job.job_id()); !s.ok()) {
    spdlog::error("{}", std::string(s.message()));
  } else {
    spdlog::info("job {} ended: removed from the job store", job.job_id());
  }
}

absl::StatusOr<int> Dispatcher::RecoverJobs() {
  JobStore* store = options_.job_store;
  if (store == nullptr) return 0;
  absl::StatusOr<std::vector<StoredJob>> stored = store->RecoverJobs();
  if (!stored.ok()) return stored.status();
  int recovered = 0;
  {
    absl::MutexLock lock(&mu_);
    for (StoredJob& entry : *stored) {
      const std::string& job_id = entry.job_id;
      if (FindJob(job_id) != nullptr) continue;
      auto skip = [&](const absl::Status& s) {
        spdlog::error("job store: cannot recover job {}: {}", job_id, std::string(s.message()));
      };
      if (absl::Status valid = ValidateJobGraph(entry.graph); !valid.ok()) {
        skip(valid);
        continue;
      }
      absl::StatusOr<std::unique_ptr<RestartStrategy>> restart =
          CreateRestartStrategy(entry.graph.restart(), rng_());
      if (!restart.ok()) {
        skip(restart.status());
        continue;
      }
      absl::StatusOr<CheckpointOptions> checkpoints =
          CheckpointOptionsForJob(entry.graph, job_id, options_.checkpoint_dir);
      if (!checkpoints.ok()) {
        skip(checkpoints.status());
        continue;
      }
      PointCheckpointsAtStore(store, job_id, &*checkpoints);
      const int64_t pointer = entry.checkpoint ? entry.checkpoint->checkpoint_id : 0;
      RecoveredCheckpoints found;
      if (!checkpoints->job_dir.empty()) found = ScanCheckpoints(checkpoints->job_dir, pointer);
      if (pointer > 0 && (found.completed.empty() ||
                          found.completed.back().checkpoint_id() != pointer)) {
        spdlog::error("job {}: the latest checkpoint {} ({}) cannot be read; recovering from {}",
                      job_id, pointer, entry.checkpoint->metadata_path,
                      found.completed.empty()
                          ? std::string("the start")
                          : absl::StrCat("checkpoint ", found.completed.back().checkpoint_id()));
      }
      auto job = std::make_unique<JobMaster>(job_id, entry.graph, *std::move(restart), clock_,
                                             *std::move(checkpoints));
      job->Recover(entry.last_attempt, found.completed, std::max(found.max_id, pointer));
      JobMaster* raw = job.get();
      jobs_.emplace(job_id, std::move(job));
      job_order_.push_back(raw);
      RecoveryWait wait;
      wait.taskmanagers.insert(entry.taskmanagers.begin(), entry.taskmanagers.end());
      wait.deadline_ms = clock_->NowMillis() + options_.recovery_wait_ms;
      spdlog::info(
          "job {} ({}) recovered from the job store: latest checkpoint {}, last attempt {}{}",
          job_id, entry.graph.name(), pointer, entry.last_attempt,
          wait.taskmanagers.empty()
              ? std::string()
              : absl::StrCat("; waiting for its TaskManagers ",
                             absl::StrJoin(wait.taskmanagers, ", "), " to register again"));
      recovery_waits_[job_id] = std::move(wait);
      ++recovered;
    }
    ReleaseRecoveredJobs(nullptr);
    Reconcile();
  }
  Flush();
  return recovered;
}

void Dispatcher::ReleaseRecoveredJobs(const std::string* registered_tm_id) {
  const int64_t now = clock_->NowMillis();
  for (auto it = recovery_waits_.begin(); it != recovery_waits_.end();) {
    RecoveryWait& wait = it->second;
    if (registered_tm_id != nullptr) wait.taskmanagers.erase(*registered_tm_id);
    const bool expired = now >= wait.deadline_ms;
    if (!wait.taskmanagers.empty() && !expired) {
      ++it;
      continue;
    }
    if (!wait.taskmanagers.empty()) {
      spdlog::warn("job {}: TaskManagers {} did not register again within {} ms; scheduling anyway",
                   it->first, absl::StrJoin(wait.taskmanagers, ", "), options_.recovery_wait_ms);
    }
    JobMaster* job = FindJob(it->first);
    it = recovery_waits_.erase(it);
    if (job == nullptr || job->state() != proto::JOB_CREATED) continue;  // cancelled meanwhile
    JobActions actions;
    job->Start(&actions);
    Apply(job, std::move(actions));
  }
}

}  // namespace sluice::jobmanager
