// The stateless relational operators of a chain: filter (a compiled predicate), select
// (projection and computed columns) and union (merges inputs of one schema). Each compiles its
// expressions once at construction. Task thread only.
#pragma once

#include <memory>
#include <vector>

#include "common/expr/expr.h"
#include "taskmanager/operators/operator.h"

namespace sluice::taskmanager {

class FilterOperator : public Operator {
 public:
  static absl::StatusOr<std::unique_ptr<Operator>> Create(const proto::OperatorSpec& spec);
  absl::Status ProcessBatch(int input, types::RecordBatch& batch, Collector& out) override;

 private:
  std::unique_ptr<expr::CompiledExpr> predicate_;
  std::vector<uint8_t> keep_;
};

class SelectOperator : public Operator {
 public:
  static absl::StatusOr<std::unique_ptr<Operator>> Create(const proto::OperatorSpec& spec);
  absl::Status ProcessBatch(int input, types::RecordBatch& batch, Collector& out) override;

 private:
  explicit SelectOperator(types::SchemaPtr output) : output_(std::move(output)), batch_(output_) {}
  types::SchemaPtr output_;
  std::vector<std::unique_ptr<expr::CompiledExpr>> columns_;
  types::RecordBatch batch_;  // reused across batches
};

class UnionOperator : public Operator {
 public:
  absl::Status ProcessBatch(int input, types::RecordBatch& batch, Collector& out) override {
    return out.Collect(batch);
  }
};

// Builds the schema of an OperatorSpec's output_schema (shared by the operators).
absl::StatusOr<types::SchemaPtr> OutputSchemaOf(const proto::OperatorSpec& spec);
absl::StatusOr<types::SchemaPtr> InputSchemaOf(const proto::OperatorSpec& spec);

}  // namespace sluice::taskmanager
