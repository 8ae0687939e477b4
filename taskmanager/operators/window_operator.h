// WindowOperator: keyed event-time windows with incremental aggregates (Flink's
// WindowOperator with an AggregateFunction and the event-time trigger):
//   tumble:  [k*size, (k+1)*size), aligned to the Unix epoch;
//   slide:   windows of `size` starting every `slide` (a record is in ceil(size/slide));
//   session: [ts, ts+gap) per record, merged with every session of the key it touches.
// A window fires when the watermark reaches end - 1: one row (key columns, window_start,
// window_end, the aggregates). Records that arrive after that but within
// `allowed_lateness` update the window and re-emit it at once; the window's state is
// dropped when the watermark passes end - 1 + allowed_lateness. A record all of whose
// windows are past that is late: it goes to the window's late output (WindowSpec.late_output,
// a side output of the task) if it has one, else it is dropped and counted
// (late_records_dropped). So does a record whose time is null (first one logged).
// State, in the task's keyed state backend (checkpointed, rescalable by key group):
//   map "<name>.windows": per key, window -> encoded accumulators (a tumble/slide window is
//   its 8-byte start, its end follows from the size; a session its start and end);
//   timers "<name>.timers" (state/timer_service.h): end - 1 (fire) and, with lateness,
//   end - 1 + allowed_lateness (clean up), namespace = the window.
// Task thread only (late_records_dropped from any thread).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "taskmanager/operators/aggregate_functions.h"
#include "taskmanager/operators/event_time_operator.h"
#include "taskmanager/operators/keyed_input.h"
#include "taskmanager/operators/operator.h"
#include "taskmanager/operators/output_buffer.h"
#include "taskmanager/state/timer_service.h"

namespace sluice::taskmanager {

class WindowOperator : public EventTimeOperator {
 public:
  static absl::StatusOr<std::unique_ptr<Operator>> Create(const proto::OperatorSpec& spec);
  absl::Status Open(const OperatorContext& ctx) override;
  absl::Status InitializeState(StateInitContext& ctx) override;
  absl::Status ProcessBatch(int input, types::RecordBatch& batch, Collector& out) override;
  absl::Status ProcessWatermark(int64_t watermark, Collector& out) override;

  // Windows with state, over every key (tests).
  absl::StatusOr<int64_t> NumWindows();

 private:
  struct Window {
    int64_t start = 0;
    int64_t end = 0;
  };
  enum class Kind { kTumble, kSlide, kSession };

  WindowOperator(types::SchemaPtr output, KeyedInput keys, AggregateCalls calls)
      : keys_(std::move(keys)), calls_(std::move(calls)), output_(std::move(output)) {}
  absl::Status BindState();
  // The window's state key / timer namespace, into ns_ (reused).
  absl::string_view EncodeWindow(const Window& w);
  bool DecodeWindow(absl::string_view bytes, Window* w) const;
  // The watermark at which window `w` is dropped (end - 1 + allowed lateness, saturated).
  int64_t CleanupTime(const Window& w) const;
  // Adds row `row` (the current key) to the time windows containing `ts`; false when every
  // one was already cleaned up (a late record).
  absl::StatusOr<bool> AddToTimeWindows(const types::RecordBatch& batch, size_t row, int64_t ts,
                                        Collector& out);
  absl::StatusOr<bool> AddToSession(const types::RecordBatch& batch, size_t row, int64_t ts,
                                    Collector& out);
  // New window: its timers.
  absl::Status RegisterTimers(const Window& w);
  absl::Status DeleteTimers(const Window& w);
  // Appends the window's row; the key columns come from `batch` row `row` when given, else
  // from the key's bytes (a timer's key).
  absl::Status Emit(const Window& w, const std::vector<Accumulator>& accs,
                    const types::RecordBatch* batch, size_t row, absl::string_view key,
                    Collector& out);
  absl::Status OnTimer(const state::Timer& timer, Collector& out);

  std::string name_;
  types::SchemaPtr input_;
  std::string late_output_;  // side output of late records; empty: dropped
  Kind kind_ = Kind::kTumble;
  int64_t size_ = 0, slide_ = 0, gap_ = 0, lateness_ = 0;
  int time_column_ = -1;
  std::vector<types::TypeId> key_types_;
  KeyedInput keys_;
  AggregateCalls calls_;
  state::KeyedStateBackend* backend_ = nullptr;
  state::MapState* windows_ = nullptr;
  std::unique_ptr<state::TimerService> timers_;
  int64_t null_time_dropped_ = 0;
  std::vector<Accumulator> accs_, merged_;  // scratch
  std::vector<Window> windows_scratch_;
  std::string value_scratch_;
  std::string ns_;
  OutputBuffer output_;
};

}  // namespace sluice::taskmanager
