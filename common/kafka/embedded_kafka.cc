#include "common/kafka/embedded_kafka.h"

#include "absl/strings/str_cat.h"
#include "librdkafka/rdkafka.h"
#include "librdkafka/rdkafka_mock.h"

namespace sluice::kafka {

absl::StatusOr<std::unique_ptr<EmbeddedKafka>> EmbeddedKafka::Start(int brokers) {
  if (brokers < 1) return absl::InvalidArgumentError("embedded Kafka needs at least 1 broker");
  char error[512] = {0};
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  // The handle only hosts the mock cluster; it never connects anywhere itself.
  if (rd_kafka_conf_set(conf, "client.id", "sluice-embedded-kafka", error, sizeof(error)) !=
      RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    return absl::InternalError(absl::StrCat("embedded Kafka: ", error));
  }
  rd_kafka_t* handle = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error));
  if (handle == nullptr) {  // conf is still ours on failure
    rd_kafka_conf_destroy(conf);
    return absl::InternalError(absl::StrCat("embedded Kafka: ", error));
  }
  std::unique_ptr<EmbeddedKafka> kafka(new EmbeddedKafka());
  kafka->handle_ = handle;
  kafka->cluster_ = rd_kafka_mock_cluster_new(handle, brokers);
  if (kafka->cluster_ == nullptr) {
    return absl::InternalError("embedded Kafka: librdkafka could not start its mock cluster");
  }
  kafka->bootstrap_ = rd_kafka_mock_cluster_bootstraps(kafka->cluster_);
  kafka->brokers_ = brokers;
  return kafka;
}

EmbeddedKafka::~EmbeddedKafka() {
  if (cluster_ != nullptr) rd_kafka_mock_cluster_destroy(cluster_);
  if (handle_ != nullptr) rd_kafka_destroy(handle_);
}

absl::Status EmbeddedKafka::CreateTopic(const std::string& topic, int partitions) {
  rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(cluster_, topic.c_str(), partitions, 1);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::InternalError(
        absl::StrCat("embedded Kafka: cannot create topic ", topic, ": ", rd_kafka_err2str(err)));
  }
  return absl::OkStatus();
}

absl::Status EmbeddedKafka::SetBrokerDown(int id, bool down) {
  rd_kafka_resp_err_t err = down ? rd_kafka_mock_broker_set_down(cluster_, id)
                                 : rd_kafka_mock_broker_set_up(cluster_, id);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::InvalidArgumentError(absl::StrCat("embedded Kafka: cannot set broker ", id,
                                                   down ? " down: " : " up: ",
                                                   rd_kafka_err2str(err)));
  }
  return absl::OkStatus();
}

absl::Status EmbeddedKafka::SetPartitionLeader(const std::string& topic, int partition,
                                               int broker) {
  rd_kafka_resp_err_t err =
      rd_kafka_mock_partition_set_leader(cluster_, topic.c_str(), partition, broker);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::InvalidArgumentError(absl::StrCat("embedded Kafka: cannot move the leader of ",
                                                   topic, " partition ", partition, " to broker ",
                                                   broker, ": ", rd_kafka_err2str(err)));
  }
  return absl::OkStatus();
}

}  // namespace sluice::kafka
