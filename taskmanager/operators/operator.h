// Operator interfaces of the task runtime. A task runs a chain of operators in its one
// thread: a SourceOperator or the task's input gates feed chain[0]; each operator hands its
// output batch to a Collector (the next operator, or the task's record writers at the end of
// the chain). Batches pass down the chain by reference: no copy, no serialization.
// Every method is called from the task thread only (external synchronization not needed).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/types/record_batch.h"
#include "proto/jobgraph.pb.h"

namespace sluice::state {
class KeyedStateBackend;
}

namespace sluice::taskmanager {

// Receives the batches an operator emits. The callee may modify the batch (e.g. filter it in
// place); the caller must not use it after Collect returns.
class Collector {
 public:
  virtual ~Collector() = default;
  virtual absl::Status Collect(types::RecordBatch& batch) = 0;
};

// What an operator knows about the task it runs in.
struct OperatorContext {
  std::string job_id;
  std::string job_name;
  int attempt = 0;
  int vertex_id = 0;
  std::string task_name;  // "<vertex name> (<subtask+1>/<parallelism>)"
  int subtask = 0;
  int parallelism = 1;
  int max_parallelism = 128;
  const Clock* clock = nullptr;
  // The job takes checkpoints (sinks then commit per checkpoint instead of at the end).
  bool checkpointing = false;
  // Set when the task is being canceled: long-running calls should return promptly.
  const std::atomic<bool>* canceled = nullptr;
  bool IsCanceled() const { return canceled != nullptr && canceled->load(); }
  // Wakes the task thread; callable from any thread. A source whose client receives data
  // while the task waits after kIdle calls it, so the task polls again at once instead of
  // after idle_wait_ms. Empty outside a task (then idle_wait_ms applies).
  std::function<void()> wake_up;
  // The task's side outputs by name (JobEdge.side_output, e.g. a window's late_output): the
  // collector that sends records to every edge reading it. Null or without the name: no
  // edge reads it.
  const absl::flat_hash_map<std::string, Collector*>* side_outputs = nullptr;

  // The collector of side output `name`; FailedPrecondition naming `op` when no edge reads it.
  absl::StatusOr<Collector*> SideOutput(absl::string_view op, const std::string& name) const;
};

// What an operator restores from and where its keyed state lives.
struct StateInitContext {
  // The task's keyed state backend (the job's `state.backend`, covering the key groups of
  // this subtask), created and restored on first call.
  std::function<absl::StatusOr<state::KeyedStateBackend*>()> keyed_backend;
  // True when the task starts from a checkpoint or savepoint (even if this operator had no
  // state in it).
  bool restored = false;
  int64_t checkpoint_id = 0;  // the checkpoint (or savepoint) restored from; 0: none
  // This operator's non-keyed state in that checkpoint: one entry per old subtask whose state
  // this subtask takes over (exactly one when the parallelism did not change; entries of old
  // subtasks beyond the new parallelism are spread round robin). For an operator whose
  // UnionOperatorState() is true: the entries of EVERY old subtask, on every subtask.
  std::vector<std::string> operator_state;
};

// Checkpointing hooks shared by operators and sources. Called in the task thread:
// InitializeState once after Open; SnapshotState when the checkpoint barrier passes the
// operator (after it processed every record before the barrier, before any after it);
// NotifyCheckpointComplete when the whole checkpoint completed (sinks commit here).
class StatefulOperator {
 public:
  virtual ~StatefulOperator() = default;
  virtual absl::Status InitializeState(StateInitContext& ctx) { return absl::OkStatus(); }
  // The operator's non-keyed state (keyed state is snapshotted by the backend); empty when
  // it has none.
  virtual absl::StatusOr<std::string> SnapshotState(int64_t checkpoint_id) {
    return std::string();
  }
  virtual absl::Status NotifyCheckpointComplete(int64_t checkpoint_id) {
    return absl::OkStatus();
  }
  // true: the operator's non-keyed state is redistributed as a union on restore (Flink's
  // union list state): every new subtask gets every old subtask's entry and keeps what it
  // owns now, so the state survives any change of parallelism (Kafka partition offsets).
  virtual bool UnionOperatorState() const { return false; }
};

// Source records that could not be decoded: skipped (on_error: skip) or written to the
// dead-letter sink (on_error: dead_letter).
struct BadRecordCounts {
  int64_t skipped = 0;
  int64_t dead_lettered = 0;
};

class Operator : public StatefulOperator {
 public:
  virtual absl::Status Open(const OperatorContext& ctx) { return absl::OkStatus(); }
  // One batch from input `input` (index of the vertex input edge; 0 inside a chain).
  virtual absl::Status ProcessBatch(int input, types::RecordBatch& batch, Collector& out) = 0;
  // Event time reached `watermark` (µs; the minimum over the task's inputs, INT64_MAX once
  // they all ended): fire what is due (windows, timers) into `out`. Called in order with
  // the batches: every batch before the watermark was processed, none after it.
  virtual absl::Status ProcessWatermark(int64_t watermark, Collector& out) {
    return absl::OkStatus();
  }
  // Processing time (the task's clock, ms) reached `now_ms`: fire what was due by then into
  // `out`. The task calls it between batches once NextProcessingTime() has passed.
  virtual absl::Status ProcessProcessingTime(int64_t now_ms, Collector& out) {
    return absl::OkStatus();
  }
  // When (ms) the operator next wants ProcessProcessingTime; nullopt: never.
  virtual std::optional<int64_t> NextProcessingTime() const { return std::nullopt; }
  // Records dropped because they came later than their windows' allowed lateness (metrics;
  // any thread).
  virtual int64_t late_records_dropped() const { return 0; }
  // Every input has ended (bounded stream): emit what is buffered and finish, e.g. a file
  // sink commits its part file here. The watermark reached INT64_MAX before.
  virtual absl::Status Finish(Collector& out) { return absl::OkStatus(); }
  // Releases resources; called after Finish, or instead of it on failure or cancellation
  // (then nothing is committed).
  virtual absl::Status Close() { return absl::OkStatus(); }
};

enum class SourcePoll {
  kMore,  // produced data or may produce more right away
  kIdle,  // nothing now (rate limit, no new data): call again after `idle_wait_ms`
  kEnd,   // exhausted: the bounded stream has ended
};

class SourceOperator : public StatefulOperator {
 public:
  virtual absl::Status Open(const OperatorContext& ctx) { return absl::OkStatus(); }
  // Emits up to about one batch (~1024 rows) into `out`.
  virtual absl::StatusOr<SourcePoll> PollNext(Collector& out) = 0;
  // How long the task may wait before polling again after kIdle.
  virtual int64_t idle_wait_ms() const { return 1; }
  // Per-split event time (SplitWatermarkGenerator): a source reading several splits at once
  // (Kafka partitions) emits every batch from one split, numbered 0..NumSplits()-1 in the
  // order it took them; CurrentSplit() is the split of the batch being collected (valid
  // during Collect). The task keeps a watermark per split. Default: one split.
  virtual int NumSplits() const { return 1; }
  virtual int CurrentSplit() const { return 0; }
  virtual absl::Status Close() { return absl::OkStatus(); }
  // Records the format could not decode, by on_error (metrics; any thread).
  virtual BadRecordCounts bad_records() const { return {}; }
};

// Builds the operator of a spec (filter, select, aggregate, union, sinks, user operators).
absl::StatusOr<std::unique_ptr<Operator>> CreateOperator(const proto::OperatorSpec& spec);
// Builds the source of a spec (file, datagen, kafka).
absl::StatusOr<std::unique_ptr<SourceOperator>> CreateSource(const proto::OperatorSpec& spec);
bool IsSourceSpec(const proto::OperatorSpec& spec);

}  // namespace sluice::taskmanager
