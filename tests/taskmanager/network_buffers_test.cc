// Network buffer accounting: the TaskManager pool, local pools (exhaustion, return,
// blocking, release, cancel) and the credit/floating-buffer bookkeeping of input gates.
#include <atomic>
#include <random>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "taskmanager/network/buffer_pool.h"
#include "taskmanager/network/credit_manager.h"

namespace sluice::network {
namespace {

TEST(NetworkBufferPoolTest, ReservationsAreBoundedAndReturned) {
  NetworkBufferPool pool(10, 1024);
  auto a = pool.Reserve(6, "output A");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(pool.stats().used_buffers, 6);
  EXPECT_EQ(pool.stats().available_buffers, 4);

  auto b = pool.Reserve(5, "the input gate of edge 7");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(b.status().message().find("taskmanager.network.buffers"), std::string::npos);
  EXPECT_NE(b.status().message().find("the input gate of edge 7"), std::string::npos);
  EXPECT_NE(b.status().message().find("needs 5"), std::string::npos);

  a->Reset();
  EXPECT_EQ(pool.stats().used_buffers, 0);
  {
    auto c = pool.Reserve(10, "all");
    ASSERT_TRUE(c.ok());
    BufferReservation moved = std::move(*c);
    EXPECT_EQ(pool.stats().used_buffers, 10);
  }
  EXPECT_EQ(pool.stats().used_buffers, 0);
}

TEST(LocalBufferPoolTest, HandsOutAtMostItsSizeAndRecyclesOnRelease) {
  NetworkBufferPool global(8, 64);
  auto pool = LocalBufferPool::Create(&global, 3, "test output");
  ASSERT_TRUE(pool.ok());
  EXPECT_EQ(global.stats().used_buffers, 3);
  BufferRef b1 = (*pool)->TryRequest();
  BufferRef b2 = (*pool)->TryRequest();
  BufferRef b3 = (*pool)->TryRequest();
  ASSERT_TRUE(b1 && b2 && b3);
  EXPECT_EQ((*pool)->TryRequest(), nullptr);
  EXPECT_EQ((*pool)->in_use(), 3);
  b2->data = "hello";
  b2.reset();  // dropping the last reference returns it
  EXPECT_EQ((*pool)->in_use(), 2);
  BufferRef again = (*pool)->TryRequest();
  ASSERT_NE(again, nullptr);
  EXPECT_TRUE(again->data.empty());
}

TEST(LocalBufferPoolTest, ReservationLivesUntilTheLastBufferReturns) {
  NetworkBufferPool global(4, 64);
  BufferRef outstanding;
  {
    auto pool = LocalBufferPool::Create(&global, 4, "test output");
    ASSERT_TRUE(pool.ok());
    outstanding = (*pool)->TryRequest();
  }
  EXPECT_EQ(global.stats().used_buffers, 4);  // a consumer still holds a buffer
  outstanding.reset();
  EXPECT_EQ(global.stats().used_buffers, 0);
}

TEST(LocalBufferPoolTest, RequestBlocksUntilABufferReturns) {
  NetworkBufferPool global(1, 64);
  auto pool = *LocalBufferPool::Create(&global, 1, "test output");
  BufferRef held = pool->TryRequest();
  std::atomic<bool> got{false};
  std::thread producer([&] {
    auto b = pool->Request(nullptr);
    EXPECT_TRUE(b.ok());
    got = true;
  });
  // Wait (with a deadline) until the producer is blocked, then free the buffer.
  for (int i = 0; i < 5000 && pool->waiters() == 0; ++i) std::this_thread::yield();
  ASSERT_EQ(pool->waiters(), 1);
  EXPECT_FALSE(got.load());
  held.reset();
  producer.join();
  EXPECT_TRUE(got.load());
}

// Buffers dropped inside a RecycleBatch return when it ends, all together (nested batches
// return with the outermost), and a requester blocked meanwhile gets one then.
TEST(LocalBufferPoolTest, RecycleBatchReturnsBuffersTogetherAtItsEnd) {
  NetworkBufferPool global(3, 64);
  auto pool = *LocalBufferPool::Create(&global, 3, "test output");
  std::vector<BufferRef> held = {pool->TryRequest(), pool->TryRequest(), pool->TryRequest()};
  std::atomic<bool> got{false};
  std::thread producer([&] {
    EXPECT_TRUE(pool->Request(nullptr).ok());
    got = true;
  });
  for (int i = 0; i < 5000 && pool->waiters() == 0; ++i) std::this_thread::yield();
  ASSERT_EQ(pool->waiters(), 1);
  {
    RecycleBatch outer;
    held[0].reset();
    {
      RecycleBatch inner;
      held[1].reset();
      held[2].reset();
    }
    EXPECT_EQ(pool->in_use(), 3);  // still held by the outer batch
    EXPECT_FALSE(got.load());
  }
  producer.join();
  EXPECT_TRUE(got.load());
  EXPECT_EQ(pool->in_use(), 0);  // the producer's buffer went back when it was dropped
  BufferRef alone = pool->TryRequest();  // outside a batch a buffer returns at once
  alone.reset();
  EXPECT_EQ(pool->in_use(), 0);
}

TEST(LocalBufferPoolTest, CancelAndReleaseWakeABlockedRequester) {
  NetworkBufferPool global(2, 64);
  auto pool = *LocalBufferPool::Create(&global, 1, "test output");
  BufferRef held = pool->TryRequest();
  std::atomic<bool> canceled{false};
  absl::Status result;
  std::thread producer([&] { result = pool->Request(&canceled).status(); });
  for (int i = 0; i < 5000 && pool->waiters() == 0; ++i) std::this_thread::yield();
  canceled = true;
  producer.join();
  EXPECT_EQ(result.code(), absl::StatusCode::kCancelled);

  std::thread second([&] { result = pool->Request(nullptr).status(); });
  for (int i = 0; i < 5000 && pool->waiters() == 0; ++i) std::this_thread::yield();
  pool->Release(absl::CancelledError("partition p released"));
  second.join();
  EXPECT_EQ(result.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(result.message(), "partition p released");
}

TEST(LocalBufferPoolTest, ZeroSizedPoolIsAConfigurationError) {
  NetworkBufferPool global(2, 64);
  auto pool = LocalBufferPool::Create(&global, 0, "the output of edge 1");
  EXPECT_EQ(pool.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(pool.status().message().find("buffers_per_output_channel"), std::string::npos);
}

int Credit(const CreditGrants& grants, int channel) {
  int n = 0;
  for (auto [c, credit] : grants) n += c == channel ? credit : 0;
  return n;
}

TEST(CreditManagerTest, InitialCreditIsTheExclusiveBuffers) {
  CreditManager credits(2, /*exclusive_per_channel=*/2, /*floating_buffers=*/3);
  EXPECT_EQ(credits.OpenChannel(0), 2);
  EXPECT_EQ(credits.OpenChannel(1), 2);
  EXPECT_EQ(credits.committed_buffers(), 4);
  EXPECT_EQ(credits.free_floating(), 3);
}

TEST(CreditManagerTest, NoBufferWithoutCredit) {
  CreditManager credits(1, 2, 0);
  credits.OpenChannel(0);
  CreditGrants grants;
  EXPECT_TRUE(credits.OnBufferReceived(0, 0, &grants));
  EXPECT_TRUE(credits.OnBufferReceived(0, 0, &grants));
  EXPECT_FALSE(credits.OnBufferReceived(0, 0, &grants));  // a third one was never credited
  EXPECT_TRUE(grants.empty());
  credits.OnBufferConsumed(0, &grants);
  EXPECT_EQ(Credit(grants, 0), 1);  // consuming frees the buffer: one credit back
  EXPECT_EQ(credits.outstanding_credit(0), 1);
}

TEST(CreditManagerTest, BacklogBorrowsFloatingBuffersAndReturnsThem) {
  CreditManager credits(2, 2, 3);
  credits.OpenChannel(0);
  credits.OpenChannel(1);
  CreditGrants grants;
  // Channel 0's producer has 5 more buffers queued: it wants backlog + exclusive = 7 free
  // buffers but owns 2 (1 occupied), so it takes all 3 floating buffers and waits for more.
  ASSERT_TRUE(credits.OnBufferReceived(0, 5, &grants));
  EXPECT_EQ(Credit(grants, 0), 3);
  EXPECT_EQ(credits.free_floating(), 0);
  EXPECT_EQ(credits.floating_held(0), 3);
  EXPECT_EQ(credits.outstanding_credit(0), 4);
  // Channel 1 announces a backlog too: nothing is left, it queues for a floating buffer.
  grants.clear();
  ASSERT_TRUE(credits.OnBufferReceived(1, 4, &grants));
  EXPECT_TRUE(grants.empty());

  // Channel 0 drains: with backlog 0 it needs only its exclusive buffers, so consumed
  // buffers beyond that go back to the floating pool, and the waiting channel 1 gets them.
  grants.clear();
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(credits.OnBufferReceived(0, 0, &grants));
  grants.clear();
  for (int i = 0; i < 5; ++i) credits.OnBufferConsumed(0, &grants);
  EXPECT_EQ(credits.floating_held(0), 0);
  EXPECT_EQ(Credit(grants, 1), 3);  // the three floating buffers moved to channel 1
  EXPECT_EQ(credits.floating_held(1), 3);
  // Channel 0's two exclusive buffers are free again: credited, or about to be (batched).
  EXPECT_EQ(credits.outstanding_credit(0) + credits.unannounced(0), 2);
  EXPECT_EQ(Credit(grants, 0), credits.outstanding_credit(0));
  EXPECT_EQ(credits.committed_buffers(), 2 * 2 + 3);  // never more than the gate reserved
}

TEST(CreditManagerTest, FreedBuffersAreAnnouncedInBatches) {
  CreditManager credits(1, 8, 0);  // 8 buffers: announced 4 at a time
  credits.OpenChannel(0);
  CreditGrants grants;
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(credits.OnBufferReceived(0, 0, &grants));
  EXPECT_TRUE(grants.empty());
  // The producer used every credit, but the task still has buffers of the channel to
  // consume: the freed buffers are gathered until half of them are free.
  for (int i = 0; i < 3; ++i) credits.OnBufferConsumed(0, &grants);
  EXPECT_TRUE(grants.empty());
  EXPECT_EQ(credits.unannounced(0), 3);
  credits.OnBufferConsumed(0, &grants);
  EXPECT_EQ(Credit(grants, 0), 4);
  EXPECT_EQ(credits.unannounced(0), 0);
  EXPECT_EQ(credits.committed_buffers(), 8);
}

// A producer that always has data, announcing a changing backlog (so floating buffers are
// lent and returned), and a task consuming at random moments (seeded): the channel never
// stalls - whenever the task has nothing of it left to consume, the producer holds a credit
// - the gate never commits more buffers than it reserved, and credits go back in batches
// rather than one message per buffer.
TEST(CreditManagerTest, BatchesCreditsWithoutEverStallingAChannel) {
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    std::mt19937 rng(seed);
    const int exclusive = 2, floating = 8;
    CreditManager credits(2, exclusive, floating);
    int credit[2] = {credits.OpenChannel(0), credits.OpenChannel(1)};  // held by the producers
    int queued[2] = {0, 0};  // received, not consumed yet
    int messages = 0, buffers = 0;
    CreditGrants grants;
    for (int step = 0; step < 20000; ++step) {
      const int ch = static_cast<int>(rng() % 2);
      grants.clear();
      if (credit[ch] > 0 && (queued[ch] == 0 || rng() % 2 == 0)) {
        const int backlog = static_cast<int>(rng() % 7);
        ASSERT_TRUE(credits.OnBufferReceived(ch, backlog, &grants));
        --credit[ch];
        ++queued[ch];
        ++buffers;
      } else if (queued[ch] > 0) {
        credits.OnBufferConsumed(ch, &grants);
        --queued[ch];
      }
      for (int c = 0; c < 2; ++c) {
        credit[c] += Credit(grants, c);
        messages += Credit(grants, c) > 0 ? 1 : 0;
        ASSERT_TRUE(credit[c] > 0 || queued[c] > 0)
            << "channel " << c << " stalled at step " << step << " (seed " << seed << ")";
      }
      ASSERT_LE(credits.committed_buffers(), 2 * exclusive + floating);
    }
    EXPECT_GT(buffers, 5000);
    EXPECT_LE(2 * messages, buffers) << "seed " << seed;  // 2+ buffers per credit message
  }
}

TEST(CreditManagerTest, ClosingAChannelReturnsItsFloatingBuffers) {
  CreditManager credits(2, 1, 2);
  credits.OpenChannel(0);
  credits.OpenChannel(1);
  CreditGrants grants;
  ASSERT_TRUE(credits.OnBufferReceived(0, 10, &grants));
  EXPECT_EQ(credits.floating_held(0), 2);
  ASSERT_TRUE(credits.OnBufferReceived(1, 10, &grants));  // waits
  grants.clear();
  credits.CloseChannel(0, &grants);
  EXPECT_EQ(Credit(grants, 1), 2);
  EXPECT_EQ(credits.outstanding_credit(0), 0);
}

}  // namespace
}  // namespace sluice::network
