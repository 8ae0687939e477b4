// Clock: the one seam to wall and monotonic time, so tests inject time instead of sleeping.
// SystemClock is safe for concurrent use; ManualClock is advanced by the test thread and
// read from any thread.
#pragma once

#include <atomic>
#include <cstdint>

namespace sluice {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds on a monotonic clock (for timeouts and intervals).
  virtual int64_t NowMillis() const = 0;
  // Milliseconds since the Unix epoch (for display and timestamps).
  virtual int64_t WallMillis() const = 0;
};

class SystemClock : public Clock {
 public:
  int64_t NowMillis() const override;
  int64_t WallMillis() const override;
  static SystemClock* Get();
};

class ManualClock : public Clock {
 public:
  explicit ManualClock(int64_t start_ms = 1'000'000) : now_(start_ms) {}
  int64_t NowMillis() const override { return now_.load(); }
  int64_t WallMillis() const override { return now_.load(); }
  void Advance(int64_t ms) { now_ += ms; }

 private:
  std::atomic<int64_t> now_;
};

// Nanoseconds on the steady clock, for measuring how long something took (metrics,
// durations in reports): never for deciding what happens, which goes through a Clock.
int64_t MonotonicNanos();

}  // namespace sluice
