#include "common/schema_registry/registry_storage.h"

#include <filesystem>
#include <set>
#include <system_error>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/file_util.h"
#include "nlohmann/json.hpp"

namespace sluice::schema_registry {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

constexpr int kFormat = 1;

absl::Status Corrupt(const std::string& path, absl::string_view why) {
  return absl::DataLossError(absl::StrCat("schema registry file ", path, " is corrupt: ", why));
}

std::string Dump(const json& j) {
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

absl::StatusOr<json> ReadJson(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return absl::DataLossError(absl::StrCat("cannot read ", text.status().message()));
  json j = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Corrupt(path, "not a JSON object");
  return j;
}

absl::StatusOr<CompatibilityLevel> LevelField(const json& j, const std::string& path) {
  std::optional<CompatibilityLevel> level;
  if (j.is_string()) level = ParseCompatibilityLevel(j.get<std::string>());
  if (!level) return Corrupt(path, absl::StrCat("bad compatibility level ", j.dump()));
  return *level;
}

absl::StatusOr<StoredSubject> SubjectFromJson(const json& j, const std::string& name,
                                              const std::string& path) {
  StoredSubject subject;
  if (!j.is_object() || !j.contains("versions") || !j["versions"].is_array()) {
    return Corrupt(path, absl::StrCat("subject '", name, "' has no versions array"));
  }
  if (j.contains("compatibility")) {
    absl::StatusOr<CompatibilityLevel> level = LevelField(j["compatibility"], path);
    if (!level.ok()) return level.status();
    subject.compatibility = *level;
  }
  for (const json& v : j["versions"]) {
    if (!v.is_object() || !v.contains("version") || !v["version"].is_number_integer() ||
        !v.contains("id") || !v["id"].is_number_integer()) {
      return Corrupt(
          path, absl::StrCat("a version of subject '", name, "' lacks an integer version or id"));
    }
    subject.versions.push_back(
        {v["version"].get<int>(), v["id"].get<int>(), v.value("deleted", false)});
  }
  return subject;
}

absl::StatusOr<RegistryIndex> IndexFromJson(const json& j, const std::string& path) {
  if (j.value("format", 0) != kFormat) {
    return Corrupt(path, absl::StrCat("unknown format ", j.value("format", json()).dump()));
  }
  RegistryIndex index;
  if (!j.contains("next_id") || !j["next_id"].is_number_integer()) {
    return Corrupt(path, "no integer next_id");
  }
  index.next_id = j["next_id"].get<int>();
  absl::StatusOr<CompatibilityLevel> level =
      LevelField(j.value("compatibility", json("BACKWARD")), path);
  if (!level.ok()) return level.status();
  index.compatibility = *level;
  if (!j.contains("subjects") || !j["subjects"].is_object()) {
    return Corrupt(path, "no subjects object");
  }
  for (const auto& [name, value] : j["subjects"].items()) {
    absl::StatusOr<StoredSubject> subject = SubjectFromJson(value, name, path);
    if (!subject.ok()) return subject.status();
    index.subjects.emplace(name, *std::move(subject));
  }
  return index;
}

absl::StatusOr<StoredSchema> SchemaFromJson(const json& j, int id, const std::string& path) {
  StoredSchema schema;
  schema.source = path;
  if (j.value("id", 0) != id) return Corrupt(path, "its id does not match its file name");
  schema.id = id;
  std::optional<SchemaType> type = ParseSchemaType(j.value("schemaType", std::string("AVRO")));
  if (!type) return Corrupt(path, "unknown schemaType");
  schema.type = *type;
  if (!j.contains("schema") || !j["schema"].is_string()) return Corrupt(path, "no schema text");
  schema.text = j["schema"].get<std::string>();
  return schema;
}

// Runs a JSON reader; a value of an unexpected JSON type (nlohmann throws) is corruption.
template <typename Reader>
auto Guarded(const std::string& path, Reader reader) -> decltype(reader()) {
  try {
    return reader();
  } catch (const json::exception& e) {
    return Corrupt(path, e.what());
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<DirectoryStorage>> DirectoryStorage::Open(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(fs::path(dir) / "schemas", ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create the schema registry directory ", dir, ": ", ec.message()));
  }
  const std::string probe = (fs::path(dir) / ".write-test").string();
  if (absl::Status s = WriteFileAtomically(probe, "ok\n"); !s.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot write to the schema registry directory ", dir, ": ", s.message()));
  }
  fs::remove(probe, ec);
  return std::unique_ptr<DirectoryStorage>(new DirectoryStorage(dir));
}

std::string DirectoryStorage::IndexPath() const {
  return (fs::path(dir_) / "registry.json").string();
}

std::string DirectoryStorage::SchemaPath(int id) const {
  return (fs::path(dir_) / "schemas" / absl::StrCat(id, ".json")).string();
}

absl::StatusOr<LoadedRegistry> DirectoryStorage::Load() {
  LoadedRegistry loaded;
  std::error_code ec;
  std::set<int> ids;
  for (const fs::directory_entry& entry : fs::directory_iterator(fs::path(dir_) / "schemas", ec)) {
    const std::string file_name = entry.path().filename().string();
    absl::string_view name = file_name;
    int id = 0;
    // Temporary files of an interrupted write ("5.json.tmp.123") are not schemas.
    if (!absl::ConsumeSuffix(&name, ".json") || !absl::SimpleAtoi(name, &id) || id <= 0) continue;
    ids.insert(id);
  }
  if (ec)
    return absl::DataLossError(absl::StrCat("cannot list ", dir_, "/schemas: ", ec.message()));
  int max_id = 0;
  for (int id : ids) {
    const std::string path = SchemaPath(id);
    absl::StatusOr<json> j = ReadJson(path);
    if (!j.ok()) return j.status();
    absl::StatusOr<StoredSchema> schema =
        Guarded(path, [&] { return SchemaFromJson(*j, id, path); });
    if (!schema.ok()) return schema.status();
    loaded.schemas.push_back(*std::move(schema));
    max_id = id;
  }
  const std::string index_path = IndexPath();
  if (fs::exists(index_path, ec)) {
    absl::StatusOr<json> j = ReadJson(index_path);
    if (!j.ok()) return j.status();
    absl::StatusOr<RegistryIndex> index =
        Guarded(index_path, [&] { return IndexFromJson(*j, index_path); });
    if (!index.ok()) return index.status();
    loaded.index = *std::move(index);
  }
  for (const auto& [name, subject] : loaded.index.subjects) {
    for (const StoredVersion& v : subject.versions) {
      if (!ids.contains(v.id)) {
        return Corrupt(index_path, absl::StrCat("subject '", name, "' version ", v.version,
                                                " refers to schema ", v.id, " but ",
                                                SchemaPath(v.id), " is missing"));
      }
    }
  }
  loaded.index.next_id = std::max(loaded.index.next_id, max_id + 1);
  return loaded;
}

absl::Status DirectoryStorage::WriteSchema(const StoredSchema& schema) {
  json j = {
      {"id", schema.id}, {"schemaType", SchemaTypeName(schema.type)}, {"schema", schema.text}};
  return WriteFileAtomically(SchemaPath(schema.id), Dump(j));
}

absl::Status DirectoryStorage::WriteIndex(const RegistryIndex& index) {
  json subjects = json::object();
  for (const auto& [name, subject] : index.subjects) {
    json versions = json::array();
    for (const StoredVersion& v : subject.versions) {
      versions.push_back({{"version", v.version}, {"id", v.id}, {"deleted", v.deleted}});
    }
    json s = {{"versions", versions}};
    if (subject.compatibility) s["compatibility"] = CompatibilityLevelName(*subject.compatibility);
    subjects[name] = s;
  }
  json j = {{"format", kFormat},
            {"next_id", index.next_id},
            {"compatibility", CompatibilityLevelName(index.compatibility)},
            {"subjects", subjects}};
  return WriteFileAtomically(IndexPath(), Dump(j));
}

void DirectoryStorage::DiscardSchema(int id) {
  std::error_code ignored;
  fs::remove(SchemaPath(id), ignored);
}

}  // namespace sluice::schema_registry
