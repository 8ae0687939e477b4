// `sluice stop`, `savepoint` (not supported yet: savepoints come with a later release),
// `sluice checkpoints` and `sluice config-docs`.
#include "absl/strings/str_cat.h"
#include "cli/command_util.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "cli/json_output.h"
#include "cli/table.h"
#include "common/config.h"

namespace sluice::cli {

int StopCommand(const GlobalOptions& global, const StopOptions& options, CommandEnv& env) {
  return Fail(env, "stop",
              absl::StrCat("stopping a job with a savepoint is not supported yet (savepoints "
                           "come in a later release); to stop the job without one, run: ",
                           CancelHint(global, options.job_id)));
}

int SavepointCommand(const GlobalOptions& global, const SavepointOptions& options,
                     CommandEnv& env) {
  return Fail(env, "savepoint",
              "savepoints are not supported yet (they come in a later release)");
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
