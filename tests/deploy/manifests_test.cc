// deploy/k8s, checked as Kubernetes and Sluice would see it. For every overlay:
//   - it renders with `kubectl kustomize`;
//   - every rendered object passes the Kubernetes API schemas (validate-manifests.mjs, npm's
//     kubernetes-models, generated from the Kubernetes OpenAPI spec);
//   - our invariants hold: the ports of containers, Services and scrape annotations are the
//     ones sluice.yaml configures; TaskManagers find the JobManager by its Service's name;
//     every container has requests and limits, runs as non-root with a read-only root file
//     system, and has liveness and readiness probes on a port it declares; every path the
//     processes write (checkpoints, HA, local state, file output) or read (TLS, token, job)
//     is on a mounted volume; TaskManager memory covers the network buffers;
//   - the overlay's own sluice.yaml and job spec start a real JobManager (application mode,
//     as the Deployment runs it) and TaskManager on loopback, and every probe path of the
//     manifests answers 200 on the server its port names.
#include <curl/curl.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "tests/integration/cluster_harness.h"
#include "tests/test_certs.h"
#include "tests/test_dirs.h"
#include "yaml-cpp/yaml.h"

namespace sluice::testing {
namespace {

// Runs a shell command; its stdout (stderr goes to the test log).
CommandResult Shell(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.output.append(buffer, n);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// "512Mi", "1Gi", "4Gi", "1000M" -> bytes.
int64_t Quantity(const std::string& q) {
  static const std::map<std::string, int64_t> units = {
      {"Ki", 1LL << 10}, {"Mi", 1LL << 20}, {"Gi", 1LL << 30}, {"K", 1000}, {"M", 1000000},
      {"G", 1000000000}};
  for (const auto& [suffix, factor] : units) {
    if (q.size() > suffix.size() && q.compare(q.size() - suffix.size(), suffix.size(), suffix) == 0 &&
        std::isdigit(static_cast<unsigned char>(q[q.size() - suffix.size() - 1]))) {
      return std::stoll(q.substr(0, q.size() - suffix.size())) * factor;
    }
  }
  return std::stoll(q);
}

// A nested key of sluice.yaml ("jobmanager.rpc.port"); a null node (not IsScalar()) when absent.
YAML::Node ConfigValue(const YAML::Node& config, const std::string& dotted) {
  YAML::Node node = YAML::Clone(config);
  for (const std::string& part : std::vector<std::string>(absl::StrSplit(dotted, '.'))) {
    if (!node.IsMap() || !node[part]) return YAML::Node();
    node.reset(node[part]);  // plain assignment would overwrite the node's contents
  }
  return node;
}

struct Probe {
  std::string component;  // jobmanager | taskmanager
  std::string kind;       // liveness | readiness
  std::string path;
  std::string scheme;     // HTTP | HTTPS
  int port = 0;           // the container port it names
};

// The rendered objects of one overlay and what the checks need from them.
class Rendered {
 public:
  explicit Rendered(const std::string& overlay) : overlay_(overlay) {}

  void Load() {
    const std::filesystem::path dir = SourceDir() / "deploy/k8s/overlays" / overlay_;
    CommandResult render = Shell("kubectl kustomize " + dir.string() + " 2>&1");
    ASSERT_EQ(render.exit_code, 0) << render.output;
    text_ = render.output;
    // kustomize v5 prints deprecation warnings for fields v2 needs; keep only YAML.
    std::string yaml;
    for (const std::string& line : std::vector<std::string>(absl::StrSplit(text_, '\n'))) {
      if (line.rfind("# Warning:", 0) != 0) absl::StrAppend(&yaml, line, "\n");
    }
    text_ = yaml;
    for (const YAML::Node& doc : YAML::LoadAll(text_)) {
      if (!doc.IsMap()) continue;
      const std::string kind = doc["kind"].as<std::string>();
      const std::string name = doc["metadata"]["name"].as<std::string>();
      objects_[kind + "/" + name] = doc;
      // Generated ConfigMaps are named <generator name>-<content hash>.
      const size_t dash = name.rfind('-');
      if (kind == "ConfigMap" && dash != std::string::npos && name.size() - dash == 11) {
        generated_[kind + "/" + name.substr(0, dash)] = doc;
      }
    }
  }

  const std::string& text() const { return text_; }
  const std::map<std::string, YAML::Node>& objects() const { return objects_; }
  // By kind/name; a generated ConfigMap also by its generator's name.
  YAML::Node Get(const std::string& id) const {
    if (auto it = objects_.find(id); it != objects_.end()) return it->second;
    if (auto it = generated_.find(id); it != generated_.end()) return it->second;
    return YAML::Node(YAML::NodeType::Undefined);
  }
  YAML::Node Config() const {
    return YAML::Load(Get("ConfigMap/sluice-config")["data"]["sluice.yaml"].as<std::string>());
  }
  std::string JobSpec() const { return Get("ConfigMap/sluice-job")["data"]["job.yaml"].as<std::string>(); }
  YAML::Node Container(const std::string& component) const {
    return Get("Deployment/sluice-" + component)["spec"]["template"]["spec"]["containers"][0];
  }

 private:
  std::string overlay_;
  std::string text_;
  std::map<std::string, YAML::Node> objects_;
  std::map<std::string, YAML::Node> generated_;
};

std::map<std::string, int> ContainerPorts(const YAML::Node& container) {
  std::map<std::string, int> ports;
  for (const YAML::Node& p : container["ports"]) ports[p["name"].as<std::string>()] = p["containerPort"].as<int>();
  return ports;
}

std::vector<std::string> MountPaths(const YAML::Node& container) {
  std::vector<std::string> paths;
  for (const YAML::Node& m : container["volumeMounts"]) paths.push_back(m["mountPath"].as<std::string>());
  return paths;
}

bool OnAMount(const std::string& path, const std::vector<std::string>& mounts) {
  for (const std::string& m : mounts) {
    if (path == m || path.rfind(m + "/", 0) == 0) return true;
  }
  return false;
}

std::vector<Probe> Probes(const Rendered& r) {
  std::vector<Probe> probes;
  for (const std::string component : {"jobmanager", "taskmanager"}) {
    const YAML::Node c = r.Container(component);
    const std::map<std::string, int> ports = ContainerPorts(c);
    for (const std::string kind : {"liveness", "readiness"}) {
      const YAML::Node get = c[kind + "Probe"]["httpGet"];
      if (!get) continue;
      Probe p{component, kind, get["path"].as<std::string>(),
              get["scheme"] ? get["scheme"].as<std::string>() : "HTTP", 0};
      const std::string port = get["port"].as<std::string>();
      p.port = ports.count(port) ? ports.at(port) : std::atoi(port.c_str());
      probes.push_back(p);
    }
  }
  return probes;
}

class ManifestsTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ManifestsTest, PassesTheKubernetesSchemas) {
  Rendered r(GetParam());
  ASSERT_NO_FATAL_FAILURE(r.Load());
  const std::filesystem::path rendered =
      std::filesystem::temp_directory_path() / ("sluice-k8s-" + GetParam() + "-" + std::to_string(getpid()) + ".yaml");
  std::ofstream(rendered) << r.text();
  CommandResult validate = Shell("node " + (SourceDir() / "tests/deploy/validate-manifests.mjs").string() +
                                 " " + rendered.string() + " 2>&1");
  std::filesystem::remove(rendered);
  EXPECT_EQ(validate.exit_code, 0) << validate.output;
  for (const auto& [id, object] : r.objects()) {
    EXPECT_NE(validate.output.find("ok " + id), std::string::npos) << id << "\n" << validate.output;
  }
  for (const std::string id : {"Deployment/sluice-jobmanager", "Deployment/sluice-taskmanager",
                               "Service/sluice-jobmanager", "ConfigMap/sluice-config",
                               "ConfigMap/sluice-job", "PersistentVolumeClaim/sluice-data",
                               "PodDisruptionBudget/sluice-taskmanager"}) {
    EXPECT_TRUE(r.Get(id).IsDefined()) << id << " missing";
  }
}

TEST_P(ManifestsTest, PortsAndAddressesMatchTheConfig) {
  Rendered r(GetParam());
  ASSERT_NO_FATAL_FAILURE(r.Load());
  const YAML::Node config = r.Config();
  const int rpc = ConfigValue(config, "jobmanager.rpc.port").as<int>();
  const int rest = ConfigValue(config, "rest.port").as<int>();
  const int data = ConfigValue(config, "taskmanager.port").as<int>();
  const int metrics = ConfigValue(config, "taskmanager.metrics.port").as<int>();
  EXPECT_EQ(rpc, 6123);  // DESIGN.md's ports
  EXPECT_EQ(rest, 8081);

  const std::map<std::string, int> jm = ContainerPorts(r.Container("jobmanager"));
  EXPECT_EQ(jm.at("rpc"), rpc);
  EXPECT_EQ(jm.at("rest"), rest);
  const std::map<std::string, int> tm = ContainerPorts(r.Container("taskmanager"));
  EXPECT_EQ(tm.at("data"), data);
  EXPECT_EQ(tm.at("metrics"), metrics);

  const YAML::Node service = r.Get("Service/sluice-jobmanager");
  EXPECT_EQ(ConfigValue(config, "jobmanager.address").as<std::string>(),
            service["metadata"]["name"].as<std::string>());
  std::map<std::string, int> service_ports;
  for (const YAML::Node& p : service["spec"]["ports"]) {
    service_ports[p["name"].as<std::string>()] = p["port"].as<int>();
    EXPECT_TRUE(jm.count(p["targetPort"].as<std::string>())) << p["targetPort"];
  }
  EXPECT_EQ(service_ports.at("rpc"), rpc);
  EXPECT_EQ(service_ports.at("rest"), rest);

  auto annotation = [&](const std::string& component) {
    return r.Get("Deployment/sluice-" + component)["spec"]["template"]["metadata"]["annotations"];
  };
  EXPECT_EQ(annotation("jobmanager")["prometheus.io/scrape"].as<std::string>(), "true");
  EXPECT_EQ(annotation("jobmanager")["prometheus.io/port"].as<int>(), rest);
  EXPECT_EQ(annotation("taskmanager")["prometheus.io/port"].as<int>(), metrics);
  // Containers bind every interface; TaskManagers advertise their pod IP.
  EXPECT_EQ(ConfigValue(config, "jobmanager.bind_host").as<std::string>(), "0.0.0.0");
  EXPECT_EQ(ConfigValue(config, "taskmanager.bind_host").as<std::string>(), "0.0.0.0");
  const YAML::Node tm_args = r.Container("taskmanager")["args"];
  bool pod_ip = false;
  for (const YAML::Node& a : tm_args) pod_ip |= a.as<std::string>() == "taskmanager.host=$(POD_IP)";
  EXPECT_TRUE(pod_ip) << "TaskManagers must advertise their pod IP";
}

TEST_P(ManifestsTest, ContainersAreBoundedNonRootAndProbed) {
  Rendered r(GetParam());
  ASSERT_NO_FATAL_FAILURE(r.Load());
  const YAML::Node config = r.Config();
  for (const std::string component : {"jobmanager", "taskmanager"}) {
    SCOPED_TRACE(component);
    const YAML::Node pod = r.Get("Deployment/sluice-" + component)["spec"]["template"]["spec"];
    EXPECT_TRUE(pod["securityContext"]["runAsNonRoot"].as<bool>());
    EXPECT_GT(pod["securityContext"]["runAsUser"].as<int>(), 0);
    for (const YAML::Node& c : pod["containers"]) {
      for (const std::string what : {"requests", "limits"}) {
        EXPECT_TRUE(c["resources"][what]["cpu"]) << what;
        EXPECT_TRUE(c["resources"][what]["memory"]) << what;
      }
      EXPECT_TRUE(c["securityContext"]["readOnlyRootFilesystem"].as<bool>());
      EXPECT_FALSE(c["securityContext"]["allowPrivilegeEscalation"].as<bool>());
      EXPECT_TRUE(c["livenessProbe"]["httpGet"]);
      EXPECT_TRUE(c["readinessProbe"]["httpGet"]);
    }
    // Everything a process writes or reads from its config is on a volume (the root file
    // system is read-only).
    const std::vector<std::string> mounts = MountPaths(r.Container(component));
    for (const std::string key : {"state.checkpoints.dir", "high_availability.dir",
                                  "taskmanager.state.local_dir", "security.tls.ca_file",
                                  "security.tls.cert_file", "security.tls.key_file",
                                  "security.auth.token_file"}) {
      const YAML::Node v = ConfigValue(config, key);
      if (v.IsScalar() && !v.as<std::string>().empty()) EXPECT_TRUE(OnAMount(v.as<std::string>(), mounts)) << key;
    }
  }
  // The application job is mounted where --job points, its file output on the shared volume.
  const YAML::Node jm_args = r.Container("jobmanager")["args"];
  std::string job_path;
  for (size_t i = 0; i + 1 < jm_args.size(); ++i) {
    if (jm_args[i].as<std::string>() == "--job") job_path = jm_args[i + 1].as<std::string>();
  }
  EXPECT_TRUE(OnAMount(job_path, MountPaths(r.Container("jobmanager")))) << job_path;
  const YAML::Node spec = YAML::Load(r.JobSpec());
  for (const YAML::Node& sink : spec["sinks"]) {
    if (sink["connector"].as<std::string>() == "file") {
      EXPECT_TRUE(OnAMount(sink["path"].as<std::string>(), MountPaths(r.Container("taskmanager"))));
    }
  }
  // TaskManager memory holds at least its network buffers plus 256 MiB for the rest.
  const int64_t network = ConfigValue(config, "taskmanager.network.buffers").as<int64_t>() *
                          Quantity(absl::StrReplaceAll(ConfigValue(config, "taskmanager.network.buffer_size").as<std::string>(),
                                                       {{"kb", "Ki"}, {"mb", "Mi"}}));
  const int64_t limit = Quantity(r.Container("taskmanager")["resources"]["limits"]["memory"].as<std::string>());
  EXPECT_GE(limit, network + (256LL << 20));
  // One pod of each may be disrupted at a time.
  EXPECT_EQ(r.Get("PodDisruptionBudget/sluice-taskmanager")["spec"]["maxUnavailable"].as<int>(), 1);
  EXPECT_EQ(r.Get("Deployment/sluice-jobmanager")["spec"]["strategy"]["type"].as<std::string>(), "Recreate");
  EXPECT_EQ(r.Get("PersistentVolumeClaim/sluice-data")["spec"]["accessModes"][0].as<std::string>(),
            "ReadWriteMany");
}

// GET url -> HTTP status (0 when it cannot connect); `ca` verifies an https server.
long HttpStatus(const std::string& url, const std::string& ca) {
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 3000L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, +[](char*, size_t size, size_t n, void*) { return size * n; });
  if (!ca.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, ca.c_str());
  long status = 0;
  if (curl_easy_perform(curl) == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(curl);
  return status;
}

TEST_P(ManifestsTest, TheOverlaysConfigRunsAndEveryProbeAnswers) {
  Rendered r(GetParam());
  ASSERT_NO_FATAL_FAILURE(r.Load());
  Cluster cluster("k8s-" + GetParam());
  // The pod's volumes are directories of the test.
  const std::filesystem::path certs = cluster.dir() / "tls";
  const YAML::Node config = r.Config();
  const bool tls = ConfigValue(config, "security.tls.enabled").IsScalar() &&
                   ConfigValue(config, "security.tls.enabled").as<bool>();
  if (tls || ConfigValue(config, "security.auth.token_file").IsScalar()) {
    ASSERT_NO_FATAL_FAILURE(MakeTestCerts(certs));
  }
  const std::vector<std::pair<std::string, std::string>> volumes = {
      {"/var/lib/sluice", (cluster.dir() / "data").string()},
      {"/etc/sluice/tls/ca.crt", (certs / "ca.crt").string()},
      {"/etc/sluice/tls/tls.crt", (certs / "cluster.crt").string()},
      {"/etc/sluice/tls/tls.key", (certs / "cluster.key").string()},
      {"/etc/sluice/token/token", (certs / "token").string()},
      {"/tmp/sluice-local-state", (cluster.dir() / "local-state").string()}};
  const std::string config_path = cluster.WriteFile(
      "sluice.yaml", absl::StrReplaceAll(r.Get("ConfigMap/sluice-config")["data"]["sluice.yaml"].as<std::string>(), volumes));
  const std::string job_path = cluster.WriteFile("job.yaml", absl::StrReplaceAll(r.JobSpec(), volumes));

  const std::string jm_ready = (cluster.dir() / "jm.ready").string();
  Process jm({BinDir() + "/sluice-jobmanager", "--config", config_path, "--job", job_path,
              "--ready-file", jm_ready, "--set", "jobmanager.address=127.0.0.1", "--set",
              "jobmanager.bind_host=127.0.0.1", "--set", "jobmanager.rpc.port=0", "--set", "rest.port=0"},
             (cluster.dir() / "jm.log").string());
  ASSERT_TRUE(WaitFor([&] { return std::filesystem::exists(jm_ready) || !jm.Running(); }, std::chrono::seconds(30)))
      << jm.Log();
  ASSERT_TRUE(std::filesystem::exists(jm_ready)) << jm.Log();
  const nlohmann::json jm_info = nlohmann::json::parse(ReadAll(jm_ready));
  const std::string tm_ready = (cluster.dir() / "tm.ready").string();
  Process tm({BinDir() + "/sluice-taskmanager", "--config", config_path, "--jobmanager",
              jm_info["rpc_address"].get<std::string>(), "--ready-file", tm_ready, "--set",
              "taskmanager.host=127.0.0.1", "--set", "taskmanager.bind_host=127.0.0.1", "--set",
              "taskmanager.port=0", "--set", "taskmanager.metrics.port=0"},
             (cluster.dir() / "tm.log").string());
  ASSERT_TRUE(WaitFor([&] { return std::filesystem::exists(tm_ready) || !tm.Running(); }, std::chrono::seconds(30)))
      << tm.Log();
  ASSERT_TRUE(std::filesystem::exists(tm_ready)) << tm.Log();
  const nlohmann::json tm_info = nlohmann::json::parse(ReadAll(tm_ready));

  const std::vector<Probe> probes = Probes(r);
  EXPECT_EQ(probes.size(), 4u);
  for (const Probe& p : probes) {
    SCOPED_TRACE(p.component + " " + p.kind + " " + p.path);
    const std::string address = p.component == "jobmanager" ? jm_info["rest_address"].get<std::string>()
                                                            : tm_info["metrics_address"].get<std::string>();
    // The probe's port is the one the process serves those paths on.
    const int configured = p.component == "jobmanager" ? ConfigValue(config, "rest.port").as<int>()
                                                       : ConfigValue(config, "taskmanager.metrics.port").as<int>();
    EXPECT_EQ(p.port, configured);
    const std::string scheme = p.scheme == "HTTPS" ? "https" : "http";
    const std::string url = scheme + "://" + address + p.path;
    long status = 0;
    EXPECT_TRUE(WaitFor([&] { return (status = HttpStatus(url, scheme == "https" ? (certs / "ca.crt").string() : "")) == 200; },
                        std::chrono::seconds(20)))
        << url << " answered " << status << "\n" << jm.Log() << tm.Log();
  }
  // The application job was submitted from the overlay's spec.
  EXPECT_NE(jm.Log().find("application mode: job"), std::string::npos) << jm.Log();
  tm.Kill(SIGTERM);
  jm.Kill(SIGTERM);
  EXPECT_EQ(tm.Wait(), 0) << tm.Log();
  EXPECT_EQ(jm.Wait(), 0) << jm.Log();
}

// The validator refuses what the API server would: a wrong type, a missing required field, an
// unknown kind (so a passing overlay means something).
TEST(ManifestValidatorTest, RefusesInvalidObjects) {
  const std::filesystem::path bad =
      std::filesystem::temp_directory_path() / ("sluice-k8s-bad-" + std::to_string(getpid()) + ".yaml");
  std::ofstream(bad) << R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: wrong-type}
spec:
  replicas: "two"
  selector: {matchLabels: {a: b}}
  template:
    metadata: {labels: {a: b}}
    spec: {containers: [{name: c, image: i}]}
---
apiVersion: v1
kind: Service
metadata: {name: no-ports}
spec: {ports: [{name: rpc}]}
---
apiVersion: v1
kind: Deploymnet
metadata: {name: typo}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: fine}
spec: {maxUnavailable: 1, selector: {matchLabels: {a: b}}}
)";
  CommandResult r = Shell("node " + (SourceDir() / "tests/deploy/validate-manifests.mjs").string() +
                          " " + bad.string() + " 2>&1");
  std::filesystem::remove(bad);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("invalid Deployment/wrong-type: /spec/replicas must be integer"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("invalid Service/no-ports"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("invalid Deploymnet/typo: unknown apiVersion/kind"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("ok PodDisruptionBudget/fine"), std::string::npos) << r.output;
}

INSTANTIATE_TEST_SUITE_P(Overlays, ManifestsTest, ::testing::Values("dev", "prod"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace sluice::testing
