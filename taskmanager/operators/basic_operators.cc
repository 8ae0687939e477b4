#include "taskmanager/operators/basic_operators.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace sluice::taskmanager {

absl::StatusOr<types::SchemaPtr> OutputSchemaOf(const proto::OperatorSpec& spec) {
  ASSIGN_OR_RETURN(types::Schema schema, types::Schema::FromProto(spec.output_schema()));
  return std::make_shared<const types::Schema>(std::move(schema));
}

absl::StatusOr<types::SchemaPtr> InputSchemaOf(const proto::OperatorSpec& spec) {
  ASSIGN_OR_RETURN(types::Schema schema, types::Schema::FromProto(spec.input_schema()));
  return std::make_shared<const types::Schema>(std::move(schema));
}

namespace {

absl::StatusOr<std::unique_ptr<expr::CompiledExpr>> CompileFor(const proto::OperatorSpec& spec,
                                                               const std::string& text,
                                                               const types::Schema& schema) {
  auto compiled = expr::Compile(text, schema);
  if (!compiled.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("operator '", spec.name(), "': expression '",
                                                   text, "': ", compiled.status().message()));
  }
  return compiled;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Operator>> FilterOperator::Create(const proto::OperatorSpec& spec) {
  ASSIGN_OR_RETURN(types::SchemaPtr input, InputSchemaOf(spec));
  auto op = std::make_unique<FilterOperator>();
  ASSIGN_OR_RETURN(op->predicate_, CompileFor(spec, spec.filter().predicate(), *input));
  if (op->predicate_->result_type() != types::TypeId::kBool) {
    return absl::InvalidArgumentError(
        absl::StrCat("operator '", spec.name(), "': filter must be a boolean expression"));
  }
  return op;
}

absl::Status FilterOperator::ProcessBatch(int input, types::RecordBatch& batch, Collector& out) {
  RETURN_IF_ERROR(predicate_->EvaluatePredicate(batch, &keep_));
  batch.Filter(keep_);
  if (batch.num_rows() == 0) return absl::OkStatus();
  return out.Collect(batch);
}

absl::StatusOr<std::unique_ptr<Operator>> SelectOperator::Create(const proto::OperatorSpec& spec) {
  ASSIGN_OR_RETURN(types::SchemaPtr input, InputSchemaOf(spec));
  ASSIGN_OR_RETURN(types::SchemaPtr output, OutputSchemaOf(spec));
  if (output->size() != static_cast<size_t>(spec.select().columns_size())) {
    return absl::InvalidArgumentError(
        absl::StrCat("operator '", spec.name(), "': output schema does not match its columns"));
  }
  std::unique_ptr<SelectOperator> op(new SelectOperator(output));
  for (int i = 0; i < spec.select().columns_size(); ++i) {
    ASSIGN_OR_RETURN(auto compiled, CompileFor(spec, spec.select().columns(i).expr(), *input));
    if (compiled->result_type() != output->field(i).type) {
      return absl::InvalidArgumentError(absl::StrCat(
          "operator '", spec.name(), "': column '", output->field(i).name, "' has type ",
          types::TypeName(compiled->result_type()), ", the plan expects ",
          types::TypeName(output->field(i).type)));
    }
    op->columns_.push_back(std::move(compiled));
  }
  return op;
}

absl::Status SelectOperator::ProcessBatch(int input, types::RecordBatch& batch, Collector& out) {
  batch_.Clear();
  for (size_t i = 0; i < columns_.size(); ++i) {
    RETURN_IF_ERROR(columns_[i]->Evaluate(batch, &batch_.mutable_column(i)));
  }
  batch_.SetNumRows(batch.num_rows());
  return out.Collect(batch_);
}

}  // namespace sluice::taskmanager
