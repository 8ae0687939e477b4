// JoinOperator: the keyed interval join of two streams on event time (Flink's
// JoinOperator): a left row l and a right row r with equal join keys match when
//   l.time + lower <= r.time <= l.time + upper
// (`within: D` is lower = -D, upper = D). Each matching pair emits one row: every left
// column, then the right columns that are not join keys. type `left` (left outer) also emits
// each left row that matched nothing, with nulls for the right columns, once the watermark
// has passed l.time + upper (no right row can match it any more).
// Input 0 is the left stream, input 1 the right one, both hash-partitioned by the keys.
// Late rows are dropped and counted (late_records_dropped), as are rows with a null time:
// in an interval join a row at or before the current watermark, in a window join a row all
// of whose windows have fired.
// State, per key, in the task's keyed state backend (checkpointed, rescalable):
//   map "<name>.left" / "<name>.right": (time, sequence) -> matched flag + the row
//   (a one-row serialized batch); the time is the row's (interval) or its window's start;
//   timers "<name>.timers": interval join, drop a left row when the watermark reaches
//   l.time + upper and a right row at r.time - lower (emitting an unmatched left row first
//   for a left join); window join, fire a window at its end - 1. Memory is bounded by the
//   rows within the interval or the open windows.
// Task thread only (late_records_dropped from any thread).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "taskmanager/operators/event_time_operator.h"
#include "taskmanager/operators/keyed_input.h"
#include "taskmanager/operators/operator.h"
#include "taskmanager/operators/output_buffer.h"
#include "taskmanager/state/timer_service.h"

namespace sluice::taskmanager {

class JoinOperator : public EventTimeOperator {
 public:
  static absl::StatusOr<std::unique_ptr<Operator>> Create(const proto::OperatorSpec& spec);
  absl::Status Open(const OperatorContext& ctx) override;
  absl::Status InitializeState(StateInitContext& ctx) override;
  absl::Status ProcessBatch(int input, types::RecordBatch& batch, Collector& out) override;
  absl::Status ProcessWatermark(int64_t watermark, Collector& out) override;

  // Buffered rows of both sides, over every key (tests).
  absl::StatusOr<int64_t> NumBufferedRows();

 private:
  // One input: its schema, keys, time column and buffer.
  struct Side {
    types::SchemaPtr schema;
    std::unique_ptr<KeyedInput> keys;
    int time_column = -1;
    state::MapState* buffer = nullptr;
  };

  JoinOperator() = default;
  absl::Status BindState();
  // Emits left row (`left`, `lrow`) joined with right row (`right`, `rrow`), or with nulls
  // when `right` is null.
  absl::Status EmitJoined(const types::RecordBatch& left, size_t lrow,
                          const types::RecordBatch* right, size_t rrow, Collector& out);
  absl::Status AddRow(int input, const types::RecordBatch& batch, size_t row, int64_t time,
                      Collector& out);
  // Window join: buffers the row in each of its windows that has not fired; false when all
  // have (a late row).
  absl::StatusOr<bool> AddToWindows(int input, const types::RecordBatch& batch, size_t row,
                                    int64_t time);
  // Serializes row `row` of `batch` (with the matched flag) into value_scratch_.
  void EncodeRow(int input, const types::RecordBatch& batch, size_t row, bool matched);
  absl::StatusOr<types::RecordBatch> DecodeRow(int input, absl::string_view value) const;
  // Window join: the window starting at `start` fired.
  absl::Status FireWindow(int64_t start, Collector& out);
  absl::Status OnTimer(const state::Timer& timer, Collector& out);

  std::string name_;
  types::SchemaPtr output_;
  Side sides_[2];
  std::vector<int> right_output_columns_;  // right columns in the output (not join keys)
  int64_t lower_ = 0, upper_ = 0;
  bool left_outer_ = false;
  int64_t window_size_ = 0, window_slide_ = 0;  // > 0: a window join
  state::KeyedStateBackend* backend_ = nullptr;
  std::unique_ptr<state::TimerService> timers_;
  uint64_t sequence_ = 0;  // makes buffer keys (time_windows.h TimeOrderedKey) unique
  std::string value_scratch_;
  std::unique_ptr<types::RecordBatch> one_row_[2];  // scratch per side: the row being buffered
  std::unique_ptr<OutputBuffer> output_buffer_;
};

}  // namespace sluice::taskmanager
