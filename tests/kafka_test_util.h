// Test helper for the Kafka connectors: a reader that returns every message of a topic (key,
// value, sluice.id header), as an independent consumer would see it.
#pragma once

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace sluice::testing {

struct KafkaMessage {
  std::string key;
  bool has_key = false;
  std::string value;
  std::string id;  // the sluice.id header, "" when absent
  std::map<std::string, std::string> headers;  // every header (the last of a repeated name)
  int partition = 0;
};

// Every message of `topic` on the brokers at `bootstrap` (all partitions, from the beginning to
// the end), in partition then offset order, read with isolation.level=read_committed.
inline std::vector<KafkaMessage> ReadTopic(const std::string& bootstrap, const std::string& topic) {
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), error, sizeof error);
  rd_kafka_conf_set(conf, "group.id", "test-reader", error, sizeof error);
  rd_kafka_conf_set(conf, "enable.partition.eof", "true", error, sizeof error);
  rd_kafka_conf_set(conf, "enable.auto.commit", "false", error, sizeof error);
  rd_kafka_conf_set(conf, "isolation.level", "read_committed", error, sizeof error);
  rd_kafka_conf_set(conf, "log_level", "3", error, sizeof error);
  rd_kafka_t* consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof error);
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(consumer, topic.c_str(), nullptr);
  std::vector<KafkaMessage> out;
  if (rd_kafka_metadata(consumer, 0, rkt, &md, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    ADD_FAILURE() << "no metadata for " << topic;
    return out;
  }
  const int partitions = md->topics[0].partition_cnt;
  rd_kafka_metadata_destroy(md);
  rd_kafka_topic_destroy(rkt);
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p) {
    rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_assign(consumer, list);
  rd_kafka_topic_partition_list_destroy(list);
  std::vector<std::vector<KafkaMessage>> by_partition(partitions);
  int open = partitions;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (open > 0 && std::chrono::steady_clock::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer, 100);
    if (m == nullptr) continue;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      --open;
    } else if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      KafkaMessage msg;
      msg.partition = m->partition;
      msg.has_key = m->key != nullptr;
      if (m->key) msg.key.assign(static_cast<const char*>(m->key), m->key_len);
      msg.value.assign(static_cast<const char*>(m->payload), m->len);
      rd_kafka_headers_t* headers = nullptr;
      const void* v = nullptr;
      size_t size = 0;
      if (rd_kafka_message_headers(m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR &&
          rd_kafka_header_get_last(headers, "sluice.id", &v, &size) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        msg.id.assign(static_cast<const char*>(v), size);
      }
      const char* name = nullptr;
      for (size_t h = 0; headers != nullptr &&
                         rd_kafka_header_get_all(headers, h, &name, &v, &size) ==
                             RD_KAFKA_RESP_ERR_NO_ERROR;
           ++h) {
        msg.headers[name] = std::string(static_cast<const char*>(v), size);
      }
      by_partition[m->partition].push_back(std::move(msg));
    } else {
      ADD_FAILURE() << "reading " << topic << ": " << rd_kafka_message_errstr(m);
    }
    rd_kafka_message_destroy(m);
  }
  EXPECT_EQ(open, 0) << "did not reach the end of " << topic;
  rd_kafka_consumer_close(consumer);
  rd_kafka_destroy(consumer);
  for (auto& p : by_partition) {
    for (auto& m : p) out.push_back(std::move(m));
  }
  return out;
}

}  // namespace sluice::testing
