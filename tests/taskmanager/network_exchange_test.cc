// End to end over real gRPC and over the tcp transport on loopback: two NetworkEnvironments (two "TaskManagers") in one
// process, each with its own gRPC server on port 0. Hash exchange N x M with local and remote
// channels, credit-based backpressure, and every failure a consumer must report: producer
// failure, unknown partition, unreachable or vanished TaskManager, released partitions, and a
// producer that breaks the protocol (corrupt buffer, sequence gap, no credit).
#include <atomic>
#include <map>
#include <thread>

#include "common/types/batch_serde.h"
#include "gtest/gtest.h"
#include "proto/exchange.grpc.pb.h"
#include "taskmanager/network/key_groups.h"
#include "taskmanager/network/network_environment.h"
#include "tests/taskmanager/network_loopback_util.h"

namespace sluice::network {
namespace {

using namespace ::sluice::network::testing;  // NOLINT
using types::RecordBatch;

// Every test runs over both transports (taskmanager.network.transport).
class NetworkExchangeTest : public ::testing::TestWithParam<std::string> {};
INSTANTIATE_TEST_SUITE_P(Transports, NetworkExchangeTest, ::testing::Values("grpc", "tcp"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

TEST_P(NetworkExchangeTest, HashExchangeDeliversEveryRowOnceToTheOwnerOfItsKey) {
  TestTaskManager a("tm-a", TestConfig(GetParam())), b("tm-b", TestConfig(GetParam()));
  constexpr int kConsumers = 2;
  constexpr int kRowsPerProducer = 20'000;
  // Three producers (two on A, one on B) and two consumers (one on each): every consumer
  // has local and remote channels, and each TaskManager's remote channels share one stream.
  struct ProducerSpec {
    TestTaskManager* tm;
    std::string partition;
  };
  std::vector<ProducerSpec> producers = {{&a, "job/0/1/0"}, {&a, "job/0/1/1"}, {&b, "job/0/1/2"}};
  std::vector<TestTaskManager*> consumer_tms = {&a, &b};

  std::vector<Notifier> notifiers(kConsumers);
  std::vector<std::unique_ptr<InputGate>> gates;
  for (int c = 0; c < kConsumers; ++c) {  // consumers deployed before their producers
    std::vector<proto::ResultPartitionRef> refs;
    for (const auto& p : producers) refs.push_back(p.tm->Ref(p.partition, c));
    gates.push_back(MakeGate(*consumer_tms[c], Input(refs), notifiers[c]));
  }
  std::vector<std::unique_ptr<RecordWriter>> writers;
  for (const auto& p : producers) {
    writers.push_back(MakeWriter(*p.tm, Output(p.partition, proto::HASH, kConsumers)));
  }
  std::vector<std::thread> threads;
  std::vector<absl::Status> produced(producers.size());
  for (size_t i = 0; i < producers.size(); ++i) {
    threads.emplace_back([&, i] {
      const int64_t base = static_cast<int64_t>(i) * 1'000'000;
      for (int r = 0; r < kRowsPerProducer; r += 500) {
        absl::Status s = writers[i]->Emit(MakeBatch(base + r, 500, 101));
        if (!s.ok()) {
          produced[i] = s;
          return;
        }
      }
      produced[i] = writers[i]->Finish();
    });
  }
  std::vector<absl::StatusOr<std::vector<RecordBatch>>> consumed(kConsumers);
  for (int c = 0; c < kConsumers; ++c) {
    threads.emplace_back([&, c] { consumed[c] = Drain(*gates[c], notifiers[c]); });
  }
  for (auto& t : threads) t.join();
  for (const auto& s : produced) ASSERT_TRUE(s.ok()) << s;

  std::vector<int64_t> all;
  for (int c = 0; c < kConsumers; ++c) {
    ASSERT_TRUE(consumed[c].ok()) << consumed[c].status();
    std::map<int64_t, int64_t> last_id_of_producer;
    for (const RecordBatch& batch : *consumed[c]) {
      for (size_t r = 0; r < batch.num_rows(); ++r) {
        const int key_group = KeyGroupForKeyHash(HashKey(batch, r, {0}), 128);
        ASSERT_EQ(OperatorIndexForKeyGroup(128, kConsumers, key_group), c);
      }
    }
    for (int64_t id : Ids(*consumed[c])) {
      // Rows of one producer arrive in the order it emitted them.
      auto [it, first] = last_id_of_producer.try_emplace(id / 1'000'000, id);
      if (!first) {
        ASSERT_GT(id, it->second);
        it->second = id;
      }
      all.push_back(id);
    }
    EXPECT_EQ(gates[c]->records_in(), static_cast<int64_t>(Ids(*consumed[c]).size()));
  }
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), producers.size() * kRowsPerProducer);
  for (size_t i = 0; i < producers.size(); ++i) {
    for (int r = 0; r < kRowsPerProducer; ++r) {
      ASSERT_EQ(all[i * kRowsPerProducer + r], static_cast<int64_t>(i) * 1'000'000 + r);
    }
  }
  EXPECT_EQ(a.env().num_connections(), 1);  // A's gate reads B over one stream
  EXPECT_EQ(b.env().num_connections(), 1);  // B's two remote channels share one stream
  int64_t bytes_out = 0, bytes_in = 0;
  for (auto& w : writers) bytes_out += w->bytes_out();
  for (auto& g : gates) bytes_in += g->bytes_in();
  EXPECT_EQ(bytes_in, bytes_out);
  writers.clear();
  gates.clear();
  EXPECT_EQ(a.env().stats().used_buffers, 0);
  EXPECT_EQ(b.env().stats().used_buffers, 0);
  EXPECT_EQ(a.env().num_partitions(), 0);
}

TEST_P(NetworkExchangeTest, RowsLargerThanABufferCrossTheNetworkAlone) {
  TestTaskManager a("tm-a", TestConfig(GetParam())), b("tm-b", TestConfig(GetParam()));
  Notifier notifier;
  auto gate = MakeGate(b, Input({a.Ref("p", 0)}), notifier);
  auto writer = MakeWriter(a, Output("p", proto::FORWARD, 1));
  RecordBatch huge(KvSchema());
  huge.mutable_column(0).AppendInt(7);
  huge.mutable_column(1).AppendString(std::string(100'000, 'z'));
  huge.SetNumRows(1);
  ASSERT_TRUE(writer->Emit(MakeBatch(0, 10)).ok());
  ASSERT_TRUE(writer->Emit(huge).ok());
  ASSERT_TRUE(writer->Finish().ok());
  auto batches = Drain(*gate, notifier);
  ASSERT_TRUE(batches.ok()) << batches.status();
  ASSERT_EQ(batches->size(), 2u);
  EXPECT_EQ((*batches)[1].column(1).Str(0).size(), 100'000u);
}

// A producer Emits one row per buffer from a thread and counts the Emits that returned.
class CountingProducer {
 public:
  CountingProducer(RecordWriter* writer, int rows) : writer_(writer) {
    thread_ = std::thread([this, rows] {
      for (int i = 0; i < rows; ++i) {
        absl::Status s = writer_->Emit(MakeBatch(i, 1));
        if (!s.ok()) {
          result_ = s;
          return;
        }
        emitted_.fetch_add(1);
      }
      result_ = writer_->Finish();
    });
  }
  ~CountingProducer() { Join(); }
  void Join() {
    if (thread_.joinable()) thread_.join();
  }
  int emitted() const { return emitted_.load(); }
  absl::Status result() const { return result_; }

 private:
  RecordWriter* writer_;
  std::atomic<int> emitted_{0};
  absl::Status result_;
  std::thread thread_;
};

TEST_P(NetworkExchangeTest, CreditsStopAProducerWhoseConsumerDoesNotPollAndResumeIt) {
  NetworkConfig producer_config = TestConfig(GetParam());
  producer_config.buffer_timeout_ms = 0;  // one buffer per Emit
  producer_config.buffers_per_output_channel = 2;
  producer_config.floating_buffers_per_output = 1;
  NetworkConfig consumer_config = TestConfig(GetParam());
  consumer_config.exclusive_buffers_per_channel = 2;
  consumer_config.floating_buffers_per_gate = 3;
  TestTaskManager a("tm-a", producer_config), b("tm-b", consumer_config);
  constexpr int kRows = 200;

  Notifier notifier;
  auto gate = MakeGate(b, Input({a.Ref("p", 0)}), notifier);
  auto writer = MakeWriter(a, Output("p", proto::FORWARD, 1));
  const int pool = writer->pool_size();
  ASSERT_EQ(pool, 3);
  CountingProducer producer(writer.get(), kRows);

  int polled = 0;
  // Stopped: the producer waits for a buffer, the consumer used every credit it gave, and
  // the producer made exactly the buffers the consumer holds plus its own pool.
  auto stopped_exactly = [&] {
    const InputGateStats s = gate->stats();
    return writer->blocked_on_buffer() && s.outstanding_credit == 0 &&
           producer.emitted() == polled + s.queued_buffers + pool;
  };
  ASSERT_TRUE(WaitFor(stopped_exactly)) << "emitted " << producer.emitted() << ", queued "
                                        << gate->stats().queued_buffers;
  // The consumer never holds more than its exclusive + floating receive buffers.
  EXPECT_LE(gate->stats().queued_buffers, 2 + 3);
  EXPECT_GE(gate->stats().queued_buffers, 2);
  EXPECT_LT(producer.emitted(), kRows);

  // Each buffer the consumer takes lets the producer go on by exactly one.
  for (int i = 0; i < 5; ++i) {
    auto batch = gate->PollNext();
    ASSERT_TRUE(batch.ok()) << batch.status();
    ASSERT_TRUE(batch->has_value());
    EXPECT_EQ(Ids({**batch}), std::vector<int64_t>{polled});
    ++polled;
    ASSERT_TRUE(WaitFor(stopped_exactly)) << "after " << polled << " polls: emitted "
                                          << producer.emitted();
    EXPECT_LE(gate->stats().queued_buffers, 2 + 3);
  }
  auto rest = Drain(*gate, notifier);
  ASSERT_TRUE(rest.ok()) << rest.status();
  producer.Join();
  ASSERT_TRUE(producer.result().ok()) << producer.result();
  std::vector<int64_t> ids = Ids(*rest);
  ASSERT_EQ(ids.size(), static_cast<size_t>(kRows - polled));
  for (size_t i = 0; i < ids.size(); ++i) ASSERT_EQ(ids[i], polled + static_cast<int64_t>(i));
}

TEST_P(NetworkExchangeTest, CancelUnblocksAProducerBackpressuredByARemoteConsumer) {
  NetworkConfig config = TestConfig(GetParam());
  config.buffer_timeout_ms = 0;
  TestTaskManager a("tm-a", config), b("tm-b", config);
  Notifier notifier;
  auto gate = MakeGate(b, Input({a.Ref("p", 0)}), notifier);
  std::atomic<bool> canceled{false};
  auto writer = MakeWriter(a, Output("p", proto::FORWARD, 1), &canceled);
  CountingProducer producer(writer.get(), 1000);
  ASSERT_TRUE(WaitFor([&] { return writer->blocked_on_buffer(); }));
  canceled = true;
  producer.Join();
  EXPECT_EQ(producer.result().code(), absl::StatusCode::kCancelled);
}

TEST_P(NetworkExchangeTest, ProducerFailureReachesTheRemoteConsumer) {
  TestTaskManager a("tm-a", TestConfig(GetParam())), b("tm-b", TestConfig(GetParam()));
  Notifier notifier;
  auto gate = MakeGate(b, Input({a.Ref("job/0/3/1", 0)}), notifier);
  auto writer = MakeWriter(a, Output("job/0/3/1", proto::FORWARD, 1));
  ASSERT_TRUE(writer->Emit(MakeBatch(0, 10)).ok());
  ASSERT_TRUE(writer->Flush().ok());
  writer->Fail(absl::InternalError("operator 'parse' failed: bad JSON at offset 12"));
  absl::Status s = DrainUntilError(*gate, notifier);
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_NE(s.message().find("bad JSON at offset 12"), std::string::npos) << s;
  EXPECT_NE(s.message().find("job/0/3/1"), std::string::npos) << s;
  EXPECT_NE(s.message().find(a.address()), std::string::npos) << s;
}

TEST_P(NetworkExchangeTest, ReleasedPartitionFailsTheRemoteConsumer) {
  TestTaskManager a("tm-a", TestConfig(GetParam())), b("tm-b", TestConfig(GetParam()));
  Notifier notifier;
  auto gate = MakeGate(b, Input({a.Ref("p", 0)}), notifier);
  auto writer = MakeWriter(a, Output("p", proto::FORWARD, 1));
  ASSERT_TRUE(writer->Emit(MakeBatch(0, 10)).ok());
  a.env().ReleasePartitions("job", 0);
  absl::Status s = DrainUntilError(*gate, notifier);
  EXPECT_EQ(s.code(), absl::StatusCode::kCancelled) << s;
  EXPECT_NE(s.message().find("released"), std::string::npos) << s;
  // The producer learns it too, at its next buffer.
  ASSERT_TRUE(writer->Emit(MakeBatch(10, 10)).ok());
  EXPECT_EQ(writer->Flush().code(), absl::StatusCode::kCancelled);
  // A consumer that asks only now is told at once, without waiting for a timeout.
  Notifier late_notifier;
  auto late = MakeGate(b, Input({a.Ref("p", 1)}), late_notifier);
  EXPECT_EQ(DrainUntilError(*late, late_notifier).code(), absl::StatusCode::kCancelled);
}

TEST_P(NetworkExchangeTest, UnknownPartitionFailsAfterTheRequestTimeout) {
  ManualClock clock;
  TestTaskManager a("tm-a", TestConfig(GetParam()), &clock), b("tm-b", TestConfig(GetParam()));
  Notifier notifier;
  auto gate = MakeGate(b, Input({a.Ref("job/0/9/0", 0)}), notifier);
  // The request waits on A for a producer that never comes; then A's clock passes 30 s.
  ASSERT_TRUE(WaitFor([&] { return a.env().num_waiting_partition_requests() == 1; }));
  auto none = gate->PollNext();
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  clock.Advance(30'001);
  absl::Status s = DrainUntilError(*gate, notifier);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
  EXPECT_NE(s.message().find("partition job/0/9/0 not found"), std::string::npos) << s;
  EXPECT_NE(s.message().find(a.address()), std::string::npos) << s;
}

TEST_P(NetworkExchangeTest, UnreachableTaskManagerIsUnavailableNamingItsAddress) {
  TestTaskManager b("tm-b", TestConfig(GetParam()));
  Notifier notifier;
  // Port 1 on loopback: nothing listens there.
  const std::string gone = GetParam() == "tcp" ? "tcp://127.0.0.1:1" : "127.0.0.1:1";
  auto gate = MakeGate(b, Input({Ref("job/0/1/0", 0, "tm-gone", gone)}), notifier);
  absl::Status s = DrainUntilError(*gate, notifier);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_NE(s.message().find("127.0.0.1:1"), std::string::npos) << s;
  EXPECT_NE(s.message().find("job/0/1/0"), std::string::npos) << s;
}

TEST_P(NetworkExchangeTest, ProducerTaskManagerGoingAwayFailsTheConsumer) {
  TestTaskManager a("tm-a", TestConfig(GetParam())), b("tm-b", TestConfig(GetParam()));
  Notifier notifier;
  auto gate = MakeGate(b, Input({a.Ref("p", 0)}), notifier);
  auto writer = MakeWriter(a, Output("p", proto::FORWARD, 1));
  ASSERT_TRUE(writer->Emit(MakeBatch(0, 10)).ok());
  ASSERT_TRUE(writer->Flush().ok());
  std::optional<RecordBatch> first;
  ASSERT_TRUE(WaitFor([&] {
    auto next = gate->PollNext();
    if (next.ok() && next->has_value()) first = std::move(**next);
    return first.has_value();
  }));
  EXPECT_EQ(first->num_rows(), 10u);
  a.Stop();  // the producer's TaskManager shuts down mid-stream
  absl::Status s = DrainUntilError(*gate, notifier);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(a.address()), std::string::npos) << s;
  // A new gate to a healthy peer gets a fresh connection.
  TestTaskManager c("tm-c", TestConfig(GetParam()));
  auto writer_c = MakeWriter(c, Output("q", proto::FORWARD, 1));
  ASSERT_TRUE(writer_c->Emit(MakeBatch(0, 3)).ok());
  ASSERT_TRUE(writer_c->Finish().ok());
  Notifier notifier_c;
  auto gate_c = MakeGate(b, Input({c.Ref("q", 0)}), notifier_c);
  auto batches = Drain(*gate_c, notifier_c);
  ASSERT_TRUE(batches.ok()) << batches.status();
  EXPECT_EQ(Ids(*batches).size(), 3u);
}

// A producer TaskManager that misbehaves: for each PartitionRequest it answers with the
// scripted buffers (channel id filled in), then leaves the stream open.
class ScriptedExchange final : public proto::ExchangeService::Service {
 public:
  explicit ScriptedExchange(std::vector<proto::Buffer> script) : script_(std::move(script)) {}
  grpc::Status Exchange(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<proto::Buffer, proto::ExchangeRequest>* stream) override {
    proto::ExchangeRequest request;
    while (stream->Read(&request)) {
      if (!request.has_partition_request()) continue;
      for (proto::Buffer b : script_) {
        b.set_channel_id(request.partition_request().channel_id());
        if (!stream->Write(b)) return grpc::Status::OK;
      }
    }
    return grpc::Status::OK;
  }

 private:
  std::vector<proto::Buffer> script_;
};

proto::Buffer DataBuffer(int64_t seq, std::string data) {
  proto::Buffer b;
  b.set_seq(seq);
  b.set_kind(proto::DATA);
  b.set_data(std::move(data));
  return b;
}

std::string Serialized(const RecordBatch& batch) {
  std::string out;
  types::SerializeBatch(batch, &out);
  return out;
}

// Consumes one channel from a ScriptedExchange. With `poll_after_notifications` > 0 the
// consumer does not poll until the gate signalled that many times (so it returns no credit).
absl::Status ConsumeFromScript(std::vector<proto::Buffer> script, NetworkConfig config = TestConfig(),
                               int poll_after_notifications = 0) {
  ScriptedExchange service(std::move(script));
  auto server = rpc::StartServer("127.0.0.1", 0, {&service}, 64 << 20);
  EXPECT_TRUE(server.ok());
  absl::Status result;
  {
    TestTaskManager b("tm-b", config);
    Notifier notifier;
    auto gate = MakeGate(b, Input({Ref("p", 0, "tm-bad", server->address)}), notifier);
    if (poll_after_notifications > 0) {
      EXPECT_TRUE(notifier.WaitForCount(poll_after_notifications, absl::Seconds(30)));
    }
    result = DrainUntilError(*gate, notifier);
  }
  server->server->Shutdown();
  return result;
}

TEST(NetworkExchangeProtocolTest, CorruptBufferIsDataLoss) {
  absl::Status s = ConsumeFromScript({DataBuffer(0, "this is not a record batch")});
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_NE(s.message().find("corrupt record batch"), std::string::npos) << s;
  EXPECT_NE(s.message().find("partition p"), std::string::npos) << s;
}

TEST(NetworkExchangeProtocolTest, SequenceGapIsDataLoss) {
  std::string good = Serialized(MakeBatch(0, 2));
  absl::Status s = ConsumeFromScript({DataBuffer(0, good), DataBuffer(2, good)});
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_NE(s.message().find("expected 1"), std::string::npos) << s;
}

TEST(NetworkExchangeProtocolTest, BufferBeyondTheCreditIsRejected) {
  // One exclusive buffer and no floating ones: a consumer that has not polled gave exactly
  // one credit, so the second buffer breaks the protocol. (Notifications: the first buffer,
  // then the error.)
  NetworkConfig config = TestConfig();
  config.exclusive_buffers_per_channel = 1;
  config.floating_buffers_per_gate = 0;
  std::string good = Serialized(MakeBatch(0, 2));
  absl::Status s = ConsumeFromScript({DataBuffer(0, good), DataBuffer(1, good)}, config, 2);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_NE(s.message().find("without credit"), std::string::npos) << s;
}

}  // namespace
}  // namespace sluice::network
