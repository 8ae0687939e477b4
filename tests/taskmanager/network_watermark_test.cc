// Watermarks through the network stack: a watermark is an event in order with the data (the
// gate reflects it only once the data before it was polled), needs no credit, and the gate's
// watermark is the minimum over its channels that are neither idle nor ended (INT64_MAX once
// all ended; idle when every open channel is idle). One local and one remote channel (real
// gRPC on loopback), so both paths carry watermarks.
#include <climits>

#include "gtest/gtest.h"
#include "tests/taskmanager/network_loopback_util.h"

namespace sluice::network {
namespace {

using namespace ::sluice::network::testing;  // NOLINT

struct WatermarkChannels : TwoChannels {
  // Polls until `done` (checked after every poll) or 30 s; counts the rows received.
  bool PollUntil(const std::function<bool()>& done, int64_t* rows = nullptr) {
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (true) {
      auto next = gate->PollNext();
      EXPECT_TRUE(next.ok()) << next.status();
      if (!next.ok()) return false;
      if (next->has_value() && rows != nullptr) *rows += static_cast<int64_t>((*next)->num_rows());
      if (done()) return true;
      if (next->has_value()) continue;
      if (absl::Now() > deadline) return false;
      notifier.Wait(absl::Milliseconds(100));
    }
  }
  bool WatermarkIs(int64_t w) {
    return PollUntil([&] { return !gate->watermark().idle && gate->watermark().watermark == w; });
  }
};

TEST(NetworkWatermarkTest, GateWatermarkIsTheMinimumOverActiveChannels) {
  WatermarkChannels t;
  ASSERT_TRUE(t.gate && t.local && t.remote);
  EXPECT_EQ(t.gate->watermark().watermark, INT64_MIN);  // nothing yet

  ASSERT_TRUE(t.local->Emit(MakeBatch(0, 100)).ok());
  ASSERT_TRUE(t.local->BroadcastWatermark(100, false).ok());
  // Only the local channel has one: the remote one holds the gate back.
  int64_t rows = 0;
  ASSERT_TRUE(t.PollUntil([&] { return rows == 100; }, &rows));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(t.gate->PollNext().ok());  // takes the watermark
  EXPECT_EQ(t.gate->watermark().watermark, INT64_MIN);

  ASSERT_TRUE(t.remote->Emit(MakeBatch(1000, 50)).ok());
  ASSERT_TRUE(t.remote->BroadcastWatermark(50, false).ok());
  ASSERT_TRUE(t.WatermarkIs(50));
  // The data before the remote watermark was delivered before the watermark counted.
  EXPECT_EQ(rows, 100);

  // An idle channel no longer holds the gate back.
  ASSERT_TRUE(t.remote->BroadcastWatermark(50, true).ok());
  ASSERT_TRUE(t.WatermarkIs(100));
  // Every open channel idle: the gate is idle.
  ASSERT_TRUE(t.local->BroadcastWatermark(100, true).ok());
  ASSERT_TRUE(t.PollUntil([&] { return t.gate->watermark().idle; }));
  // Active again with a newer watermark.
  ASSERT_TRUE(t.remote->BroadcastWatermark(70, false).ok());
  ASSERT_TRUE(t.WatermarkIs(70));
  // An ended channel does not count; all ended: the end of event time.
  ASSERT_TRUE(t.remote->Finish().ok());
  ASSERT_TRUE(t.local->BroadcastWatermark(150, false).ok());
  ASSERT_TRUE(t.WatermarkIs(150));
  ASSERT_TRUE(t.local->Finish().ok());
  ASSERT_TRUE(t.PollUntil([&] { return t.gate->IsFinished(); }));
  EXPECT_EQ(t.gate->watermark().watermark, INT64_MAX);
  EXPECT_FALSE(t.gate->watermark().idle);
}

TEST(NetworkWatermarkTest, WatermarkWaitsBehindTheDataBeforeIt) {
  WatermarkChannels t;
  ASSERT_TRUE(t.gate && t.local && t.remote);
  // Both channels: 3 batches, each followed by a watermark.
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(t.local->Emit(MakeBatch(i * 100, 100)).ok());
    ASSERT_TRUE(t.local->BroadcastWatermark(i * 10, false).ok());
    ASSERT_TRUE(t.remote->Emit(MakeBatch(1000 + i * 100, 100)).ok());
    ASSERT_TRUE(t.remote->BroadcastWatermark(i * 10 + 5, false).ok());
  }
  // Whenever a batch arrives, the gate's watermark counts no watermark sent after it: after
  // k batches of a channel, at most the watermark sent after its k-th.
  int64_t local_batches = 0, remote_batches = 0;
  int64_t last = INT64_MIN;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (local_batches + remote_batches < 6 || t.gate->watermark().watermark != 20) {
    auto next = t.gate->PollNext();
    ASSERT_TRUE(next.ok()) << next.status();
    if (next->has_value()) {
      (Ids({**next})[0] >= 1000 ? remote_batches : local_batches) += 1;
    } else {
      ASSERT_LT(absl::Now(), deadline);
      t.notifier.Wait(absl::Milliseconds(100));
    }
    const int64_t w = t.gate->watermark().watermark;
    EXPECT_GE(w, last);  // never goes back
    last = w;
    if (w != INT64_MIN) {
      EXPECT_LE(w, (local_batches - 1) * 10);
      EXPECT_LE(w, (remote_batches - 1) * 10 + 5);
    }
  }
}

}  // namespace
}  // namespace sluice::network
