#include "jobmanager/job_master.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/job_state.h"
#include "common/types/timestamp.h"
#include "jobmanager/deployment_descriptor.h"
#include "spdlog/spdlog.h"

namespace sluice::jobmanager {
namespace {

constexpr size_t kMaxExceptions = 100;

absl::string_view ShortStateName(proto::JobState s) {
  absl::string_view name = proto::JobState_Name(s);
  if (absl::StartsWith(name, "JOB_")) name.remove_prefix(4);
  return name;
}

}  // namespace

JobMaster::JobMaster(std::string job_id, proto::JobGraph graph,
                     std::unique_ptr<RestartStrategy> restart, const Clock* clock,
                     CheckpointOptions checkpoints, std::optional<RestorePoint> restore_point)
    : job_id_(std::move(job_id)),
      graph_(std::move(graph)),
      restart_(std::move(restart)),
      clock_(clock),
      executions_(job_id_, &graph_),
      checkpoints_(job_id_, std::move(checkpoints), &graph_, clock),
      restore_point_(std::move(restore_point)),
      start_wall_ms_(clock->WallMillis()) {}

void JobMaster::Start(JobActions* actions) {
  waiting_for_slots_ = true;
  actions->request_slots = true;
}

void JobMaster::Recover(int last_attempt, const std::vector<proto::CheckpointMetadata>& completed,
                        int64_t max_checkpoint_id) {
  first_attempt_ = last_attempt + 1;
  for (const proto::CheckpointMetadata& metadata : completed) checkpoints_.RecoverCompleted(metadata);
  checkpoints_.ContinueIdsAfter(max_checkpoint_id);
}

void JobMaster::SetState(proto::JobState state, absl::string_view why) {
  if (state == state_) return;
  spdlog::info("job {} ({}) switched from {} to {}{}{}", job_id_, graph_.name(),
               std::string(ShortStateName(state_)), std::string(ShortStateName(state)),
               why.empty() ? "" : ": ", std::string(why));
  state_ = state;
  if (IsJobEnded(state)) end_wall_ms_ = clock_->WallMillis();
}

void JobMaster::OnSlotsGranted(std::vector<TaskManagerLocation> slots, JobActions* actions) {
  if (!waiting_for_slots_ || (state_ != proto::JOB_CREATED && state_ != proto::JOB_RESTARTING)) {
    actions->release_slots = true;  // no longer wanted
    return;
  }
  waiting_for_slots_ = false;
  holds_slots_ = true;
  int attempt = first_attempt_;
  if (deployed_once_) {
    attempt = executions_.attempt() + 1;
    ++restarts_;
  }
  deployed_once_ = true;
  restart_at_ms_.reset();
  executions_.ResetForAttempt(attempt, std::move(slots));
  std::optional<proto::CheckpointMetadata> restore;
  std::string restore_dir = checkpoints_.options().job_dir;
  if (checkpoints_.enabled()) restore = checkpoints_.LatestForRestore();
  if (!restore.has_value() && restore_point_.has_value()) {
    restore = restore_point_->metadata;
    restore_dir = restore_point_->base_dir;
  }
  SetState(proto::JOB_RUNNING,
           absl::StrCat("deploying attempt ", attempt, " (", executions_.NumTasks(), " tasks)",
                        restore ? absl::StrCat(" from checkpoint ", restore->checkpoint_id()) : ""));
  executions_.ForEach([&](int v, int s, Execution& e) {
    e.state = proto::DEPLOYING;
    proto::TaskDeploymentDescriptor tdd = BuildDeploymentDescriptor(executions_, v, s);
    AddCheckpointFields(restore, restore_dir, v, s, &tdd);
    actions->deploys.push_back({e.location, std::move(tdd)});
  });
}

void JobMaster::OnSlotRequestExpired(int needed, int free, JobActions* actions) {
  if (!waiting_for_slots_) return;
  waiting_for_slots_ = false;
  restart_at_ms_.reset();
  std::string cause =
      absl::StrCat("not enough task slots: need ", needed, ", cluster has ", free, " free");
  RecordException(cause);
  SetState(proto::JOB_FAILED, cause);
  Settle(actions);
}

absl::Status JobMaster::OnTaskStateUpdate(const proto::TaskStateUpdate& update,
                                          JobActions* actions) {
  std::optional<int> index = executions_.VertexIndex(update.vertex_id());
  if (!index.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("job ", job_id_, " has no vertex ", update.vertex_id()));
  }
  const int parallelism = executions_.vertex(*index).parallelism();
  if (update.subtask() < 0 || update.subtask() >= parallelism) {
    return absl::InvalidArgumentError(absl::StrCat("job ", job_id_, " vertex ", update.vertex_id(),
                                                   " has no subtask ", update.subtask(),
                                                   " (parallelism ", parallelism, ")"));
  }
  if (!deployed_once_ || update.attempt() != executions_.attempt()) return absl::OkStatus();
  Execution& e = executions_.execution(*index, update.subtask());
  if (update.has_metrics() && !e.final_metrics) {
    e.metrics = update.metrics();
    e.metrics.set_job_id(job_id_);
    e.metrics.set_attempt(update.attempt());
    e.metrics.set_vertex_id(update.vertex_id());
    e.metrics.set_subtask(update.subtask());
    e.final_metrics = IsTerminal(update.state());
  }
  if (IsTerminal(e.state)) return absl::OkStatus();
  const std::string task = executions_.TaskName(*index, update.subtask());
  switch (update.state()) {
    case proto::RUNNING:
      if (e.state == proto::DEPLOYING || e.state == proto::CREATED) e.state = proto::RUNNING;
      if (state_ == proto::JOB_RUNNING && executions_.AllInState(proto::RUNNING)) {
        checkpoints_.OnAllRunning(executions_.attempt());
      }
      break;
    case proto::CANCELING:
      e.state = proto::CANCELING;
      break;
    case proto::FINISHED:
      e.state = proto::FINISHED;
      // A finished task cannot take part in checkpoints any more.
      checkpoints_.OnAttemptStopped(absl::StrCat(task, " finished"));
      Settle(actions);
      break;
    case proto::CANCELED: {
      const bool expected = e.state == proto::CANCELING;
      e.state = proto::CANCELED;
      if (!expected && state_ == proto::JOB_RUNNING) {
        e.state = proto::FAILED;
        e.failure = "canceled by its TaskManager";
        FailAttempt(absl::StrCat(task, " failed: ", e.failure), actions);
      } else {
        Settle(actions);
      }
      break;
    }
    case proto::FAILED:
      e.state = proto::FAILED;
      e.failure = update.error().empty() ? "unknown error" : update.error();
      if (state_ == proto::JOB_RUNNING) {
        FailAttempt(absl::StrCat(task, " failed: ", e.failure), actions);
      } else {
        Settle(actions);
      }
      break;
    default:  // CREATED, DEPLOYING: nothing new
      break;
  }
  return absl::OkStatus();
}

void JobMaster::OnMetrics(const proto::TaskMetrics& metrics) {
  if (!deployed_once_ || metrics.attempt() != executions_.attempt()) return;
  std::optional<int> index = executions_.VertexIndex(metrics.vertex_id());
  if (!index.has_value() || metrics.subtask() < 0 ||
      metrics.subtask() >= executions_.vertex(*index).parallelism()) {
    return;
  }
  Execution& e = executions_.execution(*index, metrics.subtask());
  if (e.final_metrics) return;
  e.metrics = metrics;
}

void JobMaster::OnDeployFailed(int attempt, int vertex_id, int subtask, const absl::Status& status,
                               JobActions* actions) {
  if (!deployed_once_ || attempt != executions_.attempt()) return;
  std::optional<int> index = executions_.VertexIndex(vertex_id);
  if (!index.has_value() || subtask < 0 || subtask >= executions_.vertex(*index).parallelism()) {
    return;
  }
  Execution& e = executions_.execution(*index, subtask);
  if (e.state != proto::DEPLOYING && e.state != proto::RUNNING) return;
  e.state = proto::FAILED;
  e.failure = absl::StrCat("deployment failed: ", status.message());
  if (state_ == proto::JOB_RUNNING) {
    FailAttempt(absl::StrCat(executions_.TaskName(*index, subtask), " failed: ", e.failure),
                actions);
  } else {
    Settle(actions);
  }
}

void JobMaster::OnCancelCompleted(int attempt, const std::string& tm_id, JobActions* actions) {
  if (!deployed_once_ || attempt != executions_.attempt()) return;
  bool changed = false;
  executions_.ForEach([&](int, int, Execution& e) {
    if (e.location.tm_id == tm_id && e.state == proto::CANCELING) {
      e.state = proto::CANCELED;
      changed = true;
    }
  });
  if (changed) Settle(actions);
}

void JobMaster::OnTaskManagerLost(const std::string& tm_id, const std::string& cause,
                                  JobActions* actions) {
  if (!deployed_once_) return;
  std::optional<std::string> first_task;
  executions_.ForEach([&](int v, int s, Execution& e) {
    if (e.location.tm_id != tm_id || IsTerminal(e.state)) return;
    if (!first_task.has_value() && e.state != proto::CANCELING) {
      first_task = executions_.TaskName(v, s);
    }
    e.state = proto::FAILED;
    e.failure = cause;
  });
  if (first_task.has_value() && state_ == proto::JOB_RUNNING) {
    FailAttempt(absl::StrCat(*first_task, " failed: ", cause), actions);
  } else {
    Settle(actions);
  }
}

absl::Status JobMaster::Cancel(JobActions* actions) {
  if (IsJobEnded(state_)) {
    return absl::FailedPreconditionError(
        absl::StrCat("job ", job_id_, " already ended (", ShortStateName(state_), ")"));
  }
  if (state_ == proto::JOB_CANCELLING) return absl::OkStatus();
  if (waiting_for_slots_) {
    waiting_for_slots_ = false;
    actions->cancel_slot_request = true;
  }
  restart_at_ms_.reset();
  if (!deployed_once_) {
    SetState(proto::JOB_CANCELED, "cancelled before it was deployed");
    return absl::OkStatus();
  }
  SetState(proto::JOB_CANCELLING, "cancel requested");
  checkpoints_.OnAttemptStopped("the job is being cancelled");
  CancelUnfinishedTasks(actions);
  Settle(actions);
  return absl::OkStatus();
}

void JobMaster::OnTimer(JobActions* actions) {
  Settle(actions);
  if (state_ != proto::JOB_RUNNING) return;
  std::optional<int64_t> id = checkpoints_.MaybeTrigger(AllTasks());
  if (!id.has_value()) return;
  proto::TriggerCheckpointRequest trigger;
  trigger.set_job_id(job_id_);
  trigger.set_attempt(executions_.attempt());
  trigger.set_checkpoint_id(*id);
  trigger.set_timestamp_ms(clock_->WallMillis());
  AddCheckpointRpcs(/*sources_only=*/true, &trigger, nullptr, actions);
}

std::vector<CheckpointCoordinator::TaskKey> JobMaster::AllTasks() const {
  std::vector<CheckpointCoordinator::TaskKey> tasks;
  executions_.ForEach([&](int v, int s, const Execution&) {
    tasks.emplace_back(executions_.vertex(v).id(), s);
  });
  return tasks;
}

absl::StatusOr<proto::TriggerSavepointResponse> JobMaster::TriggerSavepoint(const std::string& dir,
                                                                            bool stop,
                                                                            JobActions* actions) {
  if (state_ != proto::JOB_RUNNING) {
    return absl::FailedPreconditionError(absl::StrCat("job ", job_id_, " is ",
                                                      ShortStateName(state_),
                                                      ", a savepoint needs it RUNNING"));
  }
  if (stop_savepoint_.has_value()) {
    return absl::FailedPreconditionError(
        absl::StrCat("job ", job_id_, " is already being stopped with a savepoint"));
  }
  absl::StatusOr<std::pair<int64_t, std::string>> started =
      checkpoints_.TriggerSavepoint(dir, AllTasks());
  if (!started.ok()) return started.status();
  proto::TriggerCheckpointRequest trigger;
  trigger.set_job_id(job_id_);
  trigger.set_attempt(executions_.attempt());
  trigger.set_checkpoint_id(started->first);
  trigger.set_timestamp_ms(clock_->WallMillis());
  trigger.set_savepoint_dir(started->second);
  AddCheckpointRpcs(/*sources_only=*/true, &trigger, nullptr, actions);
  if (stop) stop_savepoint_ = started->first;
  proto::TriggerSavepointResponse response;
  response.set_savepoint_id(started->first);
  response.set_path(started->second);
  spdlog::info("job {}: savepoint {} triggered{} into {}", job_id_, started->first,
               stop ? " (stop)" : "", started->second);
  return response;
}

void JobMaster::OnCheckpointReport(const proto::CheckpointReport& report, JobActions* actions) {
  if (!deployed_once_ || report.attempt() != executions_.attempt()) return;
  std::optional<int64_t> completed = checkpoints_.OnReport(report);
  if (stop_savepoint_.has_value()) {
    for (const proto::CheckpointStats& c : checkpoints_.history()) {
      if (c.id() == *stop_savepoint_ && c.status() == "FAILED") stop_savepoint_.reset();
    }
  }
  if (!completed.has_value()) return;
  proto::CheckpointNotification notify;
  notify.set_job_id(job_id_);
  notify.set_attempt(executions_.attempt());
  notify.set_checkpoint_id(*completed);
  AddCheckpointRpcs(/*sources_only=*/false, nullptr, &notify, actions);
  if (stop_savepoint_ == completed) {
    for (const proto::CheckpointStats& c : checkpoints_.history()) {
      if (c.id() == *completed) stopped_with_savepoint_ = c.path();
    }
    SetState(proto::JOB_CANCELLING, absl::StrCat("stopping with savepoint ", stopped_with_savepoint_));
    checkpoints_.OnAttemptStopped("the job is stopping");
    CancelUnfinishedTasks(actions);
    Settle(actions);
  }
}

void JobMaster::AddCheckpointRpcs(bool sources_only, const proto::TriggerCheckpointRequest* trigger,
                                  const proto::CheckpointNotification* notify,
                                  JobActions* actions) {
  std::set<int> targets;  // vertex ids with an incoming edge
  for (const proto::JobEdge& edge : graph_.edges()) targets.insert(edge.target_vertex());
  std::map<std::string, TaskManagerLocation> tms;
  executions_.ForEach([&](int v, int, Execution& e) {
    if (sources_only && targets.count(executions_.vertex(v).id())) return;
    if (!e.location.tm_id.empty()) tms.emplace(e.location.tm_id, e.location);
  });
  for (const auto& [id, location] : tms) {
    JobActions::CheckpointRpc rpc;
    rpc.tm = location;
    if (trigger != nullptr) rpc.trigger = *trigger;
    if (notify != nullptr) rpc.notify = *notify;
    actions->checkpoint_rpcs.push_back(std::move(rpc));
  }
}

void JobMaster::AddCheckpointFields(const std::optional<proto::CheckpointMetadata>& restore,
                                    const std::string& restore_dir, int v, int s,
                                    proto::TaskDeploymentDescriptor* tdd) const {
  if (checkpoints_.enabled()) tdd->set_checkpoint_job_dir(checkpoints_.options().job_dir);
  if (!restore.has_value()) return;
  tdd->set_restore_checkpoint_id(restore->checkpoint_id());
  tdd->set_restore_dir(restore_dir);
  const proto::JobVertex& vertex = executions_.vertex(v);
  for (proto::TaskStateSnapshot& task :
       AssignRestoreState(*restore, vertex.id(), s, vertex.parallelism(),
                          executions_.max_parallelism())) {
    *tdd->add_restore_state() = std::move(task);
  }
}

std::optional<int64_t> JobMaster::NextTimerMs() const {
  // Once the delay is over, the restart waits for cancellations, which are events.
  if (state_ == proto::JOB_RESTARTING && !waiting_for_slots_ && restart_at_ms_.has_value() &&
      *restart_at_ms_ > clock_->NowMillis()) {
    return restart_at_ms_;
  }
  if (state_ == proto::JOB_RUNNING) return checkpoints_.NextTimerMs();
  return std::nullopt;
}

void JobMaster::FailAttempt(const std::string& cause, JobActions* actions) {
  RecordException(cause);
  checkpoints_.OnAttemptStopped(cause);
  CancelUnfinishedTasks(actions);
  std::optional<int64_t> delay = restart_->NextDelayMs(clock_->NowMillis());
  if (delay.has_value()) {
    restart_at_ms_ = clock_->NowMillis() + *delay;
    SetState(proto::JOB_RESTARTING, absl::StrCat(cause, "; restarting in ", *delay, " ms"));
  } else {
    exceptions_.back() +=
        absl::StrCat(" (not restarted: restart strategy ", restart_->Describe(), ")");
    SetState(proto::JOB_FAILED, cause);
  }
  Settle(actions);
}

void JobMaster::CancelUnfinishedTasks(JobActions* actions) {
  std::map<std::string, TaskManagerLocation> tms;
  executions_.ForEach([&](int, int, Execution& e) {
    if (IsTerminal(e.state)) return;
    if (e.state == proto::CREATED) {
      e.state = proto::CANCELED;
      return;
    }
    e.state = proto::CANCELING;
    tms.emplace(e.location.tm_id, e.location);
  });
  for (const auto& [id, location] : tms) {
    JobActions::Cancel cancel;
    cancel.tm = location;
    cancel.request.set_job_id(job_id_);
    cancel.request.set_attempt(executions_.attempt());
    actions->cancels.push_back(std::move(cancel));
  }
}

void JobMaster::RecordException(const std::string& cause) {
  failure_cause_ = cause;
  exceptions_.push_back(
      absl::StrCat(types::FormatTimestamp(clock_->WallMillis() * 1000), " ", cause));
  if (exceptions_.size() > kMaxExceptions) exceptions_.erase(exceptions_.begin());
}

void JobMaster::Settle(JobActions* actions) {
  if (waiting_for_slots_) return;
  const bool all_terminal = !deployed_once_ || executions_.AllTerminal();
  auto release = [&] {
    if (holds_slots_) {
      holds_slots_ = false;
      actions->release_slots = true;
    }
  };
  switch (state_) {
    case proto::JOB_RUNNING:
      if (executions_.AllInState(proto::FINISHED)) {
        SetState(proto::JOB_FINISHED, "every task finished");
        release();
      }
      break;
    case proto::JOB_CANCELLING:
      if (all_terminal && !stopped_with_savepoint_.empty()) {
        SetState(proto::JOB_FINISHED, absl::StrCat("stopped with savepoint ", stopped_with_savepoint_));
        release();
      } else if (all_terminal) {
        SetState(proto::JOB_CANCELED, "every task is cancelled");
        release();
      }
      break;
    case proto::JOB_RESTARTING:
      if (all_terminal && restart_at_ms_.has_value() && clock_->NowMillis() >= *restart_at_ms_) {
        release();
        restart_at_ms_.reset();
        waiting_for_slots_ = true;
        actions->request_slots = true;
      }
      break;
    default:
      if (IsJobEnded(state_) && all_terminal) release();
      break;
  }
}

proto::JobSummary JobMaster::Summary() const {
  proto::JobSummary s;
  s.set_job_id(job_id_);
  s.set_name(graph_.name());
  s.set_state(state_);
  s.set_start_time_ms(start_wall_ms_);
  s.set_end_time_ms(end_wall_ms_);
  s.set_restarts(restarts_);
  s.set_tasks_total(executions_.NumTasks());
  if (deployed_once_) {
    s.set_tasks_running(executions_.CountInState(proto::RUNNING));
    s.set_tasks_finished(executions_.CountInState(proto::FINISHED));
  }
  return s;
}

proto::JobDetail JobMaster::Detail() const {
  proto::JobDetail d;
  *d.mutable_summary() = Summary();
  for (int v = 0; v < executions_.num_vertices(); ++v) {
    const proto::JobVertex& vertex = executions_.vertex(v);
    proto::VertexDetail* vd = d.add_vertices();
    vd->set_id(vertex.id());
    vd->set_name(vertex.name());
    vd->set_parallelism(vertex.parallelism());
    int64_t records_in = 0;
    int64_t records_out = 0;
    int64_t late = 0;
    int64_t skipped = 0;
    int64_t dead_lettered = 0;
    int64_t watermark = INT64_MAX;
    bool all_have_watermark = true, all_idle = true;
    for (int s = 0; s < vertex.parallelism(); ++s) {
      const Execution& e = executions_.execution(v, s);
      proto::SubtaskDetail* sd = vd->add_subtasks();
      sd->set_subtask(s);
      sd->set_state(e.state);
      sd->set_tm_id(e.location.tm_id);
      *sd->mutable_metrics() = e.metrics;
      records_in += e.metrics.records_in();
      records_out += e.metrics.records_out();
      late += e.metrics.late_records_dropped();
      skipped += e.metrics.bad_records_skipped();
      dead_lettered += e.metrics.bad_records_dead_lettered();
      if (e.metrics.watermark_idle()) continue;
      all_idle = false;
      if (!e.metrics.has_watermark()) all_have_watermark = false;
      watermark = std::min(watermark, e.metrics.watermark());
    }
    vd->set_records_in(records_in);
    vd->set_records_out(records_out);
    vd->set_late_records_dropped(late);
    vd->set_bad_records_skipped(skipped);
    vd->set_bad_records_dead_lettered(dead_lettered);
    vd->set_watermark_idle(all_idle);
    if (!all_idle && all_have_watermark) {
      vd->set_has_watermark(true);
      vd->set_watermark(watermark);
    }
  }
  *d.mutable_edges() = graph_.edges();
  d.set_failure_cause(failure_cause_);
  for (const proto::CheckpointStats& c : checkpoints_.history()) *d.add_checkpoints() = c;
  d.set_checkpoint_dir(checkpoints_.options().job_dir);
  d.set_checkpoint_interval_ms(checkpoints_.options().interval_ms);
  for (const std::string& e : exceptions_) d.add_exceptions(e);
  d.set_checkpoints_completed(checkpoints_.num_completed());
  d.set_checkpoints_failed(checkpoints_.num_failed());
  return d;
}

}  // namespace sluice::jobmanager
