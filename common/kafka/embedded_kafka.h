// EmbeddedKafka: a Kafka-protocol broker cluster inside the `sluice local --kafka` process,
// librdkafka's mock cluster (rdkafka_mock.h), for development and tests only: in memory, no
// persistence, no security, topics auto-created (or created with CreateTopic). It listens on
// loopback ports it chooses; bootstrap() is the address clients (jobs, kcat, any Kafka
// client) connect to. Lives until destroyed. Not thread-safe (one owner).
#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

typedef struct rd_kafka_s rd_kafka_t;
typedef struct rd_kafka_mock_cluster_s rd_kafka_mock_cluster_t;

namespace sluice::kafka {

class EmbeddedKafka {
 public:
  // `brokers` >= 1. Internal if librdkafka cannot create the cluster.
  static absl::StatusOr<std::unique_ptr<EmbeddedKafka>> Start(int brokers);
  ~EmbeddedKafka();
  EmbeddedKafka(const EmbeddedKafka&) = delete;
  EmbeddedKafka& operator=(const EmbeddedKafka&) = delete;

  // "127.0.0.1:PORT,127.0.0.1:PORT,..."
  const std::string& bootstrap() const { return bootstrap_; }
  int brokers() const { return brokers_; }
  // Creates `topic` with `partitions` partitions (replication factor 1).
  absl::Status CreateTopic(const std::string& topic, int partitions);

  // Faults, for tests. Broker `id` (1..brokers(); -1: every broker) drops its connections and
  // refuses new ones (`down`), or accepts them again; neither moves partition leaders.
  absl::Status SetBrokerDown(int id, bool down);
  // Partition `partition` of `topic` is led by broker `broker` from now on.
  absl::Status SetPartitionLeader(const std::string& topic, int partition, int broker);

 private:
  EmbeddedKafka() = default;

  rd_kafka_t* handle_ = nullptr;  // owns the mock cluster
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
  std::string bootstrap_;
  int brokers_ = 0;
};

}  // namespace sluice::kafka
