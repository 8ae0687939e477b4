// WatermarkGenerator: the event time of one source subtask (Flink's bounded-out-of-orderness
// watermarks with idleness). It watches the `watermark.column` of every batch the source
// emits and says what to send downstream:
//   watermark = (largest timestamp seen) - max_delay - 1 µs, whenever that grows;
//   idle      = no record for `idle_timeout` (processing time, from the injected Clock), so
//               downstream operators stop waiting for this source; the next batch makes it
//               active again (sent before that batch, with the current watermark).
// A record is on time if its timestamp is > the watermark emitted before it. Null timestamps
// are ignored. The file source reads its splits one after another, so one generator per
// subtask is the per-split watermark (the next split cannot move it back); a source reading
// several splits at once (Kafka partitions) gets a SplitWatermarkGenerator: one generator per
// split, emitting the minimum over the splits that are not idle.
// Task thread only.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/types/record_batch.h"
#include "proto/jobgraph.pb.h"

namespace sluice::taskmanager {

// What to send on every output: a watermark, or the fact that the producer is idle.
struct WatermarkEvent {
  int64_t watermark = INT64_MIN;  // µs
  bool idle = false;
  bool operator==(const WatermarkEvent&) const = default;
};

class WatermarkGenerator {
 public:
  // InvalidArgument when `spec.column` is not a TIMESTAMP column of `schema`.
  static absl::StatusOr<WatermarkGenerator> Create(const proto::WatermarkSpec& spec,
                                                   const types::Schema& schema, const Clock* clock);

  // The source emits `batch`: call before it goes downstream. When the source was idle, the
  // returned event (active again, with the current watermark) must be sent before the batch.
  std::optional<WatermarkEvent> OnBatch(const types::RecordBatch& batch);
  // After the source's poll: a higher watermark to send, or idleness. nullopt: nothing.
  std::optional<WatermarkEvent> Poll();

  int64_t current() const { return emitted_; }
  bool idle() const { return idle_; }
  // A generator with the same settings and nothing seen yet (active from now).
  WatermarkGenerator Fresh() const {
    return WatermarkGenerator(column_, max_delay_us_, idle_timeout_ms_, clock_);
  }

 private:
  WatermarkGenerator(int column, int64_t max_delay_us, int64_t idle_timeout_ms, const Clock* clock)
      : column_(column), max_delay_us_(max_delay_us), idle_timeout_ms_(idle_timeout_ms),
        clock_(clock), last_activity_ms_(clock->NowMillis()) {}

  int column_;
  int64_t max_delay_us_;
  int64_t idle_timeout_ms_;  // 0: never idle
  const Clock* clock_;
  int64_t max_timestamp_ = INT64_MIN;
  int64_t emitted_ = INT64_MIN;
  bool idle_ = false;
  int64_t last_activity_ms_;
};

// SplitWatermarkGenerator: Flink's per-split watermarks for a source subtask that reads
// several splits at once (Kafka partitions) and emits each batch from one split. Each split
// has its own WatermarkGenerator (its own max timestamp and idleness); the subtask's
// watermark is the minimum over the splits that are not idle, never moving back, and the
// subtask is idle when every split is. A split that has delivered nothing yet holds the
// watermark back until it delivers or its idle_timeout passes. With one split it behaves
// exactly as a WatermarkGenerator.
class SplitWatermarkGenerator {
 public:
  // One split (0) to start with; errors as WatermarkGenerator::Create.
  static absl::StatusOr<SplitWatermarkGenerator> Create(const proto::WatermarkSpec& spec,
                                                        const types::Schema& schema,
                                                        const Clock* clock);

  // The source now reads `splits` splits (numbered from 0; splits are only added). A source
  // with none (more subtasks than Kafka partitions) is idle, so it holds no one back.
  void SetSplits(int splits);
  // `batch` comes from `split`; as WatermarkGenerator::OnBatch for the whole subtask.
  std::optional<WatermarkEvent> OnBatch(int split, const types::RecordBatch& batch);
  // After the source's poll: a higher combined watermark, or a change of idleness.
  std::optional<WatermarkEvent> Poll();

  int64_t current() const { return emitted_; }
  bool idle() const { return idle_; }
  int splits() const { return static_cast<int>(splits_.size()); }

 private:
  explicit SplitWatermarkGenerator(WatermarkGenerator first) { splits_.push_back(std::move(first)); }

  std::vector<WatermarkGenerator> splits_;
  int64_t emitted_ = INT64_MIN;
  bool idle_ = false;
  bool reading_ = true;  // false while the source reports no split
};

}  // namespace sluice::taskmanager
