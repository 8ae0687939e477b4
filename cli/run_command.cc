// `sluice run`: parse a job spec, submit it, and (unless --detached) follow the job to its end.
#include <unistd.h>

#include <ostream>

#include "absl/strings/str_cat.h"
#include "cli/command_util.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "cli/job_view.h"
#include "cli/json_output.h"
#include "common/job_state.h"
#include "common/jobgraph/job_spec.h"

namespace sluice::cli {
namespace {

constexpr char kVerb[] = "run";
// While attached, this many failed polls in a row (about 5 s at the default interval) give up.
constexpr int kMaxFailedPolls = 10;
// Without a terminal, a line whose only change is record counts is printed at most this often.
constexpr int64_t kPlainProgressEveryMs = 5000;

// "RUNNING  tasks 4/6 running, 0 finished  records 1200 read, 1150 to sinks  restarts 0"
std::string ProgressLine(const proto::JobDetail& job, bool with_records) {
  const proto::JobSummary& s = job.summary();
  std::string line = absl::StrCat(JobStateName(s.state()), "  tasks ", s.tasks_running(), "/",
                                  s.tasks_total(), " running, ", s.tasks_finished(), " finished");
  if (with_records) {
    const RecordTotals totals = JobRecordTotals(job);
    absl::StrAppend(&line, "  records ", totals.read, " read, ", totals.to_sinks, " to sinks");
  }
  absl::StrAppend(&line, "  restarts ", s.restarts());
  return line;
}

// Shows progress on stderr: one rewritten line on a terminal, plain lines otherwise.
class ProgressPrinter {
 public:
  explicit ProgressPrinter(CommandEnv& env) : env_(env) {}

  void Update(const proto::JobDetail& job) {
    const std::string line = ProgressLine(job, /*with_records=*/true);
    if (line == last_line_) return;
    if (env_.err_is_tty) {
      *env_.err << "\r\033[K" << line << std::flush;
      line_open_ = true;
    } else {
      // Record counts change on every poll of a running job: without a terminal, print them
      // with a state/task/restart change or every few seconds.
      const std::string shape = ProgressLine(job, /*with_records=*/false);
      const int64_t now = env_.clock->NowMillis();
      if (shape == last_shape_ && now - last_print_ms_ < kPlainProgressEveryMs) return;
      *env_.err << line << std::endl;
      last_shape_ = shape;
      last_print_ms_ = now;
    }
    last_line_ = line;
  }

  // Ends the rewritten line so that later output starts on a fresh line.
  void Close() {
    if (line_open_) *env_.err << std::endl;
    line_open_ = false;
  }

 private:
  CommandEnv& env_;
  std::string last_line_;
  std::string last_shape_;
  int64_t last_print_ms_ = 0;
  bool line_open_ = false;
};

void PrintFinalSummary(const proto::JobDetail& job, CommandEnv& env) {
  const proto::JobSummary& s = job.summary();
  const RecordTotals totals = JobRecordTotals(job);
  std::ostream& out = *env.out;
  out << "Job " << s.job_id() << " " << JobStateName(s.state()) << " after "
      << HumanDuration(JobDurationMillis(s, env.clock->WallMillis())) << "\n";
  out << "  records:  " << totals.read << " read, " << totals.to_sinks << " to sinks\n";
  out << "  restarts: " << s.restarts() << "\n";
  if (s.state() == proto::JOB_FAILED) {
    out << "  cause:    "
        << (job.failure_cause().empty() ? absl::StrCat("unknown (see: sluice info ", s.job_id(), ")")
                                        : job.failure_cause())
        << "\n";
  }
  out.flush();
}

int FollowJob(const GlobalOptions& global, JobManagerClient& client, const std::string& job_id,
              CommandEnv& env) {
  ProgressPrinter progress(env);
  proto::JobDetail job;
  int failed_polls = 0;
  while (true) {
    if (env.Interrupted()) {
      progress.Close();
      *env.err << "sluice run: interrupted; job keeps running; cancel with: "
               << CancelHint(global, job_id) << std::endl;
      return kExitInterrupted;
    }
    absl::StatusOr<proto::JobDetail> got = client.GetJob(job_id);
    if (got.ok()) {
      failed_polls = 0;
      job = *std::move(got);
      progress.Update(job);
      if (IsJobEnded(job.summary().state())) break;
    } else if (absl::IsNotFound(got.status())) {
      progress.Close();
      return Fail(env, kVerb, absl::StrCat("job ", job_id, " is no longer known to the JobManager"));
    } else if (++failed_polls >= kMaxFailedPolls) {
      progress.Close();
      return Fail(env, kVerb, got.status());
    }
    SleepInterruptibly(env, env.poll_interval_ms);
  }
  progress.Close();
  if (global.output == OutputFormat::kJson) {
    PrintJson(*env.out, ProtoToJson(job));
  } else {
    PrintFinalSummary(job, env);
  }
  return job.summary().state() == proto::JOB_FINISHED ? kExitOk : kExitJobFailed;
}

}  // namespace

absl::StatusOr<proto::JobGraph> LoadJobSpec(const std::string& path, int parallelism_override) {
  return jobgraph::LoadJobSpecToSubmit(path, parallelism_override);
}

int RunCommand(const GlobalOptions& global, const RunOptions& options, CommandEnv& env) {
  if (options.parallelism < 0) {
    return Fail(env, kVerb, "--parallelism must be at least 1");
  }
  absl::StatusOr<proto::JobGraph> graph = env.load_spec(options.spec_path, options.parallelism);
  if (!graph.ok()) return Fail(env, kVerb, graph.status());

  JobManagerClient client(global.jobmanager, env.client_options);
  proto::SubmitJobRequest request;
  *request.mutable_graph() = *std::move(graph);
  request.set_restore_path(options.from_savepoint);
  request.set_allow_non_restored_state(options.allow_non_restored_state);
  absl::StatusOr<std::string> job_id = client.SubmitJob(request);
  if (!job_id.ok()) return Fail(env, kVerb, job_id.status());

  const std::string& name = request.graph().name();
  const std::string submitted = absl::StrCat(
      "Job ", *job_id, " submitted (", name, ")",
      options.from_savepoint.empty() ? "" : absl::StrCat(" from ", options.from_savepoint));
  if (options.detached) {
    if (global.output == OutputFormat::kJson) {
      PrintJson(*env.out, nlohmann::json{{"job_id", *job_id}, {"name", name}});
    } else {
      *env.out << submitted << std::endl;
    }
    return kExitOk;
  }
  // Attached: with --output json stdout carries only the final JSON document.
  *(global.output == OutputFormat::kJson ? env.err : env.out) << submitted << std::endl;
  return FollowJob(global, client, *job_id, env);
}

}  // namespace sluice::cli
