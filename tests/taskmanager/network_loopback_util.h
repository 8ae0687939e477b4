// In-process "TaskManagers" for network tests: a NetworkEnvironment served by its own gRPC
// server on a free loopback port, plus writer/gate factories with small test buffers.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "common/rpc/grpc_server.h"
#include "gtest/gtest.h"
#include "taskmanager/network/network_environment.h"
#include "tests/taskmanager/network_test_util.h"

namespace sluice::network::testing {

// One TaskManager's data plane: a NetworkEnvironment served by its own gRPC server.
class TestTaskManager {
 public:
  TestTaskManager(std::string tm_id, NetworkConfig config, const Clock* clock = SystemClock::Get())
      : tm_id_(std::move(tm_id)) {
    // The environment does not use its own address; the server picks the port.
    env_ = std::make_unique<NetworkEnvironment>(config, tm_id_, clock);
    auto server =
        rpc::StartServer("127.0.0.1", 0, {env_->exchange_service()}, config.max_message_size);
    EXPECT_TRUE(server.ok()) << server.status();
    server_ = std::move(server->server);
    // The data address: the gRPC server's, or the tcp data port's (config.transport).
    auto data = env_->StartDataTransport("127.0.0.1", "127.0.0.1", server->address);
    EXPECT_TRUE(data.ok()) << data.status();
    address_ = data.ok() ? *data : server->address;
  }
  ~TestTaskManager() { Stop(); }

  // Like the TaskManager main at exit: the environment first, then the server.
  void Stop() {
    if (server_ == nullptr) return;
    env_->Shutdown();
    server_->Shutdown();
    server_.reset();
  }

  NetworkEnvironment& env() { return *env_; }
  const std::string& id() const { return tm_id_; }
  const std::string& address() const { return address_; }
  proto::ResultPartitionRef Ref(const std::string& partition, int subpartition) const {
    return ::sluice::network::testing::Ref(partition, subpartition, tm_id_, address_);
  }

 private:
  std::string tm_id_;
  std::string address_;
  std::unique_ptr<NetworkEnvironment> env_;
  std::unique_ptr<grpc::Server> server_;
};

// `transport`: taskmanager.network.transport.
NetworkConfig TestConfig(const std::string& transport = "grpc") {
  NetworkConfig c;
  c.transport = transport;
  c.buffer_size = 4096;
  c.total_buffers = 256;
  c.buffer_timeout_ms = 5;
  return c;
}

std::unique_ptr<RecordWriter> MakeWriter(TestTaskManager& tm, const proto::OutputDescriptor& out,
                                         const std::atomic<bool>* canceled = nullptr) {
  auto writer = tm.env().CreateRecordWriter("job", 0, out, KvSchema(), 128, canceled);
  EXPECT_TRUE(writer.ok()) << writer.status();
  return writer.ok() ? std::move(*writer) : nullptr;
}

std::unique_ptr<InputGate> MakeGate(TestTaskManager& tm, const proto::InputGateDescriptor& in,
                                    Notifier& notifier) {
  auto gate = tm.env().CreateInputGate("job", 0, in, KvSchema(), notifier.callback());
  EXPECT_TRUE(gate.ok()) << gate.status();
  return gate.ok() ? std::move(*gate) : nullptr;
}

// Two producers for one consumer gate on TaskManager `a`: channel 0 local (its producer on
// `a`), channel 1 remote (its producer on `b`), so a test covers both paths.
struct TwoChannels {
  explicit TwoChannels(const std::string& transport = "grpc")
      : a("tm-a", TestConfig(transport)), b("tm-b", TestConfig(transport)) {
    Connect();
  }

  TestTaskManager a;
  TestTaskManager b;
  Notifier notifier;
  std::unique_ptr<InputGate> gate;
  std::unique_ptr<RecordWriter> local;
  std::unique_ptr<RecordWriter> remote;


 private:
  void Connect() {
    gate = MakeGate(a, Input({a.Ref("job/0/1/0", 0), b.Ref("job/0/1/1", 0)}), notifier);
    local = MakeWriter(a, Output("job/0/1/0", proto::FORWARD, 1));
    remote = MakeWriter(b, Output("job/0/1/1", proto::FORWARD, 1));
  }
};

}  // namespace sluice::network::testing
