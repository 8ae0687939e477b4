#include "taskmanager/network/connection_manager.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace sluice::network {

Connection::Connection(std::string address, int64_t max_message_size,
                       const rpc::RpcCredentials& credentials)
    : address_(std::move(address)),
      wire_(ExchangeClientWire::For(address_, max_message_size, credentials)) {
  // Opening the stream may wait for the TCP connection: the reader thread does it, and
  // joins the writer when the stream ends (so the writer must exist first).
  writer_ = std::thread([this] { WriteLoop(); });
  reader_ = std::thread([this] { ReadLoop(); });
}

Connection::~Connection() { Close(); }

absl::Status Connection::OpenChannel(int64_t channel_id, std::shared_ptr<RemoteChannelSink> sink,
                                     const std::string& partition_id, int subpartition,
                                     int initial_credit) {
  absl::MutexLock lock(&mu_);
  if (broken_ || closing_) {
    return absl::UnavailableError(
        absl::StrCat("the connection to TaskManager at ", address_, " is broken"));
  }
  sinks_[channel_id] = std::move(sink);
  proto::ExchangeRequest& request = outbox_.emplace_back();
  proto::PartitionRequest* r = request.mutable_partition_request();
  r->set_channel_id(channel_id);
  r->set_partition_id(partition_id);
  r->set_subpartition(subpartition);
  r->set_initial_credit(initial_credit);
  return absl::OkStatus();
}

void Connection::AddCredit(int64_t channel_id, int credit, bool inline_write) {
  {
    absl::MutexLock lock(&mu_);
    if (broken_ || closing_ || !sinks_.contains(channel_id)) return;
    credits_[channel_id] += credit;
    if (!inline_write || writing_ || !stream_started_) return;  // the writer thread sends it
    writing_ = true;
  }
  WritePending();
}

void Connection::CloseChannel(int64_t channel_id, bool cancel) {
  absl::MutexLock lock(&mu_);
  sinks_.erase(channel_id);
  credits_.erase(channel_id);
  if (cancel && !broken_ && !closing_) {
    outbox_.emplace_back().mutable_cancel()->set_channel_id(channel_id);
  }
}

bool Connection::broken() const {
  absl::MutexLock lock(&mu_);
  return broken_ || closing_;
}

void Connection::ReadLoop() {
  const absl::Status opened = wire_->Open();
  if (opened.ok()) {
    absl::MutexLock lock(&mu_);
    stream_started_ = true;
  }
  proto::Buffer message;
  std::vector<std::shared_ptr<RemoteChannelSink>> burst;  // the sinks the burst reached
  auto dispatch = [this, &burst](proto::Buffer* buffer) {
    std::shared_ptr<RemoteChannelSink> sink;
    {
      absl::MutexLock lock(&mu_);
      auto it = sinks_.find(buffer->channel_id());
      if (it != sinks_.end()) sink = it->second;
    }
    if (!sink) return;  // closed channel, drop
    sink->OnBuffer(buffer);
    if (std::find(burst.begin(), burst.end(), sink) == burst.end()) burst.push_back(sink);
  };
  while (opened.ok() && wire_->Read(&message)) {
    dispatch(&message);
    for (proto::Buffer& more : *message.mutable_more()) dispatch(&more);
    for (const auto& sink : burst) sink->OnBurstEnd();
    burst.clear();
  }
  {
    absl::MutexLock lock(&mu_);
    broken_ = true;  // stops the writer thread and inline writers
    auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !writing_; };
    mu_.Await(absl::Condition(&idle));  // Finish must not run during a Write
  }
  writer_.join();
  const std::string why = opened.ok() ? wire_->Finish() : std::string(opened.message());
  absl::flat_hash_map<int64_t, std::shared_ptr<RemoteChannelSink>> sinks;
  bool closing = false;
  {
    absl::MutexLock lock(&mu_);
    sinks.swap(sinks_);
    closing = closing_;
  }
  const absl::Status error =
      closing ? absl::UnavailableError(
                    absl::StrCat("the connection to TaskManager at ", address_, " was closed"))
              : absl::UnavailableError(absl::StrCat(
                    "lost the connection to TaskManager at ", address_, ": ",
                    why.empty() ? "stream ended" : why));
  for (auto& [id, sink] : sinks) sink->OnConnectionError(error);
  finished_ = true;
}

void Connection::WriteLoop() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      auto wake = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return broken_ || closing_ ||
               (stream_started_ && !writing_ && (!outbox_.empty() || !credits_.empty()));
      };
      mu_.Await(absl::Condition(&wake));
      if (broken_ || closing_) return;
      writing_ = true;
    }
    if (!WritePending()) return;  // the reader sees the stream end and reports it
  }
}

bool Connection::WritePending() {
  std::deque<proto::ExchangeRequest> requests;
  absl::flat_hash_map<int64_t, int> credits;
  proto::ExchangeRequest credit_message;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (broken_ || closing_ || (outbox_.empty() && credits_.empty())) {
        writing_ = false;
        return !(broken_ || closing_);
      }
      requests.swap(outbox_);
      credits.swap(credits_);
    }
    // Requests first: a channel's PartitionRequest always precedes its credits.
    bool ok = true;
    for (const auto& r : requests) ok = ok && wire_->Write(r);
    for (const auto& [id, credit] : credits) {
      proto::AddCredit* c = credit_message.mutable_add_credit();
      c->set_channel_id(id);
      c->set_credit(credit);
      ok = ok && wire_->Write(credit_message);
    }
    requests.clear();
    credits.clear();
    if (!ok) {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      return false;
    }
  }
}

void Connection::Close() {
  absl::MutexLock close_lock(&close_mu_);
  {
    absl::MutexLock lock(&mu_);
    closing_ = true;
  }
  wire_->Cancel();
  if (reader_.joinable()) reader_.join();
}

absl::StatusOr<std::shared_ptr<Connection>> ConnectionManager::Get(const std::string& address) {
  std::vector<std::shared_ptr<Connection>> reap;
  std::shared_ptr<Connection> connection;
  {
    absl::MutexLock lock(&mu_);
    if (shutdown_) return absl::UnavailableError("the TaskManager is shutting down");
    auto it = live_.find(address);
    if (it != live_.end()) {
      if (!it->second->broken()) return it->second;
      dead_.push_back(std::move(it->second));
      live_.erase(it);
    }
    connection = std::make_shared<Connection>(address, max_message_size_, credentials_);
    live_[address] = connection;
    for (auto d = dead_.begin(); d != dead_.end();) {
      if ((*d)->finished()) {
        reap.push_back(std::move(*d));
        d = dead_.erase(d);
      } else {
        ++d;
      }
    }
  }
  for (auto& r : reap) r->Close();  // their threads are done: joins at once
  return connection;
}

void ConnectionManager::Shutdown() {
  std::vector<std::shared_ptr<Connection>> all;
  {
    absl::MutexLock lock(&mu_);
    shutdown_ = true;
    for (auto& [address, c] : live_) all.push_back(std::move(c));
    live_.clear();
    for (auto& c : dead_) all.push_back(std::move(c));
    dead_.clear();
  }
  for (auto& c : all) c->Close();
}

int ConnectionManager::num_connections() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(live_.size());
}

}  // namespace sluice::network
