// Bad input through the real binaries: one clear line naming the problem, exit code 2, no
// crash, nothing half-written.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "tests/integration/cluster_harness.h"

namespace sluice::testing {
namespace {

// Holds a listening socket on a loopback port so that binding it again fails.
class BusyPort {
 public:
  BusyPort() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    listen(fd_, 1);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~BusyPort() { close(fd_); }
  int port() const { return port_; }

 private:
  int fd_;
  int port_;
};

int CountLines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

class BadInputTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cluster_ = new Cluster("bad-input");
    cluster_->Start(1, 2);
  }
  static void TearDownTestSuite() { delete cluster_; }

  // Runs `sluice run` on a spec and expects exit 2 with one line mentioning `expected`.
  void ExpectRejected(const std::string& yaml, const std::string& expected) {
    std::string spec = cluster_->WriteFile("job.yaml", yaml);
    CommandResult r = cluster_->Sluice({"run", spec});
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find(expected), std::string::npos) << r.output;
    EXPECT_EQ(CountLines(r.output), 1) << r.output;
    CommandResult list = cluster_->Sluice({"list", "--output", "json"});
    EXPECT_EQ(nlohmann::json::parse(list.output).size(), 0u) << "a bad job was submitted";
  }

  static Cluster* cluster_;
};

Cluster* BadInputTest::cluster_ = nullptr;

const char* kSource = R"yaml(name: bad
sources:
  - name: txns
    connector: file
    path: data.jsonl
    format: json
    schema: {card: int64, amount: float64}
)yaml";

TEST_F(BadInputTest, MalformedYamlNamesTheLine) {
  cluster_->WriteFile("data.jsonl", "{\"card\":1,\"amount\":2}\n");
  ExpectRejected("name: bad\nsources:\n  - name: [txns\n", "job.yaml:");
}

TEST_F(BadInputTest, UnknownColumnIsNamedWithASuggestion) {
  cluster_->WriteFile("data.jsonl", "{\"card\":1,\"amount\":2}\n");
  ExpectRejected(std::string(kSource) + R"yaml(operators:
  - {name: big, input: txns, filter: "amout > 1000"}
sinks:
  - {name: out, input: big, connector: blackhole}
)yaml", "amout");
}

TEST_F(BadInputTest, ExpressionTypeErrorIsRejected) {
  cluster_->WriteFile("data.jsonl", "{\"card\":1,\"amount\":2}\n");
  ExpectRejected(std::string(kSource) + R"yaml(operators:
  - {name: big, input: txns, filter: "amount + 1"}
sinks:
  - {name: out, input: big, connector: blackhole}
)yaml", "job.yaml:9:");
}

TEST_F(BadInputTest, MissingInputFileIsRejectedAtSubmit) {
  ExpectRejected(R"yaml(name: bad
sources:
  - name: txns
    connector: file
    path: no-such-file.jsonl
    format: json
    schema: {card: int64}
sinks:
  - {name: out, input: txns, connector: blackhole}
)yaml", "no-such-file.jsonl");
}

TEST_F(BadInputTest, UnreachableJobManagerIsOneLine) {
  std::string spec = cluster_->WriteFile("ok.yaml", R"yaml(name: ok
sources:
  - {name: n, connector: datagen, count: 10, schema: {id: int64}}
sinks:
  - {name: out, input: n, connector: blackhole}
)yaml");
  std::string address = "127.0.0.1:" + std::to_string(FreePort());
  for (std::vector<std::string> args : {std::vector<std::string>{"run", spec}, {"list"}, {"taskmanagers"}}) {
    args.push_back("--jobmanager");
    args.push_back(address);
    CommandResult r = cluster_->Sluice(args, /*with_jobmanager=*/false);
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find("cannot reach the JobManager at " + address), std::string::npos) << r.output;
    EXPECT_EQ(CountLines(r.output), 1) << r.output;
  }
}

TEST_F(BadInputTest, JobManagerPortInUseIsOneLine) {
  BusyPort busy;
  Process jm({BinDir() + "/sluice-jobmanager", "--set", "jobmanager.rpc.port=" + std::to_string(busy.port()),
              "--set", "rest.port=0"},
             (cluster_->dir() / "jm-busy.log").string());
  EXPECT_EQ(jm.Wait(), 2);
  std::string log = jm.Log();
  EXPECT_NE(log.find("cannot listen on 127.0.0.1:" + std::to_string(busy.port())), std::string::npos) << log;
}

TEST_F(BadInputTest, TaskManagerPortInUseIsOneLine) {
  BusyPort busy;
  Process tm({BinDir() + "/sluice-taskmanager", "--jobmanager", cluster_->jobmanager_address(), "--set",
              "taskmanager.port=" + std::to_string(busy.port())},
             (cluster_->dir() / "tm-busy.log").string());
  EXPECT_EQ(tm.Wait(), 2);
  std::string log = tm.Log();
  EXPECT_NE(log.find("cannot listen on 127.0.0.1:" + std::to_string(busy.port())), std::string::npos) << log;
  EXPECT_EQ(CountLines(log), 1) << log;
}

TEST_F(BadInputTest, TaskManagerDataPortInUseIsOneLine) {
  BusyPort busy;
  Process tm({BinDir() + "/sluice-taskmanager", "--jobmanager", cluster_->jobmanager_address(),
              "--set", "taskmanager.port=0", "--set", "taskmanager.network.transport=tcp", "--set",
              "taskmanager.network.data_port=" + std::to_string(busy.port())},
             (cluster_->dir() / "tm-data-busy.log").string());
  EXPECT_EQ(tm.Wait(), 2);
  std::string log = tm.Log();
  EXPECT_NE(log.find("cannot listen on data port 127.0.0.1:" + std::to_string(busy.port())),
            std::string::npos)
      << log;
  EXPECT_EQ(CountLines(log), 1) << log;
}

TEST_F(BadInputTest, UnknownTransportIsOneLineNamingTheKey) {
  Process tm({BinDir() + "/sluice-taskmanager", "--jobmanager", cluster_->jobmanager_address(),
              "--set", "taskmanager.port=0", "--set", "taskmanager.network.transport=quic"},
             (cluster_->dir() / "tm-transport.log").string());
  EXPECT_EQ(tm.Wait(), 2);
  std::string log = tm.Log();
  EXPECT_NE(log.find("taskmanager.network.transport: 'quic' is not grpc or tcp"), std::string::npos)
      << log;
  EXPECT_EQ(CountLines(log), 1) << log;
}

TEST_F(BadInputTest, UnknownConfigKeyIsOneLine) {
  Process tm({BinDir() + "/sluice-taskmanager", "--set", "taskmanager.slotz=2"},
             (cluster_->dir() / "tm-badkey.log").string());
  EXPECT_EQ(tm.Wait(), 2);
  std::string log = tm.Log();
  EXPECT_NE(log.find("unknown config key 'taskmanager.slotz'"), std::string::npos) << log;
}

}  // namespace
}  // namespace sluice::testing
