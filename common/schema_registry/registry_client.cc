#include "common/schema_registry/registry_client.h"

#include <curl/curl.h>

#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "nlohmann/json.hpp"

namespace sluice::schema_registry {
namespace {

constexpr int kAttempts = 4;
constexpr int kFirstBackoffMs = 100;
constexpr long kTimeoutSeconds = 10;

size_t AppendBody(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// Percent-encodes a subject for a URL path segment.
std::string EscapeSegment(const std::string& segment) {
  std::string out;
  for (unsigned char c : segment) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppend(&out, "%", absl::Hex(c, absl::kZeroPad2));
    }
  }
  return out;
}

absl::StatusOr<SchemaType> ParseType(const nlohmann::json& body) {
  if (!body.contains("schemaType")) return SchemaType::kAvro;
  const std::string type = body.value("schemaType", "AVRO");
  if (std::optional<SchemaType> parsed = ParseSchemaType(type)) return *parsed;
  return absl::UnimplementedError(absl::StrCat("schema type ", type, " is not supported"));
}

absl::StatusOr<nlohmann::json> ParseJson(const std::string& body, const std::string& what) {
  nlohmann::json json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    return absl::InternalError(absl::StrCat(what, ": the registry answered with no JSON object"));
  }
  return json;
}

}  // namespace

SchemaRegistryClient::SchemaRegistryClient(std::string url)
    : url_(absl::StripSuffix(url, "/")) {
  static const bool initialized = [] { return curl_global_init(CURL_GLOBAL_DEFAULT) == 0; }();
  (void)initialized;
}

std::shared_ptr<SchemaRegistryClient> SchemaRegistryClient::ForUrl(const std::string& url) {
  static absl::Mutex mu(absl::kConstInit);
  static auto* clients = new absl::flat_hash_map<std::string, std::shared_ptr<SchemaRegistryClient>>();
  absl::MutexLock lock(&mu);
  std::shared_ptr<SchemaRegistryClient>& client = (*clients)[url];
  if (client == nullptr) client = std::make_shared<SchemaRegistryClient>(url);
  return client;
}

absl::StatusOr<SchemaRegistryClient::Response> SchemaRegistryClient::Call(
    const std::string& method, const std::string& path, const std::string& body) {
  const std::string target = url_ + path;
  std::string last_error;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    if (attempt > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(kFirstBackoffMs << (attempt - 1)));
    }
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
    if (curl == nullptr) return absl::InternalError("curl_easy_init failed");
    Response response;
    char error[CURL_ERROR_SIZE] = {0};
    curl_slist* headers = nullptr;
    headers = curl_slist_append(headers, "Accept: application/vnd.schemaregistry.v1+json");
    headers = curl_slist_append(headers, "Content-Type: application/vnd.schemaregistry.v1+json");
    curl_easy_setopt(curl.get(), CURLOPT_URL, target.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_CUSTOMREQUEST, method.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT, kTimeoutSeconds);
    curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, AppendBody);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &response.body);
    if (!body.empty() || method == "POST") {
      curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, body.c_str());
      curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    }
    const CURLcode code = curl_easy_perform(curl.get());
    curl_slist_free_all(headers);
    if (code != CURLE_OK) {
      last_error = error[0] != '\0' ? error : curl_easy_strerror(code);
      continue;
    }
    curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &response.status);
    if (response.status >= 500) {
      last_error = absl::StrCat("HTTP ", response.status, ": ", ErrorMessage(response));
      continue;
    }
    return response;
  }
  return absl::UnavailableError(absl::StrCat("schema registry ", url_, ": ", method, " ", path,
                                             " failed after ", kAttempts,
                                             " attempts: ", last_error));
}

std::string SchemaRegistryClient::ErrorMessage(const Response& response) {
  nlohmann::json json = nlohmann::json::parse(response.body, nullptr, false);
  if (json.is_object() && json.contains("message") && json["message"].is_string()) {
    return json["message"].get<std::string>();
  }
  return response.body.empty() ? absl::StrCat("HTTP ", response.status) : response.body;
}

absl::StatusOr<RegisteredSchema> SchemaRegistryClient::GetById(int32_t id) {
  {
    absl::MutexLock lock(&mu_);
    if (auto it = by_id_.find(id); it != by_id_.end()) return it->second;
  }
  absl::StatusOr<Response> response = Call("GET", absl::StrCat("/schemas/ids/", id), "");
  if (!response.ok()) return response.status();
  if (response->status == 404) {
    return absl::NotFoundError(
        absl::StrCat("schema id ", id, " is not in the schema registry ", url_));
  }
  if (response->status != 200) {
    return absl::FailedPreconditionError(absl::StrCat("schema registry ", url_, ": schema id ",
                                                      id, ": ", ErrorMessage(*response)));
  }
  absl::StatusOr<nlohmann::json> json = ParseJson(response->body, absl::StrCat("schema id ", id));
  if (!json.ok()) return json.status();
  if (!json->contains("schema") || !(*json)["schema"].is_string()) {
    return absl::InternalError(absl::StrCat("schema registry ", url_, ": schema id ", id,
                                            ": the answer has no schema"));
  }
  RegisteredSchema schema;
  schema.id = id;
  absl::StatusOr<SchemaType> type = ParseType(*json);
  if (!type.ok()) return type.status();
  schema.type = *type;
  schema.schema = (*json)["schema"].get<std::string>();
  absl::MutexLock lock(&mu_);
  by_id_[id] = schema;
  return schema;
}

absl::StatusOr<int32_t> SchemaRegistryClient::Register(const std::string& subject,
                                                       const std::string& schema,
                                                       SchemaType type) {
  const std::string cache_key = absl::StrCat(subject, std::string(1, '\0'), schema);
  {
    absl::MutexLock lock(&mu_);
    if (auto it = registered_.find(cache_key); it != registered_.end()) return it->second;
  }
  nlohmann::json request = {{"schema", schema}};
  if (type != SchemaType::kAvro) request["schemaType"] = SchemaTypeName(type);
  absl::StatusOr<Response> response =
      Call("POST", absl::StrCat("/subjects/", EscapeSegment(subject), "/versions"), request.dump());
  if (!response.ok()) return response.status();
  if (response->status != 200) {
    return absl::FailedPreconditionError(
        absl::StrCat("schema registry ", url_, " rejected the schema for subject '", subject,
                     "' (HTTP ", response->status, "): ", ErrorMessage(*response)));
  }
  absl::StatusOr<nlohmann::json> json = ParseJson(response->body, "register");
  if (!json.ok()) return json.status();
  if (!json->contains("id") || !(*json)["id"].is_number_integer()) {
    return absl::InternalError(absl::StrCat("schema registry ", url_, ": registering under '",
                                            subject, "' answered no id"));
  }
  const int32_t id = (*json)["id"].get<int32_t>();
  absl::MutexLock lock(&mu_);
  registered_[cache_key] = id;
  by_id_[id] = RegisteredSchema{id, type, schema};
  return id;
}

absl::StatusOr<RegisteredSchema> SchemaRegistryClient::Latest(const std::string& subject) {
  absl::StatusOr<Response> response =
      Call("GET", absl::StrCat("/subjects/", EscapeSegment(subject), "/versions/latest"), "");
  if (!response.ok()) return response.status();
  if (response->status == 404) {
    return absl::NotFoundError(absl::StrCat("subject '", subject,
                                            "' is not in the schema registry ", url_, ": ",
                                            ErrorMessage(*response)));
  }
  if (response->status != 200) {
    return absl::FailedPreconditionError(absl::StrCat("schema registry ", url_, ": subject '",
                                                      subject, "': ", ErrorMessage(*response)));
  }
  absl::StatusOr<nlohmann::json> json = ParseJson(response->body, subject);
  if (!json.ok()) return json.status();
  RegisteredSchema schema;
  schema.id = json->value("id", 0);
  absl::StatusOr<SchemaType> type = ParseType(*json);
  if (!type.ok()) return type.status();
  schema.type = *type;
  schema.schema = json->value("schema", "");
  return schema;
}

}  // namespace sluice::schema_registry
