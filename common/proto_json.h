// ProtoToJson: a protobuf message as JSON, for the CLI's `--output json` (a contract for
// scripts and tests) and the REST API: shaped like the proto3 JSON mapping with the field
// names of the .proto (`job_id`, `summary.state`), every field present (defaults included),
// enums by name ("JOB_RUNNING", "HASH"), but 64-bit integers as JSON numbers instead of
// quoted strings and bytes as base64. Pure function, thread-safe.
#pragma once

#include "google/protobuf/message.h"
#include "nlohmann/json.hpp"

namespace sluice {

nlohmann::json ProtoToJson(const google::protobuf::Message& message);

}  // namespace sluice
