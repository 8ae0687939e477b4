#include "taskmanager/network/exchange_service.h"

#include <deque>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace sluice::network {

// One consumer TaskManager's stream: the gRPC handler thread reads requests and credits
// (Run), a writer thread sends buffers (WriteLoop). Channels are shared with the writer while
// it sends, so a channel canceled meanwhile stays valid until the write is over.
class ServerStream : public std::enable_shared_from_this<ServerStream> {
 public:
  ServerStream(grpc::ServerContext* context,
               grpc::ServerReaderWriter<proto::Buffer, proto::ExchangeRequest>* stream,
               ResultPartitionManager* partitions)
      : context_(context), stream_(stream), partitions_(partitions) {}

  grpc::Status Run();
  void Cancel() { context_->TryCancel(); }

 private:
  struct Channel {
    std::string partition_id;
    int subpartition = 0;
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
  void Enqueue(int64_t id, Channel* channel) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void WriteLoop();

  grpc::ServerContext* const context_;
  grpc::ServerReaderWriter<proto::Buffer, proto::ExchangeRequest>* const stream_;
  ResultPartitionManager* const partitions_;
  std::thread writer_;

  absl::Mutex mu_;
  absl::flat_hash_map<int64_t, std::shared_ptr<Channel>> channels_ ABSL_GUARDED_BY(mu_);
  std::deque<int64_t> ready_ ABSL_GUARDED_BY(mu_);  // channels the writer should look at
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
};

grpc::Status ServerStream::Run() {
  writer_ = std::thread([this] { WriteLoop(); });
  absl::Status protocol_error;
  proto::ExchangeRequest request;
  while (stream_->Read(&request)) {
    protocol_error = Handle(request);
    if (!protocol_error.ok()) break;
  }
  {
    absl::MutexLock lock(&mu_);
    closing_ = true;
  }
  if (!protocol_error.ok()) {
    spdlog::warn("exchange stream from {}: {}", context_->peer(), protocol_error.ToString());
    context_->TryCancel();
  }
  writer_.join();
  absl::flat_hash_map<int64_t, std::shared_ptr<Channel>> channels;
  {
    absl::MutexLock lock(&mu_);
    channels.swap(channels_);
  }
  for (auto& [id, channel] : channels) partitions_->CancelRequest(channel->request_id);
  channels.clear();  // detaches the readers
  if (protocol_error.ok()) return grpc::Status::OK;
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::string(protocol_error.message()));
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
        channel->partition_id = r.partition_id();
        channel->subpartition = r.subpartition();
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
      absl::MutexLock lock(&mu_);
      auto it = channels_.find(c.channel_id());
      if (it == channels_.end()) return absl::OkStatus();  // finished meanwhile
      it->second->credit += c.credit();
      Enqueue(c.channel_id(), it->second.get());
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
  absl::MutexLock lock(&mu_);
  auto it = channels_.find(id);
  if (it != channels_.end()) Enqueue(id, it->second.get());
}

void ServerStream::OnViewReady(int64_t id,
                               absl::StatusOr<std::unique_ptr<SubpartitionView>> view) {
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

void ServerStream::WriteLoop() {
  proto::Buffer message;
  while (true) {
    int64_t id = 0;
    std::shared_ptr<Channel> channel;
    SubpartitionView* view = nullptr;
    bool allow_data = false;
    absl::Status error;
    {
      absl::MutexLock lock(&mu_);
      auto wake = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return closing_ || !ready_.empty();
      };
      mu_.Await(absl::Condition(&wake));
      if (closing_) return;
      id = ready_.front();
      ready_.pop_front();
      auto it = channels_.find(id);
      if (it == channels_.end()) continue;
      channel = it->second;
      channel->queued = false;
      if (!channel->pending_error.ok()) {
        error = channel->pending_error;
      } else if (channel->view == nullptr) {
        continue;  // still waiting for the partition
      } else {
        view = channel->view.get();
        allow_data = channel->credit > 0;
      }
    }

    std::optional<SubpartitionItem> item;
    if (error.ok()) {
      item = view->Poll(allow_data);
      if (!item) continue;  // nothing, or data but no credit: a credit or new data re-queues
      if (item->kind == SubpartitionItem::Kind::kError) error = item->error;
    }
    message.Clear();
    message.set_channel_id(id);
    bool swapped = false;
    const bool data = error.ok() && item->kind == SubpartitionItem::Kind::kData;
    if (!error.ok()) {
      message.set_kind(proto::PARTITION_ERROR);
      message.set_error(std::string(error.message()));
      message.set_error_code(static_cast<int>(error.code()));
    } else if (data) {
      message.set_kind(proto::DATA);
      message.set_backlog(item->backlog);
      // The only holder of the buffer lends its bytes to the message (no copy); a broadcast
      // buffer shared by other subpartitions is copied.
      if (item->buffer.use_count() == 1) {
        message.mutable_data()->swap(item->buffer->data);
        swapped = true;
      } else {
        message.set_data(item->buffer->data);
      }
    } else {
      message.set_kind(proto::END_OF_PARTITION);
    }

    {
      absl::MutexLock lock(&mu_);
      message.set_seq(channel->next_seq++);
      if (data) --channel->credit;
      if (!data) {
        // END_OF_PARTITION or PARTITION_ERROR: the channel is done.
        auto it = channels_.find(id);
        if (it != channels_.end() && it->second == channel) channels_.erase(it);
      } else if (item->more_available && (channel->credit > 0 || item->next_is_event)) {
        Enqueue(id, channel.get());
      }
    }
    // (No buffer_hint: a hinted sync Write completes only once a later write flushes it.)
    const bool ok = stream_->Write(message);
    if (swapped) message.mutable_data()->swap(item->buffer->data);
    item.reset();  // the buffer returns to its pool
    if (!ok) {
      absl::MutexLock lock(&mu_);
      closing_ = true;  // the consumer is gone; Run() sees Read fail too
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
  auto server_stream = std::make_shared<ServerStream>(context, stream, partitions_);
  {
    absl::MutexLock lock(&mu_);
    if (shutdown_) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "the TaskManager is shutting down");
    }
    streams_.insert(server_stream.get());
  }
  grpc::Status status = server_stream->Run();
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
