// Key groups: how a key maps to a key group and a key group to a parallel subtask, exactly
// Flink's KeyGroupRangeAssignment (murmur hash of the key's hash code modulo max parallelism;
// key group * parallelism / max parallelism). Used by the HASH partitioner of RecordWriter and
// by the state backends (which key groups a subtask owns), so both always agree.
// Stateless functions; thread-safe.
#pragma once

#include <climits>
#include <cstdint>
#include <vector>

#include "common/key_group_range.h"
#include "common/types/record_batch.h"

namespace sluice::network {

// The largest max_parallelism (number of key groups), as in Flink.
inline constexpr int kMaxMaxParallelism = 32768;
// Used when a job does not set max_parallelism.
inline constexpr int kDefaultMaxParallelism = 128;

// Flink's MathUtils.murmurHash(int): a non-negative murmur3 mix of a 32-bit hash code.
// Inline: the HASH partitioner calls it once per row.
inline int32_t MurmurHash(int32_t code) {
  auto rotate_left = [](uint32_t x, int r) { return (x << r) | (x >> (32 - r)); };
  uint32_t c = static_cast<uint32_t>(code);
  c *= 0xcc9e2d51u;
  c = rotate_left(c, 15);
  c *= 0x1b873593u;
  c = rotate_left(c, 13);
  c = c * 5 + 0xe6546b64u;
  c ^= 4;
  // bitMix: murmur3's 32-bit finalizer.
  c ^= c >> 16;
  c *= 0x85ebca6bu;
  c ^= c >> 13;
  c *= 0xc2b2ae35u;
  c ^= c >> 16;
  const int32_t s = static_cast<int32_t>(c);
  if (s >= 0) return s;
  if (s != INT32_MIN) return -s;
  return 0;
}

// Flink's KeyGroupRangeAssignment.computeKeyGroupForKeyHash: in [0, max_parallelism).
inline int KeyGroupForKeyHash(int32_t key_hash, int max_parallelism) {
  return MurmurHash(key_hash) % max_parallelism;
}

// Flink's KeyGroupRangeAssignment.computeOperatorIndexForKeyGroup: the subtask (or
// subpartition) in [0, parallelism) that owns `key_group`.
inline int OperatorIndexForKeyGroup(int max_parallelism, int parallelism, int key_group) {
  return static_cast<int>(int64_t{key_group} * parallelism / max_parallelism);
}

// Flink's computeKeyGroupRangeForOperatorIndex: the key groups [first, last] that subtask
// `index` of `parallelism` owns (common/key_group_range.h, shared with the JobManager).
using ::sluice::KeyGroupRange;
using ::sluice::KeyGroupRangeForOperatorIndex;

// The 32-bit hash code of one key value, deterministic across processes and platforms (not
// absl::Hash, which is seeded per process). It equals Java's hashCode for BIGINT/TIMESTAMP
// (Long.hashCode), BOOLEAN (1231/1237), DOUBLE (Double.hashCode, with -0.0 folded into 0.0)
// and ASCII strings (String.hashCode over bytes); NULL hashes to 0.
int32_t HashValue(const types::Column& column, size_t row);

// The hash code of the key of `row`: the value's hash for one key column; for several,
// combined like java.util.Arrays.hashCode (h = 31 * h + value hash, starting at 1).
int32_t HashKey(const types::RecordBatch& batch, size_t row, const std::vector<int>& key_indexes);

// HashKey for every row of `batch`, column by column (no per-row type dispatch).
void HashKeys(const types::RecordBatch& batch, const std::vector<int>& key_indexes,
              std::vector<int32_t>* hashes);

}  // namespace sluice::network
