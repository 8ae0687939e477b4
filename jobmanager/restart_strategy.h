// RestartStrategy: decides, failure by failure, whether a job restarts and after which delay
// (none, fixed_delay, exponential_delay with jitter, failure_rate), from the job graph's
// proto::RestartStrategy. One instance per job, owned by its JobMaster.
// Not thread-safe: called under the Dispatcher's mutex.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/jobgraph.pb.h"

namespace sluice::jobmanager {

class RestartStrategy {
 public:
  virtual ~RestartStrategy() = default;
  // Called once per job failure at monotonic time `now_ms`. Returns the delay before the
  // restart, or nullopt when the job must fail instead.
  virtual std::optional<int64_t> NextDelayMs(int64_t now_ms) = 0;
  // "fixed_delay (3 attempts, 1000 ms delay)": names the strategy in "not restarted" messages.
  virtual std::string Describe() const = 0;
};

// Never restarts.
class NoRestartStrategy : public RestartStrategy {
 public:
  std::optional<int64_t> NextDelayMs(int64_t now_ms) override { return std::nullopt; }
  std::string Describe() const override { return "none"; }
};

// Restarts at most `attempts` times, each after `delay_ms`.
class FixedDelayRestartStrategy : public RestartStrategy {
 public:
  FixedDelayRestartStrategy(int attempts, int64_t delay_ms)
      : attempts_(attempts), delay_ms_(delay_ms) {}
  std::optional<int64_t> NextDelayMs(int64_t now_ms) override;
  std::string Describe() const override;

 private:
  int attempts_;
  int64_t delay_ms_;
  int restarts_ = 0;
};

// Restarts forever; the delay starts at `initial_ms` and is multiplied by `multiplier` on each
// failure up to `max_ms`. A failure more than `reset_after_ms` after the previous one starts
// again from `initial_ms`. Each delay is moved by a uniform random amount of up to
// `jitter` x delay either way (seeded RNG), and never exceeds `max_ms`.
class ExponentialDelayRestartStrategy : public RestartStrategy {
 public:
  ExponentialDelayRestartStrategy(int64_t initial_ms, int64_t max_ms, double multiplier,
                                  double jitter, int64_t reset_after_ms, uint64_t seed);
  std::optional<int64_t> NextDelayMs(int64_t now_ms) override;
  std::string Describe() const override;

 private:
  int64_t initial_ms_;
  int64_t max_ms_;
  double multiplier_;
  double jitter_;
  int64_t reset_after_ms_;
  std::mt19937_64 rng_;
  std::optional<int64_t> last_failure_ms_;
  double backoff_ms_ = 0;  // the delay before jitter
};

// Restarts after `delay_ms` as long as no more than `max_failures` failures happened within
// the last `interval_ms` (this one included); the next failure within the window fails the job.
class FailureRateRestartStrategy : public RestartStrategy {
 public:
  FailureRateRestartStrategy(int max_failures, int64_t interval_ms, int64_t delay_ms)
      : max_failures_(max_failures), interval_ms_(interval_ms), delay_ms_(delay_ms) {}
  std::optional<int64_t> NextDelayMs(int64_t now_ms) override;
  std::string Describe() const override;

 private:
  int max_failures_;
  int64_t interval_ms_;
  int64_t delay_ms_;
  std::deque<int64_t> failures_ms_;
};

// Checks a strategy of a submitted job graph: a known name ("" = none; "-" may be written for
// "_") and sensible numbers. Zero-valued fields take defaults: exponential_delay initial 1s,
// max 5m, multiplier 2, reset_after 1h; failure_rate max_failures 1, interval 1m.
// fixed_delay attempts/delay and failure_rate delay are taken as given.
absl::Status ValidateRestartStrategy(const proto::RestartStrategy& spec);

// Builds the strategy (validating it first). `seed` seeds the jitter of exponential_delay.
absl::StatusOr<std::unique_ptr<RestartStrategy>> CreateRestartStrategy(
    const proto::RestartStrategy& spec, uint64_t seed);

}  // namespace sluice::jobmanager
