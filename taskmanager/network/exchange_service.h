// ExchangeService: the producer side of the credit-based data exchange (Flink's
// PartitionRequestServerHandler + PartitionRequestQueue). A consumer TaskManager opens one
// stream to this TaskManager (a bidirectional gRPC stream, or a connection to the tcp data
// port: TcpExchangeServer, exchange_wire.h) and multiplexes its input channels on it: for each
// PartitionRequest the stream attaches a reader to the requested subpartition (waiting for the
// partition to be registered if needed) and then sends that channel's buffers, each only while
// it holds a credit for the channel (END_OF_PARTITION and PARTITION_ERROR need no credit),
// with `backlog` = data buffers still queued and a per-channel sequence number. Buffers ready
// at the same time (of one or several channels) are coalesced into one gRPC message (up to
// 1 MiB / 64 buffers), like a Netty flush. A buffer goes back to its pool as soon as gRPC
// took it.
// Each stream reads on its gRPC handler thread; buffers are written by whichever thread made
// them sendable (the producer task queuing data, the handler receiving credit) - no writer
// thread, no hand-off per buffer. Registered on the TaskManager's gRPC server by its main;
// thread-safe.
#pragma once

#include <memory>

#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "proto/exchange.grpc.pb.h"
#include "taskmanager/network/exchange_wire.h"
#include "taskmanager/network/result_partition_manager.h"

namespace sluice::network {

class ServerStream;

class ExchangeServiceImpl final : public proto::ExchangeService::Service {
 public:
  // `buffer_size` and `max_message_size` bound the coalescing of buffers into one message.
  ExchangeServiceImpl(ResultPartitionManager* partitions, int64_t buffer_size,
                      int64_t max_message_size)
      : partitions_(partitions), buffer_size_(buffer_size), max_message_size_(max_message_size) {}
  ~ExchangeServiceImpl() override;

  grpc::Status Exchange(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<proto::Buffer, proto::ExchangeRequest>* stream) override;
  // Serves one consumer's stream on `wire` until it ends (the gRPC Exchange call and each
  // connection of the tcp data port come here). InvalidArgument for a protocol error.
  absl::Status Serve(ExchangeServerWire* wire);

  // Cancels every open stream and refuses new ones, so that grpc::Server::Shutdown does not
  // wait for consumers. Idempotent.
  void Shutdown();
  int num_streams() const;

 private:
  ResultPartitionManager* const partitions_;
  const int64_t buffer_size_;
  const int64_t max_message_size_;
  mutable absl::Mutex mu_;
  absl::CondVar streams_done_;
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_set<ServerStream*> streams_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sluice::network
