#include "taskmanager/operators/aggregate_operator.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "taskmanager/operators/basic_operators.h"

namespace sluice::taskmanager {

absl::StatusOr<std::unique_ptr<Operator>> AggregateOperator::Create(
    const proto::OperatorSpec& spec) {
  ASSIGN_OR_RETURN(types::SchemaPtr input, InputSchemaOf(spec));
  ASSIGN_OR_RETURN(types::SchemaPtr output, OutputSchemaOf(spec));
  const proto::AggregateSpec& agg = spec.aggregate();
  ASSIGN_OR_RETURN(KeyedInput keys, KeyedInput::Create(spec.name(), agg.key_columns(), *input));
  if (output->size() != static_cast<size_t>(agg.key_columns_size() + agg.calls_size())) {
    return absl::InvalidArgumentError(
        absl::StrCat("operator '", spec.name(), "': output schema does not match its aggregates"));
  }
  ASSIGN_OR_RETURN(AggregateCalls calls,
                   AggregateCalls::Create(spec.name(), agg, *input, /*time_column=*/-1));
  std::unique_ptr<AggregateOperator> op(
      new AggregateOperator(output, std::move(keys), std::move(calls)));
  op->name_ = spec.name();
  return op;
}

absl::Status AggregateOperator::Open(const OperatorContext& ctx) {
  keys_.Open(ctx);
  return absl::OkStatus();
}

absl::Status AggregateOperator::InitializeState(StateInitContext& ctx) {
  RETURN_IF_ERROR(keys_.InitializeState(ctx));
  return BindState();
}

absl::Status AggregateOperator::BindState() {
  if (acc_state_ != nullptr) return absl::OkStatus();
  ASSIGN_OR_RETURN(backend_, keys_.backend());
  state::StateDescriptor d;
  d.name = absl::StrCat(name_, ".acc");
  d.kind = state::StateKind::kValue;
  absl::StatusOr<state::ValueState*> value = backend_->GetValueState(d);
  if (!value.ok()) {
    return absl::Status(value.status().code(),
                        absl::StrCat("operator '", name_, "': ", value.status().message()));
  }
  acc_state_ = *value;
  return absl::OkStatus();
}

absl::StatusOr<int64_t> AggregateOperator::NumKeys() {
  if (backend_ == nullptr) return 0;
  return backend_->NumKeys(absl::StrCat(name_, ".acc"));
}

absl::Status AggregateOperator::ProcessBatch(int input, types::RecordBatch& batch,
                                             Collector& out) {
  RETURN_IF_ERROR(BindState());  // unit tests skip InitializeState
  RETURN_IF_ERROR(calls_.Evaluate(batch));
  keys_.HashBatch(batch);
  batch_.Clear();
  batch_.Reserve(batch.num_rows());
  const size_t num_keys = keys_.key_indexes().size();
  for (size_t row = 0; row < batch.num_rows(); ++row) {
    RETURN_IF_ERROR(keys_.SetKey(batch, row));
    ASSIGN_OR_RETURN(bool found, acc_state_->Get(&value_scratch_));
    if (!found) {
      calls_.Reset(accs_);
    } else if (!calls_.Decode(value_scratch_, accs_)) {
      return absl::DataLossError(absl::StrCat("operator '", name_,
                                              "': malformed accumulators in state (",
                                              value_scratch_.size(), " bytes)"));
    }
    keys_.AppendKey(batch, row, batch_);
    calls_.Update(row, accs_);
    calls_.AppendResults(accs_, batch_, num_keys);
    calls_.Encode(accs_, &value_scratch_);
    RETURN_IF_ERROR(acc_state_->Put(value_scratch_));
  }
  batch_.SetNumRows(batch.num_rows());
  if (batch_.num_rows() == 0) return absl::OkStatus();
  return out.Collect(batch_);
}

}  // namespace sluice::taskmanager
