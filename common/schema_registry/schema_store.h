// SchemaStore: the schema registry's state and rules, as Confluent Schema Registry has them.
// Subjects hold versions 1, 2, ...; each version points at a schema id. Ids are global: the
// same schema (same type and canonical text, see ParsedSchema) gets the same id under every
// subject and when registered again. Registering checks the new schema against the
// subject's versions under its compatibility level (the subject's, else the global one,
// BACKWARD by default). Subjects and versions are soft-deleted first (hidden, their number
// kept) and may then be deleted permanently; schema ids are never reused and stay readable.
// Every change is written through a RegistryStorage before it is visible; a failed write
// changes nothing (Confluent code 50001). Errors are RegistryError codes (registry_errors.h).
// Thread-safe: every method may be called from any thread (one mutex).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/schema_registry/compatibility.h"
#include "common/schema_registry/parsed_schema.h"
#include "common/schema_registry/registry_storage.h"
#include "common/schema_registry/schema_types.h"

namespace sluice::schema_registry {

// A version selector meaning "the newest live version" ("latest" or -1 in URLs).
inline constexpr int kLatestVersion = -1;

struct SchemaRecord {
  int id = 0;
  SchemaType type = SchemaType::kAvro;
  std::string schema;  // the text as first registered
};

struct SubjectVersion {
  std::string subject;
  int version = 0;
  SchemaRecord record;
};

class SchemaStore {
 public:
  // Loads what `storage` holds (every stored schema is parsed again). DataLoss naming the
  // file when something stored is corrupt.
  static absl::StatusOr<std::unique_ptr<SchemaStore>> Open(
      std::unique_ptr<RegistryStorage> storage);

  // Registers `text` under `subject`; returns its id. A schema already live under the
  // subject returns its id without a new version. 42201 invalid schema, 409 incompatible
  // (the message lists the reasons), 42208 invalid subject name.
  absl::StatusOr<int> Register(const std::string& subject, SchemaType type, absl::string_view text);
  // The version of `subject` holding this schema (40401 no subject, 40403 not under it).
  absl::StatusOr<SubjectVersion> Lookup(const std::string& subject, SchemaType type,
                                        absl::string_view text, bool include_deleted) const;

  std::vector<std::string> Subjects(bool include_deleted) const;
  absl::StatusOr<std::vector<int>> Versions(const std::string& subject, bool include_deleted) const;
  // `version` a number or kLatestVersion. 40401 / 40402.
  absl::StatusOr<SubjectVersion> Version(const std::string& subject, int version,
                                         bool include_deleted) const;
  absl::StatusOr<SchemaRecord> SchemaById(int id) const;  // 40403
  // The (subject, version) pairs using schema `id`, deleted ones only if asked.
  absl::StatusOr<std::vector<std::pair<std::string, int>>> SubjectVersionsOf(
      int id, bool include_deleted) const;

  // Soft delete (then `permanent` removes what was soft-deleted). Returns the versions
  // deleted. 40401, 40404 soft-deleted already, 40405 permanent before soft.
  absl::StatusOr<std::vector<int>> DeleteSubject(const std::string& subject, bool permanent);
  // Returns the version deleted. 40401, 40402, 40406, 40407 as DeleteSubject.
  absl::StatusOr<int> DeleteVersion(const std::string& subject, int version, bool permanent);

  // Why `text` would not be compatible with `subject`: against `version` (a number or
  // kLatestVersion) in the directions of the subject's level, or with nullopt against the
  // versions registration would check. Empty: compatible (also when the subject has no
  // versions and no particular number was asked for).
  absl::StatusOr<std::vector<std::string>> CompatibilityProblemsOf(const std::string& subject,
                                                                   std::optional<int> version,
                                                                   SchemaType type,
                                                                   absl::string_view text) const;

  CompatibilityLevel GlobalCompatibility() const;
  absl::Status SetGlobalCompatibility(CompatibilityLevel level);
  // The subject's level, else the global one.
  CompatibilityLevel EffectiveCompatibility(const std::string& subject) const;
  absl::Status SetSubjectCompatibility(const std::string& subject, CompatibilityLevel level);
  // Removes the subject's own level; returns it (40401 when it had none).
  absl::StatusOr<CompatibilityLevel> ClearSubjectCompatibility(const std::string& subject);

 private:
  struct Schema {
    SchemaRecord record;
    std::shared_ptr<const ParsedSchema> parsed;
  };

  explicit SchemaStore(std::unique_ptr<RegistryStorage> storage) : storage_(std::move(storage)) {}

  // Writes `next` through the storage, then makes it the state.
  absl::Status Commit(RegistryIndex next) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<const StoredSubject*> FindSubject(const std::string& subject,
                                                   bool include_deleted) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  absl::StatusOr<const StoredVersion*> FindVersion(const std::string& subject, int version,
                                                   bool include_deleted) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // The subject's live versions, oldest first, parsed.
  std::vector<VersionedSchema> LiveVersions(const StoredSubject& subject) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  std::optional<int> IdOf(const ParsedSchema& parsed) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  CompatibilityLevel LevelOf(const std::string& subject) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  SubjectVersion MakeSubjectVersion(const std::string& subject, const StoredVersion& v) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::unique_ptr<RegistryStorage> storage_ ABSL_GUARDED_BY(mu_);
  RegistryIndex index_ ABSL_GUARDED_BY(mu_);
  std::map<int, Schema> schemas_ ABSL_GUARDED_BY(mu_);
  // (type, canonical text) -> id.
  std::map<std::pair<SchemaType, std::string>, int> ids_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sluice::schema_registry
