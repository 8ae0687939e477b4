// What the Kafka connectors share about librdkafka clients: building a configuration from
// Sluice's defaults, the job's `properties:` (any librdkafka setting, passed through, so
// SASL/TLS for managed Kafka work) and the settings a connector must control; creating a
// client; and looking up a topic. librdkafka's own log lines go to spdlog. Thread-safe
// (stateless).
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

typedef struct rd_kafka_s rd_kafka_t;
typedef struct rd_kafka_conf_s rd_kafka_conf_t;

namespace sluice::taskmanager::connectors {

struct KafkaSettings {
  std::string what;       // for errors: "kafka sink 'alerts'"
  std::string bootstrap;  // bootstrap.servers (unless properties set it)
  // Applied in this order, later ones winning: Sluice's defaults, the user's properties,
  // then what the connector needs to work (e.g. transactional.id).
  std::vector<std::pair<std::string, std::string>> defaults;
  std::map<std::string, std::string> properties;
  std::vector<std::pair<std::string, std::string>> overrides;
};

// A configuration (the caller owns it until NewKafkaClient takes it). InvalidArgument naming
// the property for an unknown setting or a bad value.
absl::StatusOr<rd_kafka_conf_t*> NewKafkaConf(const KafkaSettings& settings);
// rd_kafka_new of `type` (RD_KAFKA_PRODUCER / RD_KAFKA_CONSUMER); takes `conf` in any case.
absl::StatusOr<rd_kafka_t*> NewKafkaClient(int type, rd_kafka_conf_t* conf,
                                           const std::string& what);
// The number of partitions of `topic`: Unavailable when the brokers at `bootstrap` cannot be
// reached within 10 s, NotFound when the topic does not exist.
absl::StatusOr<int> TopicPartitions(rd_kafka_t* client, const std::string& topic,
                                    const std::string& bootstrap, const std::string& what);

}  // namespace sluice::taskmanager::connectors
