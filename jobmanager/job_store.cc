#include "jobmanager/job_store.h"

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <tuple>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"

namespace sluice::jobmanager {
namespace {

namespace fs = std::filesystem;

// Job ids are generated (hex); anything else under jobs/ is not ours and never a path part.
bool IsJobId(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           c == '-' || c == '_';
  });
}

absl::Status WithContext(const absl::Status& s, absl::string_view what) {
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StrCat("job store: ", what, ": ", s.message()));
}

}  // namespace

absl::StatusOr<std::unique_ptr<DirectoryJobStore>> DirectoryJobStore::Open(std::string dir) {
  std::error_code ec;
  fs::create_directories(fs::path(dir) / "jobs", ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("job store: cannot create ", dir, "/jobs: ", ec.message()));
  }
  return std::unique_ptr<DirectoryJobStore>(new DirectoryJobStore(std::move(dir)));
}

std::string DirectoryJobStore::JobDir(const std::string& job_id) const {
  return absl::StrCat(dir_, "/jobs/", job_id);
}

absl::Status DirectoryJobStore::PutJob(const std::string& job_id, const proto::JobGraph& graph) {
  if (!IsJobId(job_id)) return absl::InvalidArgumentError(absl::StrCat("job store: bad job id '", job_id, "'"));
  const std::string dir = JobDir(job_id);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("job store: cannot create ", dir, ": ", ec.message()));
  std::string bytes;
  if (!graph.SerializeToString(&bytes)) {
    return absl::InternalError(absl::StrCat("job store: cannot serialize the graph of job ", job_id));
  }
  return WithContext(WriteFileAtomically(dir + "/jobgraph.pb", bytes),
                     absl::StrCat("saving job ", job_id));
}

absl::Status DirectoryJobStore::PutCheckpoint(const std::string& job_id,
                                              const CheckpointPointer& pointer) {
  if (!IsJobId(job_id)) return absl::InvalidArgumentError(absl::StrCat("job store: bad job id '", job_id, "'"));
  nlohmann::json json = {{"checkpoint_id", pointer.checkpoint_id},
                         {"metadata_path", pointer.metadata_path}};
  return WithContext(WriteFileAtomically(JobDir(job_id) + "/checkpoint", json.dump()),
                     absl::StrCat("saving checkpoint ", pointer.checkpoint_id, " of job ", job_id));
}

absl::Status DirectoryJobStore::PutAttempt(const std::string& job_id, int attempt,
                                           const std::vector<std::string>& taskmanagers) {
  if (!IsJobId(job_id)) return absl::InvalidArgumentError(absl::StrCat("job store: bad job id '", job_id, "'"));
  nlohmann::json json = {{"attempt", attempt}, {"taskmanagers", taskmanagers}};
  return WithContext(WriteFileAtomically(JobDir(job_id) + "/attempt", json.dump()),
                     absl::StrCat("saving attempt ", attempt, " of job ", job_id));
}

absl::Status DirectoryJobStore::RemoveJob(const std::string& job_id) {
  if (!IsJobId(job_id)) return absl::InvalidArgumentError(absl::StrCat("job store: bad job id '", job_id, "'"));
  // The graph goes first: an entry without it is never recovered, even if the rest of the
  // removal is cut short.
  std::error_code ec;
  fs::remove(JobDir(job_id) + "/jobgraph.pb", ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("job store: cannot remove ", JobDir(job_id), "/jobgraph.pb: ", ec.message()));
  }
  fs::remove_all(JobDir(job_id), ec);
  if (ec) spdlog::warn("job store: cannot remove {}: {}", JobDir(job_id), ec.message());
  return absl::OkStatus();
}

absl::StatusOr<StoredJob> DirectoryJobStore::ReadJob(const std::string& job_id) const {
  const std::string dir = JobDir(job_id);
  StoredJob job;
  job.job_id = job_id;
  absl::StatusOr<std::string> graph = ReadFile(dir + "/jobgraph.pb");
  if (!graph.ok()) return graph.status();
  if (!job.graph.ParseFromString(*graph) || job.graph.vertices_size() == 0) {
    return absl::DataLossError(absl::StrCat(dir, "/jobgraph.pb is truncated or corrupt"));
  }
  const std::string pointer_path = dir + "/checkpoint";
  if (fs::exists(pointer_path)) {
    absl::StatusOr<std::string> bytes = ReadFile(pointer_path);
    if (!bytes.ok()) return bytes.status();
    nlohmann::json json = nlohmann::json::parse(*bytes, nullptr, false);
    if (!json.is_object() || !json.contains("checkpoint_id") ||
        !json["checkpoint_id"].is_number_integer() || !json.contains("metadata_path") ||
        !json["metadata_path"].is_string() || json["checkpoint_id"].get<int64_t>() < 1) {
      return absl::DataLossError(absl::StrCat(pointer_path, " is not a checkpoint pointer"));
    }
    job.checkpoint = CheckpointPointer{json["checkpoint_id"].get<int64_t>(),
                                       json["metadata_path"].get<std::string>()};
  }
  const std::string attempt_path = dir + "/attempt";
  if (fs::exists(attempt_path)) {
    absl::StatusOr<std::string> bytes = ReadFile(attempt_path);
    if (!bytes.ok()) return bytes.status();
    nlohmann::json json = nlohmann::json::parse(*bytes, nullptr, false);
    if (!json.is_object() || !json.contains("attempt") || !json["attempt"].is_number_integer() ||
        !json.contains("taskmanagers") || !json["taskmanagers"].is_array()) {
      return absl::DataLossError(absl::StrCat(attempt_path, " is not an attempt record"));
    }
    job.last_attempt = json["attempt"].get<int>();
    for (const auto& tm : json["taskmanagers"]) {
      if (tm.is_string()) job.taskmanagers.push_back(tm.get<std::string>());
    }
  }
  return job;
}

absl::StatusOr<std::vector<StoredJob>> DirectoryJobStore::RecoverJobs() {
  const fs::path jobs_dir = fs::path(dir_) / "jobs";
  std::error_code ec;
  fs::directory_iterator it(jobs_dir, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("job store: cannot list ", jobs_dir.string(), ": ", ec.message()));
  }
  std::vector<std::tuple<fs::file_time_type, std::string, StoredJob>> found;
  for (const fs::directory_entry& entry : it) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_directory(ec) || !IsJobId(name)) {
      spdlog::warn("job store: skipping {} (not a job entry)", entry.path().string());
      continue;
    }
    absl::StatusOr<StoredJob> job = ReadJob(name);
    if (!job.ok()) {
      spdlog::error("job store: skipping job {}: {}", name, std::string(job.status().message()));
      continue;
    }
    fs::file_time_type submitted = fs::last_write_time(entry.path() / "jobgraph.pb", ec);
    found.emplace_back(submitted, name, *std::move(job));
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
    return std::tie(std::get<0>(a), std::get<1>(a)) < std::tie(std::get<0>(b), std::get<1>(b));
  });
  std::vector<StoredJob> jobs;
  jobs.reserve(found.size());
  for (auto& f : found) jobs.push_back(std::move(std::get<2>(f)));
  return jobs;
}

RecoveredCheckpoints ScanCheckpoints(const std::string& job_dir, int64_t up_to_id) {
  RecoveredCheckpoints out;
  std::error_code ec;
  std::vector<int64_t> ids;
  for (const fs::directory_entry& entry : fs::directory_iterator(job_dir, ec)) {
    const std::string name = entry.path().filename().string();
    int64_t id = 0;
    if (!absl::StartsWith(name, "chk-") || !absl::SimpleAtoi(name.substr(4), &id) || id < 1) continue;
    out.max_id = std::max(out.max_id, id);
    if (id <= up_to_id) ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());
  for (int64_t id : ids) {
    const std::string path = absl::StrCat(job_dir, "/chk-", id, "/_metadata");
    absl::StatusOr<std::string> bytes = ReadFile(path);
    proto::CheckpointMetadata metadata;
    if (!bytes.ok() || !metadata.ParseFromString(*bytes) || metadata.checkpoint_id() != id) {
      spdlog::warn("job store: {} is missing or corrupt; checkpoint {} is not recovered", path, id);
      continue;
    }
    out.completed.push_back(std::move(metadata));
  }
  return out;
}

}  // namespace sluice::jobmanager
