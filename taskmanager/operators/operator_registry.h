// Registry of user C++ operators by name: a TaskManager binary registers factories at start
// (before serving), and `user: {registered_name: X}` operators of a job are built from them.
// Register* must happen before any task starts; lookups are then read-only and thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "taskmanager/operators/operator.h"

namespace sluice::taskmanager {

using OperatorFactory =
    std::function<absl::StatusOr<std::unique_ptr<Operator>>(const proto::OperatorSpec& spec)>;

void RegisterUserOperator(const std::string& name, OperatorFactory factory);
const OperatorFactory* FindUserOperator(const std::string& name);

}  // namespace sluice::taskmanager
