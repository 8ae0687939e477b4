#include "taskmanager/connectors/kafka_client.h"

#include <librdkafka/rdkafka.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace sluice::taskmanager::connectors {
namespace {

constexpr int kMetadataTimeoutMs = 10'000;

// librdkafka's log lines go to spdlog (syslog levels: 0 emerg .. 7 debug).
void LogToSpdlog(const rd_kafka_t* rk, int level, const char* facility, const char* message) {
  const spdlog::level::level_enum spd = level <= 3   ? spdlog::level::err
                                        : level == 4 ? spdlog::level::warn
                                        : level <= 6 ? spdlog::level::info
                                                     : spdlog::level::debug;
  spdlog::log(spd, "librdkafka {} {}: {}", rd_kafka_name(rk), facility, message);
}

}  // namespace

absl::StatusOr<rd_kafka_conf_t*> NewKafkaConf(const KafkaSettings& settings) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char error[512];
  auto set = [&](const std::string& key, const std::string& value, bool user) -> absl::Status {
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), error, sizeof error) ==
        RD_KAFKA_CONF_OK) {
      return absl::OkStatus();
    }
    return absl::InvalidArgumentError(absl::StrCat(settings.what, ": ",
                                                   user ? "property '" : "setting '", key,
                                                   "': ", error));
  };
  absl::Status status;
  if (!settings.bootstrap.empty()) status = set("bootstrap.servers", settings.bootstrap, false);
  for (const auto& [key, value] : settings.defaults) {
    if (status.ok()) status = set(key, value, false);
  }
  for (const auto& [key, value] : settings.properties) {
    if (status.ok()) status = set(key, value, true);
  }
  for (const auto& [key, value] : settings.overrides) {
    if (status.ok()) status = set(key, value, false);
  }
  if (!status.ok()) {
    rd_kafka_conf_destroy(conf);
    return status;
  }
  rd_kafka_conf_set_log_cb(conf, LogToSpdlog);
  return conf;
}

absl::StatusOr<rd_kafka_t*> NewKafkaClient(int type, rd_kafka_conf_t* conf,
                                           const std::string& what) {
  char error[512];
  rd_kafka_t* client = rd_kafka_new(static_cast<rd_kafka_type_t>(type), conf, error, sizeof error);
  if (client == nullptr) {
    rd_kafka_conf_destroy(conf);  // still ours when rd_kafka_new fails
    return absl::InvalidArgumentError(absl::StrCat(what, ": cannot create a Kafka client: ", error));
  }
  return client;
}

absl::StatusOr<int> TopicPartitions(rd_kafka_t* client, const std::string& topic,
                                    const std::string& bootstrap, const std::string& what) {
  std::unique_ptr<rd_kafka_topic_t, void (*)(rd_kafka_topic_t*)> rkt(
      rd_kafka_topic_new(client, topic.c_str(), nullptr), rd_kafka_topic_destroy);
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(client, 0, rkt.get(), &md, kMetadataTimeoutMs);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::UnavailableError(absl::StrCat(what, ": cannot reach Kafka at ",
                                               bootstrap.empty() ? "(bootstrap from properties)" : bootstrap,
                                               ": ", rd_kafka_err2str(err)));
  }
  std::unique_ptr<const rd_kafka_metadata_t, void (*)(const rd_kafka_metadata_t*)> owner(
      md, rd_kafka_metadata_destroy);
  if (md->topic_cnt != 1 || md->topics[0].err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
      md->topics[0].partition_cnt == 0) {
    return absl::NotFoundError(
        absl::StrCat(what, ": topic '", topic, "' does not exist on ", bootstrap));
  }
  if (md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::UnavailableError(absl::StrCat(what, ": topic '", topic, "': ",
                                               rd_kafka_err2str(md->topics[0].err)));
  }
  return md->topics[0].partition_cnt;
}

}  // namespace sluice::taskmanager::connectors
