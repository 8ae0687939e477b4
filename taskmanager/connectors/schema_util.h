// Helpers shared by the connectors: the schema of a connector's spec (output_schema of a
// source, input_schema of a sink), checked to be non-empty, and a source's on_error.
// Stateless; thread-safe.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "common/types/schema.h"
#include "proto/jobgraph.pb.h"

namespace sluice::taskmanager::connectors {

absl::StatusOr<types::SchemaPtr> SchemaOf(const proto::Schema& schema);

// A source's on_error: true for skip, false for fail (or empty); InvalidArgument
// "on_error must be fail or skip, not '<value>'" otherwise.
absl::StatusOr<bool> SkipsBadRecords(const std::string& on_error);

}  // namespace sluice::taskmanager::connectors
