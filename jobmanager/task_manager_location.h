// TaskManagerLocation: where a registered TaskManager is reached (its id, the address of its
// TaskManagerService and of its ExchangeService). A plain value shared by the registry, the
// execution graph (task placement), deployment descriptors and the TaskManagerGateway.
#pragma once

#include <string>

namespace sluice::jobmanager {

struct TaskManagerLocation {
  std::string tm_id;
  std::string control_address;  // host:port of its TaskManagerService
  std::string data_address;     // host:port of its ExchangeService

  bool operator==(const TaskManagerLocation&) const = default;
};

}  // namespace sluice::jobmanager
