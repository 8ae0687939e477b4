#include "common/schema_registry/registry_service.h"

#include <climits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/schema_registry/registry_errors.h"
#include "nlohmann/json.hpp"

namespace sluice::schema_registry {
namespace {

using http::HttpRequest;
using http::HttpResponse;
using json = nlohmann::ordered_json;

HttpResponse Json(const json& body, int status = 200) {
  HttpResponse r;
  r.status = status;
  r.content_type = kRegistryContentType;
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

HttpResponse Error(int error_code, absl::string_view message) {
  return Json(json{{"error_code", error_code}, {"message", message}}, HttpStatusOf(error_code));
}

HttpResponse Error(const absl::Status& status) {
  return Error(RegistryErrorCode(status), status.message());
}

HttpResponse NotFound() { return Error(404, "HTTP 404 Not Found"); }

HttpResponse MethodNotAllowed(std::string allow) {
  HttpResponse r = Error(405, "HTTP 405 Method Not Allowed");
  r.allow = std::move(allow);
  return r;
}

bool QueryFlag(const HttpRequest& request, const std::string& name) {
  auto it = request.query.find(name);
  return it != request.query.end() && it->second == "true";
}

// "latest", -1 or 1 .. 2^31-1.
absl::StatusOr<int> ParseVersion(absl::string_view text) {
  int version = 0;
  if (text == "latest") return kLatestVersion;
  if (absl::SimpleAtoi(text, &version) && (version >= 1 || version == kLatestVersion)) {
    return version;
  }
  return RegistryError(kInvalidVersion,
                       absl::StrCat("The specified version '", text,
                                    "' is not a valid version id. Allowed values are between "
                                    "[1, 2^31-1] and the string \"latest\""));
}

// The body of register / lookup / compatibility requests.
struct SchemaRequest {
  SchemaType type = SchemaType::kAvro;
  std::string schema;
};

absl::StatusOr<SchemaRequest> ParseSchemaRequest(const std::string& body) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return RegistryError(400, "The request body is not a JSON object");
  }
  SchemaRequest request;
  auto schema = j.find("schema");
  if (schema == j.end() || !schema->is_string() || schema->get<std::string>().empty()) {
    return RegistryError(kInvalidSchema, "Empty schema");
  }
  request.schema = schema->get<std::string>();
  if (auto type = j.find("schemaType"); type != j.end() && !type->is_null()) {
    std::optional<SchemaType> parsed =
        type->is_string() ? ParseSchemaType(type->get<std::string>()) : std::nullopt;
    if (!parsed) {
      return RegistryError(kInvalidSchema,
                           absl::StrCat("Invalid schema type ", type->dump(),
                                        " (this registry serves AVRO and PROTOBUF)"));
    }
    request.type = *parsed;
  }
  if (auto refs = j.find("references"); refs != j.end() && refs->is_array() && !refs->empty()) {
    return RegistryError(kInvalidSchema, "Schema references are not supported by this registry");
  }
  return request;
}

absl::StatusOr<CompatibilityLevel> ParseLevelRequest(const std::string& body) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return RegistryError(400, "The request body is not a JSON object");
  }
  auto level = j.find("compatibility");
  std::optional<CompatibilityLevel> parsed;
  if (level != j.end() && level->is_string())
    parsed = ParseCompatibilityLevel(level->get<std::string>());
  if (!parsed) {
    return RegistryError(kInvalidCompatibilityLevel,
                         "Invalid compatibility level. Valid values are none, backward, "
                         "forward, full, backward_transitive, forward_transitive, and "
                         "full_transitive");
  }
  return *parsed;
}

// {"schema": ...} plus "schemaType" when not AVRO (Confluent leaves it out for Avro).
json SchemaJson(const SchemaRecord& record) {
  json j = json::object();
  if (record.type != SchemaType::kAvro) j["schemaType"] = SchemaTypeName(record.type);
  j["schema"] = record.schema;
  return j;
}

json SubjectVersionJson(const SubjectVersion& v) {
  json j = {{"subject", v.subject}, {"version", v.version}, {"id", v.record.id}};
  if (v.record.type != SchemaType::kAvro) j["schemaType"] = SchemaTypeName(v.record.type);
  j["schema"] = v.record.schema;
  return j;
}

HttpResponse RawSchema(const SchemaRecord& record) {
  HttpResponse r;
  r.content_type = kRegistryContentType;
  r.body = record.schema;
  return r;
}

// The parts of /subjects/{s}[/versions[/{v}[/schema]]] (the subject may contain '/').
struct SubjectPath {
  std::string subject;
  bool versions = false;
  std::optional<std::string> version;
  bool schema = false;
};

SubjectPath ParseSubjectPath(absl::string_view rest) {
  SubjectPath p;
  if (absl::ConsumeSuffix(&rest, "/versions")) {
    p.versions = true;
    p.subject = std::string(rest);
    return p;
  }
  absl::string_view tail = rest;
  const bool schema = absl::ConsumeSuffix(&tail, "/schema");
  if (const size_t slash = tail.rfind('/'); slash != absl::string_view::npos) {
    absl::string_view head = tail.substr(0, slash);
    const absl::string_view version = tail.substr(slash + 1);
    if (!version.empty() && absl::ConsumeSuffix(&head, "/versions")) {
      p.versions = true;
      p.version = std::string(version);
      p.schema = schema;
      p.subject = std::string(head);
      return p;
    }
  }
  p.subject = std::string(rest);
  return p;
}

template <typename T>
HttpResponse JsonOrError(const absl::StatusOr<T>& result) {
  if (!result.ok()) return Error(result.status());
  return Json(json(*result));
}

}  // namespace

HttpResponse RegistryService::Handle(const HttpRequest& request) const {
  absl::string_view path = request.path;
  if (path == "/") {
    if (request.method != "GET") return MethodNotAllowed("GET");
    return Json(json::object());
  }
  if (path == "/subjects" || path == "/subjects/") {
    if (request.method != "GET") return MethodNotAllowed("GET");
    return Json(store_->Subjects(QueryFlag(request, "deleted")));
  }
  if (absl::ConsumePrefix(&path, "/subjects/")) return Subjects(request, path);
  if (absl::ConsumePrefix(&path, "/schemas/")) return Schemas(request, path);
  if (absl::ConsumePrefix(&path, "/compatibility/subjects/")) {
    return Compatibility(request, path);
  }
  if (path == "/config" || absl::ConsumePrefix(&path, "/config/")) {
    return Config(request, path == "/config" ? "" : path);
  }
  return NotFound();
}

HttpResponse RegistryService::Subjects(const HttpRequest& request, absl::string_view rest) const {
  const SubjectPath p = ParseSubjectPath(rest);
  const bool deleted = QueryFlag(request, "deleted");
  const bool permanent = QueryFlag(request, "permanent");
  if (!p.versions) {  // /subjects/{s}
    if (request.method == "POST") {
      absl::StatusOr<SchemaRequest> body = ParseSchemaRequest(request.body);
      if (!body.ok()) return Error(body.status());
      absl::StatusOr<SubjectVersion> found =
          store_->Lookup(p.subject, body->type, body->schema, deleted);
      if (!found.ok()) return Error(found.status());
      return Json(SubjectVersionJson(*found));
    }
    if (request.method == "DELETE") return JsonOrError(store_->DeleteSubject(p.subject, permanent));
    return MethodNotAllowed("POST, DELETE");
  }
  if (!p.version) {  // /subjects/{s}/versions
    if (request.method == "GET") return JsonOrError(store_->Versions(p.subject, deleted));
    if (request.method == "POST") {
      absl::StatusOr<SchemaRequest> body = ParseSchemaRequest(request.body);
      if (!body.ok()) return Error(body.status());
      absl::StatusOr<int> id = store_->Register(p.subject, body->type, body->schema);
      if (!id.ok()) return Error(id.status());
      return Json(json{{"id", *id}});
    }
    return MethodNotAllowed("GET, POST");
  }
  absl::StatusOr<int> version = ParseVersion(*p.version);
  if (!version.ok()) return Error(version.status());
  if (request.method == "DELETE" && !p.schema) {
    return JsonOrError(store_->DeleteVersion(p.subject, *version, permanent));
  }
  if (request.method != "GET") return MethodNotAllowed(p.schema ? "GET" : "GET, DELETE");
  absl::StatusOr<SubjectVersion> found = store_->Version(p.subject, *version, deleted);
  if (!found.ok()) return Error(found.status());
  return p.schema ? RawSchema(found->record) : Json(SubjectVersionJson(*found));
}

HttpResponse RegistryService::Schemas(const HttpRequest& request, absl::string_view rest) const {
  if (rest == "types") {
    if (request.method != "GET") return MethodNotAllowed("GET");
    return Json(json::array({"AVRO", "PROTOBUF"}));
  }
  if (!absl::ConsumePrefix(&rest, "ids/")) return NotFound();
  absl::string_view suffix;
  if (const size_t slash = rest.find('/'); slash != absl::string_view::npos) {
    suffix = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
  }
  if (!suffix.empty() && suffix != "versions" && suffix != "schema") return NotFound();
  if (request.method != "GET") return MethodNotAllowed("GET");
  int id = 0;
  if (!absl::SimpleAtoi(rest, &id)) {
    return Error(kSchemaNotFound, absl::StrCat("Schema ", rest, " not found"));
  }
  if (suffix == "versions") {
    absl::StatusOr<std::vector<std::pair<std::string, int>>> uses =
        store_->SubjectVersionsOf(id, QueryFlag(request, "deleted"));
    if (!uses.ok()) return Error(uses.status());
    json list = json::array();
    for (const auto& [subject, version] : *uses) {
      list.push_back({{"subject", subject}, {"version", version}});
    }
    return Json(list);
  }
  absl::StatusOr<SchemaRecord> record = store_->SchemaById(id);
  if (!record.ok()) return Error(record.status());
  return suffix == "schema" ? RawSchema(*record) : Json(SchemaJson(*record));
}

HttpResponse RegistryService::Compatibility(const HttpRequest& request,
                                            absl::string_view rest) const {
  const SubjectPath p = ParseSubjectPath(rest);
  if (!p.versions || p.schema) return NotFound();
  if (request.method != "POST") return MethodNotAllowed("POST");
  std::optional<int> version;
  if (p.version) {
    absl::StatusOr<int> parsed = ParseVersion(*p.version);
    if (!parsed.ok()) return Error(parsed.status());
    version = *parsed;
  }
  absl::StatusOr<SchemaRequest> body = ParseSchemaRequest(request.body);
  if (!body.ok()) return Error(body.status());
  absl::StatusOr<std::vector<std::string>> problems =
      store_->CompatibilityProblemsOf(p.subject, version, body->type, body->schema);
  if (!problems.ok()) return Error(problems.status());
  json answer = {{"is_compatible", problems->empty()}};
  if (QueryFlag(request, "verbose")) answer["messages"] = *problems;
  return Json(answer);
}

HttpResponse RegistryService::Config(const HttpRequest& request, absl::string_view subject) const {
  const std::string name(subject);
  if (request.method == "GET") {
    const CompatibilityLevel level =
        name.empty() ? store_->GlobalCompatibility() : store_->EffectiveCompatibility(name);
    return Json(json{{"compatibilityLevel", CompatibilityLevelName(level)}});
  }
  if (request.method == "PUT") {
    absl::StatusOr<CompatibilityLevel> level = ParseLevelRequest(request.body);
    if (!level.ok()) return Error(level.status());
    const absl::Status set = name.empty() ? store_->SetGlobalCompatibility(*level)
                                          : store_->SetSubjectCompatibility(name, *level);
    if (!set.ok()) return Error(set);
    return Json(json{{"compatibility", CompatibilityLevelName(*level)}});
  }
  if (request.method == "DELETE" && !name.empty()) {
    absl::StatusOr<CompatibilityLevel> previous = store_->ClearSubjectCompatibility(name);
    if (!previous.ok()) return Error(previous.status());
    return Json(json{{"compatibilityLevel", CompatibilityLevelName(*previous)}});
  }
  return MethodNotAllowed(name.empty() ? "GET, PUT" : "GET, PUT, DELETE");
}

}  // namespace sluice::schema_registry
