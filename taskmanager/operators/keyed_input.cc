#include "taskmanager/operators/keyed_input.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "spdlog/spdlog.h"
#include "taskmanager/operators/aggregate_functions.h"

namespace sluice::taskmanager {

absl::StatusOr<KeyedInput> KeyedInput::Create(
    const std::string& op_name, const google::protobuf::RepeatedPtrField<std::string>& keys,
    const types::Schema& input) {
  KeyedInput k;
  k.name_ = op_name;
  for (const std::string& key : keys) {
    std::optional<int> index = input.IndexOf(key);
    if (!index) {
      return absl::InvalidArgumentError(
          absl::StrCat("operator '", op_name, "': unknown key column '", key, "'"));
    }
    k.key_indexes_.push_back(*index);
  }
  return k;
}

absl::Status KeyedInput::InitializeState(StateInitContext& ctx) {
  if (!ctx.keyed_backend) return absl::OkStatus();
  absl::StatusOr<state::KeyedStateBackend*> backend = ctx.keyed_backend();
  if (backend.status().code() == absl::StatusCode::kFailedPrecondition) {
    // Not a keyed task (e.g. no HASH input): state stays private and is not checkpointed.
    spdlog::warn("operator '{}': no keyed state backend ({}); its state is not checkpointed",
                 name_, std::string(backend.status().message()));
    return absl::OkStatus();
  }
  if (!backend.ok()) {
    return absl::Status(backend.status().code(),
                        absl::StrCat("operator '", name_, "': ", backend.status().message()));
  }
  backend_ = *backend;
  return absl::OkStatus();
}

absl::StatusOr<state::KeyedStateBackend*> KeyedInput::backend() {
  if (backend_ == nullptr) {
    state::BackendOptions options;
    options.kind = state::BackendKind::kHeap;
    options.max_parallelism = max_parallelism_;
    options.key_groups = {0, max_parallelism_ - 1};
    ASSIGN_OR_RETURN(own_backend_, state::CreateKeyedStateBackend(options));
    backend_ = own_backend_.get();
  }
  return backend_;
}

void KeyedInput::HashBatch(const types::RecordBatch& batch) {
  network::HashKeys(batch, key_indexes_, &hashes_);
}

absl::Status KeyedInput::SetKey(const types::RecordBatch& batch, size_t row) {
  key_group_ = network::KeyGroupForKeyHash(hashes_[row], max_parallelism_);
  const network::KeyGroupRange& owned = backend_->key_groups();
  if (!owned.Contains(key_group_)) {
    return absl::InternalError(absl::StrCat(
        "operator '", name_, "': a row of key group ", key_group_, " reached the subtask owning ",
        owned.first, "..", owned.last, " (input not partitioned by this operator's key)"));
  }
  key_.clear();
  for (int index : key_indexes_) EncodeValue(batch.column(index), row, &key_);
  backend_->SetCurrentKey(key_group_, key_);
  return absl::OkStatus();
}

void KeyedInput::AppendKey(const types::RecordBatch& batch, size_t row,
                           types::RecordBatch& out) const {
  for (size_t k = 0; k < key_indexes_.size(); ++k) {
    out.mutable_column(k).AppendFrom(batch.column(key_indexes_[k]), row);
  }
}

bool AppendEncodedKey(absl::string_view key, const std::vector<types::TypeId>& types,
                      types::RecordBatch& out) {
  for (size_t k = 0; k < types.size(); ++k) {
    types::Column& col = out.mutable_column(k);
    if (key.empty()) return false;
    const char tag = key[0];
    key.remove_prefix(1);
    if (tag == '\0') {
      col.AppendNull();
      continue;
    }
    if (types::IsStringStored(types[k])) {
      uint32_t len;
      if (key.size() < sizeof len) return false;
      std::memcpy(&len, key.data(), sizeof len);
      key.remove_prefix(sizeof len);
      if (key.size() < len) return false;
      col.AppendString(key.substr(0, len));
      key.remove_prefix(len);
      continue;
    }
    if (key.size() < 8) return false;
    if (types[k] == types::TypeId::kFloat64) {
      double v;
      std::memcpy(&v, key.data(), 8);
      col.AppendDouble(v);
    } else {
      int64_t v;
      std::memcpy(&v, key.data(), 8);
      col.AppendInt(v);
    }
    key.remove_prefix(8);
  }
  return key.empty();
}

}  // namespace sluice::taskmanager
