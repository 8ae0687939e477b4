// CreateOperator: builds the operator of an OperatorSpec, dispatching on its kind.
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "taskmanager/connectors/sink_factory.h"
#include "taskmanager/operators/aggregate_operator.h"
#include "taskmanager/operators/join_operator.h"
#include "taskmanager/operators/pattern_operator.h"
#include "taskmanager/operators/window_operator.h"
#include "taskmanager/operators/basic_operators.h"
#include "taskmanager/operators/operator.h"
#include "taskmanager/operators/operator_registry.h"

namespace sluice::taskmanager {
namespace {

absl::flat_hash_map<std::string, OperatorFactory>& UserOperators() {
  static auto* registry = new absl::flat_hash_map<std::string, OperatorFactory>();
  return *registry;
}

}  // namespace

void RegisterUserOperator(const std::string& name, OperatorFactory factory) {
  UserOperators()[name] = std::move(factory);
}

const OperatorFactory* FindUserOperator(const std::string& name) {
  auto it = UserOperators().find(name);
  return it == UserOperators().end() ? nullptr : &it->second;
}

absl::StatusOr<std::unique_ptr<Operator>> CreateOperator(const proto::OperatorSpec& spec) {
  if (connectors::IsSinkSpec(spec)) return connectors::CreateSink(spec);
  switch (spec.kind_case()) {
    case proto::OperatorSpec::kFilter:
      return FilterOperator::Create(spec);
    case proto::OperatorSpec::kSelect:
      return SelectOperator::Create(spec);
    case proto::OperatorSpec::kPattern:
      return PatternOperator::Create(spec);
    case proto::OperatorSpec::kJoin:
      return JoinOperator::Create(spec);
    case proto::OperatorSpec::kAggregate:
      if (!spec.aggregate().window().kind().empty()) return WindowOperator::Create(spec);
      return AggregateOperator::Create(spec);
    case proto::OperatorSpec::kUnionOp:
      return std::unique_ptr<Operator>(new UnionOperator());
    case proto::OperatorSpec::kUser: {
      const OperatorFactory* factory = FindUserOperator(spec.user().registered_name());
      if (factory == nullptr) {
        return absl::NotFoundError(absl::StrCat("operator '", spec.name(),
                                                "': no user operator registered as '",
                                                spec.user().registered_name(), "'"));
      }
      return (*factory)(spec);
    }
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("operator '", spec.name(), "' is not a chainable operator"));
  }
}

}  // namespace sluice::taskmanager
