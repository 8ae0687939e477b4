#include "taskmanager/network/credit_manager.h"

#include <algorithm>

namespace sluice::network {

CreditManager::CreditManager(int num_channels, int exclusive_per_channel, int floating_buffers)
    : exclusive_(exclusive_per_channel), free_floating_(floating_buffers), channels_(num_channels) {}

int CreditManager::OpenChannel(int channel) {
  Channel& c = channels_[channel];
  c.open = true;
  c.outstanding = exclusive_;
  return exclusive_;
}

bool CreditManager::OnBufferReceived(int channel, int backlog, CreditGrants* grants) {
  Channel& c = channels_[channel];
  if (!c.open || c.outstanding <= 0) return false;
  --c.outstanding;
  ++c.occupied;
  c.backlog = backlog;
  RequestFloating(channel, grants);  // announces what it lends, with the channel's free ones
  return true;
}

void CreditManager::OnBufferConsumed(int channel, CreditGrants* grants) {
  Channel& c = channels_[channel];
  --c.occupied;
  if (!c.open) return;
  const int free_buffers = Owned(c) - c.occupied;
  if (c.floating > 0 && free_buffers > c.backlog + exclusive_) {
    // More than required: lend the freed buffer to another channel instead.
    --c.floating;
    ReturnFloating(grants);
  } else {
    ++c.unannounced;
  }
  MaybeAnnounce(channel, grants);  // the task may have consumed its last received buffer
}

void CreditManager::MaybeAnnounce(int channel, CreditGrants* grants) {
  Channel& c = channels_[channel];
  if (c.unannounced == 0) return;
  // Half the channel's buffers free: announce them together. Fewer only when the producer
  // has no credit left and the task has nothing of this channel left to consume (else it
  // would starve). Announcing each freed buffer as it frees would make a backpressured
  // exchange one credit message - and a thread wake-up on both sides - per buffer.
  const bool starving = c.outstanding == 0 && c.occupied == 0;
  if (!starving && c.unannounced < std::max(1, Owned(c) / 2)) return;
  c.outstanding += c.unannounced;
  grants->emplace_back(channel, c.unannounced);
  c.unannounced = 0;
}

void CreditManager::CloseChannel(int channel, CreditGrants* grants) {
  Channel& c = channels_[channel];
  if (!c.open) return;
  c.open = false;
  c.outstanding = 0;
  c.unannounced = 0;
  const int floating = c.floating;
  c.floating = 0;
  for (int i = 0; i < floating; ++i) ReturnFloating(grants);
}

void CreditManager::RequestFloating(int channel, CreditGrants* grants) {
  Channel& c = channels_[channel];
  while (NeedsFloating(c) && free_floating_ > 0) {
    --free_floating_;
    ++c.floating;
    ++c.unannounced;  // announced like a freed buffer
  }
  if (NeedsFloating(c) && !c.waiting) {
    c.waiting = true;
    waiters_.push_back(channel);
  }
  MaybeAnnounce(channel, grants);
}

void CreditManager::ReturnFloating(CreditGrants* grants) {
  ++free_floating_;
  while (!waiters_.empty()) {
    const int channel = waiters_.front();
    waiters_.pop_front();
    channels_[channel].waiting = false;
    if (!NeedsFloating(channels_[channel])) continue;
    RequestFloating(channel, grants);  // takes the buffer; re-queues if it needs still more
    return;
  }
}

int CreditManager::committed_buffers() const {
  int n = 0;
  for (const Channel& c : channels_) n += c.occupied + c.outstanding + c.unannounced;
  return n;
}

}  // namespace sluice::network
