#include "taskmanager/operators/watermark_generator.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace sluice::taskmanager {

absl::StatusOr<WatermarkGenerator> WatermarkGenerator::Create(const proto::WatermarkSpec& spec,
                                                              const types::Schema& schema,
                                                              const Clock* clock) {
  std::optional<int> column = schema.IndexOf(spec.column());
  if (!column || schema.field(*column).type != types::TypeId::kTimestamp) {
    return absl::InvalidArgumentError(absl::StrCat(
        "watermark column '", spec.column(), "' is not a timestamp column of (", schema.ToString(), ")"));
  }
  if (spec.max_delay_us() < 0 || spec.idle_timeout_ms() < 0) {
    return absl::InvalidArgumentError("watermark max_delay and idle_timeout must be >= 0");
  }
  return WatermarkGenerator(*column, spec.max_delay_us(), spec.idle_timeout_ms(), clock);
}

std::optional<WatermarkEvent> WatermarkGenerator::OnBatch(const types::RecordBatch& batch) {
  if (batch.num_rows() == 0) return std::nullopt;
  last_activity_ms_ = clock_->NowMillis();
  const types::Column& ts = batch.column(column_);
  int64_t max = max_timestamp_;
  for (size_t row = 0; row < batch.num_rows(); ++row) {
    if (!ts.IsNull(row)) max = std::max(max, ts.Int(row));
  }
  max_timestamp_ = max;
  if (!idle_) return std::nullopt;
  idle_ = false;
  return WatermarkEvent{emitted_, false};
}

std::optional<WatermarkEvent> WatermarkGenerator::Poll() {
  if (!idle_ && idle_timeout_ms_ > 0 &&
      clock_->NowMillis() - last_activity_ms_ >= idle_timeout_ms_) {
    idle_ = true;
    return WatermarkEvent{emitted_, true};
  }
  if (idle_ || max_timestamp_ == INT64_MIN) return std::nullopt;
  // Saturating: a timestamp near INT64_MIN minus the delay must not wrap around.
  const int64_t candidate = max_timestamp_ < INT64_MIN + max_delay_us_ + 1
                                ? INT64_MIN
                                : max_timestamp_ - max_delay_us_ - 1;
  if (candidate <= emitted_) return std::nullopt;
  emitted_ = candidate;
  return WatermarkEvent{emitted_, false};
}

absl::StatusOr<SplitWatermarkGenerator> SplitWatermarkGenerator::Create(
    const proto::WatermarkSpec& spec, const types::Schema& schema, const Clock* clock) {
  absl::StatusOr<WatermarkGenerator> first = WatermarkGenerator::Create(spec, schema, clock);
  if (!first.ok()) return first.status();
  return SplitWatermarkGenerator(*std::move(first));
}

void SplitWatermarkGenerator::SetSplits(int splits) {
  reading_ = splits > 0;
  while (static_cast<int>(splits_.size()) < splits) splits_.push_back(splits_[0].Fresh());
}

std::optional<WatermarkEvent> SplitWatermarkGenerator::OnBatch(int split,
                                                               const types::RecordBatch& batch) {
  if (batch.num_rows() == 0) return std::nullopt;
  SetSplits(split + 1);
  splits_[split].OnBatch(batch);
  if (!idle_) return std::nullopt;
  idle_ = false;
  return WatermarkEvent{emitted_, false};
}

std::optional<WatermarkEvent> SplitWatermarkGenerator::Poll() {
  bool all_idle = true;
  int64_t min = INT64_MAX;
  for (WatermarkGenerator& split : splits_) {
    if (!reading_) break;  // no split: idle at once (as Flink's sources without splits)
    split.Poll();
    if (split.idle()) continue;
    all_idle = false;
    min = std::min(min, split.current());
  }
  if (all_idle) {
    if (idle_) return std::nullopt;
    idle_ = true;
    return WatermarkEvent{emitted_, true};
  }
  if (idle_) {  // a split was added
    idle_ = false;
    if (min <= emitted_) return WatermarkEvent{emitted_, false};
  }
  if (min <= emitted_) return std::nullopt;
  emitted_ = min;
  return WatermarkEvent{emitted_, false};
}

}  // namespace sluice::taskmanager
