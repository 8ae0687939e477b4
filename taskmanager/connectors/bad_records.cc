#include "taskmanager/connectors/bad_records.h"

#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/status_macros.h"
#include "common/types/format_values.h"
#include "common/types/json_format.h"
#include "spdlog/spdlog.h"
#include "taskmanager/connectors/kafka_client.h"

namespace sluice::taskmanager::connectors {
namespace {

constexpr int64_t kLoggedBadRecords = 10;
constexpr int kFlushTimeoutMs = 30000;

// <dir>/<source>-<subtask>.jsonl, appended to; Flush writes and fsyncs.
class FileDeadLetters : public DeadLetterSink {
 public:
  FileDeadLetters(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~FileDeadLetters() override { ::close(fd_); }

  absl::Status Write(absl::string_view raw, absl::string_view key, absl::string_view reason,
                     absl::string_view location) override {
    buffer_.append("{\"time\":\"");
    types::AppendRfc3339(absl::ToUnixMicros(absl::Now()), &buffer_);
    buffer_.append("\",\"source\":");
    types::AppendJsonString(source_, &buffer_);
    buffer_.append(",\"location\":");
    types::AppendJsonString(location, &buffer_);
    buffer_.append(",\"error\":");
    types::AppendJsonString(reason, &buffer_);
    if (!key.empty()) {
      buffer_.append(",\"key_base64\":\"");
      buffer_.append(absl::Base64Escape(key));
      buffer_.append("\"");
    }
    buffer_.append(",\"raw_base64\":\"");
    buffer_.append(absl::Base64Escape(raw));
    buffer_.append("\"}\n");
    if (buffer_.size() >= (1 << 16)) return WriteBuffer();
    return absl::OkStatus();
  }

  absl::Status Flush() override {
    RETURN_IF_ERROR(WriteBuffer());
    if (::fsync(fd_) != 0) return Errno("fsync");
    return absl::OkStatus();
  }

  void set_source(std::string source) { source_ = std::move(source); }

 private:
  absl::Status WriteBuffer() {
    size_t done = 0;
    while (done < buffer_.size()) {
      const ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Errno("write");
      }
      done += static_cast<size_t>(n);
    }
    buffer_.clear();
    return absl::OkStatus();
  }
  absl::Status Errno(absl::string_view op) const {
    return absl::UnavailableError(
        absl::StrCat("dead letters ", path_, ": ", op, " failed: ", std::strerror(errno)));
  }

  const std::string path_;
  const int fd_;
  std::string source_;
  std::string buffer_;
};

// A plain (idempotent, not transactional) producer to the dead-letter topic.
class KafkaDeadLetters : public DeadLetterSink {
 public:
  KafkaDeadLetters(std::string topic, std::string source) : topic_(std::move(topic)), source_(std::move(source)) {}
  ~KafkaDeadLetters() override {
    if (producer_ != nullptr) {
      rd_kafka_flush(producer_, 5000);
      rd_kafka_destroy(producer_);
    }
  }

  absl::Status Open(const proto::DeadLetterSpec& spec, int subtask) {
    KafkaSettings settings;
    settings.what = absl::StrCat("dead letters of '", source_, "' (topic ", topic_, ")");
    settings.bootstrap = spec.bootstrap();
    settings.defaults = {{"client.id", absl::StrCat("sluice-", source_, "-dlq-", subtask)},
                         {"enable.idempotence", "true"}};
    settings.properties = {spec.properties().begin(), spec.properties().end()};
    ASSIGN_OR_RETURN(rd_kafka_conf_t * conf, NewKafkaConf(settings));
    rd_kafka_conf_set_dr_msg_cb(conf, [](rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
      auto* self = static_cast<KafkaDeadLetters*>(opaque);
      if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR && self->error_.empty()) {
        self->error_ = rd_kafka_err2str(m->err);
      }
    });
    rd_kafka_conf_set_opaque(conf, this);
    ASSIGN_OR_RETURN(producer_, NewKafkaClient(RD_KAFKA_PRODUCER, conf, settings.what));
    what_ = settings.what;
    return absl::OkStatus();
  }

  absl::Status Write(absl::string_view raw, absl::string_view key, absl::string_view reason,
                     absl::string_view location) override {
    rd_kafka_headers_t* headers = rd_kafka_headers_new(3);
    rd_kafka_header_add(headers, "sluice.error", -1, reason.data(), reason.size());
    rd_kafka_header_add(headers, "sluice.source", -1, source_.data(), source_.size());
    rd_kafka_header_add(headers, "sluice.location", -1, location.data(), location.size());
    while (true) {
      const rd_kafka_resp_err_t err = rd_kafka_producev(
          producer_, RD_KAFKA_V_TOPIC(topic_.c_str()),
          RD_KAFKA_V_VALUE(const_cast<char*>(raw.data()), raw.size()),
          RD_KAFKA_V_KEY(key.empty() ? nullptr : const_cast<char*>(key.data()), key.size()),
          RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;  // the message owns the headers now
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        rd_kafka_headers_destroy(headers);
        return absl::UnavailableError(absl::StrCat(what_, ": ", rd_kafka_err2str(err)));
      }
      rd_kafka_poll(producer_, 100);
    }
    rd_kafka_poll(producer_, 0);
    return Check();
  }

  absl::Status Flush() override {
    const rd_kafka_resp_err_t err = rd_kafka_flush(producer_, kFlushTimeoutMs);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return absl::UnavailableError(absl::StrCat(what_, ": flush: ", rd_kafka_err2str(err)));
    }
    return Check();
  }

 private:
  absl::Status Check() const {
    if (error_.empty()) return absl::OkStatus();
    return absl::UnavailableError(absl::StrCat(what_, ": delivery failed: ", error_));
  }

  const std::string topic_;
  const std::string source_;
  std::string what_;
  rd_kafka_t* producer_ = nullptr;
  std::string error_;  // the first failed delivery
};

}  // namespace

absl::StatusOr<std::unique_ptr<DeadLetterSink>> OpenFileDeadLetters(const std::string& dir,
                                                                    const std::string& source,
                                                                    int subtask) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("dead letters: cannot create directory ", dir, ": ", ec.message()));
  }
  const std::string path = absl::StrCat(dir, "/", source, "-", subtask, ".jsonl");
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::UnavailableError(
        absl::StrCat("dead letters: cannot open ", path, ": ", std::strerror(errno)));
  }
  auto sink = std::make_unique<FileDeadLetters>(path, fd);
  sink->set_source(source);
  return sink;
}

absl::StatusOr<std::unique_ptr<DeadLetterSink>> OpenKafkaDeadLetters(
    const proto::DeadLetterSpec& spec, const std::string& source, int subtask) {
  auto sink = std::make_unique<KafkaDeadLetters>(spec.topic(), source);
  RETURN_IF_ERROR(sink->Open(spec, subtask));
  return sink;
}

absl::StatusOr<std::unique_ptr<BadRecords>> BadRecords::Create(
    const std::string& on_error, const proto::DeadLetterSpec& dead_letter, std::string what) {
  Policy policy;
  if (on_error.empty() || on_error == "fail") {
    policy = Policy::kFail;
  } else if (on_error == "skip") {
    policy = Policy::kSkip;
  } else if (on_error == "dead_letter") {
    policy = Policy::kDeadLetter;
    if (dead_letter.topic().empty() == dead_letter.path().empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, ": on_error: dead_letter needs dead_letter: {topic: ...} or {path: ...}"));
    }
    if (!dead_letter.topic().empty() && dead_letter.bootstrap().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": the dead-letter topic has no bootstrap"));
    }
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": on_error must be fail, skip or dead_letter, not '", on_error, "'"));
  }
  return std::unique_ptr<BadRecords>(new BadRecords(policy, dead_letter, std::move(what)));
}

absl::Status BadRecords::Open(const std::string& source, int subtask) {
  subtask_ = subtask;
  if (policy_ != Policy::kDeadLetter || sink_ != nullptr) return absl::OkStatus();
  absl::StatusOr<std::unique_ptr<DeadLetterSink>> sink =
      dead_letter_.topic().empty() ? OpenFileDeadLetters(dead_letter_.path(), source, subtask)
                                   : OpenKafkaDeadLetters(dead_letter_, source, subtask);
  if (!sink.ok()) return absl::Status(sink.status().code(), absl::StrCat(what_, ": ", sink.status().message()));
  sink_ = *std::move(sink);
  return absl::OkStatus();
}

absl::Status BadRecords::Handle(const types::DecodeError& error, absl::string_view raw,
                                absl::string_view key, absl::string_view location) {
  const std::string message = absl::StrCat(location, ": ", error.message);
  if (error.fatal) return absl::UnavailableError(absl::StrCat(what_, ": ", message));
  switch (policy_) {
    case Policy::kFail:
      return absl::InvalidArgumentError(absl::StrCat(what_, ": ", message));
    case Policy::kSkip:
      skipped_.fetch_add(1, std::memory_order_relaxed);
      break;
    case Policy::kDeadLetter:
      RETURN_IF_ERROR(sink_->Write(raw, key, error.message, location));
      dead_lettered_.fetch_add(1, std::memory_order_relaxed);
      break;
  }
  if (logged_ < kLoggedBadRecords) {
    ++logged_;
    spdlog::warn("{} ({}): {} a bad record: {}{}", what_, subtask_,
                 policy_ == Policy::kSkip ? "skipped" : "dead-lettered", message,
                 logged_ == kLoggedBadRecords ? " (further bad records are only counted)" : "");
  }
  return absl::OkStatus();
}

absl::Status BadRecords::Flush() {
  return sink_ == nullptr ? absl::OkStatus() : sink_->Flush();
}

}  // namespace sluice::taskmanager::connectors
