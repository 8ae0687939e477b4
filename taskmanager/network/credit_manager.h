// CreditManager: the receive-buffer and credit bookkeeping of one input gate's remote
// channels, like Flink's BufferManager + floating buffer pool of a SingleInputGate. A remote
// channel owns its exclusive buffers plus the floating buffers lent to it; every owned buffer
// that does not hold received data is announced to the producer as a credit, so the producer
// never sends more than the gate can hold. Freed buffers are announced in batches (half the
// channel's buffers, or at once when the producer has no credit left), so that the producer
// can send several buffers per message and the consumer sends few AddCredit messages. Floating buffers go to channels whose producer
// announced a backlog (required free buffers = backlog + exclusive) and come back when a
// channel has more free buffers than it requires or finishes.
// Pure bookkeeping (received payloads are held by the gate); not thread-safe: the InputGate's
// mutex guards it.
#pragma once

#include <deque>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"

namespace sluice::network {

// (channel index, credits to announce to that channel's producer).
using CreditGrants = absl::InlinedVector<std::pair<int, int>, 4>;

class CreditManager {
 public:
  CreditManager(int num_channels, int exclusive_per_channel, int floating_buffers);

  // Registers remote channel `channel` and returns its initial credit (its exclusive buffers).
  int OpenChannel(int channel);
  // A DATA buffer arrived with the producer's `backlog`. False when the channel had no
  // credit (the producer broke the protocol). May lend floating buffers (grants).
  bool OnBufferReceived(int channel, int backlog, CreditGrants* grants);
  // The task consumed one received buffer of `channel`: its buffer is free again, announced
  // as a credit (batched) or, if the channel has more than it requires, returned to the
  // floating pool.
  void OnBufferConsumed(int channel, CreditGrants* grants);
  // The channel finished or failed: its floating buffers return to the pool.
  void CloseChannel(int channel, CreditGrants* grants);

  int free_floating() const { return free_floating_; }
  int outstanding_credit(int channel) const { return channels_[channel].outstanding; }
  int occupied(int channel) const { return channels_[channel].occupied; }
  int floating_held(int channel) const { return channels_[channel].floating; }
  // Free buffers of the channel not announced yet.
  int unannounced(int channel) const { return channels_[channel].unannounced; }
  // Buffers owned by the channels (holding data, credited, or free): never more than
  // exclusive * channels + floating.
  int committed_buffers() const;

 private:
  struct Channel {
    bool open = false;
    int floating = 0;     // floating buffers lent to this channel
    int occupied = 0;     // buffers holding received, not yet consumed data
    int outstanding = 0;  // credits the producer holds
    int unannounced = 0;  // free buffers not announced yet (batched)
    int backlog = 0;      // last backlog the producer announced
    bool waiting = false; // queued in waiters_ for a floating buffer
  };
  int Owned(const Channel& c) const { return exclusive_ + c.floating; }
  bool NeedsFloating(const Channel& c) const {
    return c.open && Owned(c) - c.occupied < c.backlog + exclusive_;
  }
  void RequestFloating(int channel, CreditGrants* grants);
  void MaybeAnnounce(int channel, CreditGrants* grants);
  void ReturnFloating(CreditGrants* grants);

  const int exclusive_;
  int free_floating_;
  std::vector<Channel> channels_;
  std::deque<int> waiters_;  // channels wanting floating buffers, first come first served
};

}  // namespace sluice::network
