// BadRecords: what a source does with a record its format cannot decode, by its on_error:
//   fail         the task fails with the error, naming where the record is (the job restarts by
//                its restart strategy, and fails again on the same record: fix the input or
//                choose another policy)
//   skip         the record is dropped and counted
//   dead_letter  the record's raw bytes go to a dead-letter sink with the reason and where it
//                came from, and it is counted: a Kafka topic (value = the raw bytes, key = the
//                record's key, headers sluice.error / sluice.source / sluice.location), or a
//                directory of JSON-lines files, <dir>/<source>-<subtask>.jsonl, one object
//                {"time","source","location","error","raw_base64"} per record.
// The first few bad records are logged; the rest only counted. Errors that are not the
// record's fault (DecodeError::fatal, e.g. the schema registry cannot be reached) fail the
// task whatever on_error says.
//
// Dead letters are at least once: Flush() (called by the source before it snapshots its
// position) makes every dead letter so far durable, so a restore never loses one, but records
// read again after a failure may be dead-lettered twice.
//
// Task thread only, except the counters (any thread, for metrics).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/types/format.h"
#include "proto/jobgraph.pb.h"

namespace sluice::taskmanager::connectors {

// Where dead letters go; one per source subtask.
class DeadLetterSink {
 public:
  virtual ~DeadLetterSink() = default;
  virtual absl::Status Write(absl::string_view raw, absl::string_view key,
                             absl::string_view reason, absl::string_view location) = 0;
  // Every Write so far is durable when this returns OK.
  virtual absl::Status Flush() = 0;
};

class BadRecords {
 public:
  enum class Policy { kFail, kSkip, kDeadLetter };

  // Validates `on_error` ("" = fail) and, for dead_letter, `dead_letter` (a topic with a
  // bootstrap, or a path). `what` names the source in messages: "kafka source 'txns'".
  static absl::StatusOr<std::unique_ptr<BadRecords>> Create(const std::string& on_error,
                                                            const proto::DeadLetterSpec& dead_letter,
                                                            std::string what);

  // Opens the dead-letter sink of subtask `subtask` of source `source`.
  absl::Status Open(const std::string& source, int subtask);

  // Applies the policy to one bad record. `location` says where it is ("topic txns partition
  // 3 offset 17", "file /data/a.json line 9"); `raw` and `key` are its bytes. An error return
  // fails the task.
  absl::Status Handle(const types::DecodeError& error, absl::string_view raw,
                      absl::string_view key, absl::string_view location);

  absl::Status Flush();

  Policy policy() const { return policy_; }
  int64_t skipped() const { return skipped_.load(std::memory_order_relaxed); }
  int64_t dead_lettered() const { return dead_lettered_.load(std::memory_order_relaxed); }

 private:
  BadRecords(Policy policy, proto::DeadLetterSpec dead_letter, std::string what)
      : policy_(policy), dead_letter_(std::move(dead_letter)), what_(std::move(what)) {}

  const Policy policy_;
  const proto::DeadLetterSpec dead_letter_;
  const std::string what_;
  int subtask_ = 0;
  std::unique_ptr<DeadLetterSink> sink_;
  int64_t logged_ = 0;
  std::atomic<int64_t> skipped_{0};
  std::atomic<int64_t> dead_lettered_{0};
};

// The dead-letter sinks (bad_records.cc), exposed for tests.
absl::StatusOr<std::unique_ptr<DeadLetterSink>> OpenFileDeadLetters(const std::string& dir,
                                                                    const std::string& source,
                                                                    int subtask);
absl::StatusOr<std::unique_ptr<DeadLetterSink>> OpenKafkaDeadLetters(
    const proto::DeadLetterSpec& spec, const std::string& source, int subtask);

}  // namespace sluice::taskmanager::connectors
