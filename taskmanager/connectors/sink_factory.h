// Sinks by spec kind: file, print, blackhole, kafka. The operator factory (CreateOperator in
// taskmanager/operators) calls these for sink kinds. Thread-safe (stateless).
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "proto/jobgraph.pb.h"
#include "taskmanager/operators/operator.h"

namespace sluice::taskmanager::connectors {

// True for file_sink, print_sink, blackhole_sink and kafka_sink specs.
bool IsSinkSpec(const proto::OperatorSpec& spec);
// Builds the sink of a spec (its schema is spec.input_schema()); InvalidArgument for a bad
// format or a spec that is not a sink.
absl::StatusOr<std::unique_ptr<Operator>> CreateSink(const proto::OperatorSpec& spec);

}  // namespace sluice::taskmanager::connectors
