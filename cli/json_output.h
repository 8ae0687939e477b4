// The `--output json` rendering of the CLI (a contract for scripts and tests): a protobuf
// message of control.proto as JSON, shaped like the proto3 JSON mapping with the field names
// of the .proto (`job_id`, `summary.state`), every field present (defaults included), enums
// by name ("JOB_RUNNING", "HASH"), but 64-bit integers as JSON numbers instead of quoted
// strings and bytes as base64. Pure functions, thread-safe.
#pragma once

#include <ostream>

#include "google/protobuf/message.h"
#include "nlohmann/json.hpp"

namespace sluice::cli {

nlohmann::json ProtoToJson(const google::protobuf::Message& message);

// A JSON array of messages.
template <typename Container>
nlohmann::json ProtoListToJson(const Container& messages) {
  nlohmann::json array = nlohmann::json::array();
  for (const auto& message : messages) array.push_back(ProtoToJson(message));
  return array;
}

// Pretty-printed (2-space indent) followed by a newline; invalid UTF-8 is replaced.
void PrintJson(std::ostream& out, const nlohmann::json& value);

}  // namespace sluice::cli
