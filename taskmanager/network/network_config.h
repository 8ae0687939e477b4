// NetworkConfig: the network settings of one TaskManager (buffer pools, flush timeout,
// message limit), read once from the cluster Config. Immutable; safe to share across threads.
#pragma once

#include <cstdint>
#include <string>

#include "common/config.h"

namespace sluice::network {

struct NetworkConfig {
  int64_t buffer_size = 32 * 1024;        // taskmanager.network.buffer_size
  int total_buffers = 2048;               // taskmanager.network.buffers
  int exclusive_buffers_per_channel = 2;  // taskmanager.network.exclusive_buffers_per_channel
  int floating_buffers_per_gate = 32;     // taskmanager.network.floating_buffers_per_gate
  int buffers_per_output_channel = 2;     // taskmanager.network.buffers_per_output_channel
  int floating_buffers_per_output = 32;   // taskmanager.network.floating_buffers_per_output
  // pipeline.buffer_timeout: a partly filled buffer is sent after this long; 0 = after every
  // Emit; negative = only when full or at the end.
  int64_t buffer_timeout_ms = 10;
  int64_t max_message_size = 64 << 20;    // rpc.max_message_size
  // taskmanager.network.transport: "grpc" (the ExchangeService stream on the TaskManager's
  // gRPC server) or "tcp" (framed TCP on data_port, plaintext only; exchange_wire.h).
  std::string transport = "grpc";
  int data_port = 0;                      // taskmanager.network.data_port (tcp; 0 = free)
  // How long a partition request waits for its producer to register the partition.
  int64_t partition_request_timeout_ms = 30'000;
  // Sets glibc malloc's mmap and trim thresholds (process-wide, once) so that the
  // buffer-sized allocations of gRPC's read and write paths are reused instead of being
  // mapped and unmapped (or trimmed and faulted in again) per message: 1.5-2x exchange
  // throughput in a fresh process (bench/exchange_bench.cc; glibc's dynamic thresholds get
  // there later on their own). Freed memory up to 16 MiB per malloc arena stays mapped.
  bool tune_allocator = true;

  static NetworkConfig FromConfig(const sluice::Config& config);
};

}  // namespace sluice::network
