// Helpers shared by the network tests: key/value batches with row ids, descriptors, and a
// gate drainer that waits on the gate's on_available callback with deadlines (no sleeps).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "proto/control.pb.h"
#include "taskmanager/network/input_gate.h"

namespace sluice::network::testing {

inline types::SchemaPtr KvSchema() {
  return std::make_shared<const types::Schema>(std::vector<types::Field>{
      {"key", types::TypeId::kInt64}, {"value", types::TypeId::kString}});
}

// Rows id in [begin, begin + count): key = id % keys, value = "v<id>".
inline types::RecordBatch MakeBatch(int64_t begin, int count, int keys = 37) {
  types::RecordBatch batch(KvSchema());
  for (int64_t id = begin; id < begin + count; ++id) {
    batch.mutable_column(0).AppendInt(id % keys);
    batch.mutable_column(1).AppendString("v" + std::to_string(id));
  }
  batch.SetNumRows(count);
  return batch;
}

// The row ids (from "v<id>") of `batches`, in arrival order.
inline std::vector<int64_t> Ids(const std::vector<types::RecordBatch>& batches) {
  std::vector<int64_t> ids;
  for (const types::RecordBatch& b : batches) {
    for (size_t r = 0; r < b.num_rows(); ++r) {
      absl::string_view v = b.column(1).Str(r);
      ids.push_back(std::stoll(std::string(v.substr(1))));
    }
  }
  return ids;
}

inline proto::OutputDescriptor Output(const std::string& partition_id,
                                      proto::Partitioning partitioning, int subpartitions) {
  proto::OutputDescriptor out;
  out.set_edge_id(1);
  out.set_partition_id(partition_id);
  out.set_partitioning(partitioning);
  out.set_num_subpartitions(subpartitions);
  if (partitioning == proto::HASH) out.add_key_indexes(0);
  return out;
}

inline proto::ResultPartitionRef Ref(const std::string& partition_id, int subpartition,
                                     const std::string& tm_id, const std::string& address) {
  proto::ResultPartitionRef ref;
  ref.set_partition_id(partition_id);
  ref.set_subpartition(subpartition);
  ref.set_producer_tm_id(tm_id);
  ref.set_producer_address(address);
  return ref;
}

inline proto::InputGateDescriptor Input(const std::vector<proto::ResultPartitionRef>& refs) {
  proto::InputGateDescriptor in;
  in.set_edge_id(1);
  for (const auto& r : refs) *in.add_channels() = r;
  return in;
}

// Counts a gate's on_available calls; a test thread waits for the next one with a timeout.
class Notifier {
 public:
  std::function<void()> callback() {
    return [this] {
      absl::MutexLock lock(&mu_);
      ++count_;
    };
  }
  // Waits until notified since the last call, or `timeout`.
  void Wait(absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto notified = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return count_ != seen_; };
    mu_.AwaitWithTimeout(absl::Condition(&notified), timeout);
    seen_ = count_;
  }
  // Waits until there were at least `n` calls in total, or `timeout`.
  bool WaitForCount(int n, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto reached = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return count_ >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&reached), timeout);
  }

 private:
  absl::Mutex mu_;
  int count_ ABSL_GUARDED_BY(mu_) = 0;
  int seen_ ABSL_GUARDED_BY(mu_) = 0;
};

// Polls `gate` like a task would until it is finished, fails, or 30 s pass.
inline absl::StatusOr<std::vector<types::RecordBatch>> Drain(InputGate& gate, Notifier& notifier) {
  std::vector<types::RecordBatch> out;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (!gate.IsFinished()) {
    auto next = gate.PollNext();
    if (!next.ok()) return next.status();
    if (next->has_value()) {
      out.push_back(std::move(**next));
      continue;
    }
    if (gate.IsFinished()) break;  // the poll consumed the last END_OF_PARTITION
    if (absl::Now() > deadline) return absl::DeadlineExceededError("the gate did not finish");
    // The callback wakes us; the timeout only bounds a lost wake-up (which would be a bug
    // that the deadline then reports).
    notifier.Wait(absl::Seconds(1));
  }
  return out;
}

// Drains until the gate fails; OK if it finished instead.
inline absl::Status DrainUntilError(InputGate& gate, Notifier& notifier) {
  auto result = Drain(gate, notifier);
  return result.ok() ? absl::OkStatus() : result.status();
}

// Waits up to `timeout` for `condition` (polling, yielding the CPU).
inline bool WaitFor(const std::function<bool()>& condition,
                    absl::Duration timeout = absl::Seconds(30)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!condition()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Microseconds(200));
  }
  return true;
}

}  // namespace sluice::network::testing
