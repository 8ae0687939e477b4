#include "taskmanager/network/network_config.h"

namespace sluice::network {

NetworkConfig NetworkConfig::FromConfig(const sluice::Config& config) {
  NetworkConfig c;
  c.buffer_size = config.GetBytes("taskmanager.network.buffer_size");
  c.total_buffers = static_cast<int>(config.GetInt("taskmanager.network.buffers"));
  c.exclusive_buffers_per_channel =
      static_cast<int>(config.GetInt("taskmanager.network.exclusive_buffers_per_channel"));
  c.floating_buffers_per_gate =
      static_cast<int>(config.GetInt("taskmanager.network.floating_buffers_per_gate"));
  c.buffers_per_output_channel =
      static_cast<int>(config.GetInt("taskmanager.network.buffers_per_output_channel"));
  c.floating_buffers_per_output =
      static_cast<int>(config.GetInt("taskmanager.network.floating_buffers_per_output"));
  c.buffer_timeout_ms = config.GetDurationMillis("pipeline.buffer_timeout");
  c.max_message_size = config.GetBytes("rpc.max_message_size");
  c.transport = config.GetString("taskmanager.network.transport");
  c.data_port = static_cast<int>(config.GetInt("taskmanager.network.data_port"));
  return c;
}

}  // namespace sluice::network
