// Exchange benchmark: records/s and bytes/s from one process to ANOTHER process through the
// real network stack (RecordWriter -> ExchangeService -> gRPC stream on loopback ->
// InputGate, each side with its own NetworkEnvironment and gRPC server), next to the same
// serialized batches over a plain loopback TCP socket, in the same run.
//
// The parent is the consumer; it fork/execs this binary as the producer (--role=...).
// Protocol with the child over its stdin/stdout: the child prints "READY <address>", waits
// for "GO", produces, prints "DONE <cpu_ms> <blocked_ms>", waits for "EXIT". Both sides
// serialize / deserialize the same batches (types::SerializeBatch / DeserializeBatch), so
// the ratio measures the stack (partitioning copy, pools, credits, gRPC/HTTP2, protobuf
// envelope) against raw TCP. Prints a table; the ratio is what matters (the machine is
// shared).
//
//   exchange_bench [--rows=N] [--runs=R] [--buffer_size=BYTES] [--channels=C]
//                  [--only=grpc|sluice-tcp|tcp|bytes] [--tune_allocator=0|1] [--floating=N]
//                  [--output_floating=N]
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/process_util.h"
#include "common/rpc/grpc_server.h"
#include "common/types/batch_serde.h"
#include "taskmanager/network/network_environment.h"

namespace sluice::network {
namespace {

using types::RecordBatch;

struct Options {
  int64_t rows = 20'000'000;  // long enough that one run is not a scheduling blip
  int runs = 5;
  int64_t buffer_size = 32 * 1024;
  int channels = 1;  // subpartitions (HASH when > 1; FORWARD when 1)
  std::string role;  // "" = parent; grpc-producer | sluice-tcp-producer | tcp-producer | bytes-producer
  std::string only;  // run only this path: grpc | sluice-tcp | tcp | bytes
  bool tune_allocator = true;  // NetworkConfig::tune_allocator on both sides
  int port = 0;      // tcp producer: the parent's listening port
  int floating = 0;  // > 0: floating buffers per gate and per output (default config: 32)
  int output_floating = 0;  // > 0: floating buffers per output only (overrides `floating`)
};

types::SchemaPtr BenchSchema() {
  return std::make_shared<const types::Schema>(std::vector<types::Field>{
      {"id", types::TypeId::kInt64}, {"value", types::TypeId::kFloat64},
      {"name", types::TypeId::kString}});
}

// Rows per batch so that one batch fills one network buffer: 39 bytes per row (int64,
// float64, 16-char string, each with a validity byte and the string offset), 20 header bytes.
int RowsPerBuffer(int64_t buffer_size) { return static_cast<int>((buffer_size - 20) / 39); }

// Rows the producers actually send: whole batches, at least `rows`.
int64_t ExpectedRows(const Options& o) {
  const int64_t per = RowsPerBuffer(o.buffer_size);
  return (o.rows + per - 1) / per * per;
}

// 16 distinct batches, cycled by the producers.
std::vector<RecordBatch> MakeBatches(int64_t buffer_size) {
  std::vector<RecordBatch> batches;
  const int rows = RowsPerBuffer(buffer_size);
  int64_t id = 0;
  for (int b = 0; b < 16; ++b) {
    RecordBatch batch(BenchSchema());
    for (int r = 0; r < rows; ++r, ++id) {
      batch.mutable_column(0).AppendInt(id);
      batch.mutable_column(1).AppendDouble(static_cast<double>(id) * 0.5);
      char name[17];
      std::snprintf(name, sizeof name, "name-%011lld", static_cast<long long>(id));
      batch.mutable_column(2).AppendString(absl::string_view(name, 16));
    }
    batch.SetNumRows(rows);
    batches.push_back(std::move(batch));
  }
  return batches;
}

double CpuMillis() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 +
         (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3;
}

std::string ReadLine() {
  std::string line;
  std::getline(std::cin, line);
  return line;
}

void Die(const std::string& what) {
  std::cerr << "exchange_bench: " << what << std::endl;
  std::exit(1);
}

// ---------------------------------------------------------------------------------------
// Producers (child process).

void WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n <= 0) Die("send failed");
    data += n;
    size -= static_cast<size_t>(n);
  }
}

// Both sides' network settings.
NetworkConfig BenchConfig(const Options& o) {
  NetworkConfig config;
  config.buffer_size = o.buffer_size;
  config.tune_allocator = o.tune_allocator;
  if (o.floating > 0) {
    config.floating_buffers_per_gate = o.floating;
    config.floating_buffers_per_output = o.floating;
  }
  if (o.output_floating > 0) config.floating_buffers_per_output = o.output_floating;
  return config;
}

// The Sluice producer; `transport` is taskmanager.network.transport (grpc | tcp).
int RunSluiceProducer(const Options& o, const std::string& transport) {
  NetworkConfig config = BenchConfig(o);
  config.transport = transport;
  NetworkEnvironment env(config, "tm-producer", SystemClock::Get());
  auto server = rpc::StartServer("127.0.0.1", 0, {env.exchange_service()}, config.max_message_size);
  if (!server.ok()) Die(server.status().ToString());
  auto data_address = env.StartDataTransport("127.0.0.1", "127.0.0.1", server->address);
  if (!data_address.ok()) Die(data_address.status().ToString());
  proto::OutputDescriptor out;
  out.set_edge_id(1);
  out.set_partition_id("bench/0/1/0");
  out.set_num_subpartitions(o.channels);
  out.set_partitioning(o.channels == 1 ? proto::FORWARD : proto::HASH);
  if (o.channels > 1) out.add_key_indexes(0);
  auto writer = env.CreateRecordWriter("bench", 0, out, BenchSchema(), 128, nullptr);
  if (!writer.ok()) Die(writer.status().ToString());
  std::vector<RecordBatch> batches = MakeBatches(o.buffer_size);
  std::cout << "READY " << *data_address << std::endl;
  if (ReadLine() != "GO") Die("expected GO");
  const double cpu0 = CpuMillis();
  int64_t sent = 0;
  for (size_t i = 0; sent < o.rows; ++i) {
    const RecordBatch& batch = batches[i % batches.size()];
    if (absl::Status s = (*writer)->Emit(batch); !s.ok()) Die(s.ToString());
    sent += static_cast<int64_t>(batch.num_rows());
  }
  if (absl::Status s = (*writer)->Finish(); !s.ok()) Die(s.ToString());
  std::cout << "DONE " << CpuMillis() - cpu0 << " " << (*writer)->backpressured_ns() / 1e6
            << std::endl;
  ReadLine();  // EXIT: the consumer has everything
  env.Shutdown();
  server->server->Shutdown();
  return 0;
}

// Raw TCP: the same batches, serialized the same way, framed as u32 length + bytes.
// bytes-producer sends pre-serialized frames (transport only, no serialization).
int RunTcpProducer(const Options& o, bool serialize) {
  std::vector<RecordBatch> batches = MakeBatches(o.buffer_size);
  std::vector<std::string> frames;
  if (!serialize) {
    for (const RecordBatch& b : batches) {
      std::string frame(4, '\0');
      types::SerializeBatch(b, &frame);
      const uint32_t len = static_cast<uint32_t>(frame.size() - 4);
      std::memcpy(frame.data(), &len, 4);
      frames.push_back(std::move(frame));
    }
  }
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(o.port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) Die("connect failed");
  std::cout << "READY 127.0.0.1:" << o.port << std::endl;
  if (ReadLine() != "GO") Die("expected GO");
  const double cpu0 = CpuMillis();
  std::string frame;
  int64_t sent = 0;
  for (size_t i = 0; sent < o.rows; ++i) {
    const RecordBatch& batch = batches[i % batches.size()];
    if (serialize) {
      frame.assign(4, '\0');
      types::SerializeBatch(batch, &frame);
      const uint32_t len = static_cast<uint32_t>(frame.size() - 4);
      std::memcpy(frame.data(), &len, 4);
      WriteAll(fd, frame.data(), frame.size());
    } else {
      const std::string& f = frames[i % frames.size()];
      WriteAll(fd, f.data(), f.size());
    }
    sent += static_cast<int64_t>(batch.num_rows());
  }
  const uint32_t end = 0;  // a zero-length frame ends the stream
  WriteAll(fd, reinterpret_cast<const char*>(&end), 4);
  std::cout << "DONE " << CpuMillis() - cpu0 << std::endl;
  ReadLine();
  ::close(fd);
  return 0;
}

// ---------------------------------------------------------------------------------------
// Consumer (parent process).

struct Child {
  pid_t pid = -1;
  FILE* to = nullptr;    // child's stdin
  FILE* from = nullptr;  // child's stdout

  std::string Line() {
    char buf[256];
    if (std::fgets(buf, sizeof buf, from) == nullptr) Die("producer process died");
    std::string s(buf);
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    return s;
  }
  void Send(const std::string& line) {
    std::fprintf(to, "%s\n", line.c_str());
    std::fflush(to);
  }
  void Wait() {
    std::fclose(to);
    std::fclose(from);
    int status = 0;
    waitpid(pid, &status, 0);
  }
};

Child Spawn(const std::vector<std::string>& args) {
  int in[2], out[2];
  if (pipe(in) != 0 || pipe(out) != 0) Die("pipe failed");
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    close(in[1]);
    close(out[0]);
    std::vector<char*> argv;
    std::string self = "/proc/self/exe";
    argv.push_back(self.data());
    std::vector<std::string> copy = args;
    for (std::string& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv("/proc/self/exe", argv.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  Child c;
  c.pid = pid;
  c.to = fdopen(in[1], "w");
  c.from = fdopen(out[0], "r");
  return c;
}

std::vector<std::string> ChildArgs(const Options& o, const std::string& role) {
  return {"--role=" + role, absl::StrCat("--rows=", o.rows),
          absl::StrCat("--buffer_size=", o.buffer_size), absl::StrCat("--channels=", o.channels),
          absl::StrCat("--port=", o.port), absl::StrCat("--tune_allocator=", o.tune_allocator),
          absl::StrCat("--floating=", o.floating),
          absl::StrCat("--output_floating=", o.output_floating)};
}

struct Result {
  double seconds = 0;
  int64_t rows = 0;
  int64_t bytes = 0;
  double consumer_cpu_ms = 0;
  double producer_cpu_ms = 0;
  double producer_blocked_ms = 0;  // the producer's Emit waited for a free buffer (Sluice)
};

// The Sluice consumer of a producer with `transport`.
Result RunSluice(const Options& o, const std::string& transport) {
  NetworkConfig config = BenchConfig(o);
  NetworkEnvironment env(config, "tm-consumer", SystemClock::Get());
  auto server = rpc::StartServer("127.0.0.1", 0, {env.exchange_service()}, config.max_message_size);
  if (!server.ok()) Die(server.status().ToString());
  Child child = Spawn(ChildArgs(o, transport + "-producer"));
  std::string ready = child.Line();
  if (ready.rfind("READY ", 0) != 0) Die("producer: " + ready);
  const std::string address = ready.substr(6);

  absl::Mutex mu;
  int64_t wakeups = 0;
  proto::InputGateDescriptor in;
  in.set_edge_id(1);
  for (int c = 0; c < o.channels; ++c) {
    proto::ResultPartitionRef* ref = in.add_channels();
    ref->set_partition_id("bench/0/1/0");
    ref->set_subpartition(c);
    ref->set_producer_tm_id("tm-producer");
    ref->set_producer_address(address);
  }
  auto gate = env.CreateInputGate("bench", 0, in, BenchSchema(), [&] {
    absl::MutexLock lock(&mu);
    ++wakeups;
  });
  if (!gate.ok()) Die(gate.status().ToString());

  Result r;
  const double cpu0 = CpuMillis();
  const auto t0 = std::chrono::steady_clock::now();
  child.Send("GO");
  int64_t seen = 0;
  while (!(*gate)->IsFinished()) {
    auto next = (*gate)->PollNext();
    if (!next.ok()) Die(next.status().ToString());
    if (next->has_value()) {
      r.rows += static_cast<int64_t>((*next)->num_rows());
      continue;
    }
    if ((*gate)->IsFinished()) break;
    absl::MutexLock lock(&mu);
    auto woken = [&]() { return wakeups != seen; };
    mu.AwaitWithTimeout(absl::Condition(&woken), absl::Seconds(1));
    seen = wakeups;
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.consumer_cpu_ms = CpuMillis() - cpu0;
  r.bytes = (*gate)->bytes_in();
  if (r.rows != ExpectedRows(o)) Die(absl::StrCat("gRPC path lost rows: ", r.rows));
  std::string done = child.Line();
  std::istringstream fields(done.substr(5));
  fields >> r.producer_cpu_ms >> r.producer_blocked_ms;
  child.Send("EXIT");
  child.Wait();
  gate->reset();
  env.Shutdown();
  server->server->Shutdown();
  return r;
}

Result RunTcp(Options o, bool serialize) {
  int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener, 1) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    Die("listen failed");
  }
  o.port = ntohs(addr.sin_port);
  Child child = Spawn(ChildArgs(o, serialize ? "tcp-producer" : "bytes-producer"));
  int fd = ::accept(listener, nullptr, nullptr);
  if (child.Line().rfind("READY", 0) != 0) Die("tcp producer not ready");
  types::SchemaPtr schema = BenchSchema();

  Result r;
  std::vector<char> buf(1 << 20);
  size_t begin = 0, end = 0;
  const double cpu0 = CpuMillis();
  const auto t0 = std::chrono::steady_clock::now();
  child.Send("GO");
  bool done = false;
  while (!done) {
    // Parse every complete frame in the buffer, straight from it (no copy).
    while (end - begin >= 4) {
      uint32_t size;
      std::memcpy(&size, buf.data() + begin, 4);
      if (size == 0) {
        done = true;
        break;
      }
      if (end - begin < 4 + size) break;
      if (serialize) {
        auto batch = types::DeserializeBatch(schema, absl::string_view(buf.data() + begin + 4, size));
        if (!batch.ok()) Die(batch.status().ToString());
        r.rows += static_cast<int64_t>(batch->num_rows());
      } else {
        uint32_t rows;  // the batch header: magic, rows
        std::memcpy(&rows, buf.data() + begin + 8, 4);
        r.rows += rows;
      }
      r.bytes += size;
      begin += 4 + size;
    }
    if (done) break;
    if (begin > 0) {  // keep the partial frame at the front
      std::memmove(buf.data(), buf.data() + begin, end - begin);
      end -= begin;
      begin = 0;
    }
    ssize_t n = ::recv(fd, buf.data() + end, buf.size() - end, 0);
    if (n <= 0) Die("recv failed");
    end += static_cast<size_t>(n);
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.consumer_cpu_ms = CpuMillis() - cpu0;
  if (r.rows != ExpectedRows(o)) Die(absl::StrCat("TCP path lost rows: ", r.rows));
  std::string line = child.Line();
  r.producer_cpu_ms = std::stod(line.substr(5));
  child.Send("EXIT");
  child.Wait();
  ::close(fd);
  ::close(listener);
  return r;
}

Options Parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char* key) -> const char* {
      const size_t n = std::strlen(key);
      return a.compare(0, n, key) == 0 ? a.c_str() + n : nullptr;
    };
    if (const char* v = value("--rows=")) {
      o.rows = std::atoll(v);
    } else if (const char* v = value("--runs=")) {
      o.runs = std::atoi(v);
    } else if (const char* v = value("--buffer_size=")) {
      o.buffer_size = std::atoll(v);
    } else if (const char* v = value("--channels=")) {
      o.channels = std::atoi(v);
    } else if (const char* v = value("--role=")) {
      o.role = v;
    } else if (const char* v = value("--tune_allocator=")) {
      o.tune_allocator = std::atoi(v) != 0;
    } else if (const char* v = value("--only=")) {
      o.only = v;
    } else if (const char* v = value("--floating=")) {
      o.floating = std::atoi(v);
    } else if (const char* v = value("--output_floating=")) {
      o.output_floating = std::atoi(v);
    } else if (const char* v = value("--port=")) {
      o.port = std::atoi(v);
    } else {
      Die("unknown flag " + a +
          " (--rows= --runs= --buffer_size= --channels= --only=grpc|sluice-tcp|tcp|bytes --tune_allocator=0|1 --floating=N --output_floating=N)");
    }
  }
  return o;
}

// Median of `runs` by throughput.
Result Median(std::vector<Result> runs) {
  std::sort(runs.begin(), runs.end(),
            [](const Result& a, const Result& b) { return a.seconds < b.seconds; });
  return runs[runs.size() / 2];
}

int Main(int argc, char** argv) {
  Options o = Parse(argc, argv);
  if (o.role == "grpc-producer") return RunSluiceProducer(o, "grpc");
  if (o.role == "sluice-tcp-producer") return RunSluiceProducer(o, "tcp");
  if (o.role == "tcp-producer") return RunTcpProducer(o, true);
  if (o.role == "bytes-producer") return RunTcpProducer(o, false);
  if (!o.role.empty()) Die("unknown role " + o.role);

  std::map<std::string, std::vector<Result>> results;
  const std::vector<std::string> order = {"sluice exchange (gRPC)", "sluice exchange (tcp)",
                                          "raw TCP + serde", "raw TCP bytes only"};
  for (int run = 0; run < o.runs; ++run) {  // interleaved, so load changes hit all alike
    if (o.only.empty() || o.only == "grpc") results[order[0]].push_back(RunSluice(o, "grpc"));
    if (o.only.empty() || o.only == "sluice-tcp") {
      results[order[1]].push_back(RunSluice(o, "sluice-tcp"));
    }
    if (o.only.empty() || o.only == "tcp") results[order[2]].push_back(RunTcp(o, true));
    if (o.only.empty() || o.only == "bytes") results[order[3]].push_back(RunTcp(o, false));
  }
  std::printf("exchange_bench: %lld rows x 3 columns (int64, float64, 16-char string), "
              "%d rows per %lld-byte buffer, %d channel(s), median of %d runs, 2 processes, "
              "allocator tuning %s\n",
              static_cast<long long>(o.rows), RowsPerBuffer(o.buffer_size),
              static_cast<long long>(o.buffer_size), o.channels, o.runs,
              o.tune_allocator ? "on" : "off");
  std::printf("%-24s %12s %10s %10s %14s %14s %16s %8s\n", "path", "Mrecords/s", "MB/s",
              "seconds", "consumer CPU", "producer CPU", "producer blocked", "ratio");
  const double base = results[order[2]].empty()
                          ? 0
                          : static_cast<double>(Median(results[order[2]]).rows) /
                                Median(results[order[2]]).seconds;
  for (const std::string& name : order) {
    if (results[name].empty()) continue;
    Result r = Median(results[name]);
    const double rps = static_cast<double>(r.rows) / r.seconds;
    std::printf("%-24s %12.2f %10.1f %10.3f %12.0fms %12.0fms %14.0fms %7.0f%%\n", name.c_str(),
                rps / 1e6,
                static_cast<double>(r.bytes) / r.seconds / 1e6, r.seconds, r.consumer_cpu_ms,
                r.producer_cpu_ms, r.producer_blocked_ms, 100.0 * rps / base);
  }
  std::printf("ratio: records/s relative to raw TCP + serde (same batches, same run)\n");
  return 0;
}

}  // namespace
}  // namespace sluice::network

int main(int argc, char** argv) {
  sluice::DisableMutexDeadlockDetection();  // as the TaskManager does
  return sluice::network::Main(argc, argv);
}
