#include "taskmanager/operators/operator.h"

#include "absl/strings/str_cat.h"

namespace sluice::taskmanager {

absl::StatusOr<Collector*> OperatorContext::SideOutput(absl::string_view op,
                                                       const std::string& name) const {
  if (side_outputs != nullptr) {
    if (auto it = side_outputs->find(name); it != side_outputs->end()) return it->second;
  }
  return absl::FailedPreconditionError(
      absl::StrCat("operator '", op, "': no edge reads its side output '", name, "'"));
}

}  // namespace sluice::taskmanager
