// What the benchmarks share: a collector that only counts the rows an operator emits.
#pragma once

#include <cstdint>

#include "taskmanager/operators/operator.h"

namespace sluice::bench {

class RowCounter : public taskmanager::Collector {
 public:
  absl::Status Collect(types::RecordBatch& batch) override {
    rows += static_cast<int64_t>(batch.num_rows());
    return absl::OkStatus();
  }
  int64_t rows = 0;
};

}  // namespace sluice::bench
