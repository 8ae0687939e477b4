#include "common/config.h"

#include <functional>

#include <string>

#include "common/check.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/duration.h"
#include "common/status_macros.h"
#include "common/suggest.h"
#include "yaml-cpp/yaml.h"

namespace sluice {

const std::vector<ConfigKey>& ConfigKeys() {
  static const std::vector<ConfigKey> keys = {
      {"jobmanager.address", ConfigType::kString, "127.0.0.1",
       "Host the JobManager binds to and TaskManagers/CLI connect to (on Kubernetes: the "
       "JobManager Service's DNS name). It is also the address a high-availability leader "
       "file advertises."},
      {"jobmanager.bind_host", ConfigType::kString, "",
       "Host the JobManager's RPC and REST servers bind to, when it differs from "
       "jobmanager.address (e.g. 0.0.0.0 in a container). Empty = jobmanager.address."},
      {"jobmanager.rpc.port", ConfigType::kInt, "6123",
       "JobManager gRPC port (TaskManagers and the CLI). 0 picks a free port."},
      {"rest.port", ConfigType::kInt, "8081",
       "JobManager HTTP port: REST API (/v1), Prometheus /metrics and dashboard, on "
       "jobmanager.address. 0 picks a free port (written to the ready file)."},
      {"taskmanager.host", ConfigType::kString, "127.0.0.1",
       "Host a TaskManager advertises to the JobManager and its peers (on Kubernetes: the "
       "pod IP), and binds to unless taskmanager.bind_host is set."},
      {"taskmanager.bind_host", ConfigType::kString, "",
       "Host a TaskManager's RPC/data and metrics servers bind to, when it differs from "
       "taskmanager.host (e.g. 0.0.0.0 in a container). Empty = taskmanager.host."},
      {"taskmanager.port", ConfigType::kInt, "6124",
       "TaskManager gRPC port (task deployment and data exchange). 0 picks a free port."},
      {"taskmanager.slots", ConfigType::kInt, "2", "Task slots per TaskManager."},
      {"taskmanager.registration.timeout", ConfigType::kDuration, "60s",
       "How long a starting TaskManager retries registering with the JobManager before it "
       "exits with an error. 0 = retry until it succeeds (Kubernetes: the JobManager may "
       "start later; the liveness probe /health answers meanwhile)."},
      {"taskmanager.metrics.port", ConfigType::kInt, "0",
       "TaskManager HTTP port of its Prometheus /metrics, on taskmanager.host. 0 picks a free "
       "port (written to the ready file as metrics_address and shown by /v1/taskmanagers); "
       "-1 disables it."},
      {"taskmanager.network.buffer_size", ConfigType::kBytes, "32kb",
       "Size of one network buffer; one credit is one free receive buffer of this size."},
      {"taskmanager.network.buffers", ConfigType::kInt, "2048",
       "Network buffers per TaskManager (input and output pools of all its tasks)."},
      {"taskmanager.network.exclusive_buffers_per_channel", ConfigType::kInt, "2",
       "Receive buffers reserved for each input channel (initial credit)."},
      {"taskmanager.network.floating_buffers_per_gate", ConfigType::kInt, "32",
       "Receive buffers an input gate lends to channels with a backlog. With the output's "
       "floating buffers they set how much data is in flight per channel under load (up to "
       "~1 MiB by default): fewer means fewer bytes for a barrier to wait behind, more means "
       "fewer credit round trips per buffer. See docs/network.md."},
      {"taskmanager.network.buffers_per_output_channel", ConfigType::kInt, "2",
       "Send buffers per output channel (subpartition) of a task."},
      {"taskmanager.network.floating_buffers_per_output", ConfigType::kInt, "32",
       "Extra send buffers per task output shared by its channels (a producer announces at "
       "most these as backlog, so they also bound the floating buffers its consumer lends)."},
      {"taskmanager.network.transport", ConfigType::kString, "grpc",
       "How TaskManagers exchange data: grpc (a bidirectional gRPC stream per TaskManager "
       "pair on taskmanager.port; TLS with security.tls) or tcp (the same protocol framed on "
       "plain TCP on taskmanager.network.data_port: 2-3x the throughput, no TLS, so it is "
       "refused with security.tls.enabled). See docs/network.md."},
      {"taskmanager.network.data_port", ConfigType::kInt, "0",
       "TaskManager data port of the tcp transport, on taskmanager.bind_host (0 = a free "
       "port; the JobManager hands its address to consumers). Unused with grpc."},
      {"pipeline.buffer_timeout", ConfigType::kDuration, "10ms",
       "A partly filled network buffer is sent after this long (latency bound)."},
      {"heartbeat.interval", ConfigType::kDuration, "1s",
       "How often a TaskManager sends a heartbeat to the JobManager."},
      {"heartbeat.timeout", ConfigType::kDuration, "10s",
       "A TaskManager silent for this long is marked lost and its tasks failed."},
      {"jobmanager.slot_request_timeout", ConfigType::kDuration, "5m",
       "A job that cannot get enough task slots for this long fails (not enough task slots)."},
      {"state.checkpoints.dir", ConfigType::kString, "/tmp/sluice/checkpoints",
       "Cluster default checkpoint directory (a job's checkpointing.dir overrides it); "
       "checkpoints go to <dir>/<job_id>/chk-<N>. Must be shared by every process (a "
       "ReadWriteMany volume on Kubernetes)."},
      {"taskmanager.state.local_dir", ConfigType::kString, "",
       "TaskManager working directory for RocksDB state (empty: <system temp dir>/sluice-state)."},
      {"high_availability.dir", ConfigType::kString, "",
       "JobManager high availability (empty: off). The JobManager keeps its submitted jobs and "
       "their latest checkpoint pointer under <dir>/jobs and its address in <dir>/leader; a "
       "restarted JobManager recovers the jobs and TaskManagers given the same key find it "
       "there. Must be shared by the JobManager and every TaskManager "
       "(docs/high-availability.md)."},
      {"kafka.bootstrap", ConfigType::kString, "",
       "JobManager: bootstrap servers of Kafka sources whose job spec has no `bootstrap:` "
       "(filled in at submission). `sluice local --kafka` sets it to its embedded Kafka."},
      {"kafka.registry", ConfigType::kString, "",
       "JobManager: schema registry URL (http://host:port) of Kafka sources and sinks with a "
       "Confluent format (avro-confluent, protobuf-confluent) whose job spec has no "
       "`registry:` (filled in at submission). `sluice local --kafka` sets it to its built-in "
       "schema registry."},
      {"rpc.max_message_size", ConfigType::kBytes, "64mb", "Largest gRPC message accepted."},
      {"log.level", ConfigType::kString, "info", "trace, debug, info, warn or error."},
      {"security.tls.enabled", ConfigType::kBool, "false",
       "TLS on every gRPC server and channel: the JobManager's and TaskManagers' ports, the "
       "CLI, TaskManager -> JobManager, JobManager -> TaskManager and the data exchange between "
       "TaskManagers. Needs security.tls.ca_file, cert_file and key_file (docs/security.md)."},
      {"security.tls.ca_file", ConfigType::kString, "",
       "PEM bundle of the CA certificates that sign the cluster's certificates: servers are "
       "verified against it, and with security.tls.mutual so are clients."},
      {"security.tls.cert_file", ConfigType::kString, "",
       "PEM certificate (chain) of this process, presented as server and, with "
       "security.tls.mutual, as client. Its SANs must name the address peers connect to (or "
       "security.tls.server_name)."},
      {"security.tls.key_file", ConfigType::kString, "",
       "PEM private key of security.tls.cert_file."},
      {"security.tls.mutual", ConfigType::kBool, "true",
       "With TLS on: gRPC servers require and verify a client certificate signed by "
       "security.tls.ca_file (mutual TLS), and clients present theirs."},
      {"security.tls.server_name", ConfigType::kString, "",
       "Expected name in the servers' certificates instead of the host of the address "
       "dialed (gRPC's SSL target name override): one cluster certificate for every process, "
       "test certificates. Empty: the host dialed."},
      {"security.rest.tls.enabled", ConfigType::kBool, "false",
       "HTTPS for the JobManager's REST API, dashboard and /metrics, and the TaskManagers' "
       "/metrics (server TLS; clients are not asked for a certificate)."},
      {"security.rest.tls.cert_file", ConfigType::kString, "",
       "PEM certificate of the HTTPS endpoints (empty: security.tls.cert_file)."},
      {"security.rest.tls.key_file", ConfigType::kString, "",
       "PEM private key of the HTTPS endpoints (empty: security.tls.key_file)."},
      {"security.auth.token_file", ConfigType::kString, "",
       "File holding the bearer token (surrounding whitespace ignored; e.g. a mounted "
       "Kubernetes Secret). When set, REST and /metrics requests need `Authorization: Bearer "
       "<token>` (health endpoints and the dashboard's static files excepted: 401 otherwise), "
       "and so do the CLI's gRPC calls to the JobManager. Read at start: a new token needs a "
       "restart. Empty: no token."},
  };
  return keys;
}

namespace {

const ConfigKey* FindKey(absl::string_view name) {
  for (const ConfigKey& k : ConfigKeys()) {
    if (k.name == name) return &k;
  }
  return nullptr;
}

absl::Status Validate(const ConfigKey& key, absl::string_view value) {
  switch (key.type) {
    case ConfigType::kInt: {
      int64_t v;
      if (!absl::SimpleAtoi(value, &v)) {
        return absl::InvalidArgumentError(
            absl::StrCat("config key '", key.name, "': '", value, "' is not an integer"));
      }
      return absl::OkStatus();
    }
    case ConfigType::kDuration: {
      auto d = ParseDurationMillis(value);
      if (!d.ok()) return absl::InvalidArgumentError(absl::StrCat("config key '", key.name, "': ", d.status().message()));
      return absl::OkStatus();
    }
    case ConfigType::kBytes: {
      auto b = ParseBytes(value);
      if (!b.ok()) return absl::InvalidArgumentError(absl::StrCat("config key '", key.name, "': ", b.status().message()));
      return absl::OkStatus();
    }
    case ConfigType::kBool:
      if (value != "true" && value != "false") {
        return absl::InvalidArgumentError(
            absl::StrCat("config key '", key.name, "': '", value, "' is not true or false"));
      }
      return absl::OkStatus();
    case ConfigType::kString:
      return absl::OkStatus();
  }
  return absl::OkStatus();
}

void Flatten(const YAML::Node& node, const std::string& prefix,
             std::vector<std::pair<std::string, YAML::Node>>* out) {
  if (node.IsMap()) {
    for (const auto& kv : node) {
      std::string key = kv.first.as<std::string>();
      Flatten(kv.second, prefix.empty() ? key : absl::StrCat(prefix, ".", key), out);
    }
  } else {
    out->emplace_back(prefix, node);
  }
}

}  // namespace

absl::StatusOr<int64_t> ParseBytes(absl::string_view text) {
  std::string s = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text));
  size_t digits = 0;
  while (digits < s.size() && absl::ascii_isdigit(s[digits])) ++digits;
  int64_t v = 0;
  if (digits == 0 || !absl::SimpleAtoi(s.substr(0, digits), &v)) {
    return absl::InvalidArgumentError(absl::StrCat("'", text, "' is not a size (e.g. 32kb, 64mb)"));
  }
  std::string unit = s.substr(digits);
  if (unit.empty() || unit == "b") return v;
  if (unit == "kb" || unit == "k" || unit == "kib") return v << 10;
  if (unit == "mb" || unit == "m" || unit == "mib") return v << 20;
  if (unit == "gb" || unit == "g" || unit == "gib") return v << 30;
  return absl::InvalidArgumentError(absl::StrCat("'", text, "' has unknown size unit '", unit, "'"));
}

std::string ConfigDocsMarkdown() {
  std::string out =
      "# Configuration\n\n"
      "JobManager and TaskManager processes read a YAML file (`--config sluice.yaml`, nested\n"
      "maps or dotted keys) and then `--set key=value` flags, which win. Unknown keys are\n"
      "errors. This page is generated from the table in `common/config.cc`\n"
      "(`sluice config-docs`); a test checks that it is up to date.\n\n"
      "| key | default | description |\n|---|---|---|\n";
  for (const ConfigKey& k : ConfigKeys()) {
    absl::StrAppend(&out, "| `", k.name, "` | `", k.default_value, "` | ", k.doc, " |\n");
  }
  return out;
}

Config::Config() {
  for (const ConfigKey& k : ConfigKeys()) values_[std::string(k.name)] = std::string(k.default_value);
}

absl::Status Config::Set(absl::string_view key, absl::string_view value) {
  const ConfigKey* k = FindKey(key);
  if (k == nullptr) {
    std::vector<std::string> names;
    for (const ConfigKey& k : ConfigKeys()) names.emplace_back(k.name);
    std::string hint = DidYouMean(key, names);
    if (hint.empty()) hint = " (see docs/configuration.md for the keys)";
    return absl::InvalidArgumentError(absl::StrCat("unknown config key '", key, "'", hint));
  }
  RETURN_IF_ERROR(Validate(*k, value));
  values_[std::string(key)] = std::string(value);
  return absl::OkStatus();
}

absl::Status Config::SetFlag(absl::string_view assignment) {
  size_t eq = assignment.find('=');
  if (eq == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("--set '", assignment, "': expected key=value"));
  }
  return Set(absl::StripAsciiWhitespace(assignment.substr(0, eq)),
             absl::StripAsciiWhitespace(assignment.substr(eq + 1)));
}

absl::Status Config::LoadFile(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return absl::NotFoundError(absl::StrCat("config file ", path, ": cannot be read"));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("config file ", path, " line ", e.mark.line + 1,
                                                   " column ", e.mark.column + 1, ": ", e.msg));
  }
  if (root.IsNull()) return absl::OkStatus();
  if (!root.IsMap()) return absl::InvalidArgumentError(absl::StrCat("config file ", path, ": expected a map of keys"));
  std::vector<std::pair<std::string, YAML::Node>> flat;
  Flatten(root, "", &flat);
  for (const auto& [key, node] : flat) {
    if (!node.IsScalar()) {
      return absl::InvalidArgumentError(absl::StrCat("config file ", path, " line ",
                                                     node.Mark().line + 1, ": '", key,
                                                     "' must be a single value"));
    }
    absl::Status s = Set(key, node.Scalar());
    if (!s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("config file ", path, " line ",
                                                     node.Mark().line + 1, ": ", s.message()));
    }
  }
  return absl::OkStatus();
}

int64_t Config::GetInt(absl::string_view key) const {
  auto it = values_.find(key);
  SLUICE_CHECK(it != values_.end(), std::string(key));
  int64_t v = 0;
  SLUICE_CHECK(absl::SimpleAtoi(it->second, &v), std::string(key));
  return v;
}

int64_t Config::GetDurationMillis(absl::string_view key) const {
  auto it = values_.find(key);
  SLUICE_CHECK(it != values_.end(), std::string(key));
  return ParseDurationMillis(it->second).value();
}

int64_t Config::GetBytes(absl::string_view key) const {
  auto it = values_.find(key);
  SLUICE_CHECK(it != values_.end(), std::string(key));
  return ParseBytes(it->second).value();
}

std::string Config::GetString(absl::string_view key) const {
  auto it = values_.find(key);
  SLUICE_CHECK(it != values_.end(), std::string(key));
  return it->second;
}

bool Config::GetBool(absl::string_view key) const {
  auto it = values_.find(key);
  SLUICE_CHECK(it != values_.end(), std::string(key));
  return it->second == "true";
}

}  // namespace sluice
