#include "taskmanager/network/input_gate.h"

#include <algorithm>
#include <climits>
#include <deque>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/types/batch_serde.h"
#include "taskmanager/network/credit_manager.h"

namespace sluice::network {

// The gate's state, shared with the sinks and listeners of its channels (which hold it
// weakly, so a callback arriving after the gate is gone does nothing).
class InputGate::Core : public std::enable_shared_from_this<Core> {
 public:
  Core(const Services& services, const proto::InputGateDescriptor& in, types::SchemaPtr schema,
       std::function<void()> on_available, int num_remote, BufferReservation reservation);

  void Open();
  void Close();
  absl::StatusOr<std::optional<types::RecordBatch>> PollNext();
  bool IsFinished() const;
  InputGateStats stats() const;
  int64_t aligned_barrier() const;
  int64_t pending_barrier() const;
  std::string pending_savepoint_dir() const;
  void ResumeAfterBarrier();
  GateWatermark watermark() const;

  // Callbacks from the transport and from local producers.
  void OnRemoteBuffer(int index, proto::Buffer* buffer);
  // After a burst of OnRemoteBuffer calls (reader thread): wakes the task if one of them made
  // something available.
  void WakeIfPending();
  void OnChannelError(int index, const absl::Status& status);
  void OnLocalAvailable(int index);
  void OnLocalViewReady(int index, absl::StatusOr<std::unique_ptr<SubpartitionView>> view);

  std::atomic<int64_t> records_in{0};
  std::atomic<int64_t> bytes_in{0};
  // Bumped whenever a channel's watermark or idleness changes or a channel ends.
  std::atomic<uint64_t> watermark_version{0};

 private:
  struct Received {
    bool end = false;            // END_OF_PARTITION
    int64_t checkpoint_id = 0;   // > 0: a CHECKPOINT_BARRIER; else DATA unless `end`/`watermark`
    std::string data;            // DATA; a barrier's savepoint directory
    bool is_watermark = false;   // WATERMARK: `watermark` / `idle`
    int64_t watermark = 0;
    bool idle = false;
  };
  struct Channel {
    proto::ResultPartitionRef ref;
    bool remote = false;
    // Remote channels.
    std::shared_ptr<Connection> connection;
    int64_t channel_id = 0;
    int64_t next_seq = 0;
    std::deque<Received> received;
    bool end_received = false;
    // Local channels.
    std::unique_ptr<SubpartitionView> view;
    uint64_t request_id = 0;

    bool queued = false;  // in available_
    bool finished = false;
    bool blocked = false;  // delivered the barrier being aligned: not read until resumed
    // Event time: the last watermark the channel delivered, and whether it is idle.
    int64_t watermark = INT64_MIN;
    bool idle = false;
  };
  // AddCredit calls to make once the lock is released.
  using CreditCalls = std::vector<std::tuple<std::shared_ptr<Connection>, int64_t, int>>;

  bool MarkAvailable(int index) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Alignment: channel `index` delivered barrier `checkpoint_id`.
  void OnBarrier(int index, int64_t checkpoint_id, std::string savepoint_dir)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void CheckAligned() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void UnblockAll() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Collect(const CreditGrants& grants, CreditCalls* calls) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // `inline_write`: the calling thread may write the credits itself (Connection::AddCredit).
  static void Send(const CreditCalls& calls, bool inline_write);
  // "input from partition P (TaskManager T at A): " + what, for every channel error.
  std::string Describe(const Channel& channel) const;
  void SetError(absl::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string TakeSpare() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (spare_.empty()) return std::string();
    std::string s = std::move(spare_.back());
    spare_.pop_back();
    return s;
  }

  // Consumed receive strings, kept to be swapped into the gRPC message (no malloc/free of a
  // buffer-sized string per received buffer).
  static constexpr size_t kMaxSpares = 16;

  const Services services_;
  const types::SchemaPtr schema_;
  const std::function<void()> on_available_;
  const int num_remote_;
  BufferReservation reservation_;

  mutable absl::Mutex mu_;
  std::vector<Channel> channels_ ABSL_GUARDED_BY(mu_);
  std::deque<int> available_ ABSL_GUARDED_BY(mu_);  // channels with something to read
  CreditManager credits_ ABSL_GUARDED_BY(mu_);
  absl::Status error_ ABSL_GUARDED_BY(mu_);
  int finished_ ABSL_GUARDED_BY(mu_) = 0;
  int queued_buffers_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::string> spare_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  // OnRemoteBuffer made something available: wake the task at the end of the burst.
  bool wake_pending_ ABSL_GUARDED_BY(mu_) = false;
  // Checkpoint alignment: the newest barrier seen, whether it is being aligned, how many
  // channels are blocked on it, and the barrier once every channel delivered it or ended.
  int64_t pending_barrier_ ABSL_GUARDED_BY(mu_) = 0;
  std::string pending_savepoint_dir_ ABSL_GUARDED_BY(mu_);
  bool aligning_ ABSL_GUARDED_BY(mu_) = false;
  int blocked_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t aligned_ ABSL_GUARDED_BY(mu_) = 0;
};

namespace {

class RemoteSink : public RemoteChannelSink {
 public:
  RemoteSink(std::weak_ptr<InputGate::Core> core, int index) : core_(std::move(core)), index_(index) {}
  void OnBuffer(proto::Buffer* buffer) override {
    if (auto core = core_.lock()) core->OnRemoteBuffer(index_, buffer);
  }
  void OnBurstEnd() override {
    if (auto core = core_.lock()) core->WakeIfPending();
  }
  void OnConnectionError(const absl::Status& status) override {
    if (auto core = core_.lock()) core->OnChannelError(index_, status);
  }

 private:
  std::weak_ptr<InputGate::Core> core_;
  const int index_;
};

}  // namespace

InputGate::Core::Core(const Services& services, const proto::InputGateDescriptor& in,
                      types::SchemaPtr schema, std::function<void()> on_available,
                      int num_remote, BufferReservation reservation)
    : services_(services),
      schema_(std::move(schema)),
      on_available_(std::move(on_available)),
      num_remote_(num_remote),
      reservation_(std::move(reservation)),
      credits_(in.channels_size(), services.config.exclusive_buffers_per_channel,
               num_remote > 0 ? services.config.floating_buffers_per_gate : 0) {
  channels_.resize(in.channels_size());
  for (int i = 0; i < in.channels_size(); ++i) {
    channels_[i].ref = in.channels(i);
    channels_[i].remote = in.channels(i).producer_tm_id() != services_.tm_id;
  }
}

std::string InputGate::Core::Describe(const Channel& channel) const {
  const proto::ResultPartitionRef& r = channel.ref;
  if (!channel.remote) {
    return absl::StrCat("input from partition ", r.partition_id(), " subpartition ",
                        r.subpartition(), " (local): ");
  }
  return absl::StrCat("input from partition ", r.partition_id(), " subpartition ",
                      r.subpartition(), " (TaskManager ", r.producer_tm_id(), " at ",
                      r.producer_address(), "): ");
}

void InputGate::Core::SetError(absl::Status status) {
  if (error_.ok()) error_ = std::move(status);
}

void InputGate::Core::Open() {
  std::weak_ptr<Core> weak = weak_from_this();
  for (int i = 0; i < static_cast<int>(channels_.size()); ++i) {
    proto::ResultPartitionRef ref;
    bool remote = false;
    {
      absl::MutexLock lock(&mu_);
      ref = channels_[i].ref;
      remote = channels_[i].remote;
    }
    if (!remote) {
      const uint64_t request_id = services_.partitions->RequestSubpartition(
          ref.partition_id(), ref.subpartition(),
          [weak, i] {
            if (auto core = weak.lock()) core->OnLocalAvailable(i);
          },
          [weak, i](absl::StatusOr<std::unique_ptr<SubpartitionView>> view) {
            if (auto core = weak.lock()) core->OnLocalViewReady(i, std::move(view));
          });
      absl::MutexLock lock(&mu_);
      channels_[i].request_id = request_id;
      continue;
    }
    absl::StatusOr<std::shared_ptr<Connection>> connection =
        services_.connections->Get(ref.producer_address());
    if (!connection.ok()) {
      OnChannelError(i, connection.status());
      continue;
    }
    const int64_t channel_id = (*connection)->NewChannelId();
    int initial_credit = 0;
    {
      absl::MutexLock lock(&mu_);
      channels_[i].connection = *connection;
      channels_[i].channel_id = channel_id;
      initial_credit = credits_.OpenChannel(i);
    }
    absl::Status opened = (*connection)->OpenChannel(
        channel_id, std::make_shared<RemoteSink>(weak, i), ref.partition_id(), ref.subpartition(),
        initial_credit);
    if (!opened.ok()) OnChannelError(i, opened);
  }
}

void InputGate::Core::Close() {
  std::vector<std::pair<std::shared_ptr<Connection>, int64_t>> remote;
  std::vector<uint64_t> requests;
  std::vector<std::unique_ptr<SubpartitionView>> views;
  {
    absl::MutexLock lock(&mu_);
    closed_ = true;
    for (Channel& ch : channels_) {
      if (ch.remote) {
        if (ch.connection && !ch.finished) remote.emplace_back(ch.connection, ch.channel_id);
        ch.received.clear();
      } else {
        requests.push_back(ch.request_id);
        views.push_back(std::move(ch.view));
      }
    }
  }
  for (auto& [connection, id] : remote) connection->CloseChannel(id, /*cancel=*/true);
  for (uint64_t id : requests) services_.partitions->CancelRequest(id);
  views.clear();  // detaches from the producers' subpartitions
  reservation_.Reset();
}

bool InputGate::Core::MarkAvailable(int index) {
  Channel& ch = channels_[index];
  if (ch.queued) return false;
  ch.queued = true;
  available_.push_back(index);
  return true;
}

void InputGate::Core::Collect(const CreditGrants& grants, CreditCalls* calls) {
  for (const auto& [index, credit] : grants) {
    const Channel& ch = channels_[index];
    if (ch.connection) calls->emplace_back(ch.connection, ch.channel_id, credit);
  }
}

void InputGate::Core::Send(const CreditCalls& calls, bool inline_write) {
  for (const auto& [connection, id, credit] : calls) {
    connection->AddCredit(id, credit, inline_write);
  }
}

void InputGate::Core::OnRemoteBuffer(int index, proto::Buffer* buffer) {
  CreditGrants grants;
  CreditCalls calls;
  {
    absl::MutexLock lock(&mu_);
    Channel& ch = channels_[index];
    if (closed_ || !error_.ok() || ch.finished) return;
    if (ch.end_received) {
      SetError(absl::DataLossError(
          absl::StrCat(Describe(ch), "a buffer arrived after END_OF_PARTITION")));
    } else if (buffer->seq() != ch.next_seq) {
      SetError(absl::DataLossError(absl::StrCat(Describe(ch), "buffer number ", buffer->seq(),
                                                " arrived, expected ", ch.next_seq)));
    } else {
      ++ch.next_seq;
      switch (buffer->kind()) {
        case proto::DATA:
          if (!credits_.OnBufferReceived(index, buffer->backlog(), &grants)) {
            SetError(absl::DataLossError(
                absl::StrCat(Describe(ch), "the producer sent a buffer without credit")));
            break;
          }
          ch.received.push_back(Received{false, 0, TakeSpare()});
          // Swap: the message keeps a string with capacity to parse the next one into.
          ch.received.back().data.swap(*buffer->mutable_data());
          ++queued_buffers_;
          break;
        case proto::WATERMARK: {
          Received r;
          r.is_watermark = true;
          r.watermark = buffer->watermark();
          r.idle = buffer->idle();
          ch.received.push_back(std::move(r));
          break;
        }
        case proto::END_OF_PARTITION:
          ch.end_received = true;
          ch.received.push_back(Received{true, 0, {}});
          break;
        case proto::CHECKPOINT_BARRIER:
          if (buffer->checkpoint_id() <= 0) {
            SetError(absl::DataLossError(absl::StrCat(
                Describe(ch), "a checkpoint barrier without a checkpoint id")));
            break;
          }
          ch.received.push_back(Received{false, buffer->checkpoint_id(),
                                         std::move(*buffer->mutable_savepoint_dir())});
          break;
        case proto::PARTITION_ERROR: {
          const int code = buffer->error_code();
          const absl::StatusCode status_code =
              code > 0 && code <= static_cast<int>(absl::StatusCode::kUnauthenticated)
                  ? static_cast<absl::StatusCode>(code)
                  : absl::StatusCode::kUnknown;
          SetError(absl::Status(status_code, absl::StrCat(Describe(ch), buffer->error())));
          break;
        }
        default:
          SetError(absl::DataLossError(
              absl::StrCat(Describe(ch), "unknown buffer kind ", static_cast<int>(buffer->kind()))));
      }
    }
    if (!error_.ok() || MarkAvailable(index)) wake_pending_ = true;  // at the burst's end
    Collect(grants, &calls);
  }
  // Floating-buffer grants: written by this (reader) thread when nobody else is writing,
  // rather than handed to the connection's writer thread (a wake-up per grant).
  Send(calls, /*inline_write=*/true);
}

void InputGate::Core::WakeIfPending() {
  {
    absl::MutexLock lock(&mu_);
    if (!wake_pending_) return;
    wake_pending_ = false;
  }
  if (on_available_) on_available_();
}

void InputGate::Core::OnChannelError(int index, const absl::Status& status) {
  {
    absl::MutexLock lock(&mu_);
    Channel& ch = channels_[index];
    // A channel that already got its END_OF_PARTITION lost nothing.
    if (closed_ || !error_.ok() || ch.finished || ch.end_received) return;
    SetError(absl::Status(status.code(), absl::StrCat(Describe(ch), status.message())));
  }
  if (on_available_) on_available_();
}

void InputGate::Core::OnLocalAvailable(int index) {
  {
    absl::MutexLock lock(&mu_);
    if (closed_ || channels_[index].finished) return;
    if (!MarkAvailable(index)) return;
  }
  if (on_available_) on_available_();
}

void InputGate::Core::OnLocalViewReady(int index,
                                       absl::StatusOr<std::unique_ptr<SubpartitionView>> view) {
  {
    absl::MutexLock lock(&mu_);
    if (closed_) return;  // `view` detaches on return
    Channel& ch = channels_[index];
    if (!view.ok()) {
      SetError(absl::Status(view.status().code(),
                            absl::StrCat(Describe(ch), view.status().message())));
    } else {
      ch.view = std::move(*view);
      MarkAvailable(index);  // it may already hold data
    }
  }
  if (on_available_) on_available_();
}

absl::StatusOr<std::optional<types::RecordBatch>> InputGate::Core::PollNext() {
  while (true) {
    int index = -1;
    std::string remote_data;
    BufferRef local_buffer;
    bool data = false;
    std::shared_ptr<Connection> finished_connection;
    int64_t finished_channel_id = 0;
    std::unique_ptr<SubpartitionView> finished_view;
    CreditGrants grants;
    CreditCalls calls;
    {
      absl::MutexLock lock(&mu_);
      if (!error_.ok()) return error_;
      if (available_.empty()) return std::nullopt;
      index = available_.front();
      available_.pop_front();
      Channel& ch = channels_[index];
      ch.queued = false;
      if (ch.finished || ch.blocked) continue;  // a blocked channel is re-queued on resume
      if (ch.remote) {
        if (ch.received.empty()) continue;
        Received r = std::move(ch.received.front());
        ch.received.pop_front();
        if (!ch.received.empty()) MarkAvailable(index);
        if (r.checkpoint_id > 0) {
          OnBarrier(index, r.checkpoint_id, std::move(r.data));
        } else if (r.is_watermark) {
          ch.watermark = std::max(ch.watermark, r.watermark);
          ch.idle = r.idle;
          watermark_version.fetch_add(1, std::memory_order_relaxed);
        } else if (!r.end) {
          remote_data = std::move(r.data);
          data = true;
        } else {
          ch.finished = true;
          ++finished_;
          watermark_version.fetch_add(1, std::memory_order_relaxed);
          credits_.CloseChannel(index, &grants);
          finished_connection = ch.connection;
          finished_channel_id = ch.channel_id;
          CheckAligned();
        }
      } else {
        if (ch.view == nullptr) continue;
        std::optional<SubpartitionItem> item = ch.view->Poll(/*allow_data=*/true);
        if (!item) continue;
        if (item->more_available) MarkAvailable(index);
        switch (item->kind) {
          case SubpartitionItem::Kind::kData:
            local_buffer = std::move(item->buffer);
            data = true;
            break;
          case SubpartitionItem::Kind::kBarrier:
            OnBarrier(index, item->checkpoint_id, std::move(item->savepoint_dir));
            break;
          case SubpartitionItem::Kind::kWatermark:
            ch.watermark = std::max(ch.watermark, item->watermark);
            ch.idle = item->idle;
            watermark_version.fetch_add(1, std::memory_order_relaxed);
            break;
          case SubpartitionItem::Kind::kEndOfPartition:
            ch.finished = true;
            ++finished_;
            watermark_version.fetch_add(1, std::memory_order_relaxed);
            finished_view = std::move(ch.view);
            CheckAligned();
            break;
          case SubpartitionItem::Kind::kError:
            SetError(absl::Status(item->error.code(),
                                  absl::StrCat(Describe(ch), item->error.message())));
            return error_;
        }
      }
      Collect(grants, &calls);
    }
    Send(calls, /*inline_write=*/true);
    if (finished_connection) finished_connection->CloseChannel(finished_channel_id, false);
    if (!data) continue;

    const bool remote = local_buffer == nullptr;
    const std::string& bytes = remote ? remote_data : local_buffer->data;
    absl::StatusOr<types::RecordBatch> batch = types::DeserializeBatch(schema_, bytes);
    const int64_t size = static_cast<int64_t>(bytes.size());
    local_buffer.reset();  // a local buffer goes back to the producer's pool
    if (remote) {
      // The remote receive buffer is free again: a credit (or a floating buffer) returns.
      calls.clear();
      grants.clear();
      absl::MutexLock lock(&mu_);
      if (spare_.size() < kMaxSpares) {
        // Not cleared: the tcp transport reads the next buffer into it without zero-filling
        // what it resizes (gRPC's parse assigns it anyway).
        spare_.push_back(std::move(remote_data));
      }
      --queued_buffers_;
      credits_.OnBufferConsumed(index, &grants);
      Collect(grants, &calls);
    }
    Send(calls, /*inline_write=*/true);
    if (!batch.ok()) {
      absl::MutexLock lock(&mu_);
      SetError(absl::DataLossError(absl::StrCat(Describe(channels_[index]), batch.status().message())));
      return error_;
    }
    records_in.fetch_add(static_cast<int64_t>(batch->num_rows()), std::memory_order_relaxed);
    bytes_in.fetch_add(size, std::memory_order_relaxed);
    return std::optional<types::RecordBatch>(std::move(*batch));
  }
}

void InputGate::Core::OnBarrier(int index, int64_t checkpoint_id, std::string savepoint_dir) {
  if (checkpoint_id < pending_barrier_ || (checkpoint_id == pending_barrier_ && !aligning_)) {
    return;  // a barrier of a checkpoint a newer one superseded: ignore it
  }
  if (checkpoint_id > pending_barrier_) {
    UnblockAll();  // abandon the alignment in progress, if any
    pending_barrier_ = checkpoint_id;
    pending_savepoint_dir_ = std::move(savepoint_dir);
    aligning_ = true;
    aligned_ = 0;
  }
  channels_[index].blocked = true;
  ++blocked_;
  CheckAligned();
}

void InputGate::Core::CheckAligned() {
  if (aligning_ && blocked_ + finished_ == static_cast<int>(channels_.size())) {
    aligned_ = pending_barrier_;
  }
}

void InputGate::Core::UnblockAll() {
  for (int i = 0; i < static_cast<int>(channels_.size()); ++i) {
    if (!channels_[i].blocked) continue;
    channels_[i].blocked = false;
    MarkAvailable(i);  // it may hold data that arrived after its barrier
  }
  blocked_ = 0;
}

int64_t InputGate::Core::aligned_barrier() const {
  absl::MutexLock lock(&mu_);
  return aligned_;
}

int64_t InputGate::Core::pending_barrier() const {
  absl::MutexLock lock(&mu_);
  return aligning_ ? pending_barrier_ : 0;
}

std::string InputGate::Core::pending_savepoint_dir() const {
  absl::MutexLock lock(&mu_);
  return aligning_ ? pending_savepoint_dir_ : std::string();
}

void InputGate::Core::ResumeAfterBarrier() {
  absl::MutexLock lock(&mu_);
  UnblockAll();
  aligning_ = false;
  aligned_ = 0;
}

GateWatermark InputGate::Core::watermark() const {
  absl::MutexLock lock(&mu_);
  GateWatermark w;
  w.watermark = INT64_MAX;  // every channel ended
  bool any_active = false, any_idle = false;
  for (const Channel& ch : channels_) {
    if (ch.finished) continue;
    if (ch.idle) {
      any_idle = true;
      continue;
    }
    any_active = true;
    w.watermark = std::min(w.watermark, ch.watermark);
  }
  w.idle = !any_active && any_idle;
  return w;
}

bool InputGate::Core::IsFinished() const {
  absl::MutexLock lock(&mu_);
  return finished_ == static_cast<int>(channels_.size());
}

InputGateStats InputGate::Core::stats() const {
  absl::MutexLock lock(&mu_);
  InputGateStats s;
  s.channels = static_cast<int>(channels_.size());
  s.finished_channels = finished_;
  s.queued_buffers = queued_buffers_;
  for (int i = 0; i < s.channels; ++i) {
    if (channels_[i].remote) s.outstanding_credit += credits_.outstanding_credit(i);
  }
  s.free_floating_buffers = credits_.free_floating();
  s.reserved_buffers = reservation_.count();
  return s;
}

absl::StatusOr<std::unique_ptr<InputGate>> InputGate::Create(const Services& services,
                                                              const proto::InputGateDescriptor& in,
                                                              types::SchemaPtr schema,
                                                              std::function<void()> on_available) {
  const std::string name = absl::StrCat("the input gate of edge ", in.edge_id());
  int num_remote = 0;
  for (const proto::ResultPartitionRef& ref : in.channels()) {
    if (ref.partition_id().empty() || ref.subpartition() < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ": a channel without partition_id or with a negative subpartition"));
    }
    if (ref.producer_tm_id() == services.tm_id) continue;
    if (ref.producer_address().empty()) {
      return absl::InvalidArgumentError(absl::StrCat(name, ": partition ", ref.partition_id(),
                                                     " of TaskManager ", ref.producer_tm_id(),
                                                     " has no producer_address"));
    }
    ++num_remote;
  }
  if (num_remote > 0 && services.config.exclusive_buffers_per_channel < 1) {
    return absl::InvalidArgumentError(
        "taskmanager.network.exclusive_buffers_per_channel must be at least 1 (the initial "
        "credit of a remote channel)");
  }
  const int needed = num_remote * services.config.exclusive_buffers_per_channel +
                     (num_remote > 0 ? services.config.floating_buffers_per_gate : 0);
  absl::StatusOr<BufferReservation> reservation = services.buffers->Reserve(
      needed, absl::StrCat(name, " (", num_remote, " remote channels x ",
                           services.config.exclusive_buffers_per_channel, " exclusive + ",
                           services.config.floating_buffers_per_gate, " floating buffers)"));
  if (!reservation.ok()) return reservation.status();
  auto core = std::make_shared<Core>(services, in, std::move(schema), std::move(on_available),
                                     num_remote, std::move(*reservation));
  core->Open();
  return std::unique_ptr<InputGate>(new InputGate(std::move(core)));
}

InputGate::~InputGate() { core_->Close(); }

absl::StatusOr<std::optional<types::RecordBatch>> InputGate::PollNext() { return core_->PollNext(); }
bool InputGate::IsFinished() const { return core_->IsFinished(); }
int64_t InputGate::records_in() const { return core_->records_in.load(std::memory_order_relaxed); }
int64_t InputGate::bytes_in() const { return core_->bytes_in.load(std::memory_order_relaxed); }
InputGateStats InputGate::stats() const { return core_->stats(); }
int64_t InputGate::aligned_barrier() const { return core_->aligned_barrier(); }
int64_t InputGate::pending_barrier() const { return core_->pending_barrier(); }
std::string InputGate::pending_savepoint_dir() const { return core_->pending_savepoint_dir(); }
void InputGate::ResumeAfterBarrier() { core_->ResumeAfterBarrier(); }
GateWatermark InputGate::watermark() const { return core_->watermark(); }
uint64_t InputGate::watermark_version() const {
  return core_->watermark_version.load(std::memory_order_relaxed);
}

}  // namespace sluice::network
