// sluice-taskmanager: a TaskManager process. Serves task deployment (TaskManagerService) and
// the data exchange (ExchangeService) on one gRPC port, registers with the JobManager and
// heartbeats until SIGINT/SIGTERM.
#include <unistd.h>

#include <iostream>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "common/config.h"
#include "common/file_util.h"
#include "common/process_util.h"
#include "common/rpc/grpc_server.h"
#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"
#include "taskmanager/jobmanager_connection.h"
#include "taskmanager/network/network_environment.h"
#include "taskmanager/task_executor.h"

namespace {

int Fail(const std::string& message) {
  std::cerr << "sluice-taskmanager: " << message << std::endl;
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace sluice;
  BlockTerminationSignals();

  CLI::App app{"Sluice TaskManager"};
  std::string config_file, jobmanager, ready_file;
  std::vector<std::string> sets;
  app.add_option("--config", config_file, "YAML configuration file");
  app.add_option("--set", sets, "key=value configuration override (repeatable)");
  app.add_option("--jobmanager", jobmanager, "JobManager address host:port");
  app.add_option("--ready-file", ready_file, "write {tm_id, address, pid} here once registered");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {
      app.exit(e);
      return 0;
    }
    return Fail(e.what());
  }

  Config config;
  if (!config_file.empty()) {
    if (absl::Status s = config.LoadFile(config_file); !s.ok()) return Fail(std::string(s.message()));
  }
  for (const std::string& set : sets) {
    if (absl::Status s = config.SetFlag(set); !s.ok()) return Fail(std::string(s.message()));
  }
  spdlog::set_level(spdlog::level::from_str(config.GetString("log.level")));
  if (jobmanager.empty()) {
    jobmanager = absl::StrCat(config.GetString("jobmanager.address"), ":",
                              config.GetInt("jobmanager.rpc.port"));
  }
  const int slots = static_cast<int>(config.GetInt("taskmanager.slots"));
  if (slots < 1) return Fail("taskmanager.slots must be at least 1");
  const int64_t max_message = config.GetBytes("rpc.max_message_size");
  const std::string host = config.GetString("taskmanager.host");

  // The server must exist before the network environment knows its address, and the
  // services must exist before the server starts: the data address is filled in after bind.
  network::NetworkConfig net_config = network::NetworkConfig::FromConfig(config);
  auto port_or = rpc::StartServer(host, static_cast<int>(config.GetInt("taskmanager.port")), {},
                                  max_message);
  // Bind once to learn the port (0 = free port), then serve on exactly that port.
  if (!port_or.ok()) return Fail(std::string(port_or.status().message()));
  const int port = port_or->port;
  port_or->server->Shutdown();
  port_or->server.reset();

  const std::string address = absl::StrCat(host, ":", port);
  const std::string tm_id = absl::StrCat("tm-", port, "-", getpid());
  network::NetworkEnvironment network(net_config, tm_id, address, SystemClock::Get());

  std::unique_ptr<taskmanager::JobManagerConnection> connection;
  taskmanager::TaskExecutor executor(&network, SystemClock::Get(),
                                     [&connection](const proto::TaskStateUpdate& update) {
                                       if (connection) connection->ReportTaskState(update);
                                     });
  auto server = rpc::StartServer(host, port, {&executor, network.exchange_service()}, max_message);
  if (!server.ok()) return Fail(std::string(server.status().message()));
  spdlog::info("TaskManager {} serving on {} with {} slots", tm_id, address, slots);

  proto::RegisterTaskManagerRequest self;
  self.set_tm_id(tm_id);
  self.set_control_address(address);
  self.set_data_address(address);
  self.set_slots(slots);
  self.set_pid(getpid());
  connection = std::make_unique<taskmanager::JobManagerConnection>(
      jobmanager, self, config.GetDurationMillis("heartbeat.interval"), max_message,
      [&executor]() {
        proto::HeartbeatRequest request;
        for (proto::TaskMetrics& m : executor.Metrics()) *request.add_tasks() = std::move(m);
        request.set_rss_bytes(CurrentRssBytes());
        return request;
      },
      [&executor]() { executor.CancelAll(); });
  if (absl::Status s = connection->Register(60'000); !s.ok()) return Fail(std::string(s.message()));
  connection->StartHeartbeats();

  if (!ready_file.empty()) {
    nlohmann::json ready = {{"tm_id", tm_id}, {"address", address}, {"pid", getpid()}};
    if (absl::Status s = WriteFileAtomically(ready_file, ready.dump()); !s.ok()) {
      return Fail(std::string(s.message()));
    }
  }

  int sig = WaitForTerminationSignal();
  spdlog::info("signal {}: shutting down", sig);
  connection->Stop();
  executor.CancelAll();
  network.Shutdown();
  server->server->Shutdown();
  return 0;
}
