// `sluice savepoint`, `sluice stop` (savepoint, then the job stops), `sluice checkpoints` and
// `sluice config-docs`.
#include "absl/strings/str_cat.h"
#include "cli/command_util.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "cli/json_output.h"
#include "cli/table.h"
#include "common/job_state.h"
#include "common/config.h"

namespace sluice::cli {

namespace {

// Triggers a savepoint and waits (polling the job) until it completed or failed. Prints its
// progress on stderr. The returned stats say which; errors are RPC or timeout failures.
absl::StatusOr<proto::CheckpointStats> TakeSavepoint(JobManagerClient& client,
                                                     const proto::TriggerSavepointRequest& request,
                                                     int64_t timeout_ms, CommandEnv& env) {
  absl::StatusOr<proto::TriggerSavepointResponse> started = client.TriggerSavepoint(request);
  if (!started.ok()) return started.status();
  *env.err << "Savepoint " << started->savepoint_id() << " of job " << request.job_id()
           << " triggered, writing " << started->path() << std::endl;
  const int64_t deadline = env.clock->NowMillis() + timeout_ms;
  while (true) {
    absl::StatusOr<proto::JobDetail> job = GetJobOrExplain(client, request.job_id());
    if (!job.ok()) return job.status();
    for (const proto::CheckpointStats& c : job->checkpoints()) {
      if (c.id() == started->savepoint_id() && c.status() != "IN_PROGRESS") return c;
    }
    if (env.Interrupted() || env.clock->NowMillis() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "savepoint ", started->savepoint_id(), " did not complete within ",
          HumanDuration(timeout_ms), " (it may still complete: see sluice checkpoints ",
          request.job_id(), ")"));
    }
    SleepInterruptibly(env, env.poll_interval_ms);
  }
}

// Prints a finished savepoint; returns the exit code.
int ReportSavepoint(const GlobalOptions& global, const std::string& job_id,
                    const proto::CheckpointStats& savepoint, absl::string_view verb,
                    CommandEnv& env) {
  const bool ok = savepoint.status() == "COMPLETED";
  if (global.output == OutputFormat::kJson) {
    nlohmann::json out = ProtoToJson(savepoint);
    out["job_id"] = job_id;
    PrintJson(*env.out, out);
  } else if (ok) {
    *env.out << "Savepoint " << savepoint.id() << " completed: " << savepoint.path() << "\n"
             << "Resume with: sluice run JOB.yaml --from-savepoint " << savepoint.path()
             << std::endl;
  }
  if (!ok) {
    *env.err << "sluice " << verb << ": savepoint " << savepoint.id()
             << " failed: " << savepoint.failure() << std::endl;
    return kExitJobFailed;
  }
  return kExitOk;
}

}  // namespace

int StopCommand(const GlobalOptions& global, const StopOptions& options, CommandEnv& env) {
  constexpr char kVerb[] = "stop";
  JobManagerClient client(global.jobmanager, env.client_options);
  proto::TriggerSavepointRequest request;
  request.set_job_id(options.job_id);
  request.set_dir(options.savepoint_dir);
  request.set_stop(true);
  request.set_drain(options.drain);
  absl::StatusOr<proto::CheckpointStats> savepoint =
      TakeSavepoint(client, request, options.timeout_ms, env);
  if (!savepoint.ok()) return Fail(env, kVerb, savepoint.status());
  if (savepoint->status() != "COMPLETED") {
    return ReportSavepoint(global, options.job_id, *savepoint, kVerb, env);
  }
  // The job stops once its tasks are cancelled.
  const int64_t deadline = env.clock->NowMillis() + options.timeout_ms;
  while (true) {
    absl::StatusOr<proto::JobDetail> job = GetJobOrExplain(client, options.job_id);
    if (!job.ok()) return Fail(env, kVerb, job.status());
    if (IsJobEnded(job->summary().state())) break;
    if (env.Interrupted() || env.clock->NowMillis() >= deadline) {
      return Fail(env, kVerb, absl::StrCat("the savepoint completed (", savepoint->path(),
                                           ") but the job did not stop within ",
                                           HumanDuration(options.timeout_ms)));
    }
    SleepInterruptibly(env, env.poll_interval_ms);
  }
  return ReportSavepoint(global, options.job_id, *savepoint, kVerb, env);
}

int SavepointCommand(const GlobalOptions& global, const SavepointOptions& options,
                     CommandEnv& env) {
  JobManagerClient client(global.jobmanager, env.client_options);
  proto::TriggerSavepointRequest request;
  request.set_job_id(options.job_id);
  request.set_dir(options.dir);
  absl::StatusOr<proto::CheckpointStats> savepoint =
      TakeSavepoint(client, request, options.timeout_ms, env);
  if (!savepoint.ok()) return Fail(env, "savepoint", savepoint.status());
  return ReportSavepoint(global, options.job_id, *savepoint, "savepoint", env);
}

int CheckpointsCommand(const GlobalOptions& global, const JobIdOptions& options,
                       CommandEnv& env) {
  JobManagerClient client(global.jobmanager, env.client_options);
  absl::StatusOr<proto::JobDetail> job = GetJobOrExplain(client, options.job_id);
  if (!job.ok()) return Fail(env, "checkpoints", job.status());
  if (global.output == OutputFormat::kJson) {
    nlohmann::json out = nlohmann::json::object();
    out["job_id"] = options.job_id;
    out["checkpoint_dir"] = job->checkpoint_dir();
    out["interval_ms"] = job->checkpoint_interval_ms();
    out["checkpoints"] = nlohmann::json::array();
    for (const proto::CheckpointStats& c : job->checkpoints()) {
      out["checkpoints"].push_back(ProtoToJson(c));
    }
    PrintJson(*env.out, out);
    return kExitOk;
  }
  if (job->checkpoint_interval_ms() <= 0) {
    *env.out << "Job " << options.job_id
             << " does not take checkpoints (set checkpointing: {interval: ...} in its spec).\n";
    env.out->flush();
    return kExitOk;
  }
  *env.out << "Checkpoints of job " << options.job_id << " every "
           << HumanDuration(job->checkpoint_interval_ms()) << " in " << job->checkpoint_dir()
           << "\n";
  Table table({{"ID", Align::kRight}, {"STATUS"}, {"TRIGGERED"}, {"DURATION", Align::kRight},
               {"SIZE", Align::kRight}, {"INCREMENTAL", Align::kRight},
               {"ALIGNMENT", Align::kRight}, {"ACKS", Align::kRight}, {"DETAIL"}});
  for (const proto::CheckpointStats& c : job->checkpoints()) {
    const bool completed = c.status() == "COMPLETED";
    table.AddRow({absl::StrCat(c.id()), c.status(), FormatWallTime(c.trigger_time_ms()),
                  c.status() == "IN_PROGRESS" ? "-" : HumanDuration(c.duration_ms()),
                  completed ? HumanBytes(c.size_bytes()) : "-",
                  completed ? HumanBytes(c.incremental_bytes()) : "-",
                  HumanDuration(c.alignment_ms()), absl::StrCat(c.acknowledged(), "/", c.tasks()),
                  completed ? c.path() : c.failure()});
  }
  table.Render(*env.out);
  env.out->flush();
  return kExitOk;
}

int ConfigDocsCommand(CommandEnv& env) {
  *env.out << ConfigDocsMarkdown();
  env.out->flush();
  return kExitOk;
}

}  // namespace sluice::cli
