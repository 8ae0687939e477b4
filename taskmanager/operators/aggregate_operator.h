// Running keyed aggregate (key_by + aggregate without a window): for every input row it
// updates its key's accumulators (aggregate_functions.h) and emits the key's updated row
// (key columns, then one column per aggregate). Arguments are evaluated once per batch,
// key hashes once per batch (keyed_input.h); the per-row work is one keyed state Get + Put
// and the accumulator updates.
// State: one ValueState "<operator name>.acc" in the task's keyed state backend (heap or
// RocksDB, checkpointed with the task), holding the key's encoded accumulators. Task thread
// only.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "taskmanager/operators/aggregate_functions.h"
#include "taskmanager/operators/keyed_input.h"
#include "taskmanager/operators/operator.h"
#include "taskmanager/state/keyed_state_backend.h"

namespace sluice::taskmanager {

class AggregateOperator : public Operator {
 public:
  static absl::StatusOr<std::unique_ptr<Operator>> Create(const proto::OperatorSpec& spec);
  absl::Status Open(const OperatorContext& ctx) override;
  absl::Status InitializeState(StateInitContext& ctx) override;
  absl::Status ProcessBatch(int input, types::RecordBatch& batch, Collector& out) override;

  // Keys with accumulators (tests).
  absl::StatusOr<int64_t> NumKeys();

 private:
  AggregateOperator(types::SchemaPtr output, KeyedInput keys, AggregateCalls calls)
      : output_(output), keys_(std::move(keys)), calls_(std::move(calls)), batch_(output) {}
  absl::Status BindState();

  types::SchemaPtr output_;
  std::string name_;
  KeyedInput keys_;
  AggregateCalls calls_;
  state::KeyedStateBackend* backend_ = nullptr;
  state::ValueState* acc_state_ = nullptr;
  std::vector<Accumulator> accs_;  // the current key's accumulators, reused
  std::string value_scratch_;
  types::RecordBatch batch_;  // output, reused
};

}  // namespace sluice::taskmanager
