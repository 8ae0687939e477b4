// Persistence of the schema registry. RegistryStorage is the seam SchemaStore writes
// through (tests inject failures); DirectoryStorage keeps a registry in a directory:
//   <dir>/schemas/<id>.json  {"id": 1, "schemaType": "AVRO", "schema": "..."}  (written once)
//   <dir>/registry.json      {"format": 1, "next_id": 2, "compatibility": "BACKWARD",
//                             "subjects": {"orders-value": {"compatibility": "FULL",
//                               "versions": [{"version": 1, "id": 1, "deleted": false}]}}}
// Every file is written to a temporary file, fsynced and renamed over the old one, so a crash
// leaves either the old or the new file, never half of one. A new schema's file is written
// before the index that refers to it: a crash in between leaves an unreferenced schema,
// which is loaded (and reused if registered again). Not thread-safe: SchemaStore serializes
// its calls.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/schema_registry/schema_types.h"

namespace sluice::schema_registry {

struct StoredVersion {
  int version = 0;
  int id = 0;
  bool deleted = false;  // soft-deleted: hidden unless asked for
};

struct StoredSubject {
  std::vector<StoredVersion> versions;  // ascending version numbers
  std::optional<CompatibilityLevel> compatibility;
};

// Everything but the schema texts: small, rewritten on each change.
struct RegistryIndex {
  int next_id = 1;
  CompatibilityLevel compatibility = kDefaultCompatibility;
  std::map<std::string, StoredSubject> subjects;
};

struct StoredSchema {
  int id = 0;
  SchemaType type = SchemaType::kAvro;
  std::string text;
  std::string source;  // where it was loaded from (a file name), for error messages
};

struct LoadedRegistry {
  RegistryIndex index;
  std::vector<StoredSchema> schemas;  // ascending ids
};

class RegistryStorage {
 public:
  virtual ~RegistryStorage() = default;
  // Everything stored (an empty registry when nothing is). DataLoss naming the file when a
  // file is corrupt or the index refers to a schema that is not there.
  virtual absl::StatusOr<LoadedRegistry> Load() = 0;
  virtual absl::Status WriteSchema(const StoredSchema& schema) = 0;
  virtual absl::Status WriteIndex(const RegistryIndex& index) = 0;
  // Best effort: removes a schema whose index update failed.
  virtual void DiscardSchema(int id) = 0;
};

class DirectoryStorage final : public RegistryStorage {
 public:
  // Creates `dir` and dir/schemas when missing and checks that files can be written there:
  // FailedPrecondition "cannot write to the schema registry directory DIR: <why>".
  static absl::StatusOr<std::unique_ptr<DirectoryStorage>> Open(const std::string& dir);

  absl::StatusOr<LoadedRegistry> Load() override;
  absl::Status WriteSchema(const StoredSchema& schema) override;
  absl::Status WriteIndex(const RegistryIndex& index) override;
  void DiscardSchema(int id) override;

 private:
  explicit DirectoryStorage(std::string dir) : dir_(std::move(dir)) {}
  std::string IndexPath() const;
  std::string SchemaPath(int id) const;

  std::string dir_;
};

}  // namespace sluice::schema_registry
