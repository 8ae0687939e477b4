#include "taskmanager/task_state_manager.h"

#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace sluice::taskmanager {
namespace {

int64_t SteadyMicros() { return MonotonicNanos() / 1000; }

bool Overlaps(const proto::KeyedStateHandle& handle, const state::KeyGroupRange& range) {
  return handle.key_group_first() <= range.last && handle.key_group_last() >= range.first;
}

}  // namespace

TaskStateManager::TaskStateManager(const proto::TaskDeploymentDescriptor& tdd,
                                   TaskCheckpointServices services, const Clock* clock,
                                   std::string task_name)
    : tdd_(tdd), services_(std::move(services)), clock_(clock), task_name_(std::move(task_name)) {}

TaskStateManager::~TaskStateManager() = default;

bool TaskStateManager::IncrementalCheckpoints() const {
  auto it = tdd_.config().find("state.incremental");
  return it == tdd_.config().end() || it->second != "false";
}

absl::StatusOr<state::KeyedStateBackend*> TaskStateManager::KeyedBackend() {
  if (keyed_ != nullptr) return keyed_.get();
  state::BackendOptions options;
  options.kind = state::BackendKind::kHeap;
  if (auto it = tdd_.config().find("state.backend"); it != tdd_.config().end()) {
    absl::StatusOr<state::BackendKind> kind = state::ParseBackendKind(it->second);
    if (!kind.ok()) return kind.status();
    options.kind = *kind;
  }
  options.max_parallelism =
      tdd_.max_parallelism() > 0 ? tdd_.max_parallelism() : network::kDefaultMaxParallelism;
  options.key_groups = network::KeyGroupRangeForOperatorIndex(
      options.max_parallelism, std::max(1, tdd_.parallelism()), tdd_.subtask());
  const std::string base = services_.local_state_dir.empty()
                               ? (std::filesystem::temp_directory_path() / "sluice-state").string()
                               : services_.local_state_dir;
  options.local_dir = absl::StrCat(base, "/", tdd_.job_id(), "-a", tdd_.attempt(), "-v",
                                   tdd_.vertex_id(), "-s", tdd_.subtask());
  options.clock = clock_;
  absl::StatusOr<std::unique_ptr<state::KeyedStateBackend>> backend =
      state::CreateKeyedStateBackend(options);
  if (!backend.ok()) {
    return absl::Status(backend.status().code(),
                        absl::StrCat("creating the keyed state backend: ", backend.status().message()));
  }
  if (tdd_.restore_checkpoint_id() > 0) {
    std::vector<proto::KeyedStateHandle> handles;
    for (const proto::TaskStateSnapshot& old : tdd_.restore_state()) {
      if (old.has_keyed() && Overlaps(old.keyed(), options.key_groups)) {
        handles.push_back(old.keyed());
      }
    }
    if (absl::Status s = (*backend)->Restore(tdd_.restore_dir(), handles); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat("restoring keyed state of checkpoint ",
                                                 tdd_.restore_checkpoint_id(), ": ", s.message()));
    }
  }
  keyed_ = *std::move(backend);
  return keyed_.get();
}

absl::Status TaskStateManager::InitializeChain(const std::vector<StatefulOperator*>& chain) {
  for (size_t i = 0; i < chain.size(); ++i) {
    StateInitContext ctx;
    ctx.keyed_backend = [this] { return KeyedBackend(); };
    ctx.restored = tdd_.restore_checkpoint_id() > 0;
    ctx.checkpoint_id = tdd_.restore_checkpoint_id();
    for (const proto::TaskStateSnapshot& old : tdd_.restore_state()) {
      for (const proto::OperatorSubtaskState& op : old.operators()) {
        if (op.chain_index() == static_cast<int>(i)) ctx.operator_state.push_back(op.operator_state());
      }
    }
    if (absl::Status s = chain[i]->InitializeState(ctx); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat("operator '", tdd_.chain(static_cast<int>(i)).name(),
                                                 "': restoring its state: ", s.message()));
    }
  }
  return absl::OkStatus();
}

void TaskStateManager::Decline(int64_t checkpoint_id, const absl::Status& why) {
  spdlog::warn("{}: declining checkpoint {}: {}", task_name_, checkpoint_id, why.ToString());
  proto::CheckpointReport report;
  report.set_job_id(tdd_.job_id());
  report.set_attempt(tdd_.attempt());
  report.set_vertex_id(tdd_.vertex_id());
  report.set_subtask(tdd_.subtask());
  report.set_checkpoint_id(checkpoint_id);
  report.set_decline_reason(absl::StrCat(task_name_, ": ", why.message()));
  if (services_.report) services_.report(report);
}

void TaskStateManager::Checkpoint(int64_t checkpoint_id, const std::vector<StatefulOperator*>& chain,
                                  int64_t alignment_us, const std::string& savepoint_dir) {
  const int64_t start_us = SteadyMicros();
  auto report = std::make_shared<proto::CheckpointReport>();
  report->set_job_id(tdd_.job_id());
  report->set_attempt(tdd_.attempt());
  report->set_vertex_id(tdd_.vertex_id());
  report->set_subtask(tdd_.subtask());
  report->set_checkpoint_id(checkpoint_id);
  proto::TaskStateSnapshot* snapshot = report->mutable_state();
  snapshot->set_vertex_id(tdd_.vertex_id());
  snapshot->set_subtask(tdd_.subtask());
  snapshot->set_alignment_duration_us(alignment_us);
  for (size_t i = 0; i < chain.size(); ++i) {
    absl::StatusOr<std::string> blob = chain[i]->SnapshotState(checkpoint_id);
    const std::string& name = tdd_.chain(static_cast<int>(i)).name();
    if (!blob.ok()) {
      return Decline(checkpoint_id, absl::Status(blob.status().code(),
                                                 absl::StrCat("operator '", name, "': ",
                                                              blob.status().message())));
    }
    if (blob->empty()) continue;
    proto::OperatorSubtaskState* op = snapshot->add_operators();
    op->set_chain_index(static_cast<int>(i));
    op->set_operator_name(name);
    op->set_operator_state(*std::move(blob));
    op->set_union_state(chain[i]->UnionOperatorState());
  }
  std::shared_ptr<state::SnapshotRunner> runner;
  const bool savepoint = !savepoint_dir.empty();
  const std::string exclusive = savepoint ? "" : absl::StrCat("chk-", checkpoint_id);
  const std::string base = savepoint ? savepoint_dir : tdd_.checkpoint_job_dir();
  if (keyed_ != nullptr) {
    state::SnapshotTarget target;
    target.checkpoint_id = checkpoint_id;
    target.job_dir = base;
    target.exclusive_subdir = exclusive;
    // A savepoint, or a full (non-incremental) checkpoint: every file in its own directory.
    target.self_contained = savepoint || !IncrementalCheckpoints();
    target.file_prefix = absl::StrCat("v", tdd_.vertex_id(), "-s", tdd_.subtask());
    absl::StatusOr<std::unique_ptr<state::SnapshotRunner>> started = keyed_->Snapshot(target);
    if (!started.ok()) return Decline(checkpoint_id, started.status());
    runner = *std::move(started);
  }
  snapshot->set_sync_duration_us(SteadyMicros() - start_us);
  const std::string dir = savepoint ? base : absl::StrCat(base, "/", exclusive);
  snapshotter_.Submit([this, report, runner, dir, checkpoint_id] {
    const int64_t async_start = SteadyMicros();
    if (runner != nullptr) {
      std::error_code ec;
      std::filesystem::create_directories(dir, ec);
      if (ec) {
        return Decline(checkpoint_id, absl::UnavailableError(absl::StrCat(
                                          "cannot create checkpoint directory ", dir, ": ",
                                          ec.message())));
      }
      absl::StatusOr<proto::KeyedStateHandle> handle = runner->Run();
      if (!handle.ok()) return Decline(checkpoint_id, handle.status());
      *report->mutable_state()->mutable_keyed() = *std::move(handle);
    }
    report->mutable_state()->set_async_duration_us(SteadyMicros() - async_start);
    if (services_.report) services_.report(*report);
  });
}

absl::Status TaskStateManager::NotifyComplete(int64_t checkpoint_id,
                                              const std::vector<StatefulOperator*>& chain) {
  for (size_t i = 0; i < chain.size(); ++i) {
    if (absl::Status s = chain[i]->NotifyCheckpointComplete(checkpoint_id); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat("operator '", tdd_.chain(static_cast<int>(i)).name(),
                                                 "': committing checkpoint ", checkpoint_id, ": ",
                                                 s.message()));
    }
  }
  if (keyed_ != nullptr) keyed_->NotifyCheckpointComplete(checkpoint_id);
  return absl::OkStatus();
}

}  // namespace sluice::taskmanager
