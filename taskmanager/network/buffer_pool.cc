#include "taskmanager/network/buffer_pool.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/check.h"

namespace sluice::network {

NetworkBufferPool::NetworkBufferPool(int total_buffers, int64_t buffer_size)
    : total_(total_buffers), buffer_size_(buffer_size) {}

absl::StatusOr<BufferReservation> NetworkBufferPool::Reserve(int count, absl::string_view purpose) {
  SLUICE_CHECK(count >= 0, "negative buffer reservation");
  absl::MutexLock lock(&mu_);
  if (count > total_ - used_) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "not enough network buffers for ", purpose, ": it needs ", count, " buffers, ",
        total_ - used_, " of ", total_,
        " are free on this TaskManager; raise taskmanager.network.buffers"));
  }
  used_ += count;
  return BufferReservation(this, count);
}

void NetworkBufferPool::Return(int count) {
  absl::MutexLock lock(&mu_);
  used_ -= count;
}

BufferPoolStats NetworkBufferPool::stats() const {
  absl::MutexLock lock(&mu_);
  BufferPoolStats s;
  s.total_buffers = total_;
  s.used_buffers = used_;
  s.available_buffers = total_ - used_;
  s.buffer_size = buffer_size_;
  return s;
}

BufferReservation& BufferReservation::operator=(BufferReservation&& other) noexcept {
  if (this != &other) {
    Reset();
    pool_ = other.pool_;
    count_ = other.count_;
    other.pool_ = nullptr;
    other.count_ = 0;
  }
  return *this;
}

void BufferReservation::Reset() {
  if (pool_ != nullptr && count_ > 0) pool_->Return(count_);
  pool_ = nullptr;
  count_ = 0;
}

absl::StatusOr<std::shared_ptr<LocalBufferPool>> LocalBufferPool::Create(
    NetworkBufferPool* global, int size, absl::string_view purpose) {
  if (size < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        purpose, " would get no network buffer: set taskmanager.network.buffers_per_output_channel"
                 " and taskmanager.network.floating_buffers_per_output so that it gets at least one"));
  }
  auto reservation = global->Reserve(size, purpose);
  if (!reservation.ok()) return reservation.status();
  return std::shared_ptr<LocalBufferPool>(
      new LocalBufferPool(std::move(*reservation), global->buffer_size()));
}

LocalBufferPool::LocalBufferPool(BufferReservation reservation, int64_t buffer_size)
    : reservation_(std::move(reservation)), size_(reservation_.count()), buffer_size_(buffer_size) {}

LocalBufferPool::~LocalBufferPool() = default;

BufferRef LocalBufferPool::Wrap(NetworkBuffer* buffer) {
  // The deleter keeps the pool alive until the buffer comes back.
  std::shared_ptr<LocalBufferPool> self = shared_from_this();
  return BufferRef(buffer, [self](NetworkBuffer* b) { self->Recycle(b); });
}

BufferRef LocalBufferPool::TryRequest() {
  NetworkBuffer* buffer = nullptr;
  {
    absl::MutexLock lock(&mu_);
    if (!released_.ok() || in_use_ >= size_) return nullptr;
    if (free_.empty()) {
      all_.push_back(std::make_unique<NetworkBuffer>());
      all_.back()->data.reserve(buffer_size_);
      free_.push_back(all_.back().get());
    }
    buffer = free_.back();
    free_.pop_back();
    ++in_use_;
  }
  return Wrap(buffer);
}

absl::StatusOr<BufferRef> LocalBufferPool::Request(const std::atomic<bool>* canceled) {
  while (true) {
    if (BufferRef buffer = TryRequest()) return buffer;
    absl::MutexLock lock(&mu_);
    if (!released_.ok()) return released_;
    if (canceled != nullptr && canceled->load()) {
      return absl::CancelledError("task canceled while waiting for a network buffer");
    }
    if (in_use_ < size_) continue;
    ++waiters_;
    // The cancel flag is owned by the task and nobody signals us when it flips: re-check it.
    freed_.WaitWithTimeout(&mu_, absl::Milliseconds(20));
    --waiters_;
  }
}

namespace {

// The buffers dropped on this thread inside a RecycleBatch, by pool (the shared_ptr keeps a
// pool alive until its buffers are back). Null outside a batch.
struct PendingRecycles {
  std::vector<std::pair<std::shared_ptr<LocalBufferPool>, std::vector<NetworkBuffer*>>> pools;
};
thread_local PendingRecycles* pending_recycles = nullptr;

}  // namespace

RecycleBatch::RecycleBatch() : outermost_(pending_recycles == nullptr) {
  if (outermost_) pending_recycles = new PendingRecycles();
}

RecycleBatch::~RecycleBatch() {
  if (!outermost_) return;
  std::unique_ptr<PendingRecycles> pending(pending_recycles);
  pending_recycles = nullptr;
  for (auto& [pool, buffers] : pending->pools) pool->PutBack(buffers.data(), buffers.size());
}

void LocalBufferPool::Recycle(NetworkBuffer* buffer) {
  buffer->data.clear();
  // An oversize buffer (one huge row) gives its memory back.
  if (static_cast<int64_t>(buffer->data.capacity()) > 2 * buffer_size_) {
    std::string().swap(buffer->data);
    buffer->data.reserve(buffer_size_);
  }
  if (pending_recycles != nullptr) {
    auto& pools = pending_recycles->pools;
    auto it = std::find_if(pools.begin(), pools.end(),
                           [this](const auto& p) { return p.first.get() == this; });
    if (it == pools.end()) it = pools.insert(pools.end(), {shared_from_this(), {}});
    it->second.push_back(buffer);
    return;
  }
  PutBack(&buffer, 1);
}

void LocalBufferPool::PutBack(NetworkBuffer* const* buffers, size_t count) {
  absl::MutexLock lock(&mu_);
  free_.insert(free_.end(), buffers, buffers + count);
  in_use_ -= static_cast<int>(count);
  if (waiters_ > 0) freed_.SignalAll();
}

void LocalBufferPool::Release(const absl::Status& status) {
  absl::MutexLock lock(&mu_);
  if (released_.ok()) released_ = status;
  freed_.SignalAll();
}

int LocalBufferPool::in_use() const {
  absl::MutexLock lock(&mu_);
  return in_use_;
}

int LocalBufferPool::waiters() const {
  absl::MutexLock lock(&mu_);
  return waiters_;
}

}  // namespace sluice::network
