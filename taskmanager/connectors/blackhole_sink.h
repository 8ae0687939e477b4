// BlackholeSink: the `blackhole` sink. Counts rows and drops them. With rows_per_second > 0
// (total across subtasks: each subtask takes rows_per_second / P) it paces itself like a slow
// external system: ProcessBatch blocks (sleeping in slices of at most 50 ms, returning early
// when the task is canceled) until the rows taken so far are within that rate, which
// backpressures the job. Task thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "taskmanager/operators/operator.h"

namespace sluice::taskmanager::connectors {

class BlackholeSink : public Operator {
 public:
  using SleepFn = std::function<void(int64_t ms)>;

  // `sleep` defaults to std::this_thread::sleep_for (tests inject one that advances a
  // ManualClock).
  static std::unique_ptr<BlackholeSink> Create(const proto::OperatorSpec& spec,
                                               SleepFn sleep = nullptr);

  absl::Status Open(const OperatorContext& ctx) override;
  absl::Status ProcessBatch(int input, types::RecordBatch& batch, Collector& out) override;

  int64_t rows() const { return rows_; }

 private:
  BlackholeSink(double rows_per_second, SleepFn sleep);

  double rows_per_second_;
  SleepFn sleep_;
  OperatorContext ctx_copy_;
  const Clock* clock_ = nullptr;
  double rows_per_ms_ = 0;  // this subtask's pace; 0 = unthrottled
  int64_t start_ms_ = -1;
  int64_t rows_ = 0;
};

}  // namespace sluice::taskmanager::connectors
