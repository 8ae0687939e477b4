#include "taskmanager/network/network_environment.h"

#include <malloc.h>

#include <mutex>

#include "absl/strings/str_cat.h"
#include "common/rpc/grpc_server.h"
#include "common/status_macros.h"

namespace sluice::network {
namespace {

// See NetworkConfig::tune_allocator. Messages are at most ~1 MiB (coalesced buffers).
void TuneAllocator() {
  static std::once_flag once;
  std::call_once(once, [] {
    mallopt(M_MMAP_THRESHOLD, 2 << 20);
    mallopt(M_TRIM_THRESHOLD, 16 << 20);
  });
}

}  // namespace

NetworkEnvironment::NetworkEnvironment(NetworkConfig config, std::string tm_id, const Clock* clock,
                                       rpc::RpcCredentials credentials)
    : config_(config),
      tm_id_(std::move(tm_id)),
      clock_(clock),
      buffers_(config_.total_buffers, config_.buffer_size),
      partitions_(clock_, config_.partition_request_timeout_ms),
      connections_(config_.max_message_size, credentials),
      exchange_service_(&partitions_, config_.buffer_size, config_.max_message_size),
      tls_(credentials.tls()) {
  if (config_.tune_allocator) TuneAllocator();
}

NetworkEnvironment::~NetworkEnvironment() { Shutdown(); }

absl::StatusOr<std::unique_ptr<RecordWriter>> NetworkEnvironment::CreateRecordWriter(
    const std::string& job_id, int attempt, const proto::OutputDescriptor& out,
    types::SchemaPtr schema, int max_parallelism, const std::atomic<bool>* canceled,
    std::optional<int64_t> buffer_timeout_ms) {
  absl::Status valid = RecordWriter::Validate(out, *schema, max_parallelism);
  if (!valid.ok()) return valid;
  const int size =
      out.num_subpartitions() * config_.buffers_per_output_channel + config_.floating_buffers_per_output;
  absl::StatusOr<std::shared_ptr<LocalBufferPool>> pool = LocalBufferPool::Create(
      &buffers_, size,
      absl::StrCat("the output of edge ", out.edge_id(), " (partition ", out.partition_id(), ", ",
                   out.num_subpartitions(), " subpartitions x ", config_.buffers_per_output_channel,
                   " + ", config_.floating_buffers_per_output, " floating buffers)"));
  if (!pool.ok()) return pool.status();
  auto partition = std::make_shared<ResultPartition>(out.partition_id(), job_id, attempt,
                                                     out.num_subpartitions(), std::move(*pool));
  absl::Status registered = partitions_.Register(partition);
  if (!registered.ok()) return registered;
  NetworkConfig writer_config = config_;
  if (buffer_timeout_ms) writer_config.buffer_timeout_ms = *buffer_timeout_ms;
  return std::make_unique<RecordWriter>(std::move(partition), out, std::move(schema),
                                        max_parallelism, writer_config, clock_, canceled);
}

absl::StatusOr<std::unique_ptr<InputGate>> NetworkEnvironment::CreateInputGate(
    const std::string& job_id, int attempt, const proto::InputGateDescriptor& in,
    types::SchemaPtr schema, std::function<void()> on_available) {
  InputGate::Services services{tm_id_, config_, &buffers_, &partitions_, &connections_};
  return InputGate::Create(services, in, std::move(schema), std::move(on_available));
}

void NetworkEnvironment::ReleasePartitions(const std::string& job_id, int attempt_upto) {
  partitions_.ReleasePartitions(
      job_id, attempt_upto,
      absl::CancelledError(absl::StrCat("the partitions of job ", job_id, " attempt <= ",
                                        attempt_upto, " were released (canceled or restarted)")));
}

absl::StatusOr<std::string> NetworkEnvironment::StartDataTransport(
    const std::string& bind_host, const std::string& advertised_host,
    const std::string& grpc_address) {
  if (config_.transport == "grpc") return grpc_address;
  if (config_.transport != "tcp") {
    return absl::InvalidArgumentError(absl::StrCat(
        "taskmanager.network.transport: '", config_.transport, "' is not grpc or tcp"));
  }
  if (tls_) {
    return absl::InvalidArgumentError(
        "taskmanager.network.transport: tcp sends data unencrypted, and security.tls.enabled "
        "is on: use grpc");
  }
  ASSIGN_OR_RETURN(tcp_server_,
                   TcpExchangeServer::Start(bind_host, config_.data_port, &exchange_service_));
  return absl::StrCat(kTcpScheme, rpc::JoinHostPort(advertised_host, tcp_server_->port()));
}

void NetworkEnvironment::Shutdown() {
  if (tcp_server_ != nullptr) tcp_server_->Shutdown();
  exchange_service_.Shutdown();
  connections_.Shutdown();
  partitions_.Shutdown();
}

}  // namespace sluice::network
