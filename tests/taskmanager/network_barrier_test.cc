// Checkpoint barriers through the network stack: a barrier overtakes no data and needs no
// credit; an input gate aligns them (a channel that delivered barrier N is blocked, its later
// data held back, until every channel delivered N or ended), a newer barrier abandons an older
// alignment, and a channel that ended counts as aligned. One local and one remote channel
// (over real gRPC on loopback), so both paths carry barriers.
#include <set>

#include "gtest/gtest.h"
#include "tests/taskmanager/network_loopback_util.h"

namespace sluice::network {
namespace {

using namespace ::sluice::network::testing;  // NOLINT

struct BarrierChannels : TwoChannels {
  // Polls until `done` or 30 s; appends the ids of received rows.
  bool PollUntil(const std::function<bool()>& done, std::vector<int64_t>* ids) {
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (!done()) {
      auto next = gate->PollNext();
      EXPECT_TRUE(next.ok()) << next.status();
      if (!next.ok()) return false;
      if (next->has_value()) {
        for (int64_t id : Ids({**next})) ids->push_back(id);
        continue;
      }
      if (done()) break;
      if (absl::Now() > deadline) return false;
      notifier.Wait(absl::Milliseconds(100));
    }
    return true;
  }
};

std::set<int64_t> Range(int64_t begin, int64_t end) {
  std::set<int64_t> s;
  for (int64_t i = begin; i < end; ++i) s.insert(i);
  return s;
}

TEST(NetworkBarrierTest, GateAlignsBarriersAndHoldsBackDataAfterThem) {
  BarrierChannels t;
  ASSERT_TRUE(t.gate && t.local && t.remote);
  // Local producer: 0..99, barrier 1, 100..199 (held back), end.
  ASSERT_TRUE(t.local->Emit(MakeBatch(0, 100)).ok());
  ASSERT_TRUE(t.local->BroadcastBarrier(1).ok());
  ASSERT_TRUE(t.local->Emit(MakeBatch(100, 100)).ok());
  ASSERT_TRUE(t.local->Finish().ok());
  // Remote producer: 1000..1099, no barrier yet.
  ASSERT_TRUE(t.remote->Emit(MakeBatch(1000, 100)).ok());
  ASSERT_TRUE(t.remote->Flush().ok());

  std::vector<int64_t> ids;
  ASSERT_TRUE(t.PollUntil(
      [&] { return ids.size() >= 200 && t.gate->pending_barrier() == 1; }, &ids));
  std::set<int64_t> got(ids.begin(), ids.end());
  std::set<int64_t> pre = Range(0, 100);
  for (int64_t i : Range(1000, 1100)) pre.insert(i);
  EXPECT_EQ(got, pre);  // nothing of the local channel's post-barrier data
  EXPECT_EQ(t.gate->aligned_barrier(), 0);
  // The blocked channel's data stays queued: polling returns nothing.
  for (int i = 0; i < 20; ++i) {
    auto next = t.gate->PollNext();
    ASSERT_TRUE(next.ok());
    EXPECT_FALSE(next->has_value());
  }

  // The remote barrier completes the alignment; its later rows are held back too.
  ASSERT_TRUE(t.remote->BroadcastBarrier(1).ok());
  ASSERT_TRUE(t.remote->Emit(MakeBatch(1100, 100)).ok());
  ASSERT_TRUE(t.remote->Finish().ok());
  ASSERT_TRUE(t.PollUntil([&] { return t.gate->aligned_barrier() == 1; }, &ids));
  EXPECT_EQ(ids.size(), 200u);

  // Resumed: everything after the barriers arrives, each row once.
  t.gate->ResumeAfterBarrier();
  EXPECT_EQ(t.gate->aligned_barrier(), 0);
  EXPECT_EQ(t.gate->pending_barrier(), 0);
  ASSERT_TRUE(t.PollUntil([&] { return t.gate->IsFinished(); }, &ids));
  got = std::set<int64_t>(ids.begin(), ids.end());
  std::set<int64_t> all = Range(0, 200);
  for (int64_t i : Range(1000, 1200)) all.insert(i);
  EXPECT_EQ(got, all);
  EXPECT_EQ(ids.size(), 400u);
}

TEST(NetworkBarrierTest, NewerBarrierAbandonsAnOlderAlignment) {
  BarrierChannels t;
  ASSERT_TRUE(t.gate && t.local && t.remote);
  // Checkpoint 1 never reaches the remote producer (its trigger was lost): it sends 2.
  ASSERT_TRUE(t.local->BroadcastBarrier(1).ok());
  ASSERT_TRUE(t.local->Emit(MakeBatch(0, 10)).ok());
  ASSERT_TRUE(t.local->BroadcastBarrier(2).ok());
  ASSERT_TRUE(t.local->Finish().ok());
  ASSERT_TRUE(t.remote->BroadcastBarrier(2).ok());
  ASSERT_TRUE(t.remote->Finish().ok());
  std::vector<int64_t> ids;
  bool saw_aligned_1 = false;
  ASSERT_TRUE(t.PollUntil(
      [&] {
        saw_aligned_1 |= t.gate->aligned_barrier() == 1;
        return t.gate->aligned_barrier() == 2;
      },
      &ids));
  EXPECT_FALSE(saw_aligned_1);
  EXPECT_EQ(ids.size(), 10u);  // the local rows between 1 and 2 were released by the abandon
  t.gate->ResumeAfterBarrier();
  ASSERT_TRUE(t.PollUntil([&] { return t.gate->IsFinished(); }, &ids));
}

TEST(NetworkBarrierTest, EndedChannelCountsAsAligned) {
  BarrierChannels t;
  ASSERT_TRUE(t.gate && t.local && t.remote);
  ASSERT_TRUE(t.local->Emit(MakeBatch(0, 10)).ok());
  ASSERT_TRUE(t.local->Finish().ok());  // a bounded producer that ended: no barrier
  ASSERT_TRUE(t.remote->BroadcastBarrier(3).ok());
  ASSERT_TRUE(t.remote->Finish().ok());
  std::vector<int64_t> ids;
  ASSERT_TRUE(t.PollUntil([&] { return t.gate->aligned_barrier() == 3; }, &ids));
  t.gate->ResumeAfterBarrier();
  ASSERT_TRUE(t.PollUntil([&] { return t.gate->IsFinished(); }, &ids));
  EXPECT_EQ(ids.size(), 10u);
}

TEST(NetworkBarrierTest, BarrierNeedsNoCreditAndKeepsItsPlaceAfterData) {
  BarrierChannels t;
  ASSERT_TRUE(t.gate && t.local && t.remote);
  ASSERT_TRUE(t.local->Finish().ok());
  // More buffers than the remote channel has credit for, then a barrier: the barrier arrives
  // only after all of them (it never overtakes data), without a credit of its own.
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(t.remote->Emit(MakeBatch(i * 100, 100)).ok());
  ASSERT_TRUE(t.remote->BroadcastBarrier(7).ok());
  ASSERT_TRUE(t.remote->Finish().ok());
  std::vector<int64_t> ids;
  ASSERT_TRUE(t.PollUntil([&] { return t.gate->aligned_barrier() == 7; }, &ids));
  EXPECT_EQ(ids.size(), 2000u);
  t.gate->ResumeAfterBarrier();
  ASSERT_TRUE(t.PollUntil([&] { return t.gate->IsFinished(); }, &ids));
}

}  // namespace
}  // namespace sluice::network
