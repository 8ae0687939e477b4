// OutputBuffer: the rows an operator emits on its own schedule (windows firing, join and
// pattern matches) rather than one per input row, gathered into batches of up to 1024 rows
// for the collector. The operator appends one value to every column of batch(), then calls
// EndRow; Flush hands over what is left (after each input batch and each watermark). Task
// thread only.
#pragma once

#include <cstddef>

#include "absl/status/status.h"
#include "common/types/record_batch.h"
#include "taskmanager/operators/operator.h"

namespace sluice::taskmanager {

class OutputBuffer {
 public:
  static constexpr size_t kMaxRows = 1024;

  explicit OutputBuffer(types::SchemaPtr schema) : batch_(std::move(schema)) {}

  types::RecordBatch& batch() { return batch_; }
  // Counts the row just appended; a full batch goes to `out`.
  absl::Status EndRow(Collector& out) {
    batch_.SetNumRows(batch_.num_rows() + 1);
    return batch_.num_rows() >= kMaxRows ? Flush(out) : absl::OkStatus();
  }
  // Appends a copy of row `row` of `src` (same schema) as a whole row.
  absl::Status AppendRow(const types::RecordBatch& src, size_t row, Collector& out) {
    batch_.AppendRow(src, row);
    return batch_.num_rows() >= kMaxRows ? Flush(out) : absl::OkStatus();
  }
  absl::Status Flush(Collector& out) {
    if (batch_.num_rows() == 0) return absl::OkStatus();
    absl::Status s = out.Collect(batch_);
    batch_.Clear();
    return s;
  }

 private:
  types::RecordBatch batch_;
};

}  // namespace sluice::taskmanager
