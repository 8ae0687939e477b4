// Kafka connectors against plain librdkafka, in the same run, on the embedded broker (the
// librdkafka mock cluster in this process, over loopback TCP):
//   read:  a plain librdkafka consumer (assign every partition, poll to the end, touch each
//          payload) vs the Kafka source (the same partitions, JSON decoded into batches);
//   write: a plain librdkafka producer (the same JSON lines and keys) vs the Kafka sink with
//          delivery at_least_once (encoding, key, a flush per checkpoint) and exactly_once
//          (each checkpoint's rows kept, then written in one transaction at its completion);
//          a checkpoint every 200 000 rows;
//   pipe:  the Kafka source feeding the Kafka sink in one thread (a job's source -> sink),
//          next to the plain consumer reading the same topic and to a plain consume -> produce
//          loop (the same client work without decoding or encoding).
// One thread each side; prints records/s and the ratio to the plain client.
// Usage: kafka_bench [records] [only] (records: default 1 000 000, spread over 16 partitions,
// the mock keeps ~100 k per partition; only: run just the plain consumer and the runs whose
// label contains this text, e.g. "pipe: source -> sink at_least_once", for profiling).
#include <librdkafka/rdkafka.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string_view>
#include <thread>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "absl/strings/str_cat.h"
#include "common/kafka/embedded_kafka.h"
#include "common/process_util.h"
#include "taskmanager/connectors/kafka_sink.h"
#include "taskmanager/connectors/kafka_source.h"
#include "taskmanager/mailbox.h"

namespace sluice {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kPartitions = 16;

void Check(const absl::Status& s, const char* what) {
  if (s.ok()) return;
  std::fprintf(stderr, "kafka_bench: %s: %s\n", what, s.ToString().c_str());
  std::exit(1);
}

// CPU time of the whole process (the broker's threads included), user + system.
double ProcessCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string Row(int64_t i) {
  return absl::StrCat("{\"card\":", i % 100'003, ",\"amount\":", i % 977, ".25,\"country\":\"c",
                      i % 31, "\"}");
}

rd_kafka_t* Client(rd_kafka_type_t type, const std::string& bootstrap,
                   const std::vector<std::pair<std::string, std::string>>& settings) {
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), error, sizeof error);
  rd_kafka_conf_set(conf, "log_level", "3", error, sizeof error);
  for (const auto& [k, v] : settings) rd_kafka_conf_set(conf, k.c_str(), v.c_str(), error, sizeof error);
  return rd_kafka_new(type, conf, error, sizeof error);
}

// The plain producer: every row of `topic` with the key the sink gives it ({"card":N}) and the
// same partitioner and settings; rows and keys are built before the clock starts, as the
// sink's batches are.
double PlainProduce(const std::string& bootstrap, const std::string& topic, int64_t records) {
  rd_kafka_t* p = Client(RD_KAFKA_PRODUCER, bootstrap,
                         {{"linger.ms", "5"}, {"partitioner", "murmur2_random"},
                          {"enable.idempotence", "true"}});
  std::vector<std::string> rows, keys;
  rows.reserve(records);
  keys.reserve(records);
  for (int64_t i = 0; i < records; ++i) {
    rows.push_back(Row(i));
    keys.push_back(absl::StrCat("{\"card\":", i % 100'003, "}"));
  }
  const auto start = Clock::now();
  for (int64_t i = 0; i < records; ++i) {
    const std::string& row = rows[i];
    while (rd_kafka_producev(p, RD_KAFKA_V_TOPIC(topic.c_str()),
                             RD_KAFKA_V_KEY(keys[i].data(), keys[i].size()),
                             RD_KAFKA_V_VALUE(const_cast<char*>(row.data()), row.size()),
                             RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                             RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(p, 1);
    }
    if (i % 1024 == 0) rd_kafka_poll(p, 0);  // delivery reports, as the sink serves them
  }
  rd_kafka_flush(p, 60'000);
  const double s = Seconds(start);
  rd_kafka_destroy(p);
  return records / s;
}

// The plain consumer: every partition from the beginning to its end. With `forward_to`, also
// the plain consume -> produce loop: each message's key and value produced to that topic
// (idempotent producer, the sink's settings), flushed at the end.
double PlainConsume(const std::string& bootstrap, const std::string& topic, int64_t records,
                    const std::string& forward_to = "",
                    const std::string& queued_min_messages = "100000") {
  rd_kafka_t* c = Client(RD_KAFKA_CONSUMER, bootstrap,
                         {{"group.id", "bench-plain"}, {"enable.partition.eof", "true"},
                          {"enable.auto.commit", "false"},
                          {"queued.min.messages", queued_min_messages}});
  rd_kafka_t* producer =
      forward_to.empty() ? nullptr
                         : Client(RD_KAFKA_PRODUCER, bootstrap,
                                  {{"linger.ms", "5"}, {"partitioner", "murmur2_random"},
                                   {"enable.idempotence", "true"}});
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(kPartitions);
  for (int p = 0; p < kPartitions; ++p) {
    rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  const auto start = Clock::now();
  rd_kafka_assign(c, list);
  rd_kafka_topic_partition_list_destroy(list);
  int open = kPartitions;
  int64_t seen = 0, bytes = 0;
  while (open > 0) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(c, 100);
    if (m == nullptr) continue;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      --open;
    } else if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      ++seen;
      bytes += static_cast<const char*>(m->payload)[m->len / 2];  // touch the payload
      while (producer != nullptr &&
             rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(forward_to.c_str()),
                               RD_KAFKA_V_KEY(m->key, m->key_len),
                               RD_KAFKA_V_VALUE(m->payload, m->len),
                               RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                               RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        rd_kafka_poll(producer, 1);
      }
      if (producer != nullptr && seen % 1024 == 0) rd_kafka_poll(producer, 0);
    }
    rd_kafka_message_destroy(m);
  }
  if (producer != nullptr) {
    rd_kafka_flush(producer, 60'000);
    rd_kafka_destroy(producer);
  }
  const double s = Seconds(start);
  rd_kafka_consumer_close(c);
  rd_kafka_destroy(c);
  if (seen != records) std::fprintf(stderr, "kafka_bench: plain consumer read %lld of %lld\n",
                                    static_cast<long long>(seen), static_cast<long long>(records));
  return seen / s + static_cast<double>(bytes & 0);
}

// The memory a consumer's prefetch queue takes: a plain consumer assigned every partition of
// `topic` from the beginning and never polled, so librdkafka fetches until its queue limits
// (`queued_min_messages`, queued.max.messages.kbytes) stop it; the process's RSS growth per
// queued message, once the queue stops growing (waits up to 10 s).
void QueueMemory(const std::string& bootstrap, const std::string& topic,
                 const std::string& queued_min_messages) {
  rd_kafka_t* c = Client(RD_KAFKA_CONSUMER, bootstrap,
                         {{"group.id", "bench-queue"}, {"enable.auto.commit", "false"},
                          {"queued.min.messages", queued_min_messages}});
  rd_kafka_poll_set_consumer(c);
  rd_kafka_queue_t* queue = rd_kafka_queue_get_consumer(c);
  const int64_t rss_before = CurrentRssBytes();
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(kPartitions);
  for (int p = 0; p < kPartitions; ++p) {
    rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_assign(c, list);
  rd_kafka_topic_partition_list_destroy(list);
  size_t queued = 0;
  int unchanged = 0;  // checks in a row without growth
  for (int waited = 0; waited < 10'000 && unchanged < 5; waited += 200) {
    // librdkafka fetches only for an application that polls (max.poll.interval.ms): poll
    // without taking a message.
    rd_kafka_message_t* none[1];
    rd_kafka_consume_batch_queue(queue, 0, none, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const size_t now = rd_kafka_queue_length(queue);
    unchanged = now == queued ? unchanged + 1 : 0;
    queued = now;
  }
  const int64_t rss_after = CurrentRssBytes();
  std::printf("queue memory, queued.min.messages %-8s %9zu messages queued, RSS +%.1f MiB, "
              "%.0f bytes per message (payload ~45)\n",
              queued_min_messages.c_str(), queued, (rss_after - rss_before) / 1048576.0,
              queued > 0 ? static_cast<double>(rss_after - rss_before) / queued : 0.0);
  rd_kafka_queue_destroy(queue);
  rd_kafka_consumer_close(c);
  rd_kafka_destroy(c);
}

const types::Schema kSchema({{"card", types::TypeId::kInt64}, {"amount", types::TypeId::kFloat64},
                             {"country", types::TypeId::kString}});

// Reads `topic` to its end with the Kafka source into `out`; records/s.
double ReadWithSource(const std::string& bootstrap, const std::string& topic, int64_t records,
                      taskmanager::Collector& out, int64_t* rows) {
  proto::OperatorSpec spec;
  spec.set_name("txns");
  proto::KafkaSourceSpec* k = spec.mutable_kafka_source();
  k->add_topics(topic);
  k->set_bootstrap(bootstrap);
  k->set_start("earliest");
  k->set_stop_at("latest");
  k->mutable_format()->set_name("json");
  (*k->mutable_properties())["log_level"] = "3";
  *spec.mutable_output_schema() = kSchema.ToProto();
  auto source = taskmanager::connectors::KafkaSource::Create(spec);
  Check(source.status(), "source");
  const auto start = Clock::now();
  // As a task runs its source: after kIdle it waits on its mailbox until librdkafka wakes it
  // (or idle_wait_ms passes).
  taskmanager::Mailbox mailbox;
  taskmanager::OperatorContext ctx;
  ctx.wake_up = [&mailbox] { mailbox.Notify(); };
  Check((*source)->Open(ctx), "source open");
  taskmanager::StateInitContext init;
  Check((*source)->InitializeState(init), "source state");
  while (true) {
    absl::StatusOr<taskmanager::SourcePoll> poll = (*source)->PollNext(out);
    Check(poll.status(), "source poll");
    if (*poll == taskmanager::SourcePoll::kEnd) break;
    if (*poll == taskmanager::SourcePoll::kIdle) mailbox.Wait((*source)->idle_wait_ms());
  }
  const double s = Seconds(start);
  Check((*source)->Close(), "source close");
  if (*rows != records) std::fprintf(stderr, "kafka_bench: source read %lld of %lld\n",
                                     static_cast<long long>(*rows), static_cast<long long>(records));
  return *rows / s;
}

double SourceConsume(const std::string& bootstrap, const std::string& topic, int64_t records) {
  bench::RowCounter out;
  return ReadWithSource(bootstrap, topic, records, out, &out.rows);
}

types::RecordBatch Batch(int64_t first, int64_t n) {
  types::RecordBatch b(std::make_shared<const types::Schema>(kSchema));
  for (int64_t i = first; i < first + n; ++i) {
    b.mutable_column(0).AppendInt(i % 100'003);
    b.mutable_column(1).AppendDouble(i % 977 + 0.25);
    b.mutable_column(2).AppendString(absl::StrCat("c", i % 31));
  }
  b.SetNumRows(n);
  return b;
}

constexpr int64_t kRowsPerCheckpoint = 200'000;

// A Kafka sink (JSON, key `card`) as a task drives it: batches in, and a checkpoint every
// kRowsPerCheckpoint rows, as a job's checkpointing.interval would take (an exactly-once
// sink keeps a checkpoint's rows until it completes). Also a Collector, so a source can feed
// it directly.
class SinkDriver : public taskmanager::Collector {
 public:
  SinkDriver(const std::string& bootstrap, const std::string& topic, const std::string& delivery) {
    proto::OperatorSpec spec;
    spec.set_name("out");
    *spec.mutable_input_schema() = kSchema.ToProto();
    proto::KafkaSinkSpec* k = spec.mutable_kafka_sink();
    k->set_topic(topic);
    k->set_bootstrap(bootstrap);
    k->mutable_format()->set_name("json");
    k->add_key_columns("card");
    k->set_delivery(delivery);
    k->set_transactional_id_prefix("bench-" + topic);
    (*k->mutable_properties())["log_level"] = "3";
    (*k->mutable_properties())["linger.ms"] = "5";
    auto sink = taskmanager::connectors::KafkaSink::Create(spec);
    Check(sink.status(), "sink");
    sink_ = *std::move(sink);
    taskmanager::OperatorContext ctx;
    ctx.checkpointing = true;
    Check(sink_->Open(ctx), "sink open");
  }

  absl::Status Collect(types::RecordBatch& batch) override {
    Check(sink_->ProcessBatch(0, batch, unused_), "sink batch");
    since_ += static_cast<int64_t>(batch.num_rows());
    rows += static_cast<int64_t>(batch.num_rows());
    if (since_ >= kRowsPerCheckpoint) Checkpoint();
    return absl::OkStatus();
  }

  // The last checkpoint, then close.
  void Finish() {
    Checkpoint();
    Check(sink_->Close(), "sink close");
  }

  int64_t rows = 0;

 private:
  void Checkpoint() {
    ++checkpoint_;
    Check(sink_->SnapshotState(checkpoint_).status(), "sink snapshot");
    Check(sink_->NotifyCheckpointComplete(checkpoint_), "sink commit");
    since_ = 0;
  }

  std::unique_ptr<taskmanager::connectors::KafkaSink> sink_;
  bench::RowCounter unused_;
  int64_t checkpoint_ = 0;
  int64_t since_ = 0;
};

double SinkProduce(const std::string& bootstrap, const std::string& topic, int64_t records,
                   const std::string& delivery) {
  SinkDriver sink(bootstrap, topic, delivery);
  std::vector<types::RecordBatch> batches;  // encoded rows are the sink's work, not the batches'
  for (int64_t i = 0; i < records; i += 1024) batches.push_back(Batch(i, std::min<int64_t>(1024, records - i)));
  const auto start = Clock::now();
  for (types::RecordBatch& b : batches) Check(sink.Collect(b), "sink batch");
  sink.Finish();
  return records / Seconds(start);
}

// A job's source -> sink pipeline in one thread: the Kafka source feeding the Kafka sink.
double SourceToSink(const std::string& bootstrap, const std::string& in, const std::string& out,
                    int64_t records, const std::string& delivery) {
  SinkDriver sink(bootstrap, out, delivery);
  const auto start = Clock::now();
  ReadWithSource(bootstrap, in, records, sink, &sink.rows);
  sink.Finish();
  return records / Seconds(start);
}

}  // namespace
}  // namespace sluice

int main(int argc, char** argv) {
  sluice::DisableMutexDeadlockDetection();  // as the Sluice binaries do
  using namespace sluice;
  const int64_t records = argc > 1 ? std::atoll(argv[1]) : 1'000'000;
  const std::string only = argc > 2 ? argv[2] : "";
  auto kafka = kafka::EmbeddedKafka::Start(1);
  Check(kafka.status(), "embedded kafka");
  const std::string bootstrap = (*kafka)->bootstrap();
  for (const char* topic : {"in", "out-plain-0", "out-alo-0", "out-eos-0", "out-plain-1",
                            "out-alo-1", "out-eos-1", "pipe-alo-0", "pipe-eos-0", "pipe-alo-1",
                            "pipe-eos-1", "pipe-plain-0", "pipe-plain-1", "out-plain-2", "out-alo-2",
                            "out-eos-2", "pipe-alo-2", "pipe-eos-2", "pipe-plain-2"}) {
    Check((*kafka)->CreateTopic(topic, kPartitions), "create topic");
  }
  std::printf("%lld JSON records (3 columns, ~%zu bytes), %d partitions, embedded broker, one "
              "thread\n\n", static_cast<long long>(records), Row(12345).size(), kPartitions);
  const double produce = PlainProduce(bootstrap, "in", records);
  // A run: its label, the ratio's baseline (an index into `runs`, -1 for itself) and the
  // second baseline of the pipes.
  struct Run {
    const char* label;
    int baseline;
    int second_baseline;
    std::function<double(const std::string& suffix)> measure;
    double best = 0;
    double cpu_us = 0;  // process CPU (every thread, the broker's too) per record, best run
  };
  std::vector<Run> runs = {
      {"read: plain librdkafka consumer", -1, -1,
       [&](const std::string&) { return PlainConsume(bootstrap, "in", records); }},
      {"read: Kafka source (JSON decoded)", 0, -1,
       [&](const std::string&) { return SourceConsume(bootstrap, "in", records); }},
      // The plain consumer with the source's queued.min.messages (docs/kafka.md "Polling and
      // the consumer queue"), to show the baseline does not lose by librdkafka's default.
      {"read: plain consumer, queued.min.messages 500k", 0, -1,
       [&](const std::string&) { return PlainConsume(bootstrap, "in", records, "", "500000"); }},
      {"write: plain librdkafka producer", -1, -1,
       [&](const std::string& s) { return PlainProduce(bootstrap, "out-plain" + s, records); }},
      {"write: Kafka sink at_least_once", 3, -1,
       [&](const std::string& s) {
         return SinkProduce(bootstrap, "out-alo" + s, records, "at_least_once");
       }},
      {"write: Kafka sink exactly_once", 3, -1,
       [&](const std::string& s) {
         return SinkProduce(bootstrap, "out-eos" + s, records, "exactly_once");
       }},
      {"pipe: plain consume -> produce loop", 0, -1,
       [&](const std::string& s) {
         return PlainConsume(bootstrap, "in", records, "pipe-plain" + s);
       }},
      {"pipe: source -> sink at_least_once", 0, 6,
       [&](const std::string& s) {
         return SourceToSink(bootstrap, "in", "pipe-alo" + s, records, "at_least_once");
       }},
      {"pipe: source -> sink exactly_once", 0, 6,
       [&](const std::string& s) {
         return SourceToSink(bootstrap, "in", "pipe-eos" + s, records, "exactly_once");
       }},
  };
  auto selected = [&](size_t i) {
    if (only.empty() || runs[i].label == std::string_view(runs[0].label)) return true;
    return std::string_view(runs[i].label).find(only) != std::string_view::npos;
  };
  // Each run three times, alternating, the best kept (the machine is shared).
  for (int round = 0; round < 3; ++round) {
    for (size_t i = 0; i < runs.size(); ++i) {
      if (!selected(i)) continue;
      const double cpu_before = ProcessCpuSeconds();
      const double rate = runs[i].measure(absl::StrCat("-", round));
      const double cpu_us = (ProcessCpuSeconds() - cpu_before) * 1e6 / records;
      if (rate > runs[i].best) {
        runs[i].best = rate;
        runs[i].cpu_us = cpu_us;
      }
    }
  }
  std::printf("%-46s %12s %11s %10s\n", "run", "records/s", "CPU us/rec", "vs plain");
  for (size_t i = 0; i < runs.size(); ++i) {
    if (!selected(i)) continue;
    const Run& r = runs[i];
    const double base = r.baseline < 0 ? r.best : runs[r.baseline].best;
    std::printf("%-46s %12.0f %11.2f %9.0f%%", r.label, r.best, r.cpu_us,
                base > 0 ? 100.0 * r.best / base : 0.0);
    if (r.second_baseline >= 0 && runs[r.second_baseline].best > 0) {
      std::printf(" %9.0f%%", 100.0 * r.best / runs[r.second_baseline].best);
    }
    std::printf("\n");
  }
  std::printf("(pipes: ratios to the plain consumer, then to the plain consume -> produce loop; "
              "first plain produce, filling the input: %.0f records/s)\n", produce);
  if (only.empty() || only == "memory") {
    for (const char* limit : {"500000", "1000000"}) QueueMemory(bootstrap, "in", limit);
  }
  return 0;
}
