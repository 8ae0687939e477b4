// Helpers shared by the CLI verbs (cli/*_command.cc): reporting an error as the one-line
// "sluice <verb>: <reason>" with exit code 2, interruptible sleeping, the "cancel with" hint.
// Main thread only.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/status/statusor.h"
#include "cli/commands.h"
#include "cli/jobmanager_client.h"

namespace sluice::cli {

// Prints "sluice <verb>: <message>" (or "sluice: <message>" for an empty verb) on stderr and
// returns kExitUsage.
int Fail(CommandEnv& env, absl::string_view verb, absl::string_view message);
int Fail(CommandEnv& env, absl::string_view verb, const absl::Status& status);

// GetJob with "no job with id X" for unknown ids.
absl::StatusOr<proto::JobDetail> GetJobOrExplain(JobManagerClient& client,
                                                 const std::string& job_id);

// Sleeps up to `ms`, returning early when env.Interrupted().
void SleepInterruptibly(const CommandEnv& env, int64_t ms);

// "sluice cancel <id>", with " --jobmanager <addr>" when not the default JobManager.
std::string CancelHint(const GlobalOptions& global, absl::string_view job_id);

}  // namespace sluice::cli
