#include "taskmanager/network/exchange_service.h"

#include <algorithm>
#include <deque>
#include <optional>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/rpc/grpc_server.h"
#include "spdlog/spdlog.h"

namespace sluice::network {

// One consumer TaskManager's stream. The gRPC handler thread reads requests and credits
// (Run). There is no writer thread: whichever thread makes a buffer sendable (the producer's
// task thread queuing data, the handler thread receiving a credit) writes, unless another
// thread is writing already, which then also sends it (Pump) - no thread hand-off per buffer.
// Channels are shared with the writer while it sends, so a channel canceled meanwhile stays
// valid until the write is over.
class ServerStream : public std::enable_shared_from_this<ServerStream> {
 public:
  ServerStream(ExchangeServerWire* wire, ResultPartitionManager* partitions,
               int64_t buffer_size, int64_t max_message_size)
      : wire_(wire),
        partitions_(partitions),
        buffer_size_(buffer_size),
        // Room for the envelopes of up to kMaxBuffersPerMessage buffers.
        batch_bytes_(std::min<int64_t>(1 << 20, max_message_size - 16 * 1024)) {}

  absl::Status Run();
  void Cancel() { wire_->Cancel(); }

 private:
  struct Channel {
    uint64_t request_id = 0;
    std::unique_ptr<SubpartitionView> view;  // set once, then read by the writer only
    int credit = 0;
    int64_t next_seq = 0;
    bool queued = false;         // in ready_
    absl::Status pending_error;  // the request failed: send PARTITION_ERROR
  };

  absl::Status Handle(const proto::ExchangeRequest& request);
  void OnAvailable(int64_t id);
  void OnViewReady(int64_t id, absl::StatusOr<std::unique_ptr<SubpartitionView>> view);
  // One buffer or event taken from a channel, to be written.
  struct Outgoing {
    int64_t id = 0;
    int64_t seq = 0;
    std::shared_ptr<Channel> channel;  // keeps a canceled channel's view alive until written
    std::optional<SubpartitionItem> item;
    absl::Status error;  // PARTITION_ERROR
    int64_t bytes() const { return item && item->buffer ? item->buffer->data.size() : 0; }
  };
  static constexpr int kMaxBuffersPerMessage = 64;

  void Enqueue(int64_t id, Channel* channel) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Takes the next buffer or event of the next ready channel: false when no channel is
  // ready; true with `out` empty when that channel had nothing it may send.
  bool TakeNext(std::optional<Outgoing>* out);
  // Writes everything sendable, unless another thread is writing (it will send it).
  void Pump();

  ExchangeServerWire* const wire_;
  ResultPartitionManager* const partitions_;
  const int64_t buffer_size_;
  const int64_t batch_bytes_;

  absl::Mutex mu_;
  absl::flat_hash_map<int64_t, std::shared_ptr<Channel>> channels_ ABSL_GUARDED_BY(mu_);
  std::deque<int64_t> ready_ ABSL_GUARDED_BY(mu_);  // channels the writer should look at
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;  // a thread is in Pump's write loop
  // Pump's state, used by the writing thread only.
  proto::Buffer message_;
  std::optional<Outgoing> carry_;  // taken, but did not fit the previous message
};

absl::Status ServerStream::Run() {
  absl::Status protocol_error;
  proto::ExchangeRequest request;
  while (wire_->Read(&request)) {
    protocol_error = Handle(request);
    if (!protocol_error.ok()) break;
  }
  if (!protocol_error.ok()) {
    spdlog::warn("exchange stream from {}: {}", wire_->peer(), protocol_error.ToString());
  }
  {
    absl::MutexLock lock(&mu_);
    closing_ = true;
  }
  // A write in progress must end before the stream goes away: cancel it, wait for it.
  wire_->Cancel();
  absl::flat_hash_map<int64_t, std::shared_ptr<Channel>> channels;
  {
    absl::MutexLock lock(&mu_);
    auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !writing_; };
    mu_.Await(absl::Condition(&idle));
    channels.swap(channels_);
  }
  carry_.reset();
  for (auto& [id, channel] : channels) partitions_->CancelRequest(channel->request_id);
  channels.clear();  // detaches the readers
  return protocol_error;
}

absl::Status ServerStream::Handle(const proto::ExchangeRequest& request) {
  switch (request.msg_case()) {
    case proto::ExchangeRequest::kPartitionRequest: {
      const proto::PartitionRequest& r = request.partition_request();
      if (r.initial_credit() < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("negative initial credit for channel ", r.channel_id()));
      }
      {
        absl::MutexLock lock(&mu_);
        auto channel = std::make_shared<Channel>();
        channel->credit = r.initial_credit();
        if (!channels_.try_emplace(r.channel_id(), std::move(channel)).second) {
          return absl::InvalidArgumentError(
              absl::StrCat("channel id ", r.channel_id(), " is already in use on this stream"));
        }
      }
      std::weak_ptr<ServerStream> weak = weak_from_this();
      const int64_t id = r.channel_id();
      const uint64_t request_id = partitions_->RequestSubpartition(
          r.partition_id(), r.subpartition(),
          [weak, id] {
            if (auto self = weak.lock()) self->OnAvailable(id);
          },
          [weak, id](absl::StatusOr<std::unique_ptr<SubpartitionView>> view) {
            if (auto self = weak.lock()) self->OnViewReady(id, std::move(view));
          });
      absl::MutexLock lock(&mu_);
      auto it = channels_.find(id);
      if (it != channels_.end()) it->second->request_id = request_id;
      return absl::OkStatus();
    }
    case proto::ExchangeRequest::kAddCredit: {
      const proto::AddCredit& c = request.add_credit();

      if (c.credit() <= 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("credit ", c.credit(), " for channel ", c.channel_id()));
      }
      {
        absl::MutexLock lock(&mu_);
        auto it = channels_.find(c.channel_id());
        if (it == channels_.end()) return absl::OkStatus();  // finished meanwhile
        it->second->credit += c.credit();
        Enqueue(c.channel_id(), it->second.get());
      }
      Pump();
      return absl::OkStatus();
    }
    case proto::ExchangeRequest::kCancel: {
      std::shared_ptr<Channel> channel;
      {
        absl::MutexLock lock(&mu_);
        auto it = channels_.find(request.cancel().channel_id());
        if (it == channels_.end()) return absl::OkStatus();
        channel = std::move(it->second);
        channels_.erase(it);
      }
      partitions_->CancelRequest(channel->request_id);
      return absl::OkStatus();
    }
    case proto::ExchangeRequest::MSG_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("empty exchange request");
}

void ServerStream::Enqueue(int64_t id, Channel* channel) {
  if (channel->queued) return;
  channel->queued = true;
  ready_.push_back(id);
}

void ServerStream::OnAvailable(int64_t id) {
  {
    absl::MutexLock lock(&mu_);
    auto it = channels_.find(id);
    if (it == channels_.end()) return;
    Enqueue(id, it->second.get());
  }
  Pump();
}

void ServerStream::OnViewReady(int64_t id,
                               absl::StatusOr<std::unique_ptr<SubpartitionView>> view) {
  {
    absl::MutexLock lock(&mu_);
    auto it = channels_.find(id);
    if (it == channels_.end()) return;  // canceled meanwhile; `view` detaches on return
    Channel& channel = *it->second;
    if (view.ok()) {
      channel.view = std::move(*view);
    } else {
      channel.pending_error = view.status();
    }
    Enqueue(id, &channel);
  }
  Pump();
}

bool ServerStream::TakeNext(std::optional<Outgoing>* out) {
  out->reset();
  Outgoing o;
  SubpartitionView* view = nullptr;
  bool allow_data = false;
  {
    absl::MutexLock lock(&mu_);
    if (closing_ || ready_.empty()) return false;
    o.id = ready_.front();
    ready_.pop_front();
    auto it = channels_.find(o.id);
    if (it == channels_.end()) return true;
    o.channel = it->second;
    o.channel->queued = false;
    if (!o.channel->pending_error.ok()) {
      o.error = o.channel->pending_error;
    } else if (o.channel->view == nullptr) {
      return true;  // still waiting for the partition
    } else {
      view = o.channel->view.get();
      allow_data = o.channel->credit > 0;
    }
  }
  if (o.error.ok()) {
    o.item = view->Poll(allow_data);
    // Nothing, or data but no credit: new data or a credit re-queues the channel.
    if (!o.item) return true;
    if (o.item->kind == SubpartitionItem::Kind::kError) o.error = o.item->error;
  }
  const bool data = o.error.ok() && o.item->kind == SubpartitionItem::Kind::kData;
  // Barriers and watermarks are events: in order with the data, needing no credit.
  const bool event = o.error.ok() && (o.item->kind == SubpartitionItem::Kind::kBarrier ||
                                        o.item->kind == SubpartitionItem::Kind::kWatermark);
  absl::MutexLock lock(&mu_);
  Channel& channel = *o.channel;
  o.seq = channel.next_seq++;
  if (!data && !event) {
    // END_OF_PARTITION or PARTITION_ERROR: the channel is done.
    auto it = channels_.find(o.id);
    if (it != channels_.end() && it->second == o.channel) channels_.erase(it);
  } else {
    if (data) --channel.credit;  // an event needs no credit
    if (o.item->more_available && (channel.credit > 0 || o.item->next_is_event)) {
      Enqueue(o.id, &channel);
    }
  }
  *out = std::move(o);
  return true;
}

void ServerStream::Pump() {
  {
    absl::MutexLock lock(&mu_);
    if (writing_ || closing_) return;  // the writing thread sees what we queued
    writing_ = true;
  }
  std::vector<Outgoing> batch;
  std::vector<bool> lent;  // batch[i]'s bytes were moved into the message
  while (true) {
    // Coalesce what is sendable now into one message, one buffer per channel turn.
    batch.clear();
    int64_t bytes = 0;
    if (carry_) {
      bytes += carry_->bytes();
      batch.push_back(std::move(*carry_));
      carry_.reset();
    }
    std::optional<Outgoing> next;
    while (batch.size() < kMaxBuffersPerMessage &&
           (batch.empty() || bytes + buffer_size_ <= batch_bytes_) && TakeNext(&next)) {
      if (!next) continue;
      if (!batch.empty() && bytes + next->bytes() > batch_bytes_) {
        carry_ = std::move(next);  // an oversize buffer: it starts the next message
        break;
      }
      bytes += next->bytes();
      batch.push_back(std::move(*next));
    }
    if (batch.empty()) {
      absl::MutexLock lock(&mu_);
      // Queued meanwhile by a thread that saw us writing: go on. Else stop writing.
      if (!ready_.empty() && !closing_) continue;
      writing_ = false;
      return;
    }

    message_.Clear();  // keeps the allocated `more` elements for reuse
    lent.assign(batch.size(), false);
    for (size_t i = 0; i < batch.size(); ++i) {
      Outgoing& o = batch[i];
      proto::Buffer* b = i == 0 ? &message_ : message_.add_more();
      b->set_channel_id(o.id);
      b->set_seq(o.seq);
      if (!o.error.ok()) {
        b->set_kind(proto::PARTITION_ERROR);
        b->set_error(std::string(o.error.message()));
        b->set_error_code(static_cast<int>(o.error.code()));
      } else if (o.item->kind == SubpartitionItem::Kind::kData) {
        b->set_kind(proto::DATA);
        b->set_backlog(o.item->backlog);
        // The only holder of the buffer lends its bytes to the message (no copy); a
        // broadcast buffer shared by other subpartitions is copied.
        if (o.item->buffer.use_count() == 1) {
          b->mutable_data()->swap(o.item->buffer->data);
          lent[i] = true;
        } else {
          b->set_data(o.item->buffer->data);
        }
      } else if (o.item->kind == SubpartitionItem::Kind::kBarrier) {
        b->set_kind(proto::CHECKPOINT_BARRIER);
        b->set_checkpoint_id(o.item->checkpoint_id);
        b->set_savepoint_dir(o.item->savepoint_dir);
      } else if (o.item->kind == SubpartitionItem::Kind::kWatermark) {
        b->set_kind(proto::WATERMARK);
        b->set_watermark(o.item->watermark);
        b->set_idle(o.item->idle);
      } else {
        b->set_kind(proto::END_OF_PARTITION);
      }
    }
    const bool ok = wire_->Write(message_);
    for (size_t i = 0; i < batch.size(); ++i) {
      if (!lent[i]) continue;
      proto::Buffer* b = i == 0 ? &message_ : message_.mutable_more(static_cast<int>(i - 1));
      b->mutable_data()->swap(batch[i].item->buffer->data);
    }
    {
      RecycleBatch together;  // a blocked producer wakes once, to all of them
      batch.clear();          // the buffers return to their pools
    }
    if (!ok) {
      absl::MutexLock lock(&mu_);
      closing_ = true;  // the consumer is gone; Run() sees Read fail too
      writing_ = false;
      return;
    }
  }
}

ExchangeServiceImpl::~ExchangeServiceImpl() {
  Shutdown();
  absl::MutexLock lock(&mu_);
  auto none = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return streams_.empty(); };
  mu_.Await(absl::Condition(&none));
}

grpc::Status ExchangeServiceImpl::Exchange(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<proto::Buffer, proto::ExchangeRequest>* stream) {
  GrpcServerWire wire(context, stream);
  return rpc::ToGrpc(Serve(&wire));
}

absl::Status ExchangeServiceImpl::Serve(ExchangeServerWire* wire) {
  auto server_stream =
      std::make_shared<ServerStream>(wire, partitions_, buffer_size_, max_message_size_);
  {
    absl::MutexLock lock(&mu_);
    if (shutdown_) return absl::UnavailableError("the TaskManager is shutting down");
    streams_.insert(server_stream.get());
  }
  absl::Status status = server_stream->Run();
  absl::MutexLock lock(&mu_);
  streams_.erase(server_stream.get());
  return status;
}

void ExchangeServiceImpl::Shutdown() {
  absl::MutexLock lock(&mu_);
  shutdown_ = true;
  for (ServerStream* s : streams_) s->Cancel();
}

int ExchangeServiceImpl::num_streams() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(streams_.size());
}

}  // namespace sluice::network
