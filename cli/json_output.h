// The `--output json` rendering of the CLI (a contract for scripts and tests): messages as
// JSON by ProtoToJson (common/proto_json.h), lists of them, and how JSON is printed.
// Pure functions, thread-safe.
#pragma once

#include <ostream>

#include "common/proto_json.h"
#include "nlohmann/json.hpp"

namespace sluice::cli {

using ::sluice::ProtoToJson;

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
