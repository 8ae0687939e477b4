// InputGate: the consumer end of one input edge of a task (Flink's SingleInputGate), one
// channel per producer subtask (ResultPartitionRef). A channel whose producer runs on this
// TaskManager is local: it reads the producer's subpartition queue directly (no gRPC, no copy
// beyond the buffer itself). Any other channel is remote: it shares the ConnectionManager's one
// stream to the producer's TaskManager, announces its exclusive buffers as initial credit and
// returns a credit whenever the task consumed a buffer; floating buffers of the gate go to
// channels whose producer announced a backlog (CreditManager). Received buffers are kept as
// the gRPC payloads they arrived in: the credits bound how many there can be.
// Threads: gRPC reader threads and local producers push into the gate and call
// `on_available` (with no lock held) whenever a channel gets something to read; the task
// thread alone calls PollNext / IsFinished. records_in, bytes_in and stats are thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <climits>

#include "absl/status/statusor.h"
#include "common/types/record_batch.h"
#include "proto/control.pb.h"
#include "taskmanager/network/buffer_pool.h"
#include "taskmanager/network/connection_manager.h"
#include "taskmanager/network/network_config.h"
#include "taskmanager/network/result_partition_manager.h"

namespace sluice::network {

struct InputGateStats {
  int channels = 0;
  int finished_channels = 0;
  int queued_buffers = 0;         // received remote buffers not yet polled
  int outstanding_credit = 0;     // credits the producers hold
  int free_floating_buffers = 0;
  int reserved_buffers = 0;       // taken from the NetworkBufferPool
};

// Event time of a gate: the minimum watermark over its channels that are neither idle nor
// ended (INT64_MIN until each of them delivered one; INT64_MAX once all ended). `idle`: every
// channel not ended is idle (then `watermark` is meaningless).
struct GateWatermark {
  int64_t watermark = INT64_MIN;
  bool idle = false;
};

class InputGate {
 public:
  // Services the gate uses; all outlive it (owned by the NetworkEnvironment).
  struct Services {
    std::string tm_id;  // channels whose producer_tm_id equals it are local
    NetworkConfig config;
    NetworkBufferPool* buffers;
    ResultPartitionManager* partitions;
    ConnectionManager* connections;
  };

  // Reserves the gate's receive buffers (remote channels * exclusive + floating; local
  // channels need none) and requests every channel. ResourceExhausted naming
  // taskmanager.network.buffers; InvalidArgument for a bad descriptor.
  static absl::StatusOr<std::unique_ptr<InputGate>> Create(const Services& services,
                                                           const proto::InputGateDescriptor& in,
                                                           types::SchemaPtr schema,
                                                           std::function<void()> on_available);
  // Cancels the channels that did not finish and returns the buffers.
  ~InputGate();
  InputGate(const InputGate&) = delete;
  InputGate& operator=(const InputGate&) = delete;

  // Next data batch from any channel, nullopt if none is ready now. Errors (sticky): a channel
  // failed - Unavailable when the producer's TaskManager is unreachable or the stream broke
  // (naming its address and the partition), the producer's error when it failed
  // (PARTITION_ERROR), NotFound for a partition that never appeared, DataLoss for a corrupt or
  // out-of-sequence buffer.
  absl::StatusOr<std::optional<types::RecordBatch>> PollNext();
  // Every channel delivered END_OF_PARTITION and nothing is queued.
  bool IsFinished() const;

  // Checkpoint barrier alignment (Flink's aligned checkpoints). A channel that delivered
  // barrier N is blocked: PollNext skips it and its later data waits (its credits are not
  // returned, so its producer is backpressured) until every channel delivered N or ended.
  // Then aligned_barrier() is N until ResumeAfterBarrier() unblocks every channel. A newer
  // barrier on any channel abandons an alignment in progress (its blocked channels resume);
  // barriers older than the newest one seen are ignored. Task thread.
  int64_t aligned_barrier() const;  // 0 = not aligned
  int64_t pending_barrier() const;  // the barrier being aligned, 0 = none
  // The savepoint directory of the barrier being aligned ("" for a checkpoint).
  std::string pending_savepoint_dir() const;
  void ResumeAfterBarrier();
  // The gate's watermark after the items PollNext has consumed so far (a watermark is taken
  // in order with the channel's data). Task thread.
  GateWatermark watermark() const;
  // Changes whenever watermark() may have: the task recomputes its event time only then
  // (no lock per poll on the data path). Task thread.
  uint64_t watermark_version() const;

  int64_t records_in() const;
  int64_t bytes_in() const;  // serialized bytes
  InputGateStats stats() const;

  class Core;

 private:
  explicit InputGate(std::shared_ptr<Core> core) : core_(std::move(core)) {}
  std::shared_ptr<Core> core_;
};

}  // namespace sluice::network
