#include "common/expr/expr.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/expr/binder.h"
#include "common/expr/nodes.h"
#include "common/expr/parser.h"
#include "common/status_macros.h"

namespace sluice::expr {
namespace {

// The compiled form: the root of a node tree plus the input columns it reads, so a batch of
// the wrong shape is an error rather than an out-of-bounds read.
class TreeExpr final : public CompiledExpr {
 public:
  TreeExpr(NodePtr root, std::vector<std::pair<int, types::TypeId>> inputs)
      : root_(std::move(root)), inputs_(std::move(inputs)) {}

  types::TypeId result_type() const override { return root_->type(); }

  absl::Status Evaluate(const types::RecordBatch& batch, types::Column* out) const override {
    if (out->type() != root_->type()) {
      return absl::InvalidArgumentError(
          absl::StrCat("expression result column has type ", types::TypeName(out->type()),
                       ", expected ", types::TypeName(root_->type())));
    }
    RETURN_IF_ERROR(CheckInputs(batch));
    EvalScratch scratch;
    root_->Eval(batch, &scratch, out);
    return absl::OkStatus();
  }

  absl::Status EvaluateKeep(const types::RecordBatch& batch,
                            std::vector<uint8_t>* keep) const override {
    RETURN_IF_ERROR(CheckInputs(batch));
    keep->resize(batch.num_rows());
    EvalScratch scratch;
    root_->EvalPredicate(batch, &scratch, keep->data());
    return absl::OkStatus();
  }

  int column_index() const override { return root_->column_index(); }
  bool is_constant() const override { return root_->constant() != nullptr; }
  std::vector<int> referenced_columns() const override {
    std::vector<int> out;
    for (const auto& input : inputs_) out.push_back(input.first);
    return out;
  }

 private:
  absl::Status CheckInputs(const types::RecordBatch& batch) const {
    for (const auto& [index, type] : inputs_) {
      if (static_cast<size_t>(index) >= batch.num_columns() ||
          batch.column(index).type() != type) {
        return absl::InvalidArgumentError(absl::StrCat(
            "batch does not match the schema the expression was compiled for (column ", index,
            " should be ", types::TypeName(type), ")"));
      }
    }
    return absl::OkStatus();
  }

  NodePtr root_;
  std::vector<std::pair<int, types::TypeId>> inputs_;
};

// Byte offset -> character (UTF-8 code point) offset.
int CharOffset(absl::string_view text, int byte_offset) {
  int chars = 0;
  for (int i = 0; i < byte_offset && i < static_cast<int>(text.size()); ++i) {
    chars += (static_cast<unsigned char>(text[i]) & 0xC0) != 0x80;
  }
  return chars;
}

}  // namespace

absl::Status CompiledExpr::EvaluatePredicate(const types::RecordBatch& batch,
                                             std::vector<uint8_t>* keep) const {
  if (result_type() != types::TypeId::kBool) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a predicate must be a bool expression, got ", types::TypeName(result_type())));
  }
  return EvaluateKeep(batch, keep);
}

absl::Status CompiledExpr::EvaluateKeep(const types::RecordBatch& batch,
                                        std::vector<uint8_t>* keep) const {
  types::Column values(types::TypeId::kBool);
  RETURN_IF_ERROR(Evaluate(batch, &values));
  const size_t n = batch.num_rows();
  keep->resize(n);
  const uint8_t* valid = values.valid().data();
  const int64_t* v = values.ints().data();
  uint8_t* k = keep->data();
  for (size_t i = 0; i < n; ++i) k[i] = (valid[i] != 0) & (v[i] != 0);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<CompiledExpr>> Compile(absl::string_view text,
                                                      const types::Schema& schema,
                                                      CompileError* error) {
  int offset = 0;
  absl::StatusOr<std::unique_ptr<Ast>> ast = Parse(text, &offset);
  if (!ast.ok()) {
    if (error != nullptr) error->offset = CharOffset(text, offset);
    return ast.status();
  }
  Binder binder(text, schema);
  absl::StatusOr<Bound> bound = binder.Bind(**ast);
  if (!bound.ok()) {
    if (error != nullptr) error->offset = CharOffset(text, binder.error_offset());
    return bound.status();
  }
  NodePtr root = bound->node;
  if (bound->untyped_null) root = MakeConst(Value::Null(types::TypeId::kBool));
  std::vector<std::pair<int, types::TypeId>> inputs;
  if (root->constant() == nullptr) {
    for (int index : binder.referenced_columns()) {
      inputs.emplace_back(index, schema.field(index).type);
    }
  }
  return std::make_unique<TreeExpr>(std::move(root), std::move(inputs));
}

std::vector<std::string> FunctionNames() { return Binder::FunctionNames(); }

}  // namespace sluice::expr
