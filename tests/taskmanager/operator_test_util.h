// Helpers of the operator tests: a Collector that keeps every row it receives as text
// (RecordBatch::RowToString), for comparing an operator's output with a reference as a
// multiset.
#pragma once

#include <string>
#include <vector>

#include "taskmanager/operators/operator.h"

namespace sluice::taskmanager::testing {

class RowCollector : public Collector {
 public:
  absl::Status Collect(types::RecordBatch& batch) override {
    for (size_t r = 0; r < batch.num_rows(); ++r) rows.push_back(batch.RowToString(r));
    return absl::OkStatus();
  }
  std::vector<std::string> rows;
};

}  // namespace sluice::taskmanager::testing
