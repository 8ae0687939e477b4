#include "jobmanager/dispatcher.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/check.h"
#include "jobmanager/job_graph_checks.h"
#include "jobmanager/restart_strategy.h"
#include "spdlog/spdlog.h"

namespace sluice::jobmanager {
namespace {

uint64_t SeedOrRandom(uint64_t seed) {
  if (seed != 0) return seed;
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

absl::Status NoSuchJob(absl::string_view job_id) {
  return absl::NotFoundError(absl::StrCat("no job with id ", job_id));
}

}  // namespace

Dispatcher::Dispatcher(const Clock* clock, TaskManagerGateway* gateway, DispatcherOptions options)
    : clock_(clock),
      gateway_(gateway),
      options_(std::move(options)),
      rng_(SeedOrRandom(options_.seed)),
      registry_(clock, options_.heartbeat_timeout_ms),
      scheduler_(&slot_pool_, options_.slot_request_timeout_ms) {
  absl::MutexLock lock(&mu_);
  session_id_ = NewId();
}

std::string Dispatcher::NewId() { return absl::StrFormat("%016x%016x", rng_(), rng_()); }

JobMaster* Dispatcher::FindJob(absl::string_view job_id) const {
  auto it = jobs_.find(job_id);
  return it == jobs_.end() ? nullptr : it->second.get();
}

void Dispatcher::Apply(JobMaster* job, JobActions actions) {
  if (actions.release_slots) slot_pool_.Release(job->job_id());
  if (actions.cancel_slot_request) scheduler_.CancelRequest(job->job_id());
  if (actions.request_slots) {
    scheduler_.Request(job->job_id(), job->num_slots(), clock_->NowMillis());
  }
  for (auto& c : actions.cancels) outbox_.push_back({std::move(c), std::nullopt, std::nullopt});
  for (auto& d : actions.deploys) outbox_.push_back({std::nullopt, std::move(d), std::nullopt});
  for (auto& c : actions.checkpoint_rpcs) {
    outbox_.push_back({std::nullopt, std::nullopt, std::move(c)});
  }
  ForgetIfEnded(*job);
}

void Dispatcher::Reconcile() {
  for (Scheduler::Grant& grant : scheduler_.TryFulfill()) {
    JobMaster* job = FindJob(grant.job_id);
    if (job == nullptr) {
      slot_pool_.Release(grant.job_id);
      continue;
    }
    std::vector<TaskManagerLocation> slots;
    slots.reserve(grant.slots.size());
    for (const std::string& tm_id : grant.slots) {
      const TaskManagerRecord* tm = registry_.FindAlive(tm_id);
      SLUICE_CHECK(tm != nullptr, "slot pool holds a TaskManager the registry lost");
      slots.push_back(tm->location);
    }
    JobActions actions;
    job->OnSlotsGranted(std::move(slots), &actions);
    StoreAttempt(*job);  // before the SubmitTask RPCs go out
    Apply(job, std::move(actions));
  }
}

void Dispatcher::HandleLost(const LostTaskManager& lost) {
  spdlog::warn("{}", lost.cause);
  slot_pool_.RemoveTaskManager(lost.record.location.tm_id);
  for (JobMaster* job : job_order_) {
    JobActions actions;
    job->OnTaskManagerLost(lost.record.location.tm_id, lost.cause, &actions);
    Apply(job, std::move(actions));
  }
}

void Dispatcher::Flush(bool poke_timer) {
  {
    absl::MutexLock lock(&mu_);
    if (draining_) return;  // the thread draining now will send ours too
    draining_ = true;
  }
  while (true) {
    std::deque<Rpc> batch;
    {
      absl::MutexLock lock(&mu_);
      if (outbox_.empty()) {
        draining_ = false;
        break;
      }
      batch.swap(outbox_);
    }
    for (Rpc& rpc : batch) {
      if (rpc.cancel.has_value()) {
        JobActions::Cancel& c = *rpc.cancel;
        std::string job_id = c.request.job_id();
        int attempt = c.request.attempt();
        std::string tm_id = c.tm.tm_id;
        gateway_->CancelTasks(c.tm, std::move(c.request),
                              [this, job_id, attempt, tm_id](absl::Status status) {
                                OnCancelResult(job_id, attempt, tm_id, status);
                              });
      } else if (rpc.checkpoint.has_value()) {
        JobActions::CheckpointRpc& c = *rpc.checkpoint;
        auto log_failure = [](absl::Status status) {
          if (!status.ok()) spdlog::warn("{}", status.ToString());
        };
        if (c.trigger.has_value()) gateway_->TriggerCheckpoint(c.tm, std::move(*c.trigger), log_failure);
        if (c.notify.has_value()) gateway_->NotifyCheckpoint(c.tm, std::move(*c.notify), log_failure);
      } else if (rpc.deploy.has_value()) {
        JobActions::Deploy& d = *rpc.deploy;
        proto::TaskDeploymentDescriptor key;
        key.set_job_id(d.tdd.job_id());
        key.set_attempt(d.tdd.attempt());
        key.set_vertex_id(d.tdd.vertex_id());
        key.set_subtask(d.tdd.subtask());
        gateway_->SubmitTask(d.tm, std::move(d.tdd),
                             [this, key = std::move(key), tm_id = d.tm.tm_id](absl::Status status) {
                               OnDeployResult(key, tm_id, status);
                             });
      }
    }
  }
  if (poke_timer && options_.on_timers_changed) options_.on_timers_changed();
}

void Dispatcher::OnDeployResult(const proto::TaskDeploymentDescriptor& tdd,
                                const std::string& tm_id, const absl::Status& status) {
  if (status.ok()) return;
  spdlog::warn("deploying job {} vertex {} subtask {} (attempt {}) failed: {}", tdd.job_id(),
               tdd.vertex_id(), tdd.subtask(), tdd.attempt(), status.ToString());
  {
    absl::MutexLock lock(&mu_);
    // A TaskManager that refuses connections is gone: do not wait for its heartbeat timeout
    // (a restart would deploy onto it again).
    if (status.code() == absl::StatusCode::kUnavailable) {
      std::optional<LostTaskManager> lost = registry_.MarkLost(
          tm_id, absl::StrCat("unreachable (", status.message(), ")"));
      if (lost) HandleLost(*lost);
    }
    JobMaster* job = FindJob(tdd.job_id());
    if (job == nullptr) return;
    JobActions actions;
    job->OnDeployFailed(tdd.attempt(), tdd.vertex_id(), tdd.subtask(), status, &actions);
    Apply(job, std::move(actions));
    Reconcile();
  }
  Flush();
}

void Dispatcher::OnCancelResult(const std::string& job_id, int attempt, const std::string& tm_id,
                                const absl::Status& status) {
  if (!status.ok()) {
    spdlog::warn("cancelling job {} (attempt {}) on TaskManager {} failed: {}", job_id, attempt,
                 tm_id, status.ToString());
  }
  {
    absl::MutexLock lock(&mu_);
    JobMaster* job = FindJob(job_id);
    if (job == nullptr) return;
    JobActions actions;
    job->OnCancelCompleted(attempt, tm_id, &actions);
    Apply(job, std::move(actions));
    Reconcile();
  }
  Flush();
}

absl::StatusOr<proto::RegisterTaskManagerResponse> Dispatcher::RegisterTaskManager(
    const proto::RegisterTaskManagerRequest& request) {
  {
    absl::MutexLock lock(&mu_);
    absl::StatusOr<std::optional<LostTaskManager>> replaced = registry_.Register(request);
    if (!replaced.ok()) return replaced.status();
    if (replaced->has_value()) HandleLost(**replaced);
    const TaskManagerRecord* tm = registry_.FindAlive(request.tm_id());
    slot_pool_.AddTaskManager(tm->location.tm_id, tm->slots);
    spdlog::info("TaskManager {} registered (control {}, data {}, {} slots, pid {})",
                 tm->location.tm_id, tm->location.control_address, tm->location.data_address,
                 tm->slots, tm->pid);
    ReleaseRecoveredJobs(&request.tm_id());
    Reconcile();
  }
  Flush();
  proto::RegisterTaskManagerResponse response;
  response.set_jm_session(session_id_);
  response.set_heartbeat_interval_ms(options_.heartbeat_interval_ms);
  return response;
}

proto::HeartbeatResponse Dispatcher::Heartbeat(const proto::HeartbeatRequest& request) {
  proto::HeartbeatResponse response;
  absl::MutexLock lock(&mu_);
  response.set_known(registry_.Heartbeat(request));
  if (response.known()) {
    for (const proto::TaskMetrics& m : request.tasks()) {
      if (JobMaster* job = FindJob(m.job_id()); job != nullptr) job->OnMetrics(m);
    }
    if (options_.on_heartbeat) options_.on_heartbeat(request);
  }
  return response;
}

absl::Status Dispatcher::UpdateTaskState(const proto::TaskStateUpdate& update) {
  {
    absl::MutexLock lock(&mu_);
    JobMaster* job = FindJob(update.job_id());
    if (job == nullptr) return NoSuchJob(update.job_id());
    JobActions actions;
    absl::Status status = job->OnTaskStateUpdate(update, &actions);
    if (!status.ok()) return status;
    Apply(job, std::move(actions));
    Reconcile();
  }
  Flush();
  return absl::OkStatus();
}

std::vector<proto::TaskManagerInfo> Dispatcher::ListTaskManagers() const {
  absl::MutexLock lock(&mu_);
  std::vector<proto::TaskManagerInfo> out;
  for (const TaskManagerRecord* tm : registry_.List()) {
    proto::TaskManagerInfo info;
    info.set_tm_id(tm->location.tm_id);
    info.set_control_address(tm->location.control_address);
    info.set_data_address(tm->location.data_address);
    info.set_slots_total(tm->slots);
    info.set_slots_free(tm->alive ? slot_pool_.FreeSlots(tm->location.tm_id) : 0);
    info.set_last_heartbeat_ms(tm->last_heartbeat_wall_ms);
    info.set_alive(tm->alive);
    info.set_rss_bytes(tm->rss_bytes);
    info.set_pid(tm->pid);
    info.set_metrics_address(tm->metrics_address);
    out.push_back(std::move(info));
  }
  return out;
}

absl::StatusOr<std::string> Dispatcher::SubmitJob(const proto::JobGraph& submitted,
                                                 const std::string& restore_path,
                                                 bool allow_non_restored_state) {
  proto::JobGraph graph = submitted;
  if (absl::Status s = FillKafkaBootstrap(options_.kafka_bootstrap, &graph); !s.ok()) return s;
  if (absl::Status s = FillSchemaRegistry(options_.kafka_registry, &graph); !s.ok()) return s;
  absl::Status valid = ValidateJobGraph(graph);
  if (!valid.ok()) return valid;
  std::optional<RestorePoint> restore_point;
  if (!restore_path.empty()) {
    absl::StatusOr<RestorePoint> loaded =
        LoadRestorePoint(restore_path, graph, allow_non_restored_state);
    if (!loaded.ok()) return loaded.status();
    restore_point = *std::move(loaded);
  }
  std::string job_id;
  {
    absl::MutexLock lock(&mu_);
    job_id = NewId();
    absl::StatusOr<std::unique_ptr<RestartStrategy>> restart =
        CreateRestartStrategy(graph.restart(), rng_());
    if (!restart.ok()) return restart.status();
    absl::StatusOr<CheckpointOptions> checkpoints =
        CheckpointOptionsForJob(graph, job_id, options_.checkpoint_dir);
    if (!checkpoints.ok()) return checkpoints.status();
    if (absl::Status s = StoreSubmittedJob(job_id, graph, &*checkpoints); !s.ok()) return s;
    auto job = std::make_unique<JobMaster>(job_id, graph, *std::move(restart), clock_,
                                           *std::move(checkpoints), std::move(restore_point));
    JobMaster* raw = job.get();
    jobs_.emplace(job_id, std::move(job));
    job_order_.push_back(raw);
    spdlog::info("job {} ({}) submitted: {} tasks, needs {} slots", job_id, graph.name(),
                 raw->executions().NumTasks(), raw->num_slots());
    JobActions actions;
    raw->Start(&actions);
    Apply(raw, std::move(actions));
    Reconcile();
  }
  Flush();
  return job_id;
}

std::vector<proto::JobSummary> Dispatcher::ListJobs() const {
  absl::MutexLock lock(&mu_);
  std::vector<proto::JobSummary> out;
  out.reserve(job_order_.size());
  for (const JobMaster* job : job_order_) out.push_back(job->Summary());
  return out;
}

absl::StatusOr<proto::JobDetail> Dispatcher::GetJob(absl::string_view job_id) const {
  absl::MutexLock lock(&mu_);
  const JobMaster* job = FindJob(job_id);
  if (job == nullptr) return NoSuchJob(job_id);
  return job->Detail();
}

absl::StatusOr<proto::JobGraph> Dispatcher::GetJobGraph(absl::string_view job_id) const {
  absl::MutexLock lock(&mu_);
  const JobMaster* job = FindJob(job_id);
  if (job == nullptr) return NoSuchJob(job_id);
  return job->graph();
}

absl::Status Dispatcher::CancelJob(absl::string_view job_id) {
  {
    absl::MutexLock lock(&mu_);
    JobMaster* job = FindJob(job_id);
    if (job == nullptr) return NoSuchJob(job_id);
    JobActions actions;
    absl::Status status = job->Cancel(&actions);
    if (!status.ok()) return status;
    Apply(job, std::move(actions));
    Reconcile();
  }
  Flush();
  return absl::OkStatus();
}

absl::StatusOr<proto::TriggerSavepointResponse> Dispatcher::TriggerSavepoint(
    const proto::TriggerSavepointRequest& request) {
  absl::StatusOr<proto::TriggerSavepointResponse> response;
  {
    absl::MutexLock lock(&mu_);
    JobMaster* job = FindJob(request.job_id());
    if (job == nullptr) return NoSuchJob(request.job_id());
    JobActions actions;
    response = job->TriggerSavepoint(request.dir(), request.stop(), &actions);
    Apply(job, std::move(actions));
  }
  Flush();
  return response;
}

absl::Status Dispatcher::ReportCheckpoint(const proto::CheckpointReport& report) {
  {
    absl::MutexLock lock(&mu_);
    JobMaster* job = FindJob(report.job_id());
    if (job == nullptr) return NoSuchJob(report.job_id());
    JobActions actions;
    job->OnCheckpointReport(report, &actions);
    Apply(job, std::move(actions));
  }
  Flush();
  return absl::OkStatus();
}

void Dispatcher::Poll() {
  {
    absl::MutexLock lock(&mu_);
    for (const LostTaskManager& lost : registry_.ExpireSilent()) HandleLost(lost);
    for (const Scheduler::Expired& expired : scheduler_.ExpireRequests(clock_->NowMillis())) {
      JobMaster* job = FindJob(expired.job_id);
      if (job == nullptr) continue;
      JobActions actions;
      job->OnSlotRequestExpired(expired.needed, expired.free, &actions);
      Apply(job, std::move(actions));
    }
    for (JobMaster* job : job_order_) {
      if (job->state() != proto::JOB_RESTARTING && job->state() != proto::JOB_RUNNING) continue;
      JobActions actions;
      job->OnTimer(&actions);
      Apply(job, std::move(actions));
    }
    ReleaseRecoveredJobs(nullptr);
    Reconcile();
  }
  Flush(/*poke_timer=*/false);  // the timer thread itself polls: it asks for the deadline next
}

std::optional<int64_t> Dispatcher::NextDeadlineMs() const {
  absl::MutexLock lock(&mu_);
  std::optional<int64_t> next = registry_.NextExpiryMs();
  auto consider = [&](std::optional<int64_t> at) {
    if (at.has_value() && (!next.has_value() || *at < *next)) next = at;
  };
  consider(scheduler_.NextDeadlineMs());
  for (const JobMaster* job : job_order_) consider(job->NextTimerMs());
  for (const auto& [id, wait] : recovery_waits_) consider(wait.deadline_ms);
  return next;
}

}  // namespace sluice::jobmanager
