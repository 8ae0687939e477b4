// EventTimeOperator: what the event-time operators (windows, joins, patterns) share: the
// watermark they have reached, and what happens to late records: sent to a late output
// (a side output of the task, when the operator has one) or dropped and counted (read by the
// task's metrics from any thread). Task thread otherwise.
#pragma once

#include <atomic>
#include <climits>
#include <cstdint>
#include <optional>
#include <string>

#include "common/status_macros.h"
#include "taskmanager/operators/operator.h"
#include "taskmanager/operators/output_buffer.h"

namespace sluice::taskmanager {

class EventTimeOperator : public Operator {
 public:
  int64_t late_records_dropped() const override {
    return late_dropped_.load(std::memory_order_relaxed);
  }

 protected:
  void CountLate() { late_dropped_.fetch_add(1, std::memory_order_relaxed); }
  // Late records go to side output `name` of the task (rows of `input`, the operator's
  // input schema) instead of being dropped. Call from Open.
  absl::Status OpenLateOutput(const OperatorContext& ctx, absl::string_view op,
                              const std::string& name, types::SchemaPtr input) {
    ASSIGN_OR_RETURN(late_out_, ctx.SideOutput(op, name));
    late_rows_.emplace(std::move(input));
    return absl::OkStatus();
  }
  // Row `row` of `batch` is late: to the late output, or dropped and counted.
  absl::Status Late(const types::RecordBatch& batch, size_t row) {
    if (!late_rows_) {
      CountLate();
      return absl::OkStatus();
    }
    return late_rows_->AppendRow(batch, row, *late_out_);
  }
  // Hands the late rows gathered so far to the late output (after each input batch).
  absl::Status FlushLate() { return late_rows_ ? late_rows_->Flush(*late_out_) : absl::OkStatus(); }
  // Moves the operator's event time to `watermark`; false when it is not newer.
  bool AdvanceTo(int64_t watermark) {
    if (watermark <= watermark_) return false;
    watermark_ = watermark;
    return true;
  }
  int64_t watermark() const { return watermark_; }

 private:
  int64_t watermark_ = INT64_MIN;
  std::atomic<int64_t> late_dropped_{0};
  Collector* late_out_ = nullptr;
  std::optional<OutputBuffer> late_rows_;
};

}  // namespace sluice::taskmanager
