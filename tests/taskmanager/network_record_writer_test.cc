// RecordWriter and local exchange inside one TaskManager (no gRPC): partitioners (hash keeps
// a key on one subpartition, rebalance spreads, broadcast duplicates), buffer sizing and
// flushing, backpressure, cancellation, failure and release, partition lookup.
#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/types/batch_serde.h"
#include "gtest/gtest.h"
#include "taskmanager/network/key_groups.h"
#include "taskmanager/network/network_environment.h"
#include "tests/taskmanager/network_test_util.h"

namespace sluice::network {
namespace {

using types::RecordBatch;
using types::Schema;
using types::SchemaPtr;
using types::TypeId;
using namespace ::sluice::network::testing;  // NOLINT

constexpr char kTm[] = "tm-local";

proto::InputGateDescriptor LocalInput(const std::vector<std::string>& partitions, int subpartition) {
  proto::InputGateDescriptor in;
  in.set_edge_id(1);
  for (const std::string& p : partitions) {
    proto::ResultPartitionRef* ref = in.add_channels();
    ref->set_partition_id(p);
    ref->set_subpartition(subpartition);
    ref->set_producer_tm_id(kTm);
  }
  return in;
}

NetworkConfig SmallConfig() {
  NetworkConfig c;
  c.buffer_size = 4096;
  c.total_buffers = 256;
  c.buffers_per_output_channel = 4;  // tests produce everything before consuming
  c.buffer_timeout_ms = -1;  // flush only when full or at the end, unless a test says otherwise
  return c;
}

class RecordWriterTest : public ::testing::Test {
 protected:
  void Start(NetworkConfig config) {
    env_ = std::make_unique<NetworkEnvironment>(config, kTm, &clock_);
  }
  void SetUp() override { Start(SmallConfig()); }

  std::unique_ptr<RecordWriter> Writer(const proto::OutputDescriptor& out) {
    auto writer = env_->CreateRecordWriter("job", 0, out, KvSchema(), 128, &canceled_);
    EXPECT_TRUE(writer.ok()) << writer.status();
    return writer.ok() ? std::move(*writer) : nullptr;
  }
  std::unique_ptr<InputGate> Gate(const proto::InputGateDescriptor& in, Notifier& notifier) {
    auto gate = env_->CreateInputGate("job", 0, in, KvSchema(), notifier.callback());
    EXPECT_TRUE(gate.ok()) << gate.status();
    return gate.ok() ? std::move(*gate) : nullptr;
  }

  ManualClock clock_;
  std::atomic<bool> canceled_{false};
  std::unique_ptr<NetworkEnvironment> env_;
};

TEST_F(RecordWriterTest, HashKeepsEveryKeyOnTheSubpartitionOfItsKeyGroup) {
  constexpr int kSubpartitions = 4;
  auto writer = Writer(Output("p", proto::HASH, kSubpartitions));
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(writer->Emit(MakeBatch(i * 50, 50)).ok());
  ASSERT_TRUE(writer->Finish().ok());
  EXPECT_EQ(writer->records_out(), 1000);

  std::vector<int64_t> all;
  std::map<int64_t, int> subpartition_of_key;
  for (int s = 0; s < kSubpartitions; ++s) {
    Notifier notifier;
    auto gate = Gate(LocalInput({"p"}, s), notifier);
    auto batches = Drain(*gate, notifier);
    ASSERT_TRUE(batches.ok()) << batches.status();
    EXPECT_EQ(gate->records_in(), static_cast<int64_t>(Ids(*batches).size()));
    for (const RecordBatch& b : *batches) {
      for (size_t r = 0; r < b.num_rows(); ++r) {
        const int64_t key = b.column(0).Int(r);
        // The row's columns stayed together (rows are gathered column by column).
        EXPECT_EQ(key, std::stoll(std::string(b.column(1).Str(r).substr(1))) % 37);
        auto [it, inserted] = subpartition_of_key.try_emplace(key, s);
        EXPECT_EQ(it->second, s) << "key " << key << " on two subpartitions";
        const int key_group = KeyGroupForKeyHash(HashKey(b, r, {0}), 128);
        EXPECT_EQ(OperatorIndexForKeyGroup(128, kSubpartitions, key_group), s);
      }
    }
    for (int64_t id : Ids(*batches)) all.push_back(id);
  }
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), 1000u);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(all[i], i);  // every row exactly once
  EXPECT_GT(subpartition_of_key.size(), 30u);
  std::set<int> used;
  for (auto [k, s] : subpartition_of_key) used.insert(s);
  EXPECT_EQ(used.size(), 4u);  // 37 keys spread over all four
}

TEST_F(RecordWriterTest, RebalanceSpreadsBatchesRoundRobin) {
  auto writer = Writer(Output("p", proto::REBALANCE, 3));
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(writer->Emit(MakeBatch(i * 10, 10)).ok());
  ASSERT_TRUE(writer->Finish().ok());
  std::vector<int64_t> all;
  for (int s = 0; s < 3; ++s) {
    Notifier notifier;
    auto gate = Gate(LocalInput({"p"}, s), notifier);
    auto batches = Drain(*gate, notifier);
    ASSERT_TRUE(batches.ok()) << batches.status();
    std::vector<int64_t> ids = Ids(*batches);
    EXPECT_EQ(ids.size(), 100u) << "subpartition " << s;
    all.insert(all.end(), ids.begin(), ids.end());
  }
  std::sort(all.begin(), all.end());
  for (int i = 0; i < 300; ++i) ASSERT_EQ(all[i], i);
}

TEST_F(RecordWriterTest, BroadcastSendsEveryRowToEverySubpartitionInOrder) {
  auto writer = Writer(Output("p", proto::BROADCAST, 3));
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(writer->Emit(MakeBatch(i * 40, 40)).ok());
  ASSERT_TRUE(writer->Finish().ok());
  EXPECT_EQ(writer->records_out(), 400);
  for (int s = 0; s < 3; ++s) {
    Notifier notifier;
    auto gate = Gate(LocalInput({"p"}, s), notifier);
    auto batches = Drain(*gate, notifier);
    ASSERT_TRUE(batches.ok()) << batches.status();
    std::vector<int64_t> ids = Ids(*batches);
    ASSERT_EQ(ids.size(), 400u);
    for (int i = 0; i < 400; ++i) ASSERT_EQ(ids[i], i);
  }
}

TEST_F(RecordWriterTest, ForwardKeepsOrderAndNeedsExactlyOneSubpartition) {
  auto bad = env_->CreateRecordWriter("job", 0, Output("q", proto::FORWARD, 2), KvSchema(), 128,
                                      &canceled_);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("FORWARD"), std::string::npos);

  Notifier notifier;
  auto gate = Gate(LocalInput({"p"}, 0), notifier);  // the consumer may come first
  auto writer = Writer(Output("p", proto::FORWARD, 1));
  for (int i = 0; i < 25; ++i) ASSERT_TRUE(writer->Emit(MakeBatch(i * 20, 20)).ok());
  ASSERT_TRUE(writer->Finish().ok());
  auto batches = Drain(*gate, notifier);
  ASSERT_TRUE(batches.ok()) << batches.status();
  std::vector<int64_t> ids = Ids(*batches);
  ASSERT_EQ(ids.size(), 500u);
  for (int i = 0; i < 500; ++i) ASSERT_EQ(ids[i], i);
  EXPECT_EQ(gate->bytes_in(), writer->bytes_out());
}

TEST_F(RecordWriterTest, BuffersHoldAtMostBufferSizeExceptASingleHugeRow) {
  NetworkConfig config = SmallConfig();
  config.buffer_size = 1024;
  Start(config);
  Notifier notifier;
  auto gate = Gate(LocalInput({"p"}, 0), notifier);
  auto writer = Writer(Output("p", proto::FORWARD, 1));
  ASSERT_TRUE(writer->Emit(MakeBatch(0, 300)).ok());
  RecordBatch huge(KvSchema());
  huge.mutable_column(0).AppendInt(1);
  huge.mutable_column(1).AppendString(std::string(5000, 'x'));
  huge.SetNumRows(1);
  ASSERT_TRUE(writer->Emit(huge).ok());
  ASSERT_TRUE(writer->Emit(MakeBatch(300, 10)).ok());
  ASSERT_TRUE(writer->Finish().ok());
  auto batches = Drain(*gate, notifier);
  ASSERT_TRUE(batches.ok()) << batches.status();
  int oversize = 0;
  int64_t rows = 0;
  for (const RecordBatch& b : *batches) {
    std::string bytes;
    types::SerializeBatch(b, &bytes);
    rows += b.num_rows();
    if (bytes.size() > 1024) {
      ++oversize;
      EXPECT_EQ(b.num_rows(), 1u);  // the huge row travels alone
    }
  }
  EXPECT_EQ(oversize, 1);
  EXPECT_EQ(rows, 311);
  // 300 rows of ~15 bytes do not fit one 1 KiB buffer: several full ones were sent.
  EXPECT_GE(batches->size(), 6u);
}

TEST_F(RecordWriterTest, RowLargerThanTheMessageLimitIsRejected) {
  NetworkConfig config = SmallConfig();
  config.max_message_size = 4096;
  Start(config);
  auto writer = Writer(Output("p", proto::FORWARD, 1));
  RecordBatch huge(KvSchema());
  huge.mutable_column(0).AppendInt(1);
  huge.mutable_column(1).AppendString(std::string(8000, 'x'));
  huge.SetNumRows(1);
  absl::Status s = writer->Emit(huge);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("rpc.max_message_size"), std::string::npos);
}

TEST_F(RecordWriterTest, BufferTimeoutFlushesPartialBuffers) {
  NetworkConfig config = SmallConfig();
  config.buffer_timeout_ms = 10;
  Start(config);
  Notifier notifier;
  auto gate = Gate(LocalInput({"p"}, 0), notifier);
  auto writer = Writer(Output("p", proto::FORWARD, 1));
  EXPECT_EQ(writer->NextFlushDeadlineMs(), INT64_MAX);
  const int64_t t0 = clock_.NowMillis();
  ASSERT_TRUE(writer->Emit(MakeBatch(0, 3)).ok());
  EXPECT_EQ(writer->NextFlushDeadlineMs(), t0 + 10);
  clock_.Advance(5);
  ASSERT_TRUE(writer->Emit(MakeBatch(3, 3)).ok());
  EXPECT_EQ(writer->NextFlushDeadlineMs(), t0 + 10);  // the oldest pending row decides
  ASSERT_TRUE(writer->FlushIfDue(t0 + 9).ok());
  auto none = gate->PollNext();
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  ASSERT_TRUE(writer->FlushIfDue(t0 + 10).ok());
  EXPECT_EQ(writer->NextFlushDeadlineMs(), INT64_MAX);
  auto batch = gate->PollNext();
  ASSERT_TRUE(batch.ok());
  ASSERT_TRUE(batch->has_value());
  EXPECT_EQ((*batch)->num_rows(), 6u);
}

TEST_F(RecordWriterTest, ZeroBufferTimeoutFlushesEveryEmit) {
  NetworkConfig config = SmallConfig();
  config.buffer_timeout_ms = 0;
  Start(config);
  Notifier notifier;
  auto gate = Gate(LocalInput({"p"}, 0), notifier);
  auto writer = Writer(Output("p", proto::FORWARD, 1));
  ASSERT_TRUE(writer->Emit(MakeBatch(0, 2)).ok());
  EXPECT_EQ(writer->NextFlushDeadlineMs(), INT64_MAX);
  auto batch = gate->PollNext();
  ASSERT_TRUE(batch.ok() && batch->has_value());
  EXPECT_EQ((*batch)->num_rows(), 2u);
}

// Emits one small batch per buffer (buffer_timeout 0) from a thread, counting the Emits done.
class Producer {
 public:
  Producer(RecordWriter* writer, int batches) : writer_(writer) {
    thread_ = std::thread([this, batches] {
      for (int i = 0; i < batches; ++i) {
        absl::Status s = writer_->Emit(MakeBatch(i, 1));
        if (!s.ok()) {
          result_ = s;
          return;
        }
        ++emitted_;
      }
      result_ = writer_->Finish();
    });
  }
  ~Producer() { Join(); }
  void Join() {
    if (thread_.joinable()) thread_.join();
  }
  // Waits (up to 20 s) until the writer blocks for a buffer with `emitted` batches done.
  bool WaitBlockedAt(int emitted) {
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (absl::Now() < deadline) {
      if (writer_->blocked_on_buffer() && emitted_.load() == emitted) return true;
      std::this_thread::yield();
    }
    return false;
  }
  int emitted() const { return emitted_.load(); }
  absl::Status result() const { return result_; }

 private:
  RecordWriter* writer_;
  std::atomic<int> emitted_{0};
  absl::Status result_;
  std::thread thread_;
};

TEST_F(RecordWriterTest, ProducerBlocksWhenItsPoolIsFullAndResumes) {
  NetworkConfig config = SmallConfig();
  config.buffer_timeout_ms = 0;
  config.buffers_per_output_channel = 2;
  config.floating_buffers_per_output = 1;
  Start(config);
  Notifier notifier;
  auto gate = Gate(LocalInput({"p"}, 0), notifier);
  auto writer = Writer(Output("p", proto::FORWARD, 1));
  ASSERT_EQ(writer->pool_size(), 3);
  Producer producer(writer.get(), 10);
  // A local consumer that does not poll: the producer fills its 3 buffers, then blocks.
  ASSERT_TRUE(producer.WaitBlockedAt(3));
  EXPECT_EQ(writer->pool_in_use(), 3);
  // The wait in progress counts as backpressure while it lasts (a wait of seconds must not
  // show as busy time until it ends), and keeps growing while the producer stays blocked.
  const int64_t blocked = writer->backpressured_ns();
  EXPECT_GT(blocked, 0);
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (writer->backpressured_ns() == blocked && absl::Now() < deadline) std::this_thread::yield();
  EXPECT_GT(writer->backpressured_ns(), blocked);
  EXPECT_EQ(producer.emitted(), 3);
  // Each consumed buffer lets exactly one more through.
  auto first = gate->PollNext();
  ASSERT_TRUE(first.ok() && first->has_value());
  ASSERT_TRUE(producer.WaitBlockedAt(4));
  auto rest = Drain(*gate, notifier);
  ASSERT_TRUE(rest.ok()) << rest.status();
  producer.Join();
  EXPECT_TRUE(producer.result().ok()) << producer.result();
  EXPECT_GT(writer->backpressured_ns(), 0);
  std::vector<int64_t> ids = Ids(*rest);
  ASSERT_EQ(ids.size(), 9u);
  EXPECT_EQ(ids.front(), 1);
  EXPECT_EQ(ids.back(), 9);
}

TEST_F(RecordWriterTest, CancelUnblocksAProducerWaitingForABuffer) {
  NetworkConfig config = SmallConfig();
  config.buffer_timeout_ms = 0;
  config.buffers_per_output_channel = 1;
  config.floating_buffers_per_output = 0;
  Start(config);
  auto writer = Writer(Output("p", proto::FORWARD, 1));
  Producer producer(writer.get(), 10);
  ASSERT_TRUE(producer.WaitBlockedAt(1));
  canceled_ = true;
  producer.Join();
  EXPECT_EQ(producer.result().code(), absl::StatusCode::kCancelled);
}

TEST_F(RecordWriterTest, ReleasePartitionsUnblocksTheProducerAndFailsTheConsumer) {
  NetworkConfig config = SmallConfig();
  config.buffer_timeout_ms = 0;
  config.buffers_per_output_channel = 1;
  config.floating_buffers_per_output = 0;
  Start(config);
  Notifier notifier;
  auto gate = Gate(LocalInput({"p"}, 0), notifier);
  auto writer = Writer(Output("p", proto::FORWARD, 1));
  Producer producer(writer.get(), 10);
  ASSERT_TRUE(producer.WaitBlockedAt(1));
  env_->ReleasePartitions("job", 0);
  producer.Join();
  EXPECT_EQ(producer.result().code(), absl::StatusCode::kCancelled);
  absl::Status s = DrainUntilError(*gate, notifier);
  EXPECT_EQ(s.code(), absl::StatusCode::kCancelled);
  EXPECT_NE(s.message().find("released"), std::string::npos);
  EXPECT_EQ(env_->num_partitions(), 0);
}

TEST_F(RecordWriterTest, ProducerFailureReachesTheConsumerWithItsCause) {
  Notifier notifier;
  auto gate = Gate(LocalInput({"p"}, 0), notifier);
  auto writer = Writer(Output("p", proto::FORWARD, 1));
  ASSERT_TRUE(writer->Emit(MakeBatch(0, 5)).ok());
  writer->Fail(absl::InternalError("division by zero in operator 'avg'"));
  absl::Status s = DrainUntilError(*gate, notifier);
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_NE(s.message().find("division by zero in operator 'avg'"), std::string::npos);
  EXPECT_NE(s.message().find("partition p"), std::string::npos);
}

TEST_F(RecordWriterTest, WriterDestroyedWithoutFinishFailsTheConsumer) {
  Notifier notifier;
  auto gate = Gate(LocalInput({"p"}, 0), notifier);
  Writer(Output("p", proto::FORWARD, 1)).reset();
  absl::Status s = DrainUntilError(*gate, notifier);
  EXPECT_EQ(s.code(), absl::StatusCode::kCancelled);
  EXPECT_NE(s.message().find("stopped before finishing"), std::string::npos);
}

TEST_F(RecordWriterTest, UnknownLocalPartitionFailsAfterTheRequestTimeout) {
  Notifier notifier;
  auto gate = Gate(LocalInput({"nope"}, 0), notifier);
  auto none = gate->PollNext();
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  clock_.Advance(30'001);
  absl::Status s = DrainUntilError(*gate, notifier);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(s.message().find("partition nope not found"), std::string::npos);
}

TEST_F(RecordWriterTest, ConsumedPartitionsAreForgottenAndTheirBuffersReturned) {
  {
    auto writer = Writer(Output("p", proto::REBALANCE, 2));
    EXPECT_GT(env_->stats().used_buffers, 0);
    ASSERT_TRUE(writer->Emit(MakeBatch(0, 10)).ok());
    ASSERT_TRUE(writer->Finish().ok());
    EXPECT_EQ(env_->num_partitions(), 1);
    for (int s = 0; s < 2; ++s) {
      Notifier notifier;
      auto gate = Gate(LocalInput({"p"}, s), notifier);
      ASSERT_TRUE(Drain(*gate, notifier).ok());
    }
    EXPECT_EQ(env_->num_partitions(), 0);
  }
  EXPECT_EQ(env_->stats().used_buffers, 0);
  EXPECT_EQ(env_->stats().total_buffers, 256);
}

TEST_F(RecordWriterTest, BadDescriptorsAndTooFewBuffersAreClearErrors) {
  proto::OutputDescriptor no_keys = Output("a", proto::HASH, 2);
  no_keys.clear_key_indexes();
  EXPECT_EQ(env_->CreateRecordWriter("job", 0, no_keys, KvSchema(), 128, nullptr).status().code(),
            absl::StatusCode::kInvalidArgument);
  proto::OutputDescriptor bad_key = Output("b", proto::HASH, 2);
  bad_key.set_key_indexes(0, 5);
  auto s = env_->CreateRecordWriter("job", 0, bad_key, KvSchema(), 128, nullptr).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("key column 5"), std::string::npos);
  EXPECT_EQ(env_->CreateRecordWriter("job", 0, Output("c", proto::HASH, 4), KvSchema(), 2, nullptr)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);  // max_parallelism below the parallelism

  // 256 buffers: 70 subpartitions * 4 + 8 do not fit.
  s = env_->CreateRecordWriter("job", 0, Output("d", proto::REBALANCE, 70), KvSchema(), 128, nullptr)
          .status();
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(s.message().find("taskmanager.network.buffers"), std::string::npos);
  EXPECT_EQ(env_->stats().used_buffers, 0);

  auto first = Writer(Output("e", proto::FORWARD, 1));
  EXPECT_EQ(env_->CreateRecordWriter("job", 0, Output("e", proto::FORWARD, 1), KvSchema(), 128,
                                     nullptr)
                .status()
                .code(),
            absl::StatusCode::kAlreadyExists);
}

}  // namespace
}  // namespace sluice::network
