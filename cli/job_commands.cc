// `sluice list`, `info`, `cancel`, `taskmanagers`: read (or cancel) jobs on the JobManager.
#include <ostream>

#include "absl/strings/str_cat.h"
#include "cli/command_util.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "cli/job_view.h"
#include "cli/json_output.h"
#include "cli/table.h"
#include "common/job_state.h"

namespace sluice::cli {
namespace {

std::string TasksCell(const proto::JobSummary& s) {
  return absl::StrCat(s.tasks_running(), "/", s.tasks_total());
}

void PrintJobDetail(const proto::JobDetail& job, int64_t now_ms, std::ostream& out) {
  const proto::JobSummary& s = job.summary();
  const RecordTotals totals = JobRecordTotals(job);
  out << "Job:       " << s.job_id() << "\n"
      << "Name:      " << s.name() << "\n"
      << "State:     " << JobStateName(s.state()) << "\n"
      << "Started:   " << FormatWallTime(s.start_time_ms()) << "\n";
  if (s.end_time_ms() > 0) out << "Ended:     " << FormatWallTime(s.end_time_ms()) << "\n";
  out << "Duration:  " << HumanDuration(JobDurationMillis(s, now_ms)) << "\n"
      << "Tasks:     " << s.tasks_running() << "/" << s.tasks_total() << " running, "
      << s.tasks_finished() << " finished\n"
      << "Records:   " << totals.read << " read, " << totals.to_sinks << " to sinks\n"
      << "Restarts:  " << s.restarts() << "\n";

  out << "\nVertices:\n";
  Table vertices({"ID", "NAME", {"PARALLELISM", Align::kRight}, "STATE",
                  {"RECORDS IN", Align::kRight}, {"RECORDS OUT", Align::kRight}, "WATERMARK"},
                 "  ");
  int64_t late = 0;
  for (const auto& v : job.vertices()) {
    vertices.AddRow({absl::StrCat(v.id()), v.name(), absl::StrCat(v.parallelism()),
                     SubtaskStateSummary(v), absl::StrCat(v.records_in()),
                     absl::StrCat(v.records_out()), VertexWatermarkText(v)});
    late += v.late_records_dropped();
  }
  vertices.Render(out);
  if (late > 0) {
    out << "Late records dropped (after their windows' allowed lateness): " << late << "\n";
  }

  if (job.edges_size() > 0) {
    out << "\nEdges:\n";
    Table edges({"EDGE", "PARTITIONING"}, "  ");
    for (const auto& e : job.edges()) {
      edges.AddRow({absl::StrCat(e.source_vertex(), " -> ", e.target_vertex()),
                    EdgePartitioningText(e)});
    }
    edges.Render(out);
  }

  if (!job.failure_cause().empty()) out << "\nFailure cause: " << job.failure_cause() << "\n";
  if (job.exceptions_size() > 0) {
    out << "\nExceptions (oldest first):\n";
    for (int i = 0; i < job.exceptions_size(); ++i) {
      out << "  " << (i + 1) << ". " << job.exceptions(i) << "\n";
    }
  }
  out.flush();
}

}  // namespace

int ListCommand(const GlobalOptions& global, CommandEnv& env) {
  JobManagerClient client(global.jobmanager, env.client_options);
  absl::StatusOr<std::vector<proto::JobSummary>> jobs = client.ListJobs();
  if (!jobs.ok()) return Fail(env, "list", jobs.status());
  if (global.output == OutputFormat::kJson) {
    PrintJson(*env.out, ProtoListToJson(*jobs));
    return kExitOk;
  }
  if (jobs->empty()) {
    *env.out << "No jobs." << std::endl;
    return kExitOk;
  }
  const int64_t now = env.clock->WallMillis();
  Table table({"ID", "NAME", "STATE", "START", {"DURATION", Align::kRight},
               {"TASKS", Align::kRight}, {"RESTARTS", Align::kRight}});
  for (const auto& s : *jobs) {
    table.AddRow({s.job_id(), s.name(), JobStateName(s.state()), FormatWallTime(s.start_time_ms()),
                  HumanDuration(JobDurationMillis(s, now)), TasksCell(s),
                  absl::StrCat(s.restarts())});
  }
  table.Render(*env.out);
  env.out->flush();
  return kExitOk;
}

int InfoCommand(const GlobalOptions& global, const JobIdOptions& options, CommandEnv& env) {
  JobManagerClient client(global.jobmanager, env.client_options);
  absl::StatusOr<proto::JobDetail> job = GetJobOrExplain(client, options.job_id);
  if (!job.ok()) return Fail(env, "info", job.status());
  if (global.output == OutputFormat::kJson) {
    PrintJson(*env.out, ProtoToJson(*job));
  } else {
    PrintJobDetail(*job, env.clock->WallMillis(), *env.out);
  }
  return kExitOk;
}

int CancelCommand(const GlobalOptions& global, const CancelOptions& options, CommandEnv& env) {
  constexpr char kVerb[] = "cancel";
  JobManagerClient client(global.jobmanager, env.client_options);
  // An already ended job needs no cancel: report its state instead of an error.
  absl::StatusOr<proto::JobDetail> job = GetJobOrExplain(client, options.job_id);
  if (!job.ok()) return Fail(env, kVerb, job.status());
  const bool ended_before = IsJobEnded(job->summary().state());
  if (!ended_before) {
    absl::Status canceled = client.CancelJob(options.job_id);
    if (absl::IsNotFound(canceled)) {
      return Fail(env, kVerb, absl::StrCat("no job with id ", options.job_id));
    }
    if (!canceled.ok()) return Fail(env, kVerb, canceled);
  }
  const int64_t deadline = env.clock->NowMillis() + options.timeout_ms;
  while (!ended_before) {
    job = GetJobOrExplain(client, options.job_id);
    if (!job.ok()) return Fail(env, kVerb, job.status());
    if (IsJobEnded(job->summary().state())) break;
    if (env.Interrupted() || env.clock->NowMillis() >= deadline) {
      *env.err << "sluice cancel: job " << options.job_id << " is still "
               << JobStateName(job->summary().state()) << " after "
               << HumanDuration(options.timeout_ms) << " (cancel was requested)" << std::endl;
      return kExitJobFailed;
    }
    SleepInterruptibly(env, env.poll_interval_ms);
  }
  const proto::JobState state = job->summary().state();
  if (global.output == OutputFormat::kJson) {
    PrintJson(*env.out, nlohmann::json{{"job_id", options.job_id},
                                       {"state", proto::JobState_Name(state)}});
  } else if (state == proto::JOB_CANCELED && !ended_before) {
    *env.out << "Job " << options.job_id << " CANCELED" << std::endl;
  } else {
    *env.out << "Job " << options.job_id << " already ended: " << JobStateName(state)
             << std::endl;
  }
  return kExitOk;
}

int TaskManagersCommand(const GlobalOptions& global, CommandEnv& env) {
  JobManagerClient client(global.jobmanager, env.client_options);
  absl::StatusOr<std::vector<proto::TaskManagerInfo>> tms = client.ListTaskManagers();
  if (!tms.ok()) return Fail(env, "taskmanagers", tms.status());
  if (global.output == OutputFormat::kJson) {
    PrintJson(*env.out, ProtoListToJson(*tms));
    return kExitOk;
  }
  if (tms->empty()) {
    *env.out << "No TaskManagers registered." << std::endl;
    return kExitOk;
  }
  const int64_t now = env.clock->WallMillis();
  Table table({"ID", "ADDRESS", {"SLOTS", Align::kRight}, "LAST HEARTBEAT",
               {"RSS MiB", Align::kRight}, {"PID", Align::kRight}});
  for (const auto& tm : *tms) {
    std::string heartbeat = FormatAgo(tm.last_heartbeat_ms(), now);
    if (!tm.alive()) heartbeat += " (lost)";
    table.AddRow({tm.tm_id(), tm.control_address(),
                  absl::StrCat(tm.slots_free(), "/", tm.slots_total()), heartbeat,
                  tm.rss_bytes() > 0 ? absl::StrCat(tm.rss_bytes() >> 20) : "-",
                  tm.pid() > 0 ? absl::StrCat(tm.pid()) : "-"});
  }
  table.Render(*env.out);
  env.out->flush();
  return kExitOk;
}

}  // namespace sluice::cli
