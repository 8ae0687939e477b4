#include "jobmanager/application_job.h"

#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/clock.h"
#include "common/file_util.h"
#include "common/hash.h"
#include "common/job_state.h"
#include "common/jobgraph/job_spec.h"
#include "common/status_macros.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"

namespace sluice::jobmanager {
namespace {

// The record of a submitted application: `<ha>/applications/<fingerprint>`.
std::string RecordPath(const std::string& ha_dir, const std::string& fingerprint) {
  return (std::filesystem::path(ha_dir) / "applications" / fingerprint).string();
}

absl::Status WriteRecord(const std::string& path, const ApplicationOptions& options,
                         const std::string& job_id, const std::string& name) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  if (ec) {
    return absl::InternalError(absl::StrCat("cannot create ",
                                            std::filesystem::path(path).parent_path().string(),
                                            ": ", ec.message()));
  }
  nlohmann::json record = {{"job_id", job_id},
                           {"name", name},
                           {"spec", options.spec_path},
                           {"from_savepoint", options.from_savepoint},
                           {"submitted_ms", SystemClock::Get()->WallMillis()}};
  return WriteFileAtomically(path, record.dump());
}

}  // namespace

std::string ApplicationFingerprint(const proto::JobGraph& graph, const std::string& from_savepoint) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    graph.SerializeToCodedStream(&coded);
  }
  bytes.push_back('\0');
  bytes += from_savepoint;
  return absl::StrFormat("%016x", Fnv1a64(bytes));
}

absl::StatusOr<ApplicationOutcome> SubmitApplicationJob(Dispatcher* dispatcher,
                                                        const ApplicationOptions& options) {
  ASSIGN_OR_RETURN(proto::JobGraph graph, jobgraph::LoadJobSpecToSubmit(options.spec_path));
  ApplicationOutcome outcome;
  outcome.name = graph.name();
  const std::string fingerprint = ApplicationFingerprint(graph, options.from_savepoint);

  if (!options.ha_dir.empty()) {
    outcome.record_path = RecordPath(options.ha_dir, fingerprint);
    // 1. Recovered from the job store (the JobManager restarted while the job ran).
    for (const proto::JobSummary& job : dispatcher->ListJobs()) {
      if (job.name() != graph.name() || IsJobEnded(job.state())) continue;
      outcome.kind = ApplicationOutcome::Kind::kRecovered;
      outcome.job_id = job.job_id();
      if (!std::filesystem::exists(outcome.record_path)) {
        spdlog::warn("application job {} ({}) was recovered from the job store and keeps running "
                     "its previous spec: {} differs from it. To upgrade, stop the job with a "
                     "savepoint and start the JobManager with --from-savepoint "
                     "(docs/kubernetes.md)",
                     job.job_id(), job.name(), options.spec_path);
      }
      return outcome;
    }
    // 2. This spec and savepoint were submitted before and the job has ended since.
    if (absl::StatusOr<std::string> text = ReadFile(outcome.record_path); text.ok()) {
      nlohmann::json record = nlohmann::json::parse(*text, nullptr, false);
      if (record.is_object() && record.contains("job_id") && record["job_id"].is_string()) {
        outcome.kind = ApplicationOutcome::Kind::kAlreadyRan;
        outcome.job_id = record["job_id"].get<std::string>();
        return outcome;
      }
      spdlog::warn("application record {} is unreadable; submitting the job again",
                   outcome.record_path);
    }
  }

  // 3. Submit.
  ASSIGN_OR_RETURN(outcome.job_id, dispatcher->SubmitJob(graph, options.from_savepoint,
                                                         options.allow_non_restored_state));
  outcome.kind = ApplicationOutcome::Kind::kSubmitted;
  if (!options.ha_dir.empty()) {
    if (absl::Status s = WriteRecord(outcome.record_path, options, outcome.job_id, graph.name());
        !s.ok()) {
      // The job runs and is in the job store; only a later restart could submit it twice if
      // it ended before then.
      spdlog::error("application job {}: cannot record its submission: {}", outcome.job_id,
                    s.ToString());
    }
  }
  return outcome;
}

}  // namespace sluice::jobmanager
