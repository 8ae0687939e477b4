// sluice-taskmanager: a TaskManager process. Serves task deployment (TaskManagerService) and
// the data exchange (ExchangeService) on one gRPC port, registers with the JobManager and
// heartbeats until SIGINT/SIGTERM. security.tls.* secures its gRPC port and its channels to
// the JobManager and peers; security.rest.tls.* and security.auth.token_file its /metrics.
#include <unistd.h>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "common/cluster_security.h"
#include "common/config.h"
#include "common/file_util.h"
#include "common/http/bearer_auth.h"
#include "common/http/http_server.h"
#include "common/metrics/metrics.h"
#include "common/process_util.h"
#include "common/rpc/grpc_server.h"
#include "common/server_process.h"
#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"
#include "taskmanager/jobmanager_connection.h"
#include "taskmanager/network/network_environment.h"
#include "taskmanager/task_executor.h"
#include "taskmanager/taskmanager_metrics.h"

namespace {

constexpr char kProgram[] = "sluice-taskmanager";

int Fail(absl::string_view message) { return sluice::FailStartup(kProgram, message); }

}  // namespace

int main(int argc, char** argv) {
  using namespace sluice;
  BlockTerminationSignals();
  DisableMutexDeadlockDetection();

  CLI::App app{"sluice-taskmanager: a Sluice TaskManager (runs tasks, exchanges data)"};
  ServerOptions options;
  AddServerOptions(app, &options);
  std::string jobmanager;
  app.add_option("--jobmanager", jobmanager, "JobManager address host:port");
  if (auto exit_code = ParseServerCommandLine(app, argc, argv, kProgram)) return *exit_code;
  absl::StatusOr<Config> loaded = LoadServerConfig(options);
  if (!loaded.ok()) return Fail(loaded.status().message());
  const Config& config = *loaded;
  absl::StatusOr<ClusterSecurity> security = ClusterSecurity::FromConfig(config);
  if (!security.ok()) return Fail(security.status().message());
  for (const std::string& warning : security->warnings) spdlog::warn("{}", warning);
  if (jobmanager.empty()) {
    jobmanager = absl::StrCat(config.GetString("jobmanager.address"), ":",
                              config.GetInt("jobmanager.rpc.port"));
  }
  const int slots = static_cast<int>(config.GetInt("taskmanager.slots"));
  if (slots < 1) return Fail("taskmanager.slots must be at least 1");
  const int64_t max_message = config.GetBytes("rpc.max_message_size");
  const std::string host = config.GetString("taskmanager.host");  // advertised
  const std::string bind_host = BindHost(config, "taskmanager.bind_host", "taskmanager.host");

  // Services are registered before the server starts, so the network environment learns its
  // address (port 0 = a free port) only after the bind; the id is unique per process.
  const std::string tm_id = absl::StrCat("tm-", getpid(), "-", SystemClock::Get()->WallMillis() % 100000);
  network::NetworkEnvironment network(network::NetworkConfig::FromConfig(config), tm_id,
                                      SystemClock::Get(), security->rpc);
  std::unique_ptr<taskmanager::JobManagerConnection> connection;
  taskmanager::TaskCheckpointServices checkpoint_services;
  checkpoint_services.report = [&connection](const proto::CheckpointReport& report) {
    if (connection) connection->ReportCheckpoint(report);
  };
  checkpoint_services.local_state_dir = config.GetString("taskmanager.state.local_dir");
  taskmanager::TaskExecutor executor(&network, SystemClock::Get(),
                                     [&connection](const proto::TaskStateUpdate& update) {
                                       if (connection) connection->ReportTaskState(update);
                                     },
                                     checkpoint_services);
  auto server =
      rpc::StartServer(bind_host, static_cast<int>(config.GetInt("taskmanager.port")),
                       {&executor, network.exchange_service()}, max_message, security->rpc);
  if (!server.ok()) return Fail(server.status().message());
  const std::string address = rpc::JoinHostPort(host, server->port);
  absl::StatusOr<std::string> data_address = network.StartDataTransport(bind_host, host, address);
  if (!data_address.ok()) {
    server->server->Shutdown();
    return Fail(data_address.status().message());
  }
  spdlog::info("TaskManager {} serving on {}, advertised as {}, with {} slots ({})", tm_id,
               server->address, address, slots, security->rpc.ModeName());
  if (*data_address != address) spdlog::info("data exchange on {}", *data_address);

  // Prometheus /metrics (docs/metrics.md), before registering so the JobManager learns it.
  metrics::MetricsRegistry metrics_registry;
  metrics::Registration tm_metrics =
      taskmanager::RegisterTaskManagerMetrics(&metrics_registry, &executor, &network, slots);
  std::unique_ptr<http::HttpServer> metrics_server;
  std::string metrics_address;  // advertised
  if (const int64_t metrics_port = config.GetInt("taskmanager.metrics.port"); metrics_port >= 0) {
    http::HttpHandler serve = [&metrics_registry, &connection](const http::HttpRequest& request) {
      return taskmanager::ServeHttp(
          metrics_registry, [&connection] { return connection && connection->connected(); },
          request);
    };
    if (security->token) {  // the probes stay open: kubelet sends no token
      serve = http::RequireBearerToken(std::move(serve), *security->token,
                                       [](const http::HttpRequest& r) {
                                         return r.path == "/health" || r.path == "/ready";
                                       });
    }
    http::HttpServerOptions metrics_options;
    metrics_options.tls = security->rest_tls;
    auto started =
        http::HttpServer::Start(bind_host, static_cast<int>(metrics_port), "the metrics endpoint",
                                std::move(serve), metrics_options);
    if (!started.ok()) {
      network.Shutdown();
      server->server->Shutdown();
      return Fail(started.status().message());
    }
    metrics_server = *std::move(started);
    metrics_address = rpc::JoinHostPort(host, metrics_server->port());
    spdlog::info("metrics on {}://{}/metrics, probes on /health and /ready",
                 metrics_server->scheme(), metrics_server->address());
  }

  proto::RegisterTaskManagerRequest self;
  self.set_tm_id(tm_id);
  self.set_control_address(address);
  self.set_data_address(*data_address);
  self.set_slots(slots);
  self.set_pid(getpid());
  if (metrics_server) self.set_metrics_address(metrics_address);
  connection = std::make_unique<taskmanager::JobManagerConnection>(
      jobmanager, self, config.GetDurationMillis("heartbeat.interval"), max_message,
      [&executor]() {
        proto::HeartbeatRequest request;
        for (proto::TaskMetrics& m : executor.Metrics()) *request.add_tasks() = std::move(m);
        request.set_rss_bytes(CurrentRssBytes());
        return request;
      },
      [&executor]() { executor.CancelAll(); }, config.GetString("high_availability.dir"),
      security->rpc);
  // A stop request (SIGTERM from Kubernetes) while waiting for the JobManager is a clean exit.
  if (absl::Status s = connection->Register(
          config.GetDurationMillis("taskmanager.registration.timeout"), TerminationSignalPending);
      !s.ok()) {
    if (!absl::IsCancelled(s)) return Fail(s.message());
    spdlog::info("{}", std::string(s.message()));
    return 0;
  }
  connection->StartHeartbeats();

  if (!options.ready_file.empty()) {
    nlohmann::json ready = {{"tm_id", tm_id}, {"address", address}, {"pid", getpid()}};
    if (metrics_server) ready["metrics_address"] = metrics_address;
    if (absl::Status s = WriteFileAtomically(options.ready_file, ready.dump()); !s.ok()) {
      return Fail(s.message());
    }
  }

  int sig = WaitForTerminationSignal();
  spdlog::info("signal {}: shutting down", sig);
  connection->Stop();
  if (metrics_server) metrics_server->Stop();
  executor.CancelAll();
  network.Shutdown();
  server->server->Shutdown();
  return 0;
}
