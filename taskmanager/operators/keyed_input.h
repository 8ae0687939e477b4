// KeyedInput: what every keyed operator (running aggregate, windows) does with its input
// rows: find the key columns, hash each batch's keys once (network::HashKeys), map each row
// to its key group, check that this subtask owns it, encode the key to bytes and make it the
// state backend's current key. It also binds the operator to the task's keyed state backend
// (or, when there is none, e.g. in operator unit tests, to a private heap backend over every
// key group, which is then not checkpointed). Task thread only.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/types/record_batch.h"
#include "taskmanager/network/key_groups.h"
#include "taskmanager/operators/operator.h"
#include "taskmanager/state/keyed_state_backend.h"

namespace sluice::taskmanager {

class KeyedInput {
 public:
  // InvalidArgument naming `op_name` for a key column not in `input`.
  static absl::StatusOr<KeyedInput> Create(const std::string& op_name,
                                           const google::protobuf::RepeatedPtrField<std::string>& keys,
                                           const types::Schema& input);

  void Open(const OperatorContext& ctx) { max_parallelism_ = ctx.max_parallelism; }
  // The task's keyed backend; FailedPrecondition from it (not a keyed task) falls back to
  // the private backend with a warning.
  absl::Status InitializeState(StateInitContext& ctx);
  // The backend (the private one is created on first call when InitializeState did not bind
  // one).
  absl::StatusOr<state::KeyedStateBackend*> backend();
  // Uses `backend` when none is bound yet (a second input of the same operator shares the
  // first one's backend, private or not).
  void ShareBackend(state::KeyedStateBackend* backend) {
    if (backend_ == nullptr) backend_ = backend;
  }

  // Hashes the keys of `batch` (before SetKey on its rows).
  void HashBatch(const types::RecordBatch& batch);
  // Makes row `row`'s key current. Internal error when its key group is not this subtask's.
  absl::Status SetKey(const types::RecordBatch& batch, size_t row);
  // Makes an encoded key current (a timer's key: the backend already has it).
  void SetEncodedKey(int key_group, absl::string_view key) {
    key_group_ = key_group;
    key_.assign(key.data(), key.size());
  }
  // The current key (after SetKey): its bytes and key group.
  const std::string& key() const { return key_; }
  int key_group() const { return key_group_; }
  const std::vector<int>& key_indexes() const { return key_indexes_; }
  // Appends row `row`'s key columns to out's columns [0, keys).
  void AppendKey(const types::RecordBatch& batch, size_t row, types::RecordBatch& out) const;

 private:
  std::string name_;
  std::vector<int> key_indexes_;
  int max_parallelism_ = network::kDefaultMaxParallelism;
  std::unique_ptr<state::KeyedStateBackend> own_backend_;
  state::KeyedStateBackend* backend_ = nullptr;
  std::vector<int32_t> hashes_;
  std::string key_;
  int key_group_ = 0;
};

// Decodes a key made by KeyedInput back into key columns (timers fire with the key bytes
// only): appends them to out's columns [0, types.size()). False when malformed.
bool AppendEncodedKey(absl::string_view key, const std::vector<types::TypeId>& types,
                      types::RecordBatch& out);

}  // namespace sluice::taskmanager
