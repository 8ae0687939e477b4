// Event-time helpers shared by the window, join and pattern operators: saturating addition
// (times near the ends of int64, e.g. the INT64_MAX watermark at the end of input, must not
// wrap), the assignment of a time to its tumbling or sliding windows (aligned to the Unix
// epoch), and state keys that sort by time (buffered rows). Header-only, stateless,
// thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

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

// A state key for a row buffered at `time`: the time (big-endian, sign bit flipped) then
// `sequence` (big-endian), so that byte order is time order, then arrival order.
inline std::string TimeOrderedKey(int64_t time, uint64_t sequence) {
  std::string key(16, '\0');
  const uint64_t biased = static_cast<uint64_t>(time) ^ (uint64_t{1} << 63);
  for (int i = 0; i < 8; ++i) {
    key[i] = static_cast<char>(biased >> (56 - 8 * i));
    key[8 + i] = static_cast<char>(sequence >> (56 - 8 * i));
  }
  return key;
}

// The time of a TimeOrderedKey.
inline int64_t TimeOfKey(absl::string_view key) {
  uint64_t biased = 0;
  for (int i = 0; i < 8 && i < static_cast<int>(key.size()); ++i) {
    biased = (biased << 8) | static_cast<unsigned char>(key[i]);
  }
  return static_cast<int64_t>(biased ^ (uint64_t{1} << 63));
}

}  // namespace sluice::taskmanager
