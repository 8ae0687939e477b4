// Compatibility levels on top of ParsedSchema::ReadIncompatibilities: which earlier versions
// a new schema is checked against and in which direction.
//   BACKWARD: the new schema reads data written with the latest version;
//   FORWARD:  the latest version reads data written with the new schema;
//   FULL:     both; *_TRANSITIVE: the same against every version, not only the latest;
//   NONE:     no check.
// Used by SchemaStore when registering and for the compatibility test route. Pure
// function: any thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/schema_registry/parsed_schema.h"
#include "common/schema_registry/schema_types.h"

namespace sluice::schema_registry {

struct VersionedSchema {
  int version = 0;
  std::shared_ptr<const ParsedSchema> schema;
};

// Why `candidate` is not compatible with `existing` (the subject's live versions, oldest
// first) under `level`; empty when it is. Each reason says who reads whom, e.g. "new schema
// reading data of version 2: reader field 'country' has no default and is missing from the
// writer schema". A schema of another type than a version is incompatible with it.
std::vector<std::string> CompatibilityProblems(CompatibilityLevel level,
                                               const ParsedSchema& candidate,
                                               const std::vector<VersionedSchema>& existing);

}  // namespace sluice::schema_registry
