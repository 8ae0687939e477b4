#include "jobmanager/checkpoint_coordinator.h"

#include <algorithm>
#include <limits>
#include <filesystem>
#include <system_error>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/duration.h"
#include "common/file_util.h"
#include "jobmanager/job_graph_checks.h"
#include "spdlog/spdlog.h"

namespace sluice::jobmanager {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxHistory = 50;

absl::Status ReadDuration(const proto::JobGraph& graph, const std::string& key, int64_t* out) {
  auto it = graph.config().find(key);
  if (it == graph.config().end()) return absl::OkStatus();
  absl::StatusOr<int64_t> ms = ParseDurationMillis(it->second);
  if (!ms.ok()) return absl::InvalidArgumentError(absl::StrCat(key, ": ", ms.status().message()));
  *out = *ms;
  return absl::OkStatus();
}

absl::Status ReadInt(const proto::JobGraph& graph, const std::string& key, int* out) {
  auto it = graph.config().find(key);
  if (it == graph.config().end()) return absl::OkStatus();
  if (!absl::SimpleAtoi(it->second, out) || *out < 1) {
    return absl::InvalidArgumentError(absl::StrCat(key, ": '", it->second, "' is not a positive integer"));
  }
  return absl::OkStatus();
}

// Every file a checkpoint's metadata references, relative to the job directory.
std::vector<proto::StateFile> FilesOf(const proto::CheckpointMetadata& metadata) {
  std::vector<proto::StateFile> files;
  for (const proto::TaskStateSnapshot& task : metadata.tasks()) {
    for (const proto::StateFile& f : task.keyed().files()) files.push_back(f);
  }
  return files;
}

}  // namespace

absl::StatusOr<CheckpointOptions> CheckpointOptionsForJob(const proto::JobGraph& graph,
                                                          const std::string& job_id,
                                                          const std::string& default_dir) {
  CheckpointOptions o;
  if (absl::Status s = ReadDuration(graph, "checkpointing.interval", &o.interval_ms); !s.ok()) return s;
  if (absl::Status s = ReadDuration(graph, "checkpointing.timeout", &o.timeout_ms); !s.ok()) return s;
  if (absl::Status s = ReadDuration(graph, "checkpointing.min_pause", &o.min_pause_ms); !s.ok()) return s;
  if (absl::Status s = ReadInt(graph, "checkpointing.max_concurrent", &o.max_concurrent); !s.ok()) return s;
  if (absl::Status s = ReadInt(graph, "checkpointing.retained", &o.retained); !s.ok()) return s;
  std::string dir = default_dir;
  if (auto it = graph.config().find("checkpointing.dir"); it != graph.config().end()) dir = it->second;
  if (o.interval_ms > 0) {
    if (dir.empty()) {
      return absl::InvalidArgumentError(
          "checkpointing.interval is set but there is no checkpoint directory (set "
          "checkpointing.dir in the job or state.checkpoints.dir in the cluster config)");
    }
    o.job_dir = (fs::absolute(dir) / job_id).string();
  }
  return o;
}

CheckpointCoordinator::CheckpointCoordinator(std::string job_id, CheckpointOptions options,
                                             const proto::JobGraph* graph, const Clock* clock)
    : job_id_(std::move(job_id)), options_(std::move(options)), graph_(graph), clock_(clock) {}

std::string CheckpointCoordinator::ChkDir(int64_t id) const {
  return absl::StrCat(options_.job_dir, "/chk-", id);
}

void CheckpointCoordinator::OnAllRunning(int attempt) {
  attempt_ = attempt;
  running_ = true;
  next_trigger_ms_ = enabled() ? clock_->NowMillis() + options_.interval_ms
                               : std::numeric_limits<int64_t>::max();
}

void CheckpointCoordinator::OnAttemptStopped(const std::string& reason) {
  running_ = false;
  std::vector<int64_t> ids;
  for (const auto& [id, p] : pending_) ids.push_back(id);
  for (int64_t id : ids) Abort(id, reason);
}

std::optional<int64_t> CheckpointCoordinator::NextTimerMs() const {
  if (!running_) return std::nullopt;
  if (!enabled() && pending_.empty()) return std::nullopt;
  int64_t next = next_trigger_ms_;
  for (const auto& [id, p] : pending_) next = std::min(next, p.trigger_ms + options_.timeout_ms);
  return next;
}

proto::CheckpointStats& CheckpointCoordinator::StatsFor(int64_t id) {
  for (auto it = history_.rbegin(); it != history_.rend(); ++it) {
    if (it->id() == id) return *it;
  }
  history_.emplace_back().set_id(id);
  if (history_.size() > kMaxHistory) history_.pop_front();
  return history_.back();
}

std::optional<int64_t> CheckpointCoordinator::MaybeTrigger(const std::vector<TaskKey>& tasks) {
  if (!running_) return std::nullopt;
  const int64_t now = clock_->NowMillis();
  std::vector<int64_t> expired;
  for (const auto& [id, p] : pending_) {
    if (now >= p.trigger_ms + options_.timeout_ms) expired.push_back(id);
  }
  for (int64_t id : expired) {
    Abort(id, absl::StrCat("checkpoint ", id, " expired before completing (checkpointing.timeout ",
                           FormatDurationMillis(options_.timeout_ms), ")"));
  }
  if (!enabled() || now < next_trigger_ms_) return std::nullopt;
  int checkpoints_pending = 0;
  for (const auto& [id, q] : pending_) checkpoints_pending += q.savepoint_path.empty();
  if (checkpoints_pending >= options_.max_concurrent ||
      now < last_completion_ms_ + options_.min_pause_ms) {
    next_trigger_ms_ = std::max(now + 10, last_completion_ms_ + options_.min_pause_ms);
    if (!pending_.empty()) next_trigger_ms_ = now + std::max<int64_t>(10, options_.interval_ms / 10);
    return std::nullopt;
  }
  Pending p = NewPending(tasks);
  const int64_t id = p.id;
  pending_.emplace(id, std::move(p));
  next_trigger_ms_ = now + options_.interval_ms;
  return id;
}

absl::StatusOr<std::pair<int64_t, std::string>> CheckpointCoordinator::TriggerSavepoint(
    const std::string& dir, const std::vector<TaskKey>& tasks) {
  if (!running_) {
    return absl::FailedPreconditionError(
        absl::StrCat("job ", job_id_, " is not running (a savepoint needs every task running)"));
  }
  if (dir.empty()) return absl::InvalidArgumentError("no savepoint directory given");
  Pending p = NewPending(tasks);
  p.savepoint_path = (fs::absolute(dir) / absl::StrCat("savepoint-", job_id_.substr(0, 6), "-", p.id))
                         .lexically_normal()
                         .string();
  std::error_code ec;
  fs::create_directories(p.savepoint_path, ec);
  if (ec) {
    --next_id_;  // nothing was triggered
    history_.pop_back();
    return absl::UnavailableError(
        absl::StrCat("cannot create savepoint directory ", p.savepoint_path, ": ", ec.message()));
  }
  proto::CheckpointStats& stats = StatsFor(p.id);
  stats.set_savepoint(true);
  stats.set_path(p.savepoint_path);
  std::pair<int64_t, std::string> result(p.id, p.savepoint_path);
  pending_.emplace(p.id, std::move(p));
  return result;
}

CheckpointCoordinator::Pending CheckpointCoordinator::NewPending(const std::vector<TaskKey>& tasks) {
  Pending p;
  p.id = next_id_++;
  p.attempt = attempt_;
  p.trigger_ms = clock_->NowMillis();
  p.trigger_wall_ms = clock_->WallMillis();
  p.waiting.insert(tasks.begin(), tasks.end());
  p.metadata.set_job_id(job_id_);
  p.metadata.set_checkpoint_id(p.id);
  p.metadata.set_trigger_time_ms(p.trigger_wall_ms);
  p.metadata.set_max_parallelism(EffectiveMaxParallelism(*graph_));
  for (const proto::JobVertex& v : graph_->vertices()) {
    proto::CheckpointMetadata::Vertex* mv = p.metadata.add_vertices();
    mv->set_vertex_id(v.id());
    mv->set_name(v.name());
    mv->set_parallelism(v.parallelism());
    for (const proto::OperatorSpec& op : v.chain()) mv->add_operator_names(op.name());
  }
  proto::CheckpointStats& stats = StatsFor(p.id);
  stats.set_status("IN_PROGRESS");
  stats.set_trigger_time_ms(p.trigger_wall_ms);
  stats.set_tasks(static_cast<int>(tasks.size()));
  return p;
}

std::optional<int64_t> CheckpointCoordinator::OnReport(const proto::CheckpointReport& report) {
  auto it = pending_.find(report.checkpoint_id());
  if (it == pending_.end() || report.attempt() != it->second.attempt) return std::nullopt;
  Pending& p = it->second;
  if (!report.decline_reason().empty()) {
    Abort(p.id, absl::StrCat("declined by ", report.decline_reason()));
    return std::nullopt;
  }
  if (p.waiting.erase({report.vertex_id(), report.subtask()}) == 0) return std::nullopt;
  *p.metadata.add_tasks() = report.state();
  proto::CheckpointStats& stats = StatsFor(p.id);
  stats.set_acknowledged(stats.acknowledged() + 1);
  stats.set_alignment_ms(
      std::max(stats.alignment_ms(), report.state().alignment_duration_us() / 1000));
  if (!p.waiting.empty()) return std::nullopt;
  const int64_t id = p.id;
  if (absl::Status s = Complete(p); !s.ok()) {
    Abort(id, std::string(s.message()));
    return std::nullopt;
  }
  pending_.erase(id);
  return id;
}

absl::Status CheckpointCoordinator::Complete(Pending& p) {
  const int64_t now = clock_->NowMillis();
  p.metadata.set_complete_time_ms(clock_->WallMillis());
  const bool savepoint = !p.savepoint_path.empty();
  p.metadata.set_savepoint(savepoint);
  const std::string dir = savepoint ? p.savepoint_path : ChkDir(p.id);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("cannot create ", dir, ": ", ec.message()));
  std::string bytes;
  p.metadata.SerializeToString(&bytes);
  if (absl::Status s = WriteFileAtomically(dir + "/_metadata", bytes); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat("writing the metadata of checkpoint ", p.id, ": ", s.message()));
  }
  if (!savepoint && options_.on_completed) {
    if (absl::Status s = options_.on_completed(p.id, dir + "/_metadata"); !s.ok()) return s;
  }
  int64_t size = static_cast<int64_t>(bytes.size());
  int64_t incremental = size;
  for (const proto::TaskStateSnapshot& t : p.metadata.tasks()) {
    size += t.keyed().total_size();
    incremental += t.keyed().incremental_size();
  }
  proto::CheckpointStats& stats = StatsFor(p.id);
  stats.set_status("COMPLETED");
  stats.set_duration_ms(now - p.trigger_ms);
  stats.set_size_bytes(size);
  stats.set_incremental_bytes(incremental);
  stats.set_path(dir);
  if (savepoint) {
    spdlog::info("job {}: savepoint {} completed in {} ms: {}", job_id_, p.id, stats.duration_ms(), dir);
    return absl::OkStatus();
  }
  ++num_completed_;
  last_completion_ms_ = now;
  completed_.push_back(p.id);
  completed_metadata_[p.id] = p.metadata;
  // Older pending checkpoints are subsumed by this one.
  std::vector<int64_t> older;
  for (const auto& [id, q] : pending_) {
    if (id < p.id) older.push_back(id);
  }
  for (int64_t id : older) Abort(id, absl::StrCat("subsumed by checkpoint ", p.id));
  Subsume();
  spdlog::info("job {}: checkpoint {} completed in {} ms ({} bytes)", job_id_, p.id,
               stats.duration_ms(), size);
  return absl::OkStatus();
}

void CheckpointCoordinator::Subsume() {
  while (static_cast<int>(completed_.size()) > options_.retained) {
    const int64_t dropped = completed_.front();
    completed_.pop_front();
    std::set<std::string> still_used;
    for (int64_t id : completed_) {
      for (const proto::StateFile& f : FilesOf(completed_metadata_[id])) {
        if (f.shared()) still_used.insert(f.path());
      }
    }
    std::error_code ec;
    for (const proto::StateFile& f : FilesOf(completed_metadata_[dropped])) {
      if (f.shared() && !still_used.count(f.path())) fs::remove(options_.job_dir + "/" + f.path(), ec);
    }
    completed_metadata_.erase(dropped);
    fs::remove_all(ChkDir(dropped), ec);
  }
}

void CheckpointCoordinator::Abort(int64_t id, const std::string& reason) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  const int64_t now = clock_->NowMillis();
  proto::CheckpointStats& stats = StatsFor(id);
  stats.set_status("FAILED");
  stats.set_failure(reason);
  stats.set_duration_ms(now - it->second.trigger_ms);
  ++num_failed_;
  spdlog::warn("job {}: checkpoint {} aborted: {}", job_id_, id, reason);
  // Its exclusive directory goes. New shared files it uploaded stay until the job's
  // directory is removed: backends reuse a shared file only after a checkpoint that
  // references it completed, so nothing ever points at them.
  std::error_code ec;
  fs::remove_all(it->second.savepoint_path.empty() ? ChkDir(id) : it->second.savepoint_path, ec);
  pending_.erase(it);
  aborted_.push_back(id);
  if (aborted_.size() > kMaxHistory) aborted_.erase(aborted_.begin());  // nobody took them
}

std::vector<int64_t> CheckpointCoordinator::TakeAborted() {
  std::vector<int64_t> out;
  out.swap(aborted_);
  return out;
}

void CheckpointCoordinator::RecoverCompleted(const proto::CheckpointMetadata& metadata) {
  const int64_t id = metadata.checkpoint_id();
  if (completed_metadata_.count(id)) return;
  completed_.insert(std::upper_bound(completed_.begin(), completed_.end(), id), id);
  completed_metadata_[id] = metadata;
  ContinueIdsAfter(id);
  proto::CheckpointStats& stats = StatsFor(id);
  stats.set_status("COMPLETED");
  stats.set_trigger_time_ms(metadata.trigger_time_ms());
  stats.set_duration_ms(metadata.complete_time_ms() - metadata.trigger_time_ms());
  stats.set_tasks(metadata.tasks_size());
  stats.set_acknowledged(metadata.tasks_size());
  stats.set_path(ChkDir(id));
  spdlog::info("job {}: recovered completed checkpoint {} ({})", job_id_, id, ChkDir(id));
}

std::optional<proto::CheckpointMetadata> CheckpointCoordinator::LatestForRestore() {
  for (auto it = completed_.rbegin(); it != completed_.rend(); ++it) {
    const std::string path = ChkDir(*it) + "/_metadata";
    absl::StatusOr<std::string> bytes = ReadFile(path);
    proto::CheckpointMetadata metadata;
    std::string problem;
    if (!bytes.ok()) {
      problem = std::string(bytes.status().message());
    } else if (!metadata.ParseFromString(*bytes) || metadata.checkpoint_id() != *it) {
      problem = absl::StrCat(path, " is truncated or corrupt");
    } else {
      for (const proto::StateFile& f : FilesOf(metadata)) {
        const std::string file = options_.job_dir + "/" + f.path();
        std::error_code ec;
        const auto size = fs::file_size(file, ec);
        if (ec || static_cast<int64_t>(size) != f.size()) {
          problem = ec ? absl::StrCat(file, " is missing")
                       : absl::StrCat(file, " has ", size, " bytes, expected ", f.size());
          break;
        }
      }
    }
    if (problem.empty()) return metadata;
    spdlog::error("job {}: checkpoint {} cannot be restored ({}); falling back to an older one",
                  job_id_, *it, problem);
  }
  return std::nullopt;
}

}  // namespace sluice::jobmanager
