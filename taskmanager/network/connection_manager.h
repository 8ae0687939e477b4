// The consumer side of the data exchange's transport (Flink's PartitionRequestClient +
// CreditBasedPartitionRequestClientHandler): ONE stream per producing TaskManager (a
// bidirectional gRPC stream, or a TCP connection for a "tcp://" data address: exchange_wire.h),
// shared by every remote input channel of every gate on this TaskManager.
// A Connection hands every received Buffer to the channel's RemoteChannelSink on its reader
// thread. It sends PartitionRequest / AddCredit / CancelPartitionRequest (credits coalesced per
// channel) from a writer thread, except that a task thread returning credits writes them
// itself when nobody else is writing (no thread hand-off on the hot path). When the stream breaks, every open channel's sink
// gets Unavailable naming the producer address; the next gate for that TaskManager gets a
// new connection. Connection and ConnectionManager are safe for concurrent use.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/rpc/credentials.h"
#include "grpcpp/grpcpp.h"
#include "proto/exchange.grpc.pb.h"
#include "taskmanager/network/exchange_wire.h"

namespace sluice::network {

// Receives one remote channel's buffers; implemented by the InputGate. Called on the
// connection's reader thread, never with a lock of the connection held.
class RemoteChannelSink {
 public:
  virtual ~RemoteChannelSink() = default;
  // The sink may take `buffer->data` (swap it out, ideally for an empty string with capacity:
  // the next message is parsed into it). `buffer->more` is already dispatched separately.
  virtual void OnBuffer(proto::Buffer* buffer) = 0;
  // The buffers that arrived together (one read burst) were all handed to OnBuffer: a sink
  // holds its task's wake-up until now, so that the task is not woken by the first buffer
  // - preempting the reader thread - while the rest are still being handed over.
  virtual void OnBurstEnd() = 0;
  // The stream broke or was closed: no more buffers will come.
  virtual void OnConnectionError(const absl::Status& status) = 0;
};

class Connection {
 public:
  Connection(std::string address, int64_t max_message_size,
             const rpc::RpcCredentials& credentials = rpc::RpcCredentials());
  ~Connection();  // Close()
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  const std::string& address() const { return address_; }

  // A channel id unique on this stream. Reserve it first, so the caller can record it
  // before any buffer or credit of the channel exists.
  int64_t NewChannelId() { return next_channel_id_.fetch_add(1); }
  // Sends a PartitionRequest for (partition_id, subpartition) with `initial_credit`.
  // Unavailable if the stream is already broken (the sink is not called then).
  absl::Status OpenChannel(int64_t channel_id, std::shared_ptr<RemoteChannelSink> sink,
                           const std::string& partition_id, int subpartition,
                           int initial_credit);
  // `inline_write`: the caller (a task thread, or a reader thread granting floating buffers)
  // may write the credits itself when no other thread is writing; credit messages are tiny,
  // so such a write never waits for the peer to read.
  void AddCredit(int64_t channel_id, int credit, bool inline_write);
  // Forgets the channel; with `cancel`, tells the producer to stop sending it.
  void CloseChannel(int64_t channel_id, bool cancel);

  bool broken() const;
  // True once the reader thread is done (after a break or Close): nothing runs any more.
  bool finished() const { return finished_.load(); }
  // Cancels the stream and joins the threads. Idempotent. Never call it from a sink.
  void Close();

 private:
  void ReadLoop();
  void WriteLoop();
  // Writes the queued requests and credits until none is left; the caller set writing_.
  // False when the stream failed.
  bool WritePending();

  const std::string address_;
  std::atomic<int64_t> next_channel_id_{1};
  const std::unique_ptr<ExchangeClientWire> wire_;
  std::thread reader_;
  std::thread writer_;
  std::atomic<bool> finished_{false};
  absl::Mutex close_mu_;  // serializes Close

  mutable absl::Mutex mu_;
  absl::flat_hash_map<int64_t, std::shared_ptr<RemoteChannelSink>> sinks_ ABSL_GUARDED_BY(mu_);
  std::deque<proto::ExchangeRequest> outbox_ ABSL_GUARDED_BY(mu_);  // requests and cancels
  absl::flat_hash_map<int64_t, int> credits_ ABSL_GUARDED_BY(mu_);  // coalesced AddCredit
  bool broken_ ABSL_GUARDED_BY(mu_) = false;
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  bool stream_started_ ABSL_GUARDED_BY(mu_) = false;  // the reader thread opened stream_
  bool writing_ ABSL_GUARDED_BY(mu_) = false;         // a thread is in WritePending
};

// The connections of one TaskManager to its peers, by data address.
class ConnectionManager {
 public:
  // `credentials`: of the streams to the peers (security.tls.*; default plaintext).
  explicit ConnectionManager(int64_t max_message_size,
                             rpc::RpcCredentials credentials = rpc::RpcCredentials())
      : max_message_size_(max_message_size), credentials_(std::move(credentials)) {}
  ~ConnectionManager() { Shutdown(); }

  // The live connection to `address`, opening one if needed. Unavailable after Shutdown.
  absl::StatusOr<std::shared_ptr<Connection>> Get(const std::string& address);
  // Closes every connection (channels get Unavailable). Idempotent.
  void Shutdown();
  int num_connections() const;

 private:
  const int64_t max_message_size_;
  const rpc::RpcCredentials credentials_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<Connection>> live_ ABSL_GUARDED_BY(mu_);
  std::vector<std::shared_ptr<Connection>> dead_ ABSL_GUARDED_BY(mu_);  // broken, not joined
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace sluice::network
