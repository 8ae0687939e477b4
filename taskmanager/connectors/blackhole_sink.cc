#include "taskmanager/connectors/blackhole_sink.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <thread>

namespace sluice::taskmanager::connectors {
namespace {

constexpr int64_t kSleepSliceMs = 50;

}  // namespace

std::unique_ptr<BlackholeSink> BlackholeSink::Create(const proto::OperatorSpec& spec,
                                                     SleepFn sleep) {
  if (!sleep) {
    sleep = [](int64_t ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); };
  }
  return std::unique_ptr<BlackholeSink>(
      new BlackholeSink(spec.blackhole_sink().rows_per_second(), std::move(sleep)));
}

BlackholeSink::BlackholeSink(double rows_per_second, SleepFn sleep)
    : rows_per_second_(rows_per_second), sleep_(std::move(sleep)) {}

absl::Status BlackholeSink::Open(const OperatorContext& ctx) {
  ctx_copy_ = ctx;
  clock_ = ctx.clock != nullptr ? ctx.clock : SystemClock::Get();
  if (rows_per_second_ > 0) {
    rows_per_ms_ = rows_per_second_ / std::max(1, ctx.parallelism) / 1000.0;
  }
  return absl::OkStatus();
}

absl::Status BlackholeSink::ProcessBatch(int input, types::RecordBatch& batch, Collector& out) {
  rows_ += static_cast<int64_t>(batch.num_rows());
  if (rows_per_ms_ <= 0) return absl::OkStatus();
  if (start_ms_ < 0) start_ms_ = clock_->NowMillis();
  // The time by which a sink of this pace would have taken rows_ rows.
  const int64_t due = start_ms_ + static_cast<int64_t>(std::ceil(rows_ / rows_per_ms_));
  for (int64_t now = clock_->NowMillis(); now < due && !ctx_copy_.IsCanceled();
       now = clock_->NowMillis()) {
    sleep_(std::min(kSleepSliceMs, due - now));
  }
  return absl::OkStatus();
}

}  // namespace sluice::taskmanager::connectors
