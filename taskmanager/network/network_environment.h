// NetworkEnvironment: the data plane of one TaskManager process (Flink's
// NettyShuffleEnvironment): the NetworkBufferPool, the ResultPartitionManager of the
// partitions its tasks produce, the ExchangeService that serves them to other TaskManagers,
// and the ConnectionManager holding one stream per producing TaskManager. Tasks get their
// RecordWriters and InputGates here.
// Lifecycle (TaskManager main): construct it, register exchange_service() on the gRPC server
// (its address is what the JobManager gives consumers as the producer's data address); at exit call Shutdown() BEFORE grpc::Server::Shutdown (it
// ends the open streams, which the server would otherwise wait for), and destroy it after
// the server and every task. Thread-safe.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/rpc/credentials.h"
#include "common/types/schema.h"
#include "grpcpp/grpcpp.h"
#include "proto/control.pb.h"
#include "taskmanager/network/buffer_pool.h"
#include "taskmanager/network/connection_manager.h"
#include "taskmanager/network/exchange_service.h"
#include "taskmanager/network/input_gate.h"
#include "taskmanager/network/network_config.h"
#include "taskmanager/network/record_writer.h"
#include "taskmanager/network/result_partition_manager.h"
#include "taskmanager/network/tcp_exchange_server.h"

namespace sluice::network {

class NetworkEnvironment {
 public:
  // `credentials`: of the exchange streams to other TaskManagers (security.tls.*).
  NetworkEnvironment(NetworkConfig config, std::string tm_id, const Clock* clock,
                     rpc::RpcCredentials credentials = rpc::RpcCredentials());
  ~NetworkEnvironment();  // Shutdown()
  NetworkEnvironment(const NetworkEnvironment&) = delete;
  NetworkEnvironment& operator=(const NetworkEnvironment&) = delete;

  // The TaskManager main registers it on its gRPC server.
  grpc::Service* exchange_service() { return &exchange_service_; }
  // The data address the TaskManager registers with: `grpc_address` with transport grpc;
  // with tcp, starts the data port on `bind_host`:data_port and returns
  // "tcp://<advertised_host>:<port>". InvalidArgument for an unknown transport or tcp with
  // TLS on; Unavailable when the port cannot be bound.
  absl::StatusOr<std::string> StartDataTransport(const std::string& bind_host,
                                                 const std::string& advertised_host,
                                                 const std::string& grpc_address);

  // Registers the result partition `out.partition_id` (consumers may already be waiting for
  // it) with a pool of num_subpartitions * buffers_per_output_channel +
  // floating_buffers_per_output buffers. ResourceExhausted naming taskmanager.network.buffers
  // when the TaskManager has too few free; InvalidArgument for a bad descriptor;
  // AlreadyExists for a partition id in use. `buffer_timeout_ms` overrides the TaskManager's
  // pipeline.buffer_timeout (a job's `buffer_timeout` setting).
  absl::StatusOr<std::unique_ptr<RecordWriter>> CreateRecordWriter(
      const std::string& job_id, int attempt, const proto::OutputDescriptor& out,
      types::SchemaPtr schema, int max_parallelism, const std::atomic<bool>* canceled,
      std::optional<int64_t> buffer_timeout_ms = std::nullopt);
  // An input gate with one channel per `in.channels` entry (local when producer_tm_id is this
  // TaskManager). `on_available` is called from network threads when data, an end or an
  // error arrives (the task wakes its mailbox).
  absl::StatusOr<std::unique_ptr<InputGate>> CreateInputGate(const std::string& job_id,
                                                             int attempt,
                                                             const proto::InputGateDescriptor& in,
                                                             types::SchemaPtr schema,
                                                             std::function<void()> on_available);
  // Cancel / failover: releases every partition of `job_id` with attempt <= attempt_upto.
  // Their producers blocked in Emit return Cancelled, their consumers get PARTITION_ERROR.
  void ReleasePartitions(const std::string& job_id, int attempt_upto);

  BufferPoolStats stats() const { return buffers_.stats(); }
  const NetworkConfig& config() const { return config_; }
  const std::string& tm_id() const { return tm_id_; }
  int num_partitions() const { return partitions_.num_partitions(); }
  int num_connections() const { return connections_.num_connections(); }
  // Partition requests waiting for their producer to register (tests, metrics).
  int num_waiting_partition_requests() const { return partitions_.num_waiting_requests(); }

  // Releases all partitions, closes the streams in both directions. Idempotent.
  void Shutdown();

 private:
  const NetworkConfig config_;
  const std::string tm_id_;
  const Clock* const clock_;
  NetworkBufferPool buffers_;
  ResultPartitionManager partitions_;
  ConnectionManager connections_;
  ExchangeServiceImpl exchange_service_;
  const bool tls_;
  std::unique_ptr<TcpExchangeServer> tcp_server_;  // transport tcp, once started
};

}  // namespace sluice::network
