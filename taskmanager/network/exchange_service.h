// ExchangeService: the producer side of the credit-based data exchange (Flink's
// PartitionRequestServerHandler + PartitionRequestQueue). A consumer TaskManager opens one
// bidirectional stream to this TaskManager and multiplexes its input channels on it: for each
// PartitionRequest the stream attaches a reader to the requested subpartition (waiting for the
// partition to be registered if needed) and then sends that channel's buffers, each only while
// it holds a credit for the channel (END_OF_PARTITION and PARTITION_ERROR need no credit),
// with `backlog` = data buffers still queued and a per-channel sequence number. A buffer goes
// back to its pool as soon as gRPC took it.
// Each stream uses the gRPC handler thread (reading requests and credits) plus one writer
// thread. Registered on the TaskManager's gRPC server by its main; thread-safe.
#pragma once

#include <memory>

#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "proto/exchange.grpc.pb.h"
#include "taskmanager/network/result_partition_manager.h"

namespace sluice::network {

class ServerStream;

class ExchangeServiceImpl final : public proto::ExchangeService::Service {
 public:
  explicit ExchangeServiceImpl(ResultPartitionManager* partitions) : partitions_(partitions) {}
  ~ExchangeServiceImpl() override;

  grpc::Status Exchange(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<proto::Buffer, proto::ExchangeRequest>* stream) override;

  // Cancels every open stream and refuses new ones, so that grpc::Server::Shutdown does not
  // wait for consumers. Idempotent.
  void Shutdown();
  int num_streams() const;

 private:
  ResultPartitionManager* const partitions_;
  mutable absl::Mutex mu_;
  absl::CondVar streams_done_;
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_set<ServerStream*> streams_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sluice::network
