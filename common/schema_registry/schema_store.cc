#include "common/schema_registry/schema_store.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/schema_registry/compatibility.h"
#include "common/schema_registry/registry_errors.h"
#include "common/status_macros.h"

namespace sluice::schema_registry {
namespace {

absl::Status SubjectNotFound(const std::string& subject) {
  return RegistryError(kSubjectNotFound, absl::StrCat("Subject '", subject, "' not found."));
}

absl::Status VersionNotFound(int version) {
  return RegistryError(kVersionNotFound, absl::StrCat("Version ", version, " not found."));
}

absl::Status StoreError(const absl::Status& cause) {
  return RegistryError(kStoreError,
                       absl::StrCat("Error in the backend data store: ", cause.message()));
}

bool HasLiveVersion(const StoredSubject& subject) {
  return std::any_of(subject.versions.begin(), subject.versions.end(),
                     [](const StoredVersion& v) { return !v.deleted; });
}

// Valid UTF-8 without control characters, not empty (Confluent's subject name rules).
absl::Status ValidateSubject(const std::string& subject) {
  bool valid = !subject.empty();
  for (size_t i = 0; valid && i < subject.size();) {
    const auto c = static_cast<unsigned char>(subject[i]);
    const int length = c < 0x80           ? 1
                       : (c >> 5) == 0x6  ? 2
                       : (c >> 4) == 0xe  ? 3
                       : (c >> 3) == 0x1e ? 4
                                          : 0;
    valid = length > 0 && i + length <= subject.size() && (c >= 0x20 && c != 0x7f);
    for (int k = 1; valid && k < length; ++k) {
      valid = (static_cast<unsigned char>(subject[i + k]) >> 6) == 0x2;
    }
    i += length > 0 ? length : 1;
  }
  if (valid) return absl::OkStatus();
  return RegistryError(kInvalidSubject,
                       "The specified subject is not a valid subject (it must be non-empty "
                       "UTF-8 without control characters).");
}

}  // namespace

absl::StatusOr<std::unique_ptr<SchemaStore>> SchemaStore::Open(
    std::unique_ptr<RegistryStorage> storage) {
  ASSIGN_OR_RETURN(LoadedRegistry loaded, storage->Load());
  std::unique_ptr<SchemaStore> store(new SchemaStore(std::move(storage)));
  absl::MutexLock lock(&store->mu_);
  for (StoredSchema& stored : loaded.schemas) {
    absl::StatusOr<std::shared_ptr<const ParsedSchema>> parsed =
        ParseSchema(stored.type, stored.text);
    if (!parsed.ok()) {
      return absl::DataLossError(absl::StrCat("schema registry file ", stored.source,
                                              " is corrupt: ", parsed.status().message()));
    }
    store->ids_.emplace(std::make_pair(stored.type, (*parsed)->canonical()), stored.id);
    store->schemas_[stored.id] =
        Schema{SchemaRecord{stored.id, stored.type, std::move(stored.text)}, *std::move(parsed)};
  }
  store->index_ = std::move(loaded.index);
  return store;
}

absl::Status SchemaStore::Commit(RegistryIndex next) {
  if (absl::Status written = storage_->WriteIndex(next); !written.ok()) return StoreError(written);
  index_ = std::move(next);
  return absl::OkStatus();
}

absl::StatusOr<const StoredSubject*> SchemaStore::FindSubject(const std::string& subject,
                                                              bool include_deleted) const {
  auto it = index_.subjects.find(subject);
  if (it == index_.subjects.end() || (!include_deleted && !HasLiveVersion(it->second))) {
    return SubjectNotFound(subject);
  }
  return &it->second;
}

absl::StatusOr<const StoredVersion*> SchemaStore::FindVersion(const std::string& subject,
                                                              int version,
                                                              bool include_deleted) const {
  ASSIGN_OR_RETURN(const StoredSubject* s, FindSubject(subject, include_deleted));
  const StoredVersion* found = nullptr;
  for (const StoredVersion& v : s->versions) {
    if (v.deleted && !include_deleted) continue;
    if (version == kLatestVersion || v.version == version) found = &v;
  }
  if (found == nullptr) return VersionNotFound(version);
  return found;
}

std::vector<VersionedSchema> SchemaStore::LiveVersions(const StoredSubject& subject) const {
  std::vector<VersionedSchema> live;
  for (const StoredVersion& v : subject.versions) {
    if (!v.deleted) live.push_back({v.version, schemas_.at(v.id).parsed});
  }
  return live;
}

std::optional<int> SchemaStore::IdOf(const ParsedSchema& parsed) const {
  auto it = ids_.find(std::make_pair(parsed.type(), parsed.canonical()));
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

CompatibilityLevel SchemaStore::LevelOf(const std::string& subject) const {
  auto it = index_.subjects.find(subject);
  if (it != index_.subjects.end() && it->second.compatibility) return *it->second.compatibility;
  return index_.compatibility;
}

SubjectVersion SchemaStore::MakeSubjectVersion(const std::string& subject,
                                               const StoredVersion& v) const {
  return SubjectVersion{subject, v.version, schemas_.at(v.id).record};
}

absl::StatusOr<int> SchemaStore::Register(const std::string& subject, SchemaType type,
                                          absl::string_view text) {
  RETURN_IF_ERROR(ValidateSubject(subject));
  ASSIGN_OR_RETURN(std::shared_ptr<const ParsedSchema> parsed, ParseSchema(type, text));
  absl::MutexLock lock(&mu_);
  const std::optional<int> existing_id = IdOf(*parsed);
  StoredSubject empty;
  auto it = index_.subjects.find(subject);
  const StoredSubject& current = it == index_.subjects.end() ? empty : it->second;
  for (const StoredVersion& v : current.versions) {
    if (!v.deleted && existing_id == v.id) return v.id;
  }
  const std::vector<std::string> problems =
      CompatibilityProblems(LevelOf(subject), *parsed, LiveVersions(current));
  if (!problems.empty()) {
    return RegistryError(
        kIncompatibleSchema,
        absl::StrCat("Schema being registered is incompatible with an earlier schema for "
                     "subject \"",
                     subject, "\", details: [", absl::StrJoin(problems, "; "), "]"));
  }
  RegistryIndex next = index_;
  const int id = existing_id.value_or(next.next_id);
  if (!existing_id) {
    ++next.next_id;
    if (absl::Status s = storage_->WriteSchema({id, type, std::string(text), ""}); !s.ok()) {
      storage_->DiscardSchema(id);
      return StoreError(s);
    }
  }
  StoredSubject& updated = next.subjects[subject];
  const int version = updated.versions.empty() ? 1 : updated.versions.back().version + 1;
  updated.versions.push_back({version, id, false});
  if (absl::Status s = Commit(std::move(next)); !s.ok()) {
    if (!existing_id) storage_->DiscardSchema(id);
    return s;
  }
  if (!existing_id) {
    ids_.emplace(std::make_pair(type, parsed->canonical()), id);
    schemas_[id] = Schema{SchemaRecord{id, type, std::string(text)}, std::move(parsed)};
  }
  return id;
}

absl::StatusOr<SubjectVersion> SchemaStore::Lookup(const std::string& subject, SchemaType type,
                                                   absl::string_view text,
                                                   bool include_deleted) const {
  ASSIGN_OR_RETURN(std::shared_ptr<const ParsedSchema> parsed, ParseSchema(type, text));
  absl::ReaderMutexLock lock(&mu_);
  ASSIGN_OR_RETURN(const StoredSubject* s, FindSubject(subject, include_deleted));
  const std::optional<int> id = IdOf(*parsed);
  const StoredVersion* found = nullptr;
  for (const StoredVersion& v : s->versions) {
    if (id == v.id && (include_deleted || !v.deleted)) found = &v;
  }
  if (found == nullptr) return RegistryError(kSchemaNotFound, "Schema not found");
  return MakeSubjectVersion(subject, *found);
}

std::vector<std::string> SchemaStore::Subjects(bool include_deleted) const {
  absl::ReaderMutexLock lock(&mu_);
  std::vector<std::string> names;
  for (const auto& [name, subject] : index_.subjects) {
    if (subject.versions.empty()) continue;
    if (include_deleted || HasLiveVersion(subject)) names.push_back(name);
  }
  return names;
}

absl::StatusOr<std::vector<int>> SchemaStore::Versions(const std::string& subject,
                                                       bool include_deleted) const {
  absl::ReaderMutexLock lock(&mu_);
  ASSIGN_OR_RETURN(const StoredSubject* s, FindSubject(subject, include_deleted));
  std::vector<int> versions;
  for (const StoredVersion& v : s->versions) {
    if (include_deleted || !v.deleted) versions.push_back(v.version);
  }
  if (versions.empty()) return SubjectNotFound(subject);
  return versions;
}

absl::StatusOr<SubjectVersion> SchemaStore::Version(const std::string& subject, int version,
                                                    bool include_deleted) const {
  absl::ReaderMutexLock lock(&mu_);
  ASSIGN_OR_RETURN(const StoredVersion* v, FindVersion(subject, version, include_deleted));
  return MakeSubjectVersion(subject, *v);
}

absl::StatusOr<SchemaRecord> SchemaStore::SchemaById(int id) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = schemas_.find(id);
  if (it == schemas_.end()) {
    return RegistryError(kSchemaNotFound, absl::StrCat("Schema ", id, " not found"));
  }
  return it->second.record;
}

absl::StatusOr<std::vector<std::pair<std::string, int>>> SchemaStore::SubjectVersionsOf(
    int id, bool include_deleted) const {
  absl::ReaderMutexLock lock(&mu_);
  if (!schemas_.contains(id)) {
    return RegistryError(kSchemaNotFound, absl::StrCat("Schema ", id, " not found"));
  }
  std::vector<std::pair<std::string, int>> uses;
  for (const auto& [name, subject] : index_.subjects) {
    for (const StoredVersion& v : subject.versions) {
      if (v.id == id && (include_deleted || !v.deleted)) uses.emplace_back(name, v.version);
    }
  }
  return uses;
}

absl::StatusOr<std::vector<int>> SchemaStore::DeleteSubject(const std::string& subject,
                                                            bool permanent) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(const StoredSubject* s, FindSubject(subject, /*include_deleted=*/true));
  const bool live = HasLiveVersion(*s);
  if (permanent && live) {
    return RegistryError(kSubjectNotSoftDeleted,
                         absl::StrCat("Subject '", subject,
                                      "' was not deleted first before being permanently "
                                      "deleted"));
  }
  if (!permanent && !live) {
    return RegistryError(kSubjectSoftDeleted,
                         absl::StrCat("Subject '", subject,
                                      "' was soft deleted.Set permanent=true to delete "
                                      "permanently"));
  }
  RegistryIndex next = index_;
  std::vector<int> deleted;
  for (StoredVersion& v : next.subjects[subject].versions) {
    if (permanent || !v.deleted) deleted.push_back(v.version);
    v.deleted = true;
  }
  if (permanent) next.subjects.erase(subject);
  RETURN_IF_ERROR(Commit(std::move(next)));
  return deleted;
}

absl::StatusOr<int> SchemaStore::DeleteVersion(const std::string& subject, int version,
                                               bool permanent) {
  absl::MutexLock lock(&mu_);
  // "latest" is the newest live version for a soft delete, the newest of all for a
  // permanent one; a number names that version, deleted or not.
  const bool include_deleted = permanent || version != kLatestVersion;
  ASSIGN_OR_RETURN(const StoredVersion* found, FindVersion(subject, version, include_deleted));
  const int number = found->version;
  if (permanent && !found->deleted) {
    return RegistryError(kVersionNotSoftDeleted,
                         absl::StrCat("Subject '", subject, "' Version ", number,
                                      " was not deleted first before being permanently "
                                      "deleted"));
  }
  if (!permanent && found->deleted) {
    return RegistryError(kVersionSoftDeleted,
                         absl::StrCat("Subject '", subject, "' Version ", number,
                                      " was soft deleted.Set permanent=true to delete "
                                      "permanently"));
  }
  RegistryIndex next = index_;
  std::vector<StoredVersion>& versions = next.subjects[subject].versions;
  for (auto v = versions.begin(); v != versions.end(); ++v) {
    if (v->version != number) continue;
    if (permanent) {
      versions.erase(v);
    } else {
      v->deleted = true;
    }
    break;
  }
  if (versions.empty() && !next.subjects[subject].compatibility) next.subjects.erase(subject);
  RETURN_IF_ERROR(Commit(std::move(next)));
  return number;
}

absl::StatusOr<std::vector<std::string>> SchemaStore::CompatibilityProblemsOf(
    const std::string& subject, std::optional<int> version, SchemaType type,
    absl::string_view text) const {
  ASSIGN_OR_RETURN(std::shared_ptr<const ParsedSchema> parsed, ParseSchema(type, text));
  absl::ReaderMutexLock lock(&mu_);
  const CompatibilityLevel level = LevelOf(subject);
  auto it = index_.subjects.find(subject);
  const bool live = it != index_.subjects.end() && HasLiveVersion(it->second);
  if (!version || (*version == kLatestVersion && !live)) {
    if (!live) return std::vector<std::string>();
    return CompatibilityProblems(level, *parsed, LiveVersions(it->second));
  }
  ASSIGN_OR_RETURN(const StoredVersion* v, FindVersion(subject, *version, false));
  // One version: the level's directions, without its transitivity.
  return CompatibilityProblems(level, *parsed, {{v->version, schemas_.at(v->id).parsed}});
}

CompatibilityLevel SchemaStore::GlobalCompatibility() const {
  absl::ReaderMutexLock lock(&mu_);
  return index_.compatibility;
}

absl::Status SchemaStore::SetGlobalCompatibility(CompatibilityLevel level) {
  absl::MutexLock lock(&mu_);
  RegistryIndex next = index_;
  next.compatibility = level;
  return Commit(std::move(next));
}

CompatibilityLevel SchemaStore::EffectiveCompatibility(const std::string& subject) const {
  absl::ReaderMutexLock lock(&mu_);
  return LevelOf(subject);
}

absl::Status SchemaStore::SetSubjectCompatibility(const std::string& subject,
                                                  CompatibilityLevel level) {
  RETURN_IF_ERROR(ValidateSubject(subject));
  absl::MutexLock lock(&mu_);
  RegistryIndex next = index_;
  next.subjects[subject].compatibility = level;
  return Commit(std::move(next));
}

absl::StatusOr<CompatibilityLevel> SchemaStore::ClearSubjectCompatibility(
    const std::string& subject) {
  absl::MutexLock lock(&mu_);
  auto it = index_.subjects.find(subject);
  if (it == index_.subjects.end() || !it->second.compatibility) return SubjectNotFound(subject);
  const CompatibilityLevel previous = *it->second.compatibility;
  RegistryIndex next = index_;
  StoredSubject& s = next.subjects[subject];
  s.compatibility.reset();
  if (s.versions.empty()) next.subjects.erase(subject);
  RETURN_IF_ERROR(Commit(std::move(next)));
  return previous;
}

}  // namespace sluice::schema_registry
