// The Avro specification's schema resolution rules as a compatibility check: can a reader
// using one schema read data written with another? Used by AvroSchema (and through it by
// every compatibility level). Rules, following the specification:
// - same primitive; promotions int -> long, float, double; long -> float, double;
//   float -> double; string <-> bytes;
// - records whose unqualified names match (or a reader alias names the writer): fields are
//   matched by name (or reader field alias); a reader field missing in the writer needs a
//   default; writer fields missing in the reader are skipped;
// - enums: every writer symbol must be a reader symbol, unless the reader has a default;
// - fixed: same name and size; arrays and maps: their items / values resolve;
// - a writer union: each of its branches must resolve (to some branch of a reader union, or
//   to the non-union reader); a non-union writer against a reader union: some branch resolves.
// Recursive types are followed once per (reader, writer) pair. Pure function: any thread.
#pragma once

#include <string>
#include <vector>

#include "common/schema_registry/avro_schema.h"

namespace sluice::schema_registry {

// One reason per problem, naming the field path ("address.country", "items[]", "tags{}")
// and the types, e.g. "reader field 'country' has no default and is missing from the
// writer schema". Empty: `reader` can read everything written with `writer`.
std::vector<std::string> AvroReadIncompatibilities(const AvroSchema& reader,
                                                   const AvroSchema& writer);

}  // namespace sluice::schema_registry
