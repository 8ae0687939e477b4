// DatagenSource: the `datagen` source. Seeded and deterministic: row g (the global row index,
// 0-based) has the same values for a given seed and schema whatever the parallelism, batching
// or timing; subtask i of P produces the rows g = i, i + P, i + 2P, ... (g < count, or without
// end when count < 0). count = 0 produces nothing. Its checkpointed state is that sequence and
// how far it got; restored at another parallelism, old subtask i's sequence continues at new
// subtask i % P (a subtask may then run several sequences, taking turns per batch, or none).
// Per column (DatagenSourceSpec.fields, by column name; unknown names are errors):
//   sequence: min + g (min default 0); with max, it wraps: min + g % (max - min + 1).
//             int64 as is; float64 as a double; string as decimal text; timestamp: min and max
//             are epoch milliseconds (default min 2026-01-01T00:00:00Z), one ms per row;
//             bool alternates false, true.
//   random:   uniform over [min, max] from a counter-based hash of (seed, column name, g).
//             int64 default [0, 1000000]; float64 default [0, 1000); bool: either;
//             string/bytes: letters a-z / any bytes, length in [min, max] (default 8; with
//             one bound only, exactly that length); timestamp: epoch ms in [min, max]
//             (default the day from 2026-01-01T00:00:00Z).
//   choice:   one of `values` (text parsed as the column type; timestamps RFC 3339 or epoch
//             ms), picked by the same hash.
// Columns without an entry: random with the defaults above, except timestamp: sequence.
// rows_per_second (> 0): total across subtasks, each subtask paced at rows_per_second / P by
// a token bucket on ctx.clock; PollNext returns kIdle (idle_wait_ms()) when ahead, and emits
// batches of up to 1024 rows (smaller at low rates, up to ~100 ms worth of rows). The poll
// that emits the last rows of a bounded source already returns kEnd.
// Task thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/types/record_batch.h"
#include "taskmanager/operators/operator.h"

namespace sluice::taskmanager::connectors {

class DatagenSource : public SourceOperator {
 public:
  static constexpr int64_t kEpochMillis = 1767225600000;  // 2026-01-01T00:00:00Z
  static constexpr size_t kBatchRows = 1024;

  static absl::StatusOr<std::unique_ptr<DatagenSource>> Create(const proto::OperatorSpec& spec);
  ~DatagenSource() override;

  absl::Status Open(const OperatorContext& ctx) override;
  absl::StatusOr<SourcePoll> PollNext(Collector& out) override;
  int64_t idle_wait_ms() const override { return idle_wait_ms_; }
  // Checkpointed position: the sequences this subtask runs and how far (DatagenSourceState).
  absl::Status InitializeState(StateInitContext& ctx) override;
  absl::StatusOr<std::string> SnapshotState(int64_t checkpoint_id) override;

  // Rows emitted by this subtask so far.
  int64_t rows_emitted() const { return emitted_; }

  struct ColumnGen;

 private:
  DatagenSource(types::SchemaPtr schema, std::vector<ColumnGen> columns, int64_t count,
                double rows_per_second);
  struct Sequence {
    int64_t offset = 0;
    int64_t stride = 1;
    int64_t emitted = 0;
    int64_t limit = -1;  // rows of the sequence below count; -1 = unbounded
    bool done() const { return limit >= 0 && emitted >= limit; }
  };
  Sequence MakeSequence(int64_t offset, int64_t stride, int64_t emitted) const;
  // Appends rows g = first, first + step, ... (n of them) to batch_.
  void Generate(int64_t first, int64_t step, size_t n);
  // Rows the rate limit allows now (refills the bucket); sets idle_wait_ms_ when 0.
  size_t Allowed(size_t wanted);

  types::SchemaPtr schema_;
  std::vector<ColumnGen> columns_;
  int64_t count_;
  double rows_per_second_;
  types::RecordBatch batch_;
  const Clock* clock_ = nullptr;
  int subtask_ = 0;
  int parallelism_ = 1;
  int64_t emitted_ = 0;  // rows emitted by this subtask (all its sequences)
  std::vector<Sequence> sequences_;
  size_t current_ = 0;  // the sequence whose turn it is
  double rate_ = 0;    // rows per ms for this subtask; 0 = unlimited
  double tokens_ = 0;
  double target_ = 0;  // rows emitted at a time when rate limited
  double capacity_ = 0;
  int64_t last_refill_ms_ = 0;
  int64_t idle_wait_ms_ = 1;
};

}  // namespace sluice::taskmanager::connectors
