#include "common/types/avro_schema.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace sluice::types {

namespace {

std::string AvroName(absl::string_view name) {
  std::string out(name);
  for (size_t i = 0; i < out.size(); ++i) {
    const char c = out[i];
    const bool ok = absl::ascii_isalpha(c) || c == '_' || (i > 0 && absl::ascii_isdigit(c)) ||
                    (c == '.' && i > 0 && i + 1 < out.size());
    if (!ok) out[i] = '_';
  }
  return out.empty() ? "_" : out;
}

}  // namespace

std::string AvroFieldName(absl::string_view column) { return AvroName(column); }

namespace {

nlohmann::json AvroTypeOf(TypeId type) {
  switch (type) {
    case TypeId::kBool: return "boolean";
    case TypeId::kInt64: return "long";
    case TypeId::kFloat64: return "double";
    case TypeId::kString: return "string";
    case TypeId::kBytes: return "bytes";
    case TypeId::kTimestamp: return {{"type", "long"}, {"logicalType", "timestamp-micros"}};
  }
  return "null";
}

}  // namespace

std::string DeriveAvroSchema(const Schema& schema, absl::string_view record_name) {
  std::string full = AvroName(record_name);
  nlohmann::json record = {{"type", "record"}};
  if (const size_t dot = full.rfind('.'); dot != std::string::npos) {
    record["name"] = full.substr(dot + 1);
    record["namespace"] = full.substr(0, dot);
  } else {
    record["name"] = full;
  }
  nlohmann::json fields = nlohmann::json::array();
  for (const Field& f : schema.fields()) {
    fields.push_back({{"name", AvroFieldName(f.name)},
                      {"type", nlohmann::json::array({"null", AvroTypeOf(f.type)})},
                      {"default", nullptr}});
  }
  record["fields"] = std::move(fields);
  return record.dump();
}

}  // namespace sluice::types
