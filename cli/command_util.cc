#include "cli/command_util.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"

namespace sluice::cli {

int Fail(CommandEnv& env, absl::string_view verb, absl::string_view message) {
  // One line: a multi-line cause (e.g. a server message) is folded.
  std::string line = absl::StrCat("sluice", verb.empty() ? "" : " ", verb, ": ", message);
  std::replace(line.begin(), line.end(), '\n', ' ');
  *env.err << line << std::endl;
  return kExitUsage;
}

int Fail(CommandEnv& env, absl::string_view verb, const absl::Status& status) {
  return Fail(env, verb, status.message());
}

void SleepInterruptibly(const CommandEnv& env, int64_t ms) {
  constexpr int64_t kSlice = 50;
  while (ms > 0 && !env.Interrupted()) {
    const int64_t step = std::min(ms, kSlice);
    std::this_thread::sleep_for(std::chrono::milliseconds(step));
    ms -= step;
  }
}

std::string CancelHint(const GlobalOptions& global, absl::string_view job_id) {
  std::string hint = absl::StrCat("sluice cancel ", job_id);
  if (global.jobmanager != kDefaultJobManager) {
    absl::StrAppend(&hint, " --jobmanager ", global.jobmanager);
  }
  return hint;
}

absl::StatusOr<proto::JobDetail> GetJobOrExplain(JobManagerClient& client,
                                                 const std::string& job_id) {
  absl::StatusOr<proto::JobDetail> job = client.GetJob(job_id);
  if (absl::IsNotFound(job.status())) {
    return absl::NotFoundError(absl::StrCat("no job with id ", job_id));
  }
  return job;
}

}  // namespace sluice::cli
