#include "taskmanager/connectors/kafka_source.h"

#include <algorithm>
#include <iterator>
#include <regex>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "librdkafka/rdkafka.h"
#include "proto/checkpoint.pb.h"
#include "spdlog/spdlog.h"
#include "taskmanager/connectors/kafka_client.h"
#include "taskmanager/connectors/schema_util.h"

namespace sluice::taskmanager::connectors {
namespace {

constexpr int64_t kLoggedMessageErrors = 20;

// Owns an rd_kafka_topic_partition_list_t.
struct PartitionList {
  explicit PartitionList(int size) : list(rd_kafka_topic_partition_list_new(size)) {}
  ~PartitionList() { rd_kafka_topic_partition_list_destroy(list); }
  PartitionList(const PartitionList&) = delete;
  PartitionList& operator=(const PartitionList&) = delete;
  rd_kafka_topic_partition_list_t* list;
};

void LogCommitResult(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                     rd_kafka_topic_partition_list_t* offsets, void* opaque) {
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__NO_OFFSET) {
    spdlog::warn("{}: committing offsets to the group failed: {}", rd_kafka_name(rk),
                 rd_kafka_err2str(err));
  }
}

}  // namespace

int KafkaPartitionOwner(absl::string_view topic, int partition, int parallelism) {
  int32_t hash = 0;  // Java's String.hashCode, with its int overflow
  for (unsigned char c : topic) hash = static_cast<int32_t>(31u * static_cast<uint32_t>(hash) + c);
  const int32_t start =
      static_cast<int32_t>((static_cast<uint32_t>(hash) * 31u) & 0x7fffffffu) % parallelism;
  return (start + partition) % parallelism;
}

absl::StatusOr<std::unique_ptr<KafkaSource>> KafkaSource::Create(const proto::OperatorSpec& spec,
                                                                 Options options) {
  auto prefix = [&](const absl::Status& s) {
    return absl::Status(s.code(), absl::StrCat("kafka source '", spec.name(), "': ", s.message()));
  };
  const proto::KafkaSourceSpec& kafka = spec.kafka_source();
  if (kafka.topics().empty() && kafka.topic_pattern().empty()) {
    return prefix(absl::InvalidArgumentError("no topic (topics or topic_pattern)"));
  }
  if (kafka.bootstrap().empty()) return prefix(absl::InvalidArgumentError("no bootstrap"));
  if (!kafka.topic_pattern().empty()) {
    try {
      std::regex check(kafka.topic_pattern());
    } catch (const std::regex_error& e) {
      return prefix(absl::InvalidArgumentError(
          absl::StrCat("topic_pattern '", kafka.topic_pattern(), "' is not a valid regular expression: ", e.what())));
    }
  }
  auto bad = BadRecords::Create(kafka.on_error(), kafka.dead_letter(),
                                absl::StrCat("kafka source '", spec.name(), "'"));
  if (!bad.ok()) return bad.status();
  auto format = types::ParseFormatOptions(kafka.format());
  if (!format.ok()) return prefix(format.status());
  auto schema = SchemaOf(spec.output_schema());
  if (!schema.ok()) return prefix(schema.status());
  auto decoder = types::MakeDecoder(*format, *schema);
  if (!decoder.ok()) return prefix(decoder.status());
  return std::unique_ptr<KafkaSource>(new KafkaSource(spec, *std::move(bad), *std::move(format),
                                                      *std::move(schema), *std::move(decoder),
                                                      options));
}

KafkaSource::KafkaSource(const proto::OperatorSpec& spec, std::unique_ptr<BadRecords> bad,
                         types::FormatOptions format, types::SchemaPtr schema,
                         std::unique_ptr<types::BatchDecoder> decoder, Options options)
    : name_(spec.name()),
      spec_(spec.kafka_source()),
      bad_(std::move(bad)),
      format_(std::move(format)),
      schema_(std::move(schema)),
      options_(options),
      decoder_(std::move(decoder)),
      bounded_(spec.kafka_source().stop_at() == "latest"),
      batch_(schema_) {}

KafkaSource::~KafkaSource() { Close().IgnoreError(); }

std::string KafkaSource::Prefix() const { return absl::StrCat("kafka source '", name_, "': "); }

absl::Status KafkaSource::Error(absl::StatusCode code, absl::string_view message) const {
  return absl::Status(code, absl::StrCat(Prefix(), message));
}

absl::Status KafkaSource::Open(const OperatorContext& ctx) {
  clock_ = ctx.clock != nullptr ? ctx.clock : SystemClock::Get();
  subtask_ = ctx.subtask;
  parallelism_ = ctx.parallelism;
  RETURN_IF_ERROR(bad_->Open(name_, subtask_));
  KafkaSettings settings;
  settings.what = absl::StrCat("kafka source '", name_, "'");
  settings.bootstrap = spec_.bootstrap();
  settings.defaults = {
      {"client.id", absl::StrCat("sluice-", name_, "-", subtask_)},
      // Offsets are Sluice's (checkpointed); the group only sees commits of completed
      // checkpoints.
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      // An offset that fell out of retention restarts at the earliest one kept.
      {"auto.offset.reset", "earliest"},
      // librdkafka's consumer needs a group.id even for assign(); without `group` one of
      // Sluice's own is used, never joined (no subscribe) and never committed to.
      {"group.id", spec_.group().empty()
                       ? absl::StrCat("sluice-", ctx.job_name.empty() ? "job" : ctx.job_name, "-",
                                      name_)
                       : spec_.group()},
      // librdkafka 2.0 stops fetching while more than queued.min.messages (default 100 000)
      // wait in the consumer's queue, and nothing wakes its fetcher when the task drains them:
      // it fetches again after up to a second (librdkafka issue #2879, fixed by
      // fetch.queue.backoff.ms in 2.2). A task faster than 100 000 records/s then starves
      // for most of each second. 500 000 ran as fast as a million in bench/kafka_bench at
      // half the memory when a job lags (~370 bytes a queued message); bytes stay capped by
      // queued.max.messages.kbytes (64 MiB). See docs/kafka.md "Polling and the consumer queue".
      {"queued.min.messages", "500000"}};
  // A bounded source learns where partitions end even when no record sits at the end offset
  // (a transaction marker does, on topics written transactionally).
  if (bounded_) settings.defaults.emplace_back("enable.partition.eof", "true");
  settings.properties.insert(spec_.properties().begin(), spec_.properties().end());
  ASSIGN_OR_RETURN(rd_kafka_conf_t* conf, NewKafkaConf(settings));
  rd_kafka_conf_set_offset_commit_cb(conf, LogCommitResult);
  ASSIGN_OR_RETURN(consumer_, NewKafkaClient(RD_KAFKA_CONSUMER, conf, settings.what));
  // Every event (errors, commit results) arrives with the messages on the consumer's queue,
  // which PollNext drains a batch at a time (rd_kafka_consume_batch_queue: one clock read and
  // poll bookkeeping per batch instead of per message as with rd_kafka_consumer_poll).
  rd_kafka_poll_set_consumer(consumer_);
  queue_ = rd_kafka_queue_get_consumer(consumer_);
  wake_up_ = ctx.wake_up;
  if (wake_up_) {
    // Called by librdkafka's threads when the queue goes from empty to not empty.
    rd_kafka_queue_cb_event_enable(
        queue_, [](rd_kafka_t*, void* source) { static_cast<KafkaSource*>(source)->wake_up_(); },
        this);
  }
  // Fail early (in Open) on an unreachable bootstrap or a missing topic.
  ASSIGN_OR_RETURN(std::vector<PartitionKey> owned, OwnedPartitions(/*first=*/true));
  (void)owned;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<KafkaSource::PartitionKey>> KafkaSource::OwnedPartitions(bool first) {
  const rd_kafka_metadata_t* metadata = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(consumer_, /*all_topics=*/1, nullptr, &metadata,
                                              static_cast<int>(options_.metadata_timeout_ms));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Error(absl::StatusCode::kUnavailable,
                 absl::StrCat("cannot read the topics' metadata from bootstrap ",
                              spec_.bootstrap(), " within ", options_.metadata_timeout_ms,
                              " ms: ", rd_kafka_err2str(err)));
  }
  std::vector<PartitionKey> owned;
  auto add_topic = [&](const rd_kafka_metadata_topic_t& t) {
    for (int p = 0; p < t.partition_cnt; ++p) {
      const int32_t id = t.partitions[p].id;
      if (KafkaPartitionOwner(t.topic, id, parallelism_) == subtask_) owned.emplace_back(t.topic, id);
    }
  };
  auto usable = [](const rd_kafka_metadata_topic_t& t) {
    return t.err != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART && t.partition_cnt > 0;
  };
  absl::Status missing;
  if (!spec_.topic_pattern().empty()) {
    const std::regex pattern(spec_.topic_pattern());
    for (int i = 0; i < metadata->topic_cnt; ++i) {
      const rd_kafka_metadata_topic_t& t = metadata->topics[i];
      if (usable(t) && std::regex_match(t.topic, pattern)) add_topic(t);
    }
  } else {
    for (const std::string& topic : spec_.topics()) {
      const rd_kafka_metadata_topic_t* found = nullptr;
      for (int i = 0; i < metadata->topic_cnt; ++i) {
        if (topic == metadata->topics[i].topic && usable(metadata->topics[i])) {
          found = &metadata->topics[i];
        }
      }
      if (found != nullptr) {
        add_topic(*found);
      } else if (first) {
        missing = Error(absl::StatusCode::kNotFound,
                        absl::StrCat("topic '", topic, "' does not exist on bootstrap ",
                                     spec_.bootstrap()));
        break;
      }
    }
  }
  rd_kafka_metadata_destroy(metadata);
  if (!missing.ok()) return missing;
  std::sort(owned.begin(), owned.end());
  return owned;
}

absl::Status KafkaSource::InitializeState(StateInitContext& ctx) {
  restored_ = ctx.restored;
  for (const std::string& blob : ctx.operator_state) {
    proto::KafkaSourceState state;
    if (!state.ParseFromString(blob)) {
      return Error(absl::StatusCode::kDataLoss, "its checkpointed offsets are corrupt");
    }
    for (const auto& p : state.partitions()) {
      restored_offsets_[PartitionKey(p.topic(), p.partition())] = p.next_offset();
    }
  }
  return absl::OkStatus();
}

absl::Status KafkaSource::AddPartitions(const std::vector<PartitionKey>& keys, bool initial) {
  std::vector<Partition> fresh;
  std::vector<Partition> unresolved;
  for (const PartitionKey& key : keys) {
    if (index_.contains(key)) continue;
    Partition p;
    p.topic = key.first;
    p.partition = key.second;
    if (auto it = restored_offsets_.find(key); it != restored_offsets_.end()) {
      p.next_offset = it->second;
      fresh.push_back(std::move(p));
    } else if (!initial || restored_) {
      // A partition that appeared after the job started: all of it is new data.
      p.next_offset = RD_KAFKA_OFFSET_BEGINNING;
      fresh.push_back(std::move(p));
    } else {
      unresolved.push_back(std::move(p));
    }
  }
  RETURN_IF_ERROR(ResolveStartOffsets(&unresolved));
  for (Partition& p : unresolved) fresh.push_back(std::move(p));
  if (fresh.empty() && assigned_) return absl::OkStatus();
  for (Partition& p : fresh) {
    if (initial && bounded_) {
      int64_t low = 0, high = 0;
      rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
          consumer_, p.topic.c_str(), p.partition, &low, &high,
          static_cast<int>(options_.metadata_timeout_ms));
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return Error(absl::StatusCode::kUnavailable,
                     absl::StrCat("cannot read the end offset of topic ", p.topic, " partition ",
                                  p.partition, ": ", rd_kafka_err2str(err)));
      }
      p.stop_offset = high;
      if (p.next_offset < 0 && high == low) p.next_offset = high;  // empty: nothing to read
    }
    spdlog::info("{}subtask {} reads topic {} partition {} from offset {}", Prefix(), subtask_,
                 p.topic, p.partition, p.next_offset);
    index_[PartitionKey(p.topic, p.partition)] = partitions_.size();
    partitions_.push_back(std::move(p));
  }
  return Reassign();
}

absl::Status KafkaSource::ResolveStartOffsets(std::vector<Partition>* fresh) {
  if (fresh->empty()) return absl::OkStatus();
  const std::string& start = spec_.start();
  const int timeout = static_cast<int>(options_.metadata_timeout_ms);
  if (start.empty() || start == "earliest") {
    for (Partition& p : *fresh) p.next_offset = RD_KAFKA_OFFSET_BEGINNING;
    return absl::OkStatus();
  }
  auto end_offset = [&](const Partition& p) -> absl::StatusOr<int64_t> {
    int64_t low = 0, high = 0;
    rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(consumer_, p.topic.c_str(),
                                                               p.partition, &low, &high, timeout);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Error(absl::StatusCode::kUnavailable,
                   absl::StrCat("cannot read the end offset of topic ", p.topic, " partition ",
                                p.partition, ": ", rd_kafka_err2str(err)));
    }
    return high;
  };
  if (start == "latest") {
    for (Partition& p : *fresh) {
      ASSIGN_OR_RETURN(p.next_offset, end_offset(p));
    }
    return absl::OkStatus();
  }
  PartitionList list(static_cast<int>(fresh->size()));
  for (const Partition& p : *fresh) {
    rd_kafka_topic_partition_t* tp =
        rd_kafka_topic_partition_list_add(list.list, p.topic.c_str(), p.partition);
    if (start == "timestamp") tp->offset = spec_.start_timestamp_ms();
  }
  rd_kafka_resp_err_t err = start == "group"
                                ? rd_kafka_committed(consumer_, list.list, timeout)
                                : rd_kafka_offsets_for_times(consumer_, list.list, timeout);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Error(absl::StatusCode::kUnavailable,
                 absl::StrCat("cannot read the ",
                              start == "group" ? absl::StrCat("committed offsets of group '", spec_.group(), "'")
                                               : std::string("offsets for the start timestamp"),
                              ": ", rd_kafka_err2str(err)));
  }
  for (size_t i = 0; i < fresh->size(); ++i) {
    Partition& p = (*fresh)[i];
    const rd_kafka_topic_partition_t& tp = list.list->elems[i];
    if (tp.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Error(absl::StatusCode::kUnavailable,
                   absl::StrCat("cannot resolve the start offset of topic ", p.topic,
                                " partition ", p.partition, ": ", rd_kafka_err2str(tp.err)));
    }
    if (tp.offset >= 0) {
      p.next_offset = tp.offset;
    } else if (start == "group") {
      p.next_offset = RD_KAFKA_OFFSET_BEGINNING;  // the group has no offset for it yet
    } else {
      ASSIGN_OR_RETURN(p.next_offset, end_offset(p));  // no record at or after the timestamp
    }
  }
  return absl::OkStatus();
}

absl::Status KafkaSource::Reassign() {
  PartitionList list(static_cast<int>(partitions_.size()));
  for (const Partition& p : partitions_) {
    if (p.done()) continue;
    rd_kafka_topic_partition_list_add(list.list, p.topic.c_str(), p.partition)->offset =
        p.next_offset;
  }
  rd_kafka_resp_err_t err = rd_kafka_assign(consumer_, list.list);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Error(absl::StatusCode::kInternal,
                 absl::StrCat("cannot assign its partitions: ", rd_kafka_err2str(err)));
  }
  assigned_ = true;
  return absl::OkStatus();
}

bool KafkaSource::AllDone() const {
  return std::all_of(partitions_.begin(), partitions_.end(),
                     [](const Partition& p) { return p.done(); });
}

absl::StatusOr<SourcePoll> KafkaSource::PollNext(Collector& out) {
  if (!assigned_) {
    ASSIGN_OR_RETURN(std::vector<PartitionKey> owned, OwnedPartitions(/*first=*/true));
    RETURN_IF_ERROR(AddPartitions(owned, /*initial=*/true));
    next_discovery_ms_ = clock_->NowMillis() + spec_.discovery_interval_ms();
  } else if (!bounded_ && spec_.discovery_interval_ms() > 0 &&
             clock_->NowMillis() >= next_discovery_ms_) {
    next_discovery_ms_ = clock_->NowMillis() + spec_.discovery_interval_ms();
    absl::StatusOr<std::vector<PartitionKey>> owned = OwnedPartitions(/*first=*/false);
    if (owned.ok()) {
      RETURN_IF_ERROR(AddPartitions(*owned, /*initial=*/false));
    } else {
      spdlog::warn("{}partition discovery failed (retrying in {} ms): {}", Prefix(),
                   spec_.discovery_interval_ms(), std::string(owned.status().message()));
    }
  }
  if (bounded_ && AllDone()) return SourcePoll::kEnd;

  std::vector<rd_kafka_message_t*>& messages = messages_;  // reused: no allocation per poll
  auto release = [&messages] {
    for (rd_kafka_message_t* m : messages) rd_kafka_message_destroy(m);
    messages.clear();
  };
  if (polled_.size() != options_.batch_records) polled_.resize(options_.batch_records);
  const ssize_t polled =
      rd_kafka_consume_batch_queue(queue_, /*timeout_ms=*/0, polled_.data(), polled_.size());
  if (polled < 0) {
    return absl::UnavailableError(absl::StrCat(Prefix(), "polling the consumer: ",
                                               rd_kafka_err2str(rd_kafka_last_error())));
  }
  // Errors and end-of-partition events come in order with the records; the records are kept.
  absl::Status error;
  for (ssize_t i = 0; i < polled; ++i) {
    rd_kafka_message_t* m = polled_[i];
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      messages.push_back(m);
      continue;
    }
    if (error.ok()) error = HandleMessageError(m);
    rd_kafka_message_destroy(m);
  }
  if (!error.ok()) {
    release();
    return error;
  }
  const bool any = !messages.empty();
  absl::Status s = DecodeAndEmit(messages, out);
  release();
  RETURN_IF_ERROR(s);
  for (const auto& [index, end] : partition_ends_) {
    Partition& p = partitions_[index];
    if (!p.done() && end > p.next_offset) p.next_offset = end;
  }
  partition_ends_.clear();
  if (bounded_ && AllDone()) return SourcePoll::kEnd;
  return any ? SourcePoll::kMore : SourcePoll::kIdle;
}

absl::Status KafkaSource::HandleMessageError(const rd_kafka_message_t* m) {
  const rd_kafka_resp_err_t err = m->err;
  if (err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
    // The end of a partition (bounded sources ask for these): the next offset may be past the
    // last record when transaction markers or aborted records end the partition.
    // Applied after the records polled with it are decoded (they come before it).
    if (m->rkt != nullptr) {
      auto it = index_.find(PartitionKey(rd_kafka_topic_name(m->rkt), m->partition));
      if (it != index_.end()) partition_ends_.emplace_back(it->second, m->offset);
    }
    return absl::OkStatus();
  }
  std::string where;
  if (m->rkt != nullptr) {
    where = absl::StrCat(" (topic ", rd_kafka_topic_name(m->rkt), " partition ", m->partition, ")");
  }
  const std::string message = absl::StrCat(rd_kafka_message_errstr(m), where);
  char fatal[512];
  if (err == RD_KAFKA_RESP_ERR__FATAL &&
      rd_kafka_fatal_error(consumer_, fatal, sizeof(fatal)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Error(absl::StatusCode::kInternal, absl::StrCat("fatal consumer error: ", fatal));
  }
  // Errors no retry fixes: the task fails (and restarts from its checkpoint).
  if (err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
      err == RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED ||
      err == RD_KAFKA_RESP_ERR__AUTHENTICATION || err == RD_KAFKA_RESP_ERR__SSL ||
      err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC) {
    return Error(absl::StatusCode::kFailedPrecondition, message);
  }
  // Transient (broker down, timeouts): librdkafka retries; log the first few.
  if (message_errors_logged_++ < kLoggedMessageErrors) {
    spdlog::warn("{}consumer error (retrying): {}", Prefix(), message);
  }
  return absl::OkStatus();
}

absl::Status KafkaSource::DecodeAndEmit(std::vector<rd_kafka_message_t*>& messages,
                                        Collector& out) {
  // One batch per run of messages of one partition (per-partition watermarks).
  size_t i = 0;
  while (i < messages.size()) {
    lines_.clear();
    line_message_.clear();
    int split = -1;
    for (; i < messages.size(); ++i) {
      const rd_kafka_message_t* m = messages[i];
      const char* topic = rd_kafka_topic_name(m->rkt);
      int index = -1;
      if (split >= 0 && partitions_[split].partition == m->partition &&
          partitions_[split].topic == topic) {
        index = split;
      } else if (auto it = index_.find(PartitionKey(topic, m->partition)); it != index_.end()) {
        index = static_cast<int>(it->second);
      }
      if (index < 0 || partitions_[index].done()) continue;  // not (or no longer) ours
      // Emitted already (a fetch the client delivered again, e.g. around a broker fault):
      // within an attempt every offset is emitted once.
      if (m->offset < partitions_[index].next_offset) continue;
      if (split >= 0 && index != split) break;
      split = index;
      partitions_[index].next_offset = m->offset + 1;
      absl::string_view payload(static_cast<const char*>(m->payload), m->len);
      if (!format_.line_delimited()) {  // one record per message
        lines_.push_back(payload);
        line_message_.push_back(i);
        continue;
      }
      while (!payload.empty()) {
        const size_t end = payload.find('\n');
        absl::string_view line = payload.substr(0, end);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        lines_.push_back(line);
        line_message_.push_back(i);
        if (end == absl::string_view::npos) break;
        payload.remove_prefix(end + 1);
      }
    }
    if (lines_.empty()) continue;
    current_split_ = split;
    RETURN_IF_ERROR(EmitLines(messages, out));
  }
  return absl::OkStatus();
}

absl::Status KafkaSource::EmitLines(const std::vector<rd_kafka_message_t*>& messages,
                                    Collector& out) {
  batch_.Clear();
  errors_.clear();
  decoder_->DecodeLines(lines_, &batch_, &errors_);
  for (const types::DecodeError& e : errors_) {
    const rd_kafka_message_t* m = messages[line_message_[e.line_index]];
    RETURN_IF_ERROR(bad_->Handle(
        e, lines_[e.line_index],
        absl::string_view(static_cast<const char*>(m->key), m->key == nullptr ? 0 : m->key_len),
        absl::StrCat("topic ", rd_kafka_topic_name(m->rkt), " partition ", m->partition,
                     " offset ", m->offset)));
  }
  if (batch_.num_rows() > 0) RETURN_IF_ERROR(out.Collect(batch_));
  return absl::OkStatus();
}

absl::StatusOr<std::string> KafkaSource::SnapshotState(int64_t checkpoint_id) {
  RETURN_IF_ERROR(bad_->Flush());  // dead letters of the records before these offsets
  proto::KafkaSourceState state;
  std::vector<Partition> commit;
  for (const Partition& p : partitions_) {
    auto* entry = state.add_partitions();
    entry->set_topic(p.topic);
    entry->set_partition(p.partition);
    entry->set_next_offset(p.next_offset);
    if (p.next_offset >= 0) commit.push_back(p);
  }
  // Restored partitions this subtask owns but does not read (yet: before the first poll, or
  // their topic is not in the metadata now) keep their offsets.
  for (const auto& [key, offset] : restored_offsets_) {
    if (index_.contains(key) || KafkaPartitionOwner(key.first, key.second, parallelism_) != subtask_) {
      continue;
    }
    auto* entry = state.add_partitions();
    entry->set_topic(key.first);
    entry->set_partition(key.second);
    entry->set_next_offset(offset);
  }
  if (!spec_.group().empty() && !commit.empty()) pending_commits_[checkpoint_id] = std::move(commit);
  return state.SerializeAsString();
}

absl::Status KafkaSource::NotifyCheckpointComplete(int64_t checkpoint_id) {
  auto last = pending_commits_.upper_bound(checkpoint_id);
  if (last == pending_commits_.begin()) return absl::OkStatus();
  const std::vector<Partition>& offsets = std::prev(last)->second;
  PartitionList list(static_cast<int>(offsets.size()));
  for (const Partition& p : offsets) {
    rd_kafka_topic_partition_list_add(list.list, p.topic.c_str(), p.partition)->offset = p.next_offset;
  }
  // Asynchronous: the result is logged (LogCommitResult) from a later poll.
  rd_kafka_resp_err_t err = rd_kafka_commit(consumer_, list.list, /*async=*/1);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    spdlog::warn("{}committing the offsets of checkpoint {} failed: {}", Prefix(), checkpoint_id,
                 rd_kafka_err2str(err));
  }
  pending_commits_.erase(pending_commits_.begin(), last);
  return absl::OkStatus();
}

std::vector<std::string> KafkaSource::AssignedPartitions() const {
  std::vector<std::string> out;
  for (const Partition& p : partitions_) out.push_back(absl::StrCat(p.topic, "/", p.partition));
  std::sort(out.begin(), out.end());
  return out;
}

absl::Status KafkaSource::Close() {
  absl::Status flushed = bad_->Flush();
  if (consumer_ == nullptr) return flushed;
  if (queue_ != nullptr) {
    if (wake_up_) rd_kafka_queue_cb_event_enable(queue_, nullptr, nullptr);
    rd_kafka_queue_destroy(queue_);
  }
  queue_ = nullptr;
  rd_kafka_consumer_close(consumer_);
  rd_kafka_destroy(consumer_);
  consumer_ = nullptr;
  return flushed;
}

}  // namespace sluice::taskmanager::connectors
