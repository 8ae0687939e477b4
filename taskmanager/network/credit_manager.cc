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
  RequestFloating(channel, grants);
  MaybeAnnounce(channel, grants);  // the producer may just have used its last credit
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
    return;
  }
  ++c.unannounced;
  MaybeAnnounce(channel, grants);
}

void CreditManager::MaybeAnnounce(int channel, CreditGrants* grants) {
  Channel& c = channels_[channel];
  if (c.unannounced == 0) return;
  if (c.outstanding > 0 && c.unannounced < std::max(1, Owned(c) / 2)) return;
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
  int granted = 0;
  while (NeedsFloating(c) && free_floating_ > 0) {
    --free_floating_;
    ++c.floating;
    ++c.outstanding;
    ++granted;
  }
  if (granted > 0) grants->emplace_back(channel, granted);
  if (NeedsFloating(c) && !c.waiting) {
    c.waiting = true;
    waiters_.push_back(channel);
  }
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
