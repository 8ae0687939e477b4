// EventTimeOperator: what the event-time operators (windows, joins, patterns) share: the
// watermark they have reached and the count of late records they dropped (read by the
// task's metrics from any thread). Task thread otherwise.
#pragma once

#include <atomic>
#include <climits>
#include <cstdint>

#include "taskmanager/operators/operator.h"

namespace sluice::taskmanager {

class EventTimeOperator : public Operator {
 public:
  int64_t late_records_dropped() const override {
    return late_dropped_.load(std::memory_order_relaxed);
  }

 protected:
  void CountLate() { late_dropped_.fetch_add(1, std::memory_order_relaxed); }
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
};

}  // namespace sluice::taskmanager
