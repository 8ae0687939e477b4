// `sluice stop`, `savepoint`, `checkpoints` (not supported yet: savepoints and checkpoints come
// with a later issue) and `sluice config-docs`.
#include "cli/command_util.h"
#include "cli/commands.h"
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
  return Fail(env, "checkpoints",
              "checkpoints are not supported yet (they come in a later release)");
}

int ConfigDocsCommand(CommandEnv& env) {
  *env.out << ConfigDocsMarkdown();
  env.out->flush();
  return kExitOk;
}

}  // namespace sluice::cli
