// KeyGroupRange: which key groups (shards of keyed state, 0..max_parallelism-1) a parallel
// subtask owns, exactly Flink's KeyGroupRangeAssignment.computeKeyGroupRangeForOperatorIndex.
// Shared by the TaskManager (partitioning, state backends) and the JobManager (which old
// snapshots a rescaled subtask restores). Stateless; thread-safe.
#pragma once

#include <cstdint>

namespace sluice {

// Key groups [first, last], inclusive.
struct KeyGroupRange {
  int first = 0;
  int last = -1;
  int size() const { return last - first + 1; }
  bool Contains(int key_group) const { return key_group >= first && key_group <= last; }
  bool Overlaps(int other_first, int other_last) const {
    return other_first <= last && other_last >= first;
  }
};

inline KeyGroupRange KeyGroupRangeForOperatorIndex(int max_parallelism, int parallelism,
                                                   int index) {
  KeyGroupRange range;
  range.first = static_cast<int>((int64_t{index} * max_parallelism + parallelism - 1) / parallelism);
  range.last = static_cast<int>((int64_t{index + 1} * max_parallelism - 1) / parallelism);
  return range;
}

}  // namespace sluice
