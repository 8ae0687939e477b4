// Event-time arithmetic shared by the window and join operators: saturating addition (times
// near the ends of int64, e.g. the INT64_MAX watermark at the end of input, must not wrap)
// and the assignment of a time to its tumbling or sliding windows, aligned to the Unix epoch.
// Header-only, stateless, thread-safe.
#pragma once

#include <cstdint>

namespace sluice::taskmanager {

inline int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) return b > 0 ? INT64_MAX : INT64_MIN;
  return r;
}

// Calls fn(start, end) for every window [start, end) of length `size` starting at a
// multiple of `slide` that contains `ts`, latest first (tumbling: slide == size, one window).
template <typename Fn>
void ForEachTimeWindow(int64_t ts, int64_t size, int64_t slide, Fn&& fn) {
  const int64_t rem = ts % slide;
  const int64_t last_start = rem < 0 ? ts - rem - slide : ts - rem;  // floor, also below 0
  for (int64_t start = last_start; start > ts - size; start -= slide) {
    fn(start, SaturatingAdd(start, size));
  }
}

}  // namespace sluice::taskmanager
