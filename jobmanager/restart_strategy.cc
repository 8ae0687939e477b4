#include "jobmanager/restart_strategy.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace sluice::jobmanager {
namespace {

constexpr int64_t kDefaultInitialMs = 1'000;
constexpr int64_t kDefaultMaxMs = 300'000;
constexpr double kDefaultMultiplier = 2.0;
constexpr int64_t kDefaultResetAfterMs = 3'600'000;
constexpr int kDefaultMaxFailures = 1;
constexpr int64_t kDefaultIntervalMs = 60'000;

std::string NormalizedName(const std::string& name) {
  std::string n = absl::StrReplaceAll(name, {{"-", "_"}});
  if (n.empty()) return "none";
  return n;
}

template <typename T>
T OrDefault(T value, T fallback) {
  return value == 0 ? fallback : value;
}

absl::Status Invalid(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("restart strategy: ", what));
}

}  // namespace

std::optional<int64_t> FixedDelayRestartStrategy::NextDelayMs(int64_t now_ms) {
  if (restarts_ >= attempts_) return std::nullopt;
  ++restarts_;
  return delay_ms_;
}

std::string FixedDelayRestartStrategy::Describe() const {
  return absl::StrCat("fixed_delay (", attempts_, " attempts, ", delay_ms_, " ms delay)");
}

ExponentialDelayRestartStrategy::ExponentialDelayRestartStrategy(int64_t initial_ms, int64_t max_ms,
                                                                 double multiplier, double jitter,
                                                                 int64_t reset_after_ms,
                                                                 uint64_t seed)
    : initial_ms_(initial_ms),
      max_ms_(max_ms),
      multiplier_(multiplier),
      jitter_(jitter),
      reset_after_ms_(reset_after_ms),
      rng_(seed) {}

std::optional<int64_t> ExponentialDelayRestartStrategy::NextDelayMs(int64_t now_ms) {
  if (!last_failure_ms_.has_value() || now_ms - *last_failure_ms_ >= reset_after_ms_) {
    backoff_ms_ = static_cast<double>(initial_ms_);
  } else {
    backoff_ms_ = std::min(backoff_ms_ * multiplier_, static_cast<double>(max_ms_));
  }
  last_failure_ms_ = now_ms;
  double delay = backoff_ms_;
  if (jitter_ > 0) {
    double spread = backoff_ms_ * jitter_;
    std::uniform_real_distribution<double> dist(-spread, spread);
    delay += dist(rng_);
  }
  delay = std::clamp(delay, 0.0, static_cast<double>(max_ms_));
  return static_cast<int64_t>(std::llround(delay));
}

std::string ExponentialDelayRestartStrategy::Describe() const {
  return absl::StrCat("exponential_delay (initial ", initial_ms_, " ms, max ", max_ms_,
                      " ms, multiplier ", multiplier_, ", jitter ", jitter_, ")");
}

std::optional<int64_t> FailureRateRestartStrategy::NextDelayMs(int64_t now_ms) {
  failures_ms_.push_back(now_ms);
  while (!failures_ms_.empty() && now_ms - failures_ms_.front() > interval_ms_) {
    failures_ms_.pop_front();
  }
  if (static_cast<int64_t>(failures_ms_.size()) > max_failures_) return std::nullopt;
  return delay_ms_;
}

std::string FailureRateRestartStrategy::Describe() const {
  return absl::StrCat("failure_rate (more than ", max_failures_, " failures within ", interval_ms_,
                      " ms)");
}

absl::Status ValidateRestartStrategy(const proto::RestartStrategy& spec) {
  const std::string name = NormalizedName(spec.strategy());
  if (name == "none") return absl::OkStatus();
  if (name == "fixed_delay") {
    if (spec.attempts() < 0)
      return Invalid(absl::StrCat("attempts must be >= 0, got ", spec.attempts()));
    if (spec.delay_ms() < 0)
      return Invalid(absl::StrCat("delay must be >= 0, got ", spec.delay_ms(), " ms"));
    return absl::OkStatus();
  }
  if (name == "exponential_delay") {
    int64_t initial = OrDefault(spec.initial_ms(), kDefaultInitialMs);
    int64_t max = OrDefault(spec.max_ms(), std::max(kDefaultMaxMs, initial));
    double multiplier = OrDefault(spec.multiplier(), kDefaultMultiplier);
    if (initial < 0) return Invalid(absl::StrCat("initial must be >= 0, got ", initial, " ms"));
    if (max < initial) {
      return Invalid(
          absl::StrCat("max (", max, " ms) must not be below initial (", initial, " ms)"));
    }
    if (!(multiplier >= 1.0))
      return Invalid(absl::StrCat("multiplier must be >= 1, got ", multiplier));
    if (!(spec.jitter() >= 0.0 && spec.jitter() <= 1.0)) {
      return Invalid(absl::StrCat("jitter must be between 0 and 1, got ", spec.jitter()));
    }
    if (spec.reset_after_ms() < 0) {
      return Invalid(absl::StrCat("reset_after must be >= 0, got ", spec.reset_after_ms(), " ms"));
    }
    return absl::OkStatus();
  }
  if (name == "failure_rate") {
    if (spec.max_failures() < 0)
      return Invalid(absl::StrCat("max_failures must be >= 0, got ", spec.max_failures()));
    if (spec.interval_ms() < 0)
      return Invalid(absl::StrCat("interval must be >= 0, got ", spec.interval_ms(), " ms"));
    if (spec.delay_ms() < 0)
      return Invalid(absl::StrCat("delay must be >= 0, got ", spec.delay_ms(), " ms"));
    return absl::OkStatus();
  }
  return Invalid(absl::StrCat("unknown strategy '", spec.strategy(),
                              "' (expected none, fixed_delay, exponential_delay or failure_rate)"));
}

absl::StatusOr<std::unique_ptr<RestartStrategy>> CreateRestartStrategy(
    const proto::RestartStrategy& spec, uint64_t seed) {
  absl::Status valid = ValidateRestartStrategy(spec);
  if (!valid.ok()) return valid;
  const std::string name = NormalizedName(spec.strategy());
  if (name == "fixed_delay") {
    return std::make_unique<FixedDelayRestartStrategy>(spec.attempts(), spec.delay_ms());
  }
  if (name == "exponential_delay") {
    int64_t initial = OrDefault(spec.initial_ms(), kDefaultInitialMs);
    return std::make_unique<ExponentialDelayRestartStrategy>(
        initial, OrDefault(spec.max_ms(), std::max(kDefaultMaxMs, initial)),
        OrDefault(spec.multiplier(), kDefaultMultiplier), spec.jitter(),
        OrDefault(spec.reset_after_ms(), kDefaultResetAfterMs), seed);
  }
  if (name == "failure_rate") {
    return std::make_unique<FailureRateRestartStrategy>(
        OrDefault(spec.max_failures(), kDefaultMaxFailures),
        OrDefault(spec.interval_ms(), kDefaultIntervalMs), spec.delay_ms());
  }
  return std::make_unique<NoRestartStrategy>();
}

}  // namespace sluice::jobmanager
