#include "taskmanager/task.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "common/duration.h"
#include "common/status_macros.h"
#include "spdlog/spdlog.h"
#include "taskmanager/operators/basic_operators.h"

namespace sluice::taskmanager {

// Hands a batch to chain member `op` with the next collector as its output.
class Task::ChainLink : public Collector {
 public:
  ChainLink(Operator* op, Collector* next) : op_(op), next_(next) {}
  absl::Status Collect(types::RecordBatch& batch) override {
    return op_->ProcessBatch(0, batch, *next_);
  }

 private:
  Operator* op_;
  Collector* next_;
};

// End of the chain (or a side output): each of its record writers gets the batch.
// `records_out` may be null (counters off).
class Task::OutputCollector : public Collector {
 public:
  explicit OutputCollector(std::atomic<int64_t>* records_out) : records_out_(records_out) {}
  void AddWriter(network::RecordWriter* writer) { writers_.push_back(writer); }
  absl::Status Collect(types::RecordBatch& batch) override {
    for (network::RecordWriter* writer : writers_) RETURN_IF_ERROR(writer->Emit(batch));
    if (records_out_ != nullptr && !writers_.empty()) {
      records_out_->fetch_add(batch.num_rows(), std::memory_order_relaxed);
    }
    return absl::OkStatus();
  }

 private:
  std::vector<network::RecordWriter*> writers_;
  std::atomic<int64_t>* records_out_;
};

// Counts the records a source emits, then passes them to the chain.
class Task::CountingCollector : public Collector {
 public:
  CountingCollector(Collector* next, std::atomic<int64_t>* count) : next_(next), count_(count) {}
  absl::Status Collect(types::RecordBatch& batch) override {
    count_->fetch_add(batch.num_rows(), std::memory_order_relaxed);
    return next_->Collect(batch);
  }

 private:
  Collector* next_;
  std::atomic<int64_t>* count_;
};

// A source's batches pass through its watermark generator (one per split the source reads)
// on the way to the chain: a source that was idle announces it is active before its batch.
class Task::EventTimeCollector : public Collector {
 public:
  EventTimeCollector(Task* task, Collector* next) : task_(task), next_(next) {}
  absl::Status Collect(types::RecordBatch& batch) override {
    if (std::optional<WatermarkEvent> e =
            task_->watermarks_->OnBatch(task_->source_->CurrentSplit(), batch)) {
      RETURN_IF_ERROR(task_->ApplyWatermarkEvent(*e));
    }
    return next_->Collect(batch);
  }

 private:
  Task* task_;
  Collector* next_;
};

Task::Task(proto::TaskDeploymentDescriptor tdd, network::NetworkEnvironment* network,
           const Clock* clock, TaskStateListener listener,
           TaskCheckpointServices checkpoint_services)
    : tdd_(std::move(tdd)),
      network_(network),
      clock_(clock),
      listener_(std::move(listener)),
      name_(absl::StrCat(tdd_.vertex_name(), " (", tdd_.subtask() + 1, "/", tdd_.parallelism(), ")")),
      state_(tdd_, std::move(checkpoint_services), clock_, name_),
      count_metrics_(!tdd_.config().contains(kTaskCountersKey) ||
                     tdd_.config().at(kTaskCountersKey) != "false") {
  ctx_.job_id = tdd_.job_id();
  ctx_.attempt = tdd_.attempt();
  ctx_.vertex_id = tdd_.vertex_id();
  ctx_.task_name = name_;
  ctx_.subtask = tdd_.subtask();
  ctx_.parallelism = tdd_.parallelism();
  ctx_.max_parallelism = tdd_.max_parallelism();
  ctx_.clock = clock_;
  ctx_.canceled = &canceled_;
  ctx_.wake_up = [this] { mailbox_.Notify(); };
  ctx_.checkpointing = !tdd_.checkpoint_job_dir().empty();
}

Task::~Task() {
  Cancel();
  Join();
}

void Task::Start() { thread_ = std::thread([this] { Run(); }); }

void Task::Cancel() {
  canceled_ = true;
  mailbox_.Notify();
}

void Task::Join() {
  if (thread_.joinable()) thread_.join();
}

void Task::TriggerCheckpoint(int64_t checkpoint_id, const std::string& savepoint_dir) {
  mailbox_.Post([this, checkpoint_id, savepoint_dir] {
    if (source_ != nullptr) PerformCheckpoint(checkpoint_id, 0, savepoint_dir);
  });
}

void Task::NotifyCheckpoint(int64_t checkpoint_id, bool aborted) {
  if (aborted) return;  // uncommitted data stays pending until a later checkpoint commits it
  mailbox_.Post([this, checkpoint_id] {
    absl::Status s = state_.NotifyComplete(checkpoint_id, chain_);
    if (!s.ok() && action_error_.ok()) action_error_ = s;
  });
}

absl::Status Task::RunActions() {
  mailbox_.RunActions();
  return action_error_;
}

void Task::PerformCheckpoint(int64_t checkpoint_id, int64_t alignment_us,
                             const std::string& savepoint_dir) {
  if (!state_.enabled() && savepoint_dir.empty()) return;
  for (auto& writer : writers_) {
    absl::Status s = writer->BroadcastBarrier(checkpoint_id, savepoint_dir);
    if (!s.ok()) {
      if (action_error_.ok()) action_error_ = s;
      return;
    }
  }
  state_.Checkpoint(checkpoint_id, chain_, alignment_us, savepoint_dir);
}

void Task::CheckAlignment() {
  int64_t newest = 0;
  std::string savepoint_dir;
  for (const auto& gate : gates_) {
    if (gate->IsFinished() || gate->pending_barrier() <= newest) continue;
    newest = gate->pending_barrier();
    savepoint_dir = gate->pending_savepoint_dir();
  }
  if (newest == 0) return;
  if (newest != aligning_id_) {
    aligning_id_ = newest;
    aligning_since_us_ = clock_->NowMillis() * 1000;
  }
  bool aligned = true;
  for (const auto& gate : gates_) {
    if (gate->IsFinished()) continue;
    const int64_t pending = gate->pending_barrier();
    if (pending != 0 && pending < newest) gate->ResumeAfterBarrier();  // superseded
    if (gate->aligned_barrier() != newest) aligned = false;
  }
  if (!aligned) return;
  PerformCheckpoint(newest, clock_->NowMillis() * 1000 - aligning_since_us_, savepoint_dir);
  for (const auto& gate : gates_) gate->ResumeAfterBarrier();
  aligning_id_ = 0;
}

proto::TaskMetrics Task::Metrics() const {
  proto::TaskMetrics m;
  m.set_job_id(tdd_.job_id());
  m.set_attempt(tdd_.attempt());
  m.set_vertex_id(tdd_.vertex_id());
  m.set_subtask(tdd_.subtask());
  m.set_records_in(records_in_.load(std::memory_order_relaxed));
  m.set_records_out(records_out_.load(std::memory_order_relaxed));
  m.set_vertex_name(tdd_.vertex_name());
  int64_t backpressured_ns = 0;
  if (built_.load(std::memory_order_acquire)) {  // writers_ and gates_ no longer change
    int64_t bytes_out = 0;
    int out_buffers = 0, out_used = 0;
    for (const auto& writer : writers_) {
      bytes_out += writer->bytes_out();
      backpressured_ns += writer->backpressured_ns();
      out_buffers += writer->pool_size();
      out_used += writer->pool_in_use();
    }
    int64_t bytes_in = 0;
    int in_buffers = 0, in_used = 0;
    for (const auto& gate : gates_) {
      bytes_in += gate->bytes_in();
      network::InputGateStats stats = gate->stats();
      in_buffers += stats.reserved_buffers;
      in_used += stats.queued_buffers;
    }
    m.set_bytes_out(bytes_out);
    m.set_bytes_in(bytes_in);
    m.set_out_pool_buffers(out_buffers);
    m.set_out_pool_used(out_used);
    m.set_in_pool_buffers(in_buffers);
    m.set_in_pool_used(in_used);
  }
  probe_.Fill(backpressured_ns, &m);
  const int64_t watermark = event_time_metric_.load(std::memory_order_relaxed);
  m.set_has_watermark(watermark != INT64_MIN);
  if (watermark != INT64_MIN) m.set_watermark(watermark);
  m.set_watermark_idle(idle_metric_.load(std::memory_order_relaxed));
  if (built_.load(std::memory_order_acquire)) {
    int64_t late = 0;
    for (const auto& op : operators_) late += op->late_records_dropped();
    m.set_late_records_dropped(late);
    if (source_ != nullptr) {
      const BadRecordCounts bad = source_->bad_records();
      m.set_bad_records_skipped(bad.skipped);
      m.set_bad_records_dead_lettered(bad.dead_lettered);
    }
  }
  return m;
}

void Task::Report(proto::TaskState state, const std::string& error) {
  proto::TaskStateUpdate update;
  update.set_job_id(tdd_.job_id());
  update.set_attempt(tdd_.attempt());
  update.set_vertex_id(tdd_.vertex_id());
  update.set_subtask(tdd_.subtask());
  update.set_state(state);
  update.set_error(error);
  *update.mutable_metrics() = Metrics();
  listener_(update);
}

absl::Status Task::Build() {
  const auto& chain = tdd_.chain();
  if (chain.empty()) return absl::InvalidArgumentError("task has an empty operator chain");
  int first = 0;
  if (IsSourceSpec(chain[0])) {
    ASSIGN_OR_RETURN(source_, CreateSource(chain[0]));
    first = 1;
  } else if (tdd_.inputs().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("operator '", chain[0].name(), "' has no input and is not a source"));
  }
  for (int i = first; i < chain.size(); ++i) {
    ASSIGN_OR_RETURN(auto op, CreateOperator(chain[i]));
    operators_.push_back(std::move(op));
  }
  std::optional<int64_t> buffer_timeout_ms;  // the job's `buffer_timeout`, if set
  if (auto it = tdd_.config().find("buffer_timeout"); it != tdd_.config().end()) {
    absl::StatusOr<int64_t> ms = ParseDurationMillis(it->second);
    if (!ms.ok()) return absl::InvalidArgumentError(absl::StrCat("buffer_timeout: ", ms.status().message()));
    buffer_timeout_ms = *ms;
  }
  for (const proto::OutputDescriptor& out : tdd_.outputs()) {
    ASSIGN_OR_RETURN(types::Schema schema, types::Schema::FromProto(out.schema()));
    ASSIGN_OR_RETURN(auto writer, network_->CreateRecordWriter(
                                      tdd_.job_id(), tdd_.attempt(), out,
                                      std::make_shared<const types::Schema>(std::move(schema)),
                                      tdd_.max_parallelism(), &canceled_, buffer_timeout_ms));
    writers_.push_back(std::move(writer));
  }
  for (const proto::InputGateDescriptor& in : tdd_.inputs()) {
    ASSIGN_OR_RETURN(types::Schema schema, types::Schema::FromProto(in.schema()));
    ASSIGN_OR_RETURN(auto gate, network_->CreateInputGate(
                                    tdd_.job_id(), tdd_.attempt(), in,
                                    std::make_shared<const types::Schema>(std::move(schema)),
                                    [this] { mailbox_.Notify(); }));
    gates_.push_back(std::move(gate));
  }
  std::atomic<int64_t>* records_out = count_metrics_ ? &records_out_ : nullptr;
  output_ = std::make_unique<OutputCollector>(records_out);
  for (int w = 0; w < tdd_.outputs_size(); ++w) {
    const std::string& side = tdd_.outputs(w).side_output();
    std::unique_ptr<OutputCollector>& target = side.empty() ? output_ : side_collectors_[side];
    if (target == nullptr) target = std::make_unique<OutputCollector>(records_out);
    target->AddWriter(writers_[w].get());
  }
  for (auto& [name, collector] : side_collectors_) side_outputs_[name] = collector.get();
  ctx_.side_outputs = &side_outputs_;
  // links_[i] feeds operators_[i]; the last operator writes to output_.
  links_.resize(operators_.size());
  for (int i = static_cast<int>(operators_.size()) - 1; i >= 0; --i) {
    Collector* next = i + 1 < static_cast<int>(operators_.size())
                          ? static_cast<Collector*>(links_[i + 1].get())
                          : output_.get();
    links_[i] = std::make_unique<ChainLink>(operators_[i].get(), next);
  }
  Collector* first_link = links_.empty() ? static_cast<Collector*>(output_.get()) : links_[0].get();
  if (count_metrics_) {
    counting_head_ = std::make_unique<CountingCollector>(first_link, &records_in_);
    head_ = counting_head_.get();
  } else {
    head_ = first_link;
  }
  if (source_ && !chain[0].watermark().column().empty()) {
    ASSIGN_OR_RETURN(types::SchemaPtr schema, OutputSchemaOf(chain[0]));
    absl::StatusOr<SplitWatermarkGenerator> generator =
        SplitWatermarkGenerator::Create(chain[0].watermark(), *schema, clock_);
    if (!generator.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("source '", chain[0].name(), "': ", generator.status().message()));
    }
    watermarks_.emplace(*std::move(generator));
    event_time_head_ = std::make_unique<EventTimeCollector>(this, head_);
    head_ = event_time_head_.get();
  }

  built_.store(true, std::memory_order_release);

  if (source_) RETURN_IF_ERROR(source_->Open(ctx_));
  for (auto& op : operators_) RETURN_IF_ERROR(op->Open(ctx_));
  if (source_) chain_.push_back(source_.get());
  for (auto& op : operators_) chain_.push_back(op.get());
  return state_.InitializeChain(chain_);
}

void Task::WaitForInput(int64_t timeout_ms) {
  if (!count_metrics_) {
    mailbox_.Wait(timeout_ms);
    return;
  }
  const int64_t start = MonotonicNanos();
  mailbox_.Wait(timeout_ms);
  probe_.AddIdle(MonotonicNanos() - start);
}

int64_t Task::NextWakeupMs(int64_t cap_ms) const {
  int64_t deadline = std::numeric_limits<int64_t>::max();
  for (const auto& writer : writers_) deadline = std::min(deadline, writer->NextFlushDeadlineMs());
  for (const auto& op : operators_) {
    if (std::optional<int64_t> t = op->NextProcessingTime()) deadline = std::min(deadline, *t);
  }
  if (deadline == std::numeric_limits<int64_t>::max()) return cap_ms;
  return std::clamp<int64_t>(deadline - clock_->NowMillis(), 0, cap_ms);
}

absl::Status Task::FireProcessingTimers() {
  for (size_t i = 0; i < operators_.size(); ++i) {
    std::optional<int64_t> due = operators_[i]->NextProcessingTime();
    if (!due) continue;
    const int64_t now = clock_->NowMillis();
    if (*due <= now) RETURN_IF_ERROR(operators_[i]->ProcessProcessingTime(now, *NextOf(i)));
  }
  return absl::OkStatus();
}

absl::Status Task::FlushOutputsIfDue() {
  const int64_t now = clock_->NowMillis();
  for (auto& writer : writers_) RETURN_IF_ERROR(writer->FlushIfDue(now));
  return absl::OkStatus();
}

absl::Status Task::RunSource() {
  while (true) {
    // Actions first: a checkpoint commit posted just before a cancel (stop with savepoint)
    // still happens.
    RETURN_IF_ERROR(RunActions());
    if (canceled_) return absl::CancelledError("task canceled");
    ASSIGN_OR_RETURN(SourcePoll poll, source_->PollNext(*head_));
    if (watermarks_) {
      watermarks_->SetSplits(source_->NumSplits());
      if (std::optional<WatermarkEvent> e = watermarks_->Poll()) {
        RETURN_IF_ERROR(ApplyWatermarkEvent(*e));
      }
    }
    RETURN_IF_ERROR(FireProcessingTimers());
    RETURN_IF_ERROR(FlushOutputsIfDue());
    if (poll == SourcePoll::kEnd) return absl::OkStatus();
    if (poll == SourcePoll::kIdle) WaitForInput(NextWakeupMs(source_->idle_wait_ms()));
  }
}

absl::Status Task::RunInputs() {
  Operator* head = operators_.empty() ? nullptr : operators_[0].get();
  Collector* after_head = head != nullptr ? NextOf(0) : nullptr;
  while (true) {
    RETURN_IF_ERROR(RunActions());
    if (canceled_) return absl::CancelledError("task canceled");
    bool progressed = false;
    for (size_t g = 0; g < gates_.size(); ++g) {
      ASSIGN_OR_RETURN(std::optional<types::RecordBatch> batch, gates_[g]->PollNext());
      // Watermarks PollNext took came before `batch` on their channels.
      RETURN_IF_ERROR(UpdateInputWatermark());
      if (!batch) continue;
      progressed = true;
      if (count_metrics_) records_in_.fetch_add(batch->num_rows(), std::memory_order_relaxed);
      if (head != nullptr) {
        RETURN_IF_ERROR(head->ProcessBatch(static_cast<int>(g), *batch, *after_head));
      } else {
        RETURN_IF_ERROR(output_->Collect(*batch));
      }
    }
    CheckAlignment();
    RETURN_IF_ERROR(FireProcessingTimers());
    RETURN_IF_ERROR(FlushOutputsIfDue());
    if (progressed) continue;
    bool finished = std::all_of(gates_.begin(), gates_.end(),
                                [](const auto& gate) { return gate->IsFinished(); });
    if (finished) return absl::OkStatus();
    WaitForInput(NextWakeupMs(100));
  }
}

Collector* Task::NextOf(size_t i) const {
  return i + 1 < operators_.size() ? static_cast<Collector*>(links_[i + 1].get()) : output_.get();
}

absl::Status Task::AdvanceEventTime(int64_t watermark) {
  if (watermark <= event_time_) return absl::OkStatus();
  event_time_ = watermark;
  for (size_t i = 0; i < operators_.size(); ++i) {
    RETURN_IF_ERROR(operators_[i]->ProcessWatermark(watermark, *NextOf(i)));
  }
  for (auto& writer : writers_) RETURN_IF_ERROR(writer->BroadcastWatermark(watermark, false));
  event_time_metric_.store(watermark, std::memory_order_relaxed);
  return absl::OkStatus();
}

absl::Status Task::SetIdle(bool idle) {
  if (idle == idle_) return absl::OkStatus();
  idle_ = idle;
  for (auto& writer : writers_) RETURN_IF_ERROR(writer->BroadcastWatermark(event_time_, idle));
  idle_metric_.store(idle, std::memory_order_relaxed);
  return absl::OkStatus();
}

absl::Status Task::ApplyWatermarkEvent(const WatermarkEvent& event) {
  if (event.idle) return SetIdle(true);
  RETURN_IF_ERROR(SetIdle(false));
  return AdvanceEventTime(event.watermark);
}

absl::Status Task::UpdateInputWatermark() {
  uint64_t versions = 0;
  for (const auto& gate : gates_) versions += gate->watermark_version();
  if (versions == gate_watermark_versions_) return absl::OkStatus();  // nothing changed
  gate_watermark_versions_ = versions;
  int64_t watermark = INT64_MAX;
  bool all_idle = true;
  for (const auto& gate : gates_) {
    const network::GateWatermark w = gate->watermark();
    if (w.idle) continue;
    all_idle = false;
    watermark = std::min(watermark, w.watermark);
  }
  if (all_idle && !gates_.empty()) return SetIdle(true);
  RETURN_IF_ERROR(SetIdle(false));
  return AdvanceEventTime(watermark);
}

absl::Status Task::FinishChain() {
  // The end of the input is the end of event time: every window fires.
  RETURN_IF_ERROR(AdvanceEventTime(INT64_MAX));
  for (size_t i = 0; i < operators_.size(); ++i) {
    RETURN_IF_ERROR(operators_[i]->Finish(*NextOf(i)));
  }
  for (auto& writer : writers_) RETURN_IF_ERROR(writer->Finish());
  return absl::OkStatus();
}

void Task::CloseAll() {
  for (auto& op : operators_) {
    absl::Status s = op->Close();
    if (!s.ok()) spdlog::warn("{}: closing an operator: {}", name_, s.ToString());
  }
  if (source_) {
    absl::Status s = source_->Close();
    if (!s.ok()) spdlog::warn("{}: closing the source: {}", name_, s.ToString());
  }
}

void Task::Run() {
  Report(proto::DEPLOYING, "");
  absl::Status status = Build();
  if (status.ok()) {
    probe_.MarkRunning();
    Report(proto::RUNNING, "");
    status = source_ ? RunSource() : RunInputs();
  }
  if (status.ok()) status = FinishChain();
  CloseAll();
  probe_.MarkEnded();
  if (status.ok()) {
    spdlog::info("{} finished: {} records in, {} out", name_, records_in_.load(),
                 records_out_.load());
    Report(proto::FINISHED, "");
  } else {
    state_.Abandon();
    for (auto& writer : writers_) writer->Fail(status);
    if (canceled_) {
      spdlog::info("{} canceled", name_);
      Report(proto::CANCELED, "");
    } else {
      spdlog::error("{} failed: {}", name_, status.ToString());
      Report(proto::FAILED, std::string(status.message()));  // the JobManager adds the task name
    }
  }
  // Only now may the executor reap (join) this task: the report above may still be retrying.
  done_ = true;
}

}  // namespace sluice::taskmanager
