// Avro schemas shared by the schema registry's store and HTTP tests: three versions of an
// "Order" record whose compatibility is known.
#pragma once

#include <string>

namespace sluice::schema_registry::testing {

inline const std::string kOrderV1 =
    R"({"type":"record","name":"Order","fields":[{"name":"id","type":"long"}]})";
// v1 + a field with a default: compatible with v1 both ways.
inline const std::string kOrderV2 =
    R"({"type":"record","name":"Order","fields":[{"name":"id","type":"long"},)"
    R"({"name":"country","type":"string","default":"NL"}]})";
// v1 + a field without a default: a reader with it cannot read v1 data (not BACKWARD).
inline const std::string kOrderV2NoDefault =
    R"({"type":"record","name":"Order","fields":[{"name":"id","type":"long"},)"
    R"({"name":"country","type":"string"}]})";

}  // namespace sluice::schema_registry::testing
