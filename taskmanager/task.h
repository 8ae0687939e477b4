// Task: one subtask of a job vertex, running its operator chain in ONE thread. Its inputs
// are a source operator or the input gates of the vertex's incoming edges; its outputs are
// one RecordWriter per outgoing edge. Records, flush timers and cancellation are all handled
// in that thread (the mailbox wakes it), so operators need no locks.
// Start/Cancel/Join/metrics are safe from any thread; the rest is internal to the task thread.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "common/clock.h"
#include "proto/control.pb.h"
#include "taskmanager/mailbox.h"
#include "taskmanager/network/network_environment.h"
#include "taskmanager/operators/operator.h"
#include "taskmanager/operators/watermark_generator.h"
#include "taskmanager/task_probe.h"
#include "taskmanager/task_state_manager.h"

namespace sluice::taskmanager {

// Descriptor config key: "false" turns off the task's record counters and idle-time
// accounting (bench/chain_bench.cc measures their cost with it; jobs cannot set it). Byte
// counters and backpressure time (per buffer, in the network stack) stay on.
inline constexpr char kTaskCountersKey[] = "metrics.task_counters";

// Receives the task's state changes (RUNNING, FINISHED, FAILED with cause, CANCELED).
using TaskStateListener = std::function<void(const proto::TaskStateUpdate&)>;

class Task {
 public:
  Task(proto::TaskDeploymentDescriptor tdd, network::NetworkEnvironment* network,
       const Clock* clock, TaskStateListener listener,
       TaskCheckpointServices checkpoint_services = {});
  ~Task();

  void Start();
  // Asks the task to stop; it reports CANCELED (unless it already finished or failed).
  void Cancel();
  void Join();
  // Checkpoint `checkpoint_id` starts at this task: a source task snapshots its chain and
  // emits the barrier; other tasks ignore it (their barriers come through their inputs).
  // `savepoint_dir` non-empty: a savepoint, written there self-contained.
  void TriggerCheckpoint(int64_t checkpoint_id, const std::string& savepoint_dir = "");
  // Checkpoint `checkpoint_id` completed (the chain commits) or was aborted.
  void NotifyCheckpoint(int64_t checkpoint_id, bool aborted);
  // True once the task ended and reported its final state (Join returns promptly).
  bool IsDone() const { return done_.load(); }

  const proto::TaskDeploymentDescriptor& descriptor() const { return tdd_; }
  proto::TaskMetrics Metrics() const;
  std::string name() const { return name_; }

 private:
  class ChainLink;
  class OutputCollector;
  class CountingCollector;
  class EventTimeCollector;

  void Run();
  absl::Status Build();
  absl::Status RunSource();
  absl::Status RunInputs();
  absl::Status FinishChain();
  // Where operators_[i] emits: the next operator, or the outputs.
  Collector* NextOf(size_t i) const;
  // Event time: the chain fires what is due at `watermark`, then every output gets it.
  // No-op unless it moves the task's event time forward.
  absl::Status AdvanceEventTime(int64_t watermark);
  // Tells every output that this task is idle (or active again).
  absl::Status SetIdle(bool idle);
  // A source's watermark generator said `event`.
  absl::Status ApplyWatermarkEvent(const WatermarkEvent& event);
  // The minimum watermark over the input gates (idle gates ignored) reached the chain.
  absl::Status UpdateInputWatermark();
  // Operators whose next processing-time timer is due fire it (their output goes down the
  // chain).
  absl::Status FireProcessingTimers();
  absl::Status FlushOutputsIfDue();
  int64_t NextWakeupMs(int64_t cap_ms) const;
  void Report(proto::TaskState state, const std::string& error);
  // mailbox_.Wait, counted as idle time (waiting for input).
  void WaitForInput(int64_t timeout_ms);
  void CloseAll();
  // Checkpoint `checkpoint_id` at this task: barrier to every output, then the snapshot.
  void PerformCheckpoint(int64_t checkpoint_id, int64_t alignment_us,
                         const std::string& savepoint_dir);
  // Barrier alignment across the input gates: checkpoints once every gate that has not
  // ended is aligned on the same barrier.
  void CheckAlignment();
  // Runs the mailbox's actions; an action's failure fails the task.
  absl::Status RunActions();
  proto::TaskDeploymentDescriptor tdd_;
  network::NetworkEnvironment* network_;
  const Clock* clock_;
  TaskStateListener listener_;
  std::string name_;
  OperatorContext ctx_;

  std::atomic<bool> canceled_{false};
  std::atomic<bool> done_{false};
  std::atomic<int64_t> records_in_{0};
  std::atomic<int64_t> records_out_{0};
  TaskProbe probe_;
  // Set once Build() is done: from then on writers_ and gates_ may be read by Metrics().
  std::atomic<bool> built_{false};
  Mailbox mailbox_;
  std::thread thread_;

  std::unique_ptr<SourceOperator> source_;
  std::vector<std::unique_ptr<Operator>> operators_;
  std::vector<std::unique_ptr<ChainLink>> links_;
  std::unique_ptr<OutputCollector> output_;  // the main output: writers of unnamed edges
  // Side outputs by name (edges with a side_output), handed to operators via ctx_.
  absl::flat_hash_map<std::string, std::unique_ptr<OutputCollector>> side_collectors_;
  absl::flat_hash_map<std::string, Collector*> side_outputs_;
  std::unique_ptr<CountingCollector> counting_head_;  // null when the counters are off
  std::unique_ptr<EventTimeCollector> event_time_head_;  // sources with a watermark
  Collector* head_ = nullptr;                         // where a source's batches go
  std::vector<std::unique_ptr<network::InputGate>> gates_;
  std::vector<std::unique_ptr<network::RecordWriter>> writers_;
  std::vector<StatefulOperator*> chain_;  // source (if any) then operators, as tdd_.chain()
  TaskStateManager state_;
  // Records in/out and idle time accounting; off only with kTaskCountersKey = "false".
  const bool count_metrics_;
  absl::Status action_error_;   // set by a mailbox action
  // Event time (task thread): the watermark the chain has seen and whether the outputs were
  // told this task is idle; the source's generator when it has `watermark:`. Mirrored into
  // atomics for Metrics().
  std::optional<SplitWatermarkGenerator> watermarks_;
  uint64_t gate_watermark_versions_ = 0;  // sum of the gates' watermark_version() last seen
  int64_t event_time_ = INT64_MIN;
  bool idle_ = false;
  std::atomic<int64_t> event_time_metric_{INT64_MIN};
  std::atomic<bool> idle_metric_{false};
  int64_t aligning_id_ = 0;     // barrier being aligned
  int64_t aligning_since_us_ = 0;
};

}  // namespace sluice::taskmanager
