#include "common/jobgraph/logical_plan.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace sluice::jobgraph {

Position Located::At(int offset) const {
  if (!exact || offset < 0 || static_cast<size_t>(offset) > text.size()) return pos;
  return Position{pos.line, pos.column + offset};
}

Located Located::Sub(size_t offset, size_t length) const {
  Located part;
  part.text = text.substr(std::min(offset, text.size()), length);
  part.pos = At(static_cast<int>(offset));
  part.exact = exact;
  return part;
}

bool IsSource(NodeOp op) {
  return op == NodeOp::kFileSource || op == NodeOp::kDatagenSource || op == NodeOp::kKafkaSource;
}

bool IsSink(NodeOp op) {
  return op == NodeOp::kFileSink || op == NodeOp::kPrintSink || op == NodeOp::kBlackholeSink ||
         op == NodeOp::kKafkaSink;
}

absl::string_view NodeRole(NodeOp op) {
  if (IsSource(op)) return "source";
  if (IsSink(op)) return "sink";
  if (op == NodeOp::kLateOutput) return "late output";
  return "operator";
}

absl::Status SpecError(absl::string_view file_name, Position pos, absl::string_view message) {
  if (pos.known()) {
    return absl::InvalidArgumentError(
        absl::StrCat(file_name, ":", pos.line, ":", pos.column, ": ", message));
  }
  return absl::InvalidArgumentError(absl::StrCat(file_name, ": ", message));
}

absl::Status SpecError(const LogicalPlan& plan, Position pos, absl::string_view node,
                       absl::string_view message) {
  if (!plan.file_name.empty()) return SpecError(plan.file_name, pos, message);
  if (!node.empty()) return absl::InvalidArgumentError(absl::StrCat("node '", node, "': ", message));
  return absl::InvalidArgumentError(absl::StrCat("job '", plan.name.text, "': ", message));
}

}  // namespace sluice::jobgraph
