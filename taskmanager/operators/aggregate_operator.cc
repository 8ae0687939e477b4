#include "taskmanager/operators/aggregate_operator.h"

#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "spdlog/spdlog.h"
#include "taskmanager/network/key_groups.h"
#include "taskmanager/operators/basic_operators.h"

namespace sluice::taskmanager {

using types::Column;
using types::TypeId;

absl::StatusOr<AggregateFunction> ParseAggregateFunction(absl::string_view name,
                                                         bool has_argument) {
  std::string n = absl::AsciiStrToLower(name);
  if (n == "count") return has_argument ? AggregateFunction::kCount : AggregateFunction::kCountStar;
  if (!has_argument) {
    return absl::InvalidArgumentError(absl::StrCat(n, "() needs an argument"));
  }
  if (n == "sum") return AggregateFunction::kSum;
  if (n == "min") return AggregateFunction::kMin;
  if (n == "max") return AggregateFunction::kMax;
  if (n == "avg") return AggregateFunction::kAvg;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown aggregate function '", name, "' (expected count, sum, min, max or avg)"));
}

absl::StatusOr<std::unique_ptr<Operator>> AggregateOperator::Create(
    const proto::OperatorSpec& spec) {
  ASSIGN_OR_RETURN(types::SchemaPtr input, InputSchemaOf(spec));
  ASSIGN_OR_RETURN(types::SchemaPtr output, OutputSchemaOf(spec));
  const proto::AggregateSpec& agg = spec.aggregate();
  std::unique_ptr<AggregateOperator> op(new AggregateOperator(output));
  op->name_ = spec.name();
  for (const std::string& key : agg.key_columns()) {
    std::optional<int> index = input->IndexOf(key);
    if (!index) {
      return absl::InvalidArgumentError(
          absl::StrCat("operator '", spec.name(), "': unknown key column '", key, "'"));
    }
    op->key_indexes_.push_back(*index);
  }
  if (output->size() != op->key_indexes_.size() + agg.calls_size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("operator '", spec.name(), "': output schema does not match its aggregates"));
  }
  for (const proto::AggregateCall& c : agg.calls()) {
    Call call;
    ASSIGN_OR_RETURN(call.function, ParseAggregateFunction(c.function(), !c.argument().empty()));
    if (!c.argument().empty()) {
      auto compiled = expr::Compile(c.argument(), *input);
      if (!compiled.ok()) {
        return absl::InvalidArgumentError(absl::StrCat("operator '", spec.name(), "': ", c.name(),
                                                       ": ", compiled.status().message()));
      }
      call.argument = std::move(compiled).value();
      call.argument_type = call.argument->result_type();
      call.values = Column(call.argument_type);
    }
    op->calls_.push_back(std::move(call));
  }
  op->accs_.resize(op->calls_.size());
  return op;
}

absl::Status AggregateOperator::Open(const OperatorContext& ctx) {
  max_parallelism_ = ctx.max_parallelism;
  return absl::OkStatus();
}

absl::Status AggregateOperator::InitializeState(StateInitContext& ctx) {
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
  return BindState(*backend);
}

absl::Status AggregateOperator::BindState(state::KeyedStateBackend* backend) {
  state::StateDescriptor d;
  d.name = absl::StrCat(name_, ".acc");
  d.kind = state::StateKind::kValue;
  absl::StatusOr<state::ValueState*> value = backend->GetValueState(d);
  if (!value.ok()) {
    return absl::Status(value.status().code(),
                        absl::StrCat("operator '", name_, "': ", value.status().message()));
  }
  backend_ = backend;
  acc_state_ = *value;
  return absl::OkStatus();
}

absl::StatusOr<int64_t> AggregateOperator::NumKeys() {
  if (backend_ == nullptr) return 0;
  return backend_->NumKeys(absl::StrCat(name_, ".acc"));
}

void AggregateOperator::EncodeAccumulators(std::string* out) const {
  out->clear();
  for (const Accumulator& a : accs_) {
    char fixed[24];
    std::memcpy(fixed, &a.count, 8);
    std::memcpy(fixed + 8, &a.i, 8);
    std::memcpy(fixed + 16, &a.d, 8);
    out->append(fixed, sizeof fixed);
    const uint32_t len = static_cast<uint32_t>(a.s.size());
    out->append(reinterpret_cast<const char*>(&len), sizeof len);
    out->append(a.s);
  }
}

bool AggregateOperator::DecodeAccumulators(absl::string_view in) {
  for (Accumulator& a : accs_) {
    if (in.size() < 28) return false;
    std::memcpy(&a.count, in.data(), 8);
    std::memcpy(&a.i, in.data() + 8, 8);
    std::memcpy(&a.d, in.data() + 16, 8);
    uint32_t len;
    std::memcpy(&len, in.data() + 24, 4);
    in.remove_prefix(28);
    if (in.size() < len) return false;
    a.s.assign(in.data(), len);
    in.remove_prefix(len);
  }
  return in.empty();
}

void AggregateOperator::EncodeKey(const types::RecordBatch& batch, size_t row,
                                  std::string* key) const {
  key->clear();
  for (int index : key_indexes_) {
    const Column& col = batch.column(index);
    if (col.IsNull(row)) {
      key->push_back('\0');
      continue;
    }
    key->push_back('\1');
    if (types::IsIntegerStored(col.type())) {
      int64_t v = col.Int(row);
      key->append(reinterpret_cast<const char*>(&v), sizeof v);
    } else if (col.type() == TypeId::kFloat64) {
      double v = col.Double(row);
      key->append(reinterpret_cast<const char*>(&v), sizeof v);
    } else {
      absl::string_view s = col.Str(row);
      uint32_t len = static_cast<uint32_t>(s.size());
      key->append(reinterpret_cast<const char*>(&len), sizeof len);
      key->append(s.data(), s.size());
    }
  }
}

void AggregateOperator::Update(Call& call, size_t row, Accumulator& acc) const {
  if (call.function == AggregateFunction::kCountStar) {
    ++acc.count;
    return;
  }
  const Column& v = call.values;
  if (v.IsNull(row)) return;
  const bool first = acc.count == 0;
  ++acc.count;
  const TypeId t = call.argument_type;
  switch (call.function) {
    case AggregateFunction::kCount:
    case AggregateFunction::kCountStar:
      break;
    case AggregateFunction::kSum:
      if (t == TypeId::kFloat64) acc.d += v.Double(row);
      else acc.i += v.Int(row);
      break;
    case AggregateFunction::kAvg:
      acc.d += t == TypeId::kFloat64 ? v.Double(row) : static_cast<double>(v.Int(row));
      break;
    case AggregateFunction::kMin:
    case AggregateFunction::kMax: {
      const bool is_min = call.function == AggregateFunction::kMin;
      if (t == TypeId::kFloat64) {
        double x = v.Double(row);
        if (first || (is_min ? x < acc.d : x > acc.d)) acc.d = x;
      } else if (types::IsIntegerStored(t)) {
        int64_t x = v.Int(row);
        if (first || (is_min ? x < acc.i : x > acc.i)) acc.i = x;
      } else {
        absl::string_view x = v.Str(row);
        if (first || (is_min ? x < acc.s : x > acc.s)) acc.s.assign(x.data(), x.size());
      }
      break;
    }
  }
}

void AggregateOperator::AppendResult(const Call& call, const Accumulator& acc, Column& out) const {
  switch (call.function) {
    case AggregateFunction::kCountStar:
    case AggregateFunction::kCount:
      out.AppendInt(acc.count);
      return;
    default:
      break;
  }
  if (acc.count == 0) {
    out.AppendNull();
    return;
  }
  if (call.function == AggregateFunction::kAvg) {
    out.AppendDouble(acc.d / static_cast<double>(acc.count));
  } else if (out.type() == TypeId::kFloat64) {
    out.AppendDouble(acc.d);
  } else if (types::IsIntegerStored(out.type())) {
    out.AppendInt(acc.i);
  } else {
    out.AppendString(acc.s);
  }
}

absl::Status AggregateOperator::ProcessBatch(int input, types::RecordBatch& batch,
                                             Collector& out) {
  if (backend_ == nullptr) {
    // Unit tests and non-keyed tasks: a private heap backend over every key group.
    state::BackendOptions options;
    options.kind = state::BackendKind::kHeap;
    options.max_parallelism = max_parallelism_;
    options.key_groups = {0, max_parallelism_ - 1};
    ASSIGN_OR_RETURN(own_backend_, state::CreateKeyedStateBackend(options));
    RETURN_IF_ERROR(BindState(own_backend_.get()));
  }
  for (Call& call : calls_) {
    if (call.argument) RETURN_IF_ERROR(call.argument->Evaluate(batch, &call.values));
  }
  network::HashKeys(batch, key_indexes_, &hashes_);
  batch_.Clear();
  batch_.Reserve(batch.num_rows());
  const size_t num_keys = key_indexes_.size();
  const network::KeyGroupRange& owned = backend_->key_groups();
  for (size_t row = 0; row < batch.num_rows(); ++row) {
    const int key_group = network::KeyGroupForKeyHash(hashes_[row], max_parallelism_);
    if (!owned.Contains(key_group)) {
      return absl::InternalError(absl::StrCat(
          "operator '", name_, "': a row of key group ", key_group, " reached the subtask owning ",
          owned.first, "..", owned.last, " (input not partitioned by this operator's key)"));
    }
    EncodeKey(batch, row, &key_scratch_);
    backend_->SetCurrentKey(key_group, key_scratch_);
    ASSIGN_OR_RETURN(bool found, acc_state_->Get(&value_scratch_));
    if (!found) {
      for (Accumulator& a : accs_) a = Accumulator();
    } else if (!DecodeAccumulators(value_scratch_)) {
      return absl::DataLossError(absl::StrCat("operator '", name_,
                                              "': malformed accumulators in state (",
                                              value_scratch_.size(), " bytes)"));
    }
    for (size_t k = 0; k < num_keys; ++k) {
      batch_.mutable_column(k).AppendFrom(batch.column(key_indexes_[k]), row);
    }
    for (size_t c = 0; c < calls_.size(); ++c) {
      Update(calls_[c], row, accs_[c]);
      AppendResult(calls_[c], accs_[c], batch_.mutable_column(num_keys + c));
    }
    EncodeAccumulators(&value_scratch_);
    RETURN_IF_ERROR(acc_state_->Put(value_scratch_));
  }
  batch_.SetNumRows(batch.num_rows());
  if (batch_.num_rows() == 0) return absl::OkStatus();
  return out.Collect(batch_);
}

}  // namespace sluice::taskmanager
