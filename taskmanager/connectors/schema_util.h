// Helpers shared by the connectors: the schema of a connector's spec (output_schema of a
// source, input_schema of a sink), checked to be non-empty.
// Stateless; thread-safe.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "common/types/schema.h"
#include "proto/jobgraph.pb.h"

namespace sluice::taskmanager::connectors {

absl::StatusOr<types::SchemaPtr> SchemaOf(const proto::Schema& schema);

}  // namespace sluice::taskmanager::connectors
