#include "taskmanager/connectors/kafka_sink.h"

// rdkafka.h is C; included here only.
#include <librdkafka/rdkafka.h>

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/status_macros.h"
#include "spdlog/spdlog.h"
#include "taskmanager/connectors/kafka_client.h"

namespace sluice::taskmanager::connectors {
namespace {

constexpr char kIdHeader[] = "sluice.id";
constexpr int kTransactionTimeoutMs = 60'000;  // librdkafka API calls on transactions
constexpr int kWatermarkTimeoutMs = 10'000;
// The rows a snapshot may hold: its state travels to the JobManager in one RPC
// (rpc.max_message_size, 64 MiB by default).
constexpr size_t kMaxPendingBytes = 48 << 20;

absl::StatusOr<KafkaSink::Delivery> ParseDelivery(const std::string& text) {
  if (text.empty() || text == "at_least_once") return KafkaSink::Delivery::kAtLeastOnce;
  if (text == "none") return KafkaSink::Delivery::kNone;
  if (text == "exactly_once") return KafkaSink::Delivery::kExactlyOnce;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown delivery '", text, "' (use none, at_least_once or exactly_once)"));
}

// The text of a librdkafka error object, which it frees.
std::string TakeError(rd_kafka_error_t* error) {
  std::string text = rd_kafka_error_string(error);
  rd_kafka_error_destroy(error);
  return text;
}

}  // namespace

absl::StatusOr<std::unique_ptr<KafkaSink>> KafkaSink::Create(const proto::OperatorSpec& spec) {
  const proto::KafkaSinkSpec& kafka = spec.kafka_sink();
  auto error = [&spec](absl::string_view message) {
    return absl::InvalidArgumentError(absl::StrCat("kafka sink '", spec.name(), "': ", message));
  };
  if (kafka.topic().empty()) return error("needs a topic");
  absl::StatusOr<Delivery> delivery = ParseDelivery(kafka.delivery());
  if (!delivery.ok()) return error(delivery.status().message());
  ASSIGN_OR_RETURN(types::Schema schema, types::Schema::FromProto(spec.input_schema()));
  std::vector<int> key_indexes;
  std::vector<types::Field> key_fields;
  for (const std::string& column : kafka.key_columns()) {
    std::optional<int> index = schema.IndexOf(column);
    if (!index) {
      return error(absl::StrCat("unknown key column '", column, "' (the input has ",
                                schema.ToString(), ")"));
    }
    key_indexes.push_back(*index);
    key_fields.push_back(schema.field(*index));
  }
  auto input = std::make_shared<const types::Schema>(std::move(schema));
  std::unique_ptr<KafkaSink> sink(
      new KafkaSink(spec.name(), kafka, input, *delivery, std::move(key_indexes)));
  absl::StatusOr<types::FormatOptions> format = types::ParseFormatOptions(kafka.format());
  if (!format.ok()) return error(format.status().message());
  // Registry formats register the value's (and the key's) schema under the topic's subjects.
  types::FormatOptions value_format = *format;
  value_format.subject = types::ConfluentSubject(*format, kafka.topic(), /*key=*/false);
  absl::StatusOr<std::unique_ptr<types::BatchEncoder>> values =
      types::MakeEncoder(value_format, input);
  if (!values.ok()) return error(values.status().message());
  sink->value_encoder_ = *std::move(values);
  if (!key_fields.empty()) {
    sink->key_schema_ = std::make_shared<const types::Schema>(std::move(key_fields));
    types::FormatOptions key_format = types::KeyFormatOptions(*format);
    key_format.subject = types::ConfluentSubject(key_format, kafka.topic(), /*key=*/true);
    absl::StatusOr<std::unique_ptr<types::BatchEncoder>> keys =
        types::MakeEncoder(key_format, sink->key_schema_);
    if (!keys.ok()) return error(keys.status().message());
    sink->key_encoder_ = *std::move(keys);
  }
  return sink;
}

KafkaSink::KafkaSink(std::string name, proto::KafkaSinkSpec spec, types::SchemaPtr schema,
                     Delivery delivery, std::vector<int> key_indexes)
    : name_(std::move(name)),
      spec_(std::move(spec)),
      schema_(std::move(schema)),
      delivery_(delivery),
      key_indexes_(std::move(key_indexes)) {}

KafkaSink::~KafkaSink() {
  absl::Status s = Close();
  if (!s.ok()) spdlog::warn("{}", s.ToString());
}

std::string KafkaSink::What() const { return absl::StrCat("kafka sink '", name_, "'"); }

KafkaSettings KafkaSink::Settings() const {
  KafkaSettings settings;
  settings.what = What();
  settings.bootstrap = spec_.bootstrap();
  settings.properties.insert(spec_.properties().begin(), spec_.properties().end());
  return settings;
}

absl::Status KafkaSink::Error(absl::string_view what) const {
  return absl::UnavailableError(absl::StrCat(What(), ": ", what));
}

size_t KafkaSink::pending_rows() const {
  size_t rows = current_.value_ends_size();
  for (const Records& r : pending_) rows += r.value_ends_size();
  return rows;
}

void KafkaSink::OnDelivery(rd_kafka_t*, const void* message, void* opaque) {
  const auto* m = static_cast<const rd_kafka_message_t*>(message);
  auto* sink = static_cast<KafkaSink*>(opaque);
  if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (sink->delivery_error_.empty()) sink->delivery_error_ = rd_kafka_err2str(m->err);
    return;
  }
  // Whatever this writer sends later lands after this message.
  if (m->partition >= 0 && static_cast<size_t>(m->partition) < sink->scan_from_.size()) {
    int64_t& from = sink->scan_from_[m->partition];
    from = std::max(from, m->offset + 1);
  }
}

absl::Status KafkaSink::CheckDeliveries() {
  if (delivery_error_.empty()) return absl::OkStatus();
  return Error(absl::StrCat("delivery to topic '", spec_.topic(), "' failed: ", delivery_error_));
}

absl::StatusOr<rd_kafka_t*> KafkaSink::NewProducer(const std::string& transactional_id) {
  KafkaSettings settings = Settings();
  settings.defaults = {{"partitioner", "murmur2_random"}, {"client.id", "sluice"}};
  if (delivery_ != Delivery::kNone) settings.defaults.emplace_back("enable.idempotence", "true");
  if (!transactional_id.empty()) settings.overrides = {{"transactional.id", transactional_id}};
  ASSIGN_OR_RETURN(rd_kafka_conf_t* conf, NewKafkaConf(settings));
  rd_kafka_conf_set_dr_msg_cb(conf, [](rd_kafka_t* rk, const rd_kafka_message_t* m, void* opaque) {
    OnDelivery(rk, m, opaque);
  });
  rd_kafka_conf_set_opaque(conf, this);
  return NewKafkaClient(RD_KAFKA_PRODUCER, conf, settings.what);
}

absl::Status KafkaSink::Open(const OperatorContext& ctx) {
  canceled_ = ctx.canceled;
  const std::string prefix =
      spec_.transactional_id_prefix().empty() ? name_ : spec_.transactional_id_prefix();
  writer_ = absl::StrCat(prefix, "-", ctx.subtask);
  ASSIGN_OR_RETURN(producer_,
                   NewProducer(delivery_ == Delivery::kExactlyOnce ? writer_ : std::string()));
  ASSIGN_OR_RETURN(const int partitions,
                   TopicPartitions(producer_, spec_.topic(), spec_.bootstrap(),
                                   What()));
  topic_ = rd_kafka_topic_new(producer_, spec_.topic().c_str(), nullptr);
  if (topic_ == nullptr) {
    return Error(absl::StrCat("topic '", spec_.topic(), "': ",
                              rd_kafka_err2str(rd_kafka_last_error())));
  }
  if (delivery_ != Delivery::kExactlyOnce) return absl::OkStatus();
  // Nothing this writer sends from now on can be before today's ends of the partitions.
  scan_from_.assign(partitions, 0);
  for (int p = 0; p < partitions; ++p) {
    int64_t low = 0, high = 0;
    rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
        producer_, spec_.topic().c_str(), p, &low, &high, kWatermarkTimeoutMs);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Error(absl::StrCat("reading the end of topic '", spec_.topic(), "' partition ", p,
                                ": ", rd_kafka_err2str(err)));
    }
    scan_from_[p] = high;
  }
  // Fences an earlier producer with the same id: its open transaction is aborted.
  if (rd_kafka_error_t* e = rd_kafka_init_transactions(producer_, kTransactionTimeoutMs)) {
    return Error(absl::StrCat("initializing transactions (transactional.id ", writer_,
                              "): ", TakeError(e)));
  }
  return absl::OkStatus();
}

absl::Status KafkaSink::Fence(const std::string& transactional_id) {
  ASSIGN_OR_RETURN(rd_kafka_t * producer, NewProducer(transactional_id));
  rd_kafka_error_t* e = rd_kafka_init_transactions(producer, kTransactionTimeoutMs);
  rd_kafka_destroy(producer);
  if (e != nullptr) {
    return Error(absl::StrCat("aborting the transactions of ", transactional_id, ": ",
                              TakeError(e)));
  }
  return absl::OkStatus();
}

absl::Status KafkaSink::InitializeState(StateInitContext& ctx) {
  if (delivery_ != Delivery::kExactlyOnce || !ctx.restored) return absl::OkStatus();
  std::vector<proto::KafkaSinkState> states;
  std::vector<std::string> writers;
  std::vector<int64_t> scan_from;  // per partition: the earliest position of any writer
  bool any_pending = false;
  last_checkpoint_ = ctx.checkpoint_id;
  for (const std::string& blob : ctx.operator_state) {
    if (blob.empty()) continue;
    proto::KafkaSinkState state;
    if (!state.ParseFromString(blob)) {
      return absl::DataLossError(
          absl::StrCat(What(), ": malformed state in the checkpoint"));
    }
    if (state.writer() != writer_) RETURN_IF_ERROR(Fence(state.writer()));
    writers.push_back(state.writer());
    any_pending |= state.pending_size() > 0;
    // A partition some writer has no position for (added after it started) is read from
    // its beginning: that writer may have written anywhere in it.
    if (states.empty()) {
      scan_from.assign(state.scan_from().begin(), state.scan_from().end());
    } else if (state.scan_from_size() < static_cast<int>(scan_from.size())) {
      scan_from.resize(state.scan_from_size());
    }
    for (int p = 0; p < static_cast<int>(scan_from.size()); ++p) {
      scan_from[p] = std::min(scan_from[p], state.scan_from(p));
    }
    states.push_back(std::move(state));
  }
  if (!any_pending) return absl::OkStatus();  // nothing was left uncommitted
  // Rows whose transaction committed before the failure are in the topic already.
  ASSIGN_OR_RETURN(absl::flat_hash_set<std::string> committed, CommittedIds(writers, scan_from));
  std::vector<std::pair<std::string, const Records*>> batches;
  for (const proto::KafkaSinkState& state : states) {
    for (const Records& r : state.pending()) batches.emplace_back(state.writer(), &r);
  }
  spdlog::info("kafka sink '{}': restoring {} uncommitted checkpoint(s) of {}; {} of their "
               "messages were committed before the failure",
               name_, batches.size(), absl::StrJoin(writers, ", "), committed.size());
  return CommitInTransaction(batches, &committed);
}

absl::StatusOr<absl::flat_hash_set<std::string>> KafkaSink::CommittedIds(
    const std::vector<std::string>& writers, const std::vector<int64_t>& scan_from) {
  KafkaSettings settings = Settings();
  settings.overrides = {{"isolation.level", "read_committed"},
                        {"enable.partition.eof", "true"},
                        {"enable.auto.commit", "false"},
                        {"auto.offset.reset", "earliest"},  // positions lost to retention
                        {"group.id", absl::StrCat(writer_, "-restore-scan")}};
  ASSIGN_OR_RETURN(rd_kafka_conf_t* conf, NewKafkaConf(settings));
  ASSIGN_OR_RETURN(rd_kafka_t * consumer, NewKafkaClient(RD_KAFKA_CONSUMER, conf, settings.what));
  std::unique_ptr<rd_kafka_t, void (*)(rd_kafka_t*)> owner(consumer, [](rd_kafka_t* rk) {
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
  });
  ASSIGN_OR_RETURN(int partitions, TopicPartitions(consumer, spec_.topic(), spec_.bootstrap(),
                                                   settings.what));
  // Partitions added since the writers started are read from their beginning. Each is read
  // up to its high watermark now: the writers were fenced, so their transactions are over (or
  // end soon), and with read_committed the end of a partition is reported at its last stable
  // offset, which an open transaction of another producer can still hold back.
  std::unique_ptr<rd_kafka_topic_partition_list_t,
                  void (*)(rd_kafka_topic_partition_list_t*)>
      assign(rd_kafka_topic_partition_list_new(partitions), rd_kafka_topic_partition_list_destroy);
  std::vector<int64_t> end(partitions, 0);
  for (int p = 0; p < partitions; ++p) {
    int64_t low = 0;
    if (rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
            consumer, spec_.topic().c_str(), p, &low, &end[p], kWatermarkTimeoutMs)) {
      return Error(absl::StrCat("reading the end of topic '", spec_.topic(), "' partition ", p,
                                ": ", rd_kafka_err2str(err)));
    }
    const int64_t from = p < static_cast<int>(scan_from.size()) ? scan_from[p] : 0;
    if (from >= end[p]) continue;  // nothing written there since
    rd_kafka_topic_partition_list_add(assign.get(), spec_.topic().c_str(), p)->offset =
        p < static_cast<int>(scan_from.size()) ? from : RD_KAFKA_OFFSET_BEGINNING;
  }
  absl::flat_hash_set<std::string> ids;
  if (assign->cnt == 0) return ids;
  if (rd_kafka_resp_err_t err = rd_kafka_assign(consumer, assign.get())) {
    return Error(absl::StrCat("reading topic '", spec_.topic(), "': ", rd_kafka_err2str(err)));
  }
  std::vector<bool> reading(partitions, false);
  int open = 0;
  for (int i = 0; i < assign->cnt; ++i) {
    reading[assign->elems[i].partition] = true;
    ++open;
  }
  const absl::Time deadline = absl::Now() + absl::Minutes(5);
  while (open > 0) {
    if (canceled_ != nullptr && canceled_->load()) return absl::CancelledError("task canceled");
    if (absl::Now() > deadline) {
      return Error(absl::StrCat("reading back topic '", spec_.topic(),
                                "' to restore took more than 5 minutes"));
    }
    rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer, 100);
    if (m == nullptr) continue;
    std::unique_ptr<rd_kafka_message_t, void (*)(rd_kafka_message_t*)> message(
        m, rd_kafka_message_destroy);
    const bool ours = m->rkt != nullptr && m->partition >= 0 && m->partition < partitions &&
                      reading[m->partition];
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      // Reported again whenever the end moves; done once past the end taken above.
      if (ours && m->offset >= end[m->partition]) {
        reading[m->partition] = false;
        --open;
      }
      continue;
    }
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      // Broker-level errors (a broker down) are retried by librdkafka.
      if (m->rkt == nullptr || m->err == RD_KAFKA_RESP_ERR__TRANSPORT ||
          m->err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
        continue;
      }
      return Error(absl::StrCat("reading back topic '", spec_.topic(), "': ",
                                rd_kafka_message_errstr(m)));
    }
    if (ours && m->offset + 1 >= end[m->partition]) {
      reading[m->partition] = false;
      --open;
    }
    rd_kafka_headers_t* headers = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    if (rd_kafka_message_headers(m, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        rd_kafka_header_get_last(headers, kIdHeader, &value, &size) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      continue;
    }
    absl::string_view id(static_cast<const char*>(value), size);
    for (const std::string& writer : writers) {
      if (absl::StartsWith(id, writer) && id.size() > writer.size() && id[writer.size()] == '/') {
        ids.insert(std::string(id));
        break;
      }
    }
  }
  return ids;
}

absl::Status KafkaSink::Produce(absl::string_view key, bool has_key, absl::string_view value,
                                absl::string_view id) {
  rd_kafka_vu_t vu[5];
  size_t n = 0;
  vu[n].vtype = RD_KAFKA_VTYPE_RKT;  // a handle, not a lookup by name per message
  vu[n++].u.rkt = topic_;
  vu[n].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
  vu[n++].u.i = RD_KAFKA_MSG_F_COPY;
  vu[n].vtype = RD_KAFKA_VTYPE_VALUE;
  vu[n].u.mem.ptr = const_cast<char*>(value.data());
  vu[n++].u.mem.size = value.size();
  if (has_key) {
    vu[n].vtype = RD_KAFKA_VTYPE_KEY;
    vu[n].u.mem.ptr = const_cast<char*>(key.data());
    vu[n++].u.mem.size = key.size();
  }
  if (!id.empty()) {
    vu[n].vtype = RD_KAFKA_VTYPE_HEADER;
    vu[n].u.header.name = kIdHeader;
    vu[n].u.header.val = id.data();
    vu[n++].u.header.size = static_cast<ssize_t>(id.size());
  }
  while (true) {
    rd_kafka_error_t* e = rd_kafka_produceva(producer_, vu, n);
    if (e == nullptr) return absl::OkStatus();
    if (rd_kafka_error_code(e) != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      return Error(absl::StrCat("producing to topic '", spec_.topic(), "': ", TakeError(e)));
    }
    rd_kafka_error_destroy(e);
    RETURN_IF_ERROR(WaitForRoom());
  }
}

absl::Status KafkaSink::WaitForRoom() {
  // librdkafka's queue is full (the broker is slower than we are): backpressure.
  if (canceled_ != nullptr && canceled_->load()) return absl::CancelledError("task canceled");
  rd_kafka_poll(producer_, 50);
  return CheckDeliveries();
}

absl::Status KafkaSink::Encode(const types::RecordBatch& batch) {
  values_.clear();
  value_ends_.clear();
  value_encoder_->EncodeBatch(batch, &values_, &value_ends_);
  keys_.clear();
  key_ends_.clear();
  if (key_encoder_ == nullptr) return absl::OkStatus();
  types::RecordBatch keys(key_schema_);
  for (size_t k = 0; k < key_indexes_.size(); ++k) {
    keys.mutable_column(k) = batch.column(key_indexes_[k]);
  }
  keys.SetNumRows(batch.num_rows());
  key_encoder_->EncodeBatch(keys, &keys_, &key_ends_);
  return absl::OkStatus();
}

absl::Status KafkaSink::ProcessBatch(int, types::RecordBatch& batch, Collector&) {
  if (batch.num_rows() == 0) return absl::OkStatus();
  RETURN_IF_ERROR(Encode(batch));
  const bool has_key = key_encoder_ != nullptr;
  if (delivery_ != Delivery::kExactlyOnce) batch_messages_.clear();
  size_t value_start = 0, key_start = 0;
  for (size_t r = 0; r < value_ends_.size(); ++r) {
    absl::string_view value(values_.data() + value_start, value_ends_[r] - value_start);
    absl::string_view key;
    if (has_key) key = absl::string_view(keys_.data() + key_start, key_ends_[r] - key_start);
    // The next record starts after this one's newline, if the format ends records with one.
    value_start = value_ends_[r] + (value_encoder_->newline_terminated() ? 1 : 0);
    if (has_key) key_start = key_ends_[r] + (key_encoder_->newline_terminated() ? 1 : 0);
    if (delivery_ == Delivery::kExactlyOnce) {  // kept until its checkpoint completes
      current_.mutable_values()->append(value.data(), value.size());
      current_.add_value_ends(static_cast<uint32_t>(current_.values().size()));
      if (has_key) {
        current_.mutable_keys()->append(key.data(), key.size());
        current_.add_key_ends(static_cast<uint32_t>(current_.keys().size()));
      }
      continue;
    }
    rd_kafka_message_t& m = batch_messages_.emplace_back();
    m = rd_kafka_message_t{};
    m.partition = RD_KAFKA_PARTITION_UA;
    m.payload = const_cast<char*>(value.data());
    m.len = value.size();
    if (has_key) {
      m.key = const_cast<char*>(key.data());
      m.key_len = key.size();
    }
  }
  if (delivery_ == Delivery::kExactlyOnce) return absl::OkStatus();
  RETURN_IF_ERROR(ProduceBatch());
  rd_kafka_poll(producer_, 0);  // delivery reports
  return CheckDeliveries();
}

absl::Status KafkaSink::ProduceBatch() {
  size_t next = 0;  // the first message not queued yet
  while (next < batch_messages_.size()) {
    const int count = static_cast<int>(batch_messages_.size() - next);
    const int queued = rd_kafka_produce_batch(topic_, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY,
                                              &batch_messages_[next], count);
    if (queued == count) return absl::OkStatus();
    // The messages before the first failure are queued; a full queue fails it and every
    // message after it.
    while (next < batch_messages_.size() &&
           batch_messages_[next].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      ++next;
    }
    const rd_kafka_resp_err_t err = batch_messages_[next].err;
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      return Error(absl::StrCat("producing to topic '", spec_.topic(), "': ", rd_kafka_err2str(err)));
    }
    RETURN_IF_ERROR(WaitForRoom());
  }
  return absl::OkStatus();
}

absl::Status KafkaSink::ProduceRecords(const std::string& writer, const Records& records,
                                       const absl::flat_hash_set<std::string>* skip) {
  const bool has_key = records.key_ends_size() > 0;
  uint32_t value_start = 0, key_start = 0;
  std::string id;
  for (int i = 0; i < records.value_ends_size(); ++i) {
    absl::string_view value(records.values().data() + value_start,
                            records.value_ends(i) - value_start);
    absl::string_view key;
    if (has_key) {
      key = absl::string_view(records.keys().data() + key_start, records.key_ends(i) - key_start);
      key_start = records.key_ends(i);
    }
    value_start = records.value_ends(i);
    id = absl::StrCat(writer, "/", records.checkpoint_id(), "/", i);
    if (skip != nullptr && skip->contains(id)) continue;
    RETURN_IF_ERROR(Produce(key, has_key, value, id));
  }
  return absl::OkStatus();
}

absl::Status KafkaSink::CommitInTransaction(
    const std::vector<std::pair<std::string, const Records*>>& batches,
    const absl::flat_hash_set<std::string>* skip) {
  int64_t rows = 0, newest = 0;
  for (const auto& [writer, records] : batches) {
    rows += records->value_ends_size();
    newest = std::max(newest, records->checkpoint_id());
  }
  if (rows == 0) return absl::OkStatus();
  if (rd_kafka_error_t* e = rd_kafka_begin_transaction(producer_)) {
    return Error(absl::StrCat("beginning a transaction: ", TakeError(e)));
  }
  for (const auto& [writer, records] : batches) {
    absl::Status s = ProduceRecords(writer, *records, skip);
    if (!s.ok()) {
      rd_kafka_error_t* abort = rd_kafka_abort_transaction(producer_, kTransactionTimeoutMs);
      if (abort != nullptr) rd_kafka_error_destroy(abort);
      return s;
    }
  }
  // Waits for every message of the transaction, then commits it.
  if (rd_kafka_error_t* e = rd_kafka_commit_transaction(producer_, kTransactionTimeoutMs)) {
    const bool abortable = rd_kafka_error_txn_requires_abort(e);
    std::string text = TakeError(e);
    if (abortable) {
      rd_kafka_error_t* abort = rd_kafka_abort_transaction(producer_, kTransactionTimeoutMs);
      if (abort != nullptr) rd_kafka_error_destroy(abort);
    }
    return Error(absl::StrCat("committing the transaction of checkpoint ", newest, " to topic '",
                              spec_.topic(), "': ", text));
  }
  return CheckDeliveries();
}

absl::Status KafkaSink::Flush() {
  while (rd_kafka_outq_len(producer_) > 0) {
    if (canceled_ != nullptr && canceled_->load()) return absl::CancelledError("task canceled");
    rd_kafka_flush(producer_, 100);
    RETURN_IF_ERROR(CheckDeliveries());
  }
  return CheckDeliveries();
}

absl::StatusOr<std::string> KafkaSink::SnapshotState(int64_t checkpoint_id) {
  switch (delivery_) {
    case Delivery::kNone:
      rd_kafka_poll(producer_, 0);
      RETURN_IF_ERROR(CheckDeliveries());
      return std::string();
    case Delivery::kAtLeastOnce:
      RETURN_IF_ERROR(Flush());
      return std::string();
    case Delivery::kExactlyOnce:
      break;
  }
  last_checkpoint_ = checkpoint_id;
  current_.set_checkpoint_id(checkpoint_id);
  if (current_.value_ends_size() > 0) pending_.push_back(std::move(current_));
  current_.Clear();
  size_t bytes = 0;
  for (const Records& r : pending_) bytes += r.values().size() + r.keys().size();
  if (bytes > kMaxPendingBytes) {
    // Declines the checkpoint; the rows stay pending for a later one.
    return absl::ResourceExhaustedError(absl::StrCat(
        "kafka sink '", name_, "': ", bytes >> 20, " MiB of rows wait for their checkpoint to "
        "complete, more than a checkpoint can hold (", kMaxPendingBytes >> 20,
        " MiB): shorten checkpointing.interval or use delivery: at_least_once"));
  }
  proto::KafkaSinkState state;
  state.set_writer(writer_);
  for (const Records& r : pending_) *state.add_pending() = r;
  for (int64_t from : scan_from_) state.add_scan_from(from);
  return state.SerializeAsString();
}

absl::Status KafkaSink::NotifyCheckpointComplete(int64_t checkpoint_id) {
  if (delivery_ != Delivery::kExactlyOnce) return absl::OkStatus();
  auto done = std::partition(pending_.begin(), pending_.end(), [checkpoint_id](const Records& r) {
    return r.checkpoint_id() <= checkpoint_id;
  });
  std::vector<std::pair<std::string, const Records*>> batches;
  for (auto it = pending_.begin(); it != done; ++it) batches.emplace_back(writer_, &*it);
  RETURN_IF_ERROR(CommitInTransaction(batches, nullptr));
  pending_.erase(pending_.begin(), done);
  return absl::OkStatus();
}

absl::Status KafkaSink::Finish(Collector&) {
  if (delivery_ != Delivery::kExactlyOnce) return Flush();
  // The end of a bounded input: what is left is committed now (as the file sink does), its
  // ids numbered as if by the next checkpoint.
  current_.set_checkpoint_id(last_checkpoint_ + 1);
  std::vector<std::pair<std::string, const Records*>> batches;
  for (const Records& r : pending_) batches.emplace_back(writer_, &r);
  batches.emplace_back(writer_, &current_);
  RETURN_IF_ERROR(CommitInTransaction(batches, nullptr));
  pending_.clear();
  current_.Clear();
  return absl::OkStatus();
}

absl::Status KafkaSink::Close() {
  if (producer_ == nullptr) return absl::OkStatus();
  // Whatever was not delivered by now is given up (a failure or cancellation: the restored
  // job writes it again).
  rd_kafka_purge(producer_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  if (topic_ != nullptr) rd_kafka_topic_destroy(topic_);
  topic_ = nullptr;
  rd_kafka_destroy(producer_);
  producer_ = nullptr;
  return absl::OkStatus();
}

}  // namespace sluice::taskmanager::connectors
