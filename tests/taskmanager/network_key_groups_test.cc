// Key groups: the HASH partitioner and the state backends must map keys exactly like Flink's
// KeyGroupRangeAssignment (murmurHash(key.hashCode()) % maxParallelism, then
// keyGroup * parallelism / maxParallelism).
#include "taskmanager/network/key_groups.h"

#include "gtest/gtest.h"

namespace sluice::network {
namespace {

using types::RecordBatch;
using types::Schema;
using types::TypeId;

TEST(KeyGroupsTest, MurmurHashMatchesFlinkMathUtils) {
  // Values of Flink's MathUtils.murmurHash(int) (Java int arithmetic).
  EXPECT_EQ(MurmurHash(0), 593689054);
  EXPECT_EQ(MurmurHash(1), 68075478);
  EXPECT_EQ(MurmurHash(2), 1085422463);
  EXPECT_EQ(MurmurHash(42), 1134849565);
  EXPECT_EQ(MurmurHash(-1), 1982413648);
  EXPECT_EQ(MurmurHash(INT32_MIN), 1718298732);
  EXPECT_EQ(MurmurHash(INT32_MAX), 1653689534);
}

TEST(KeyGroupsTest, KeyGroupAndOperatorIndexFollowFlinksFormula) {
  EXPECT_EQ(KeyGroupForKeyHash(0, 128), 94);
  EXPECT_EQ(KeyGroupForKeyHash(1, 128), 86);
  EXPECT_EQ(KeyGroupForKeyHash(42, 128), 29);
  EXPECT_EQ(KeyGroupForKeyHash(99162322, 128), 35);  // "hello".hashCode()
  for (int max_p : {1, 7, 128, 32768}) {
    for (int32_t h : {0, 1, -5, 123456789, INT32_MIN}) {
      const int kg = KeyGroupForKeyHash(h, max_p);
      EXPECT_GE(kg, 0);
      EXPECT_LT(kg, max_p);
    }
  }
  // keyGroup * parallelism / maxParallelism
  EXPECT_EQ(OperatorIndexForKeyGroup(128, 4, 0), 0);
  EXPECT_EQ(OperatorIndexForKeyGroup(128, 4, 31), 0);
  EXPECT_EQ(OperatorIndexForKeyGroup(128, 4, 32), 1);
  EXPECT_EQ(OperatorIndexForKeyGroup(128, 4, 127), 3);
  EXPECT_EQ(OperatorIndexForKeyGroup(128, 3, 43), 1);
  EXPECT_EQ(OperatorIndexForKeyGroup(32768, 32768, 32767), 32767);
}

TEST(KeyGroupsTest, RangesPartitionTheKeyGroupsConsistentlyWithOperatorIndex) {
  for (int max_p : {1, 7, 128, 1000}) {
    for (int p = 1; p <= std::min(max_p, 13); ++p) {
      int next = 0;
      for (int i = 0; i < p; ++i) {
        KeyGroupRange r = KeyGroupRangeForOperatorIndex(max_p, p, i);
        EXPECT_EQ(r.first, next);
        for (int kg = r.first; kg <= r.last; ++kg) {
          ASSERT_EQ(OperatorIndexForKeyGroup(max_p, p, kg), i) << max_p << " " << p << " " << kg;
        }
        next = r.last + 1;
      }
      EXPECT_EQ(next, max_p);
    }
  }
}

TEST(KeyGroupsTest, ValueHashesAreJavaHashCodes) {
  auto schema = std::make_shared<const Schema>(std::vector<types::Field>{
      {"i", TypeId::kInt64}, {"s", TypeId::kString}, {"b", TypeId::kBool},
      {"d", TypeId::kFloat64}});
  RecordBatch batch(schema);
  auto& c = batch.mutable_columns();
  c[0].AppendInt(int64_t{1} << 40);
  c[1].AppendString("hello");
  c[2].AppendInt(1);
  c[3].AppendDouble(1.5);
  c[0].AppendNull();
  c[1].AppendString("");
  c[2].AppendInt(0);
  c[3].AppendDouble(-0.0);
  batch.SetNumRows(2);
  EXPECT_EQ(HashValue(batch.column(0), 0), 256);        // Long.hashCode(1L << 40)
  EXPECT_EQ(HashValue(batch.column(1), 0), 99162322);   // "hello".hashCode()
  EXPECT_EQ(HashValue(batch.column(2), 0), 1231);       // Boolean.hashCode(true)
  EXPECT_EQ(HashValue(batch.column(3), 0), 1073217536); // Double.hashCode(1.5)
  EXPECT_EQ(HashValue(batch.column(0), 1), 0);          // null
  EXPECT_EQ(HashValue(batch.column(1), 1), 0);          // ""
  EXPECT_EQ(HashValue(batch.column(2), 1), 1237);
  EXPECT_EQ(HashValue(batch.column(3), 1), 0);          // -0.0 hashes like 0.0

  // One key column: the value's hash. Several: Arrays.hashCode.
  EXPECT_EQ(HashKey(batch, 0, {1}), 99162322);
  EXPECT_EQ(HashKey(batch, 0, {0, 2}), static_cast<int32_t>((31u * 1 + 256) * 31 + 1231));
  std::vector<int32_t> hashes;
  HashKeys(batch, {0, 1, 2}, &hashes);
  ASSERT_EQ(hashes.size(), 2u);
  for (size_t r = 0; r < 2; ++r) EXPECT_EQ(hashes[r], HashKey(batch, r, {0, 1, 2}));
}

}  // namespace
}  // namespace sluice::network
