// SchemaRegistryClient: a Confluent Schema Registry client (REST over libcurl) for the
// `*-confluent` record formats. It looks schemas up by id (cached: ids are immutable) and
// registers schemas under subjects (cached per subject and schema text). Works against
// Sluice's own registry (`sluice schema-registry`) and any Confluent-compatible one; a URL
// of the form https://KEY:SECRET@host (Confluent Cloud) sends basic auth.
//
// Thread-safe: one client per registry URL is shared by every task of a process (ForUrl).
// Calls block; a registry that cannot be reached is retried a few times with backoff and then
// reported as Unavailable, so callers can tell an outage from a schema that does not exist
// (NotFound) or that the registry refuses (FailedPrecondition, with the registry's reason).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/schema_registry/schema_types.h"

namespace sluice::schema_registry {

struct RegisteredSchema {
  int32_t id = 0;
  SchemaType type = SchemaType::kAvro;
  std::string schema;  // the schema text as the registry returned it
};

class SchemaRegistryClient {
 public:
  // `url` like "http://127.0.0.1:8085" (a trailing '/' is ignored).
  explicit SchemaRegistryClient(std::string url);

  // The process-wide client of `url`.
  static std::shared_ptr<SchemaRegistryClient> ForUrl(const std::string& url);

  const std::string& url() const { return url_; }

  // GET /schemas/ids/{id}. NotFound when the registry has no schema with that id.
  absl::StatusOr<RegisteredSchema> GetById(int32_t id);
  // POST /subjects/{subject}/versions: the id of `schema` under `subject`, registering it if
  // needed. FailedPrecondition with the registry's message when it rejects the schema
  // (incompatible with the subject's earlier versions, or invalid).
  absl::StatusOr<int32_t> Register(const std::string& subject, const std::string& schema,
                                   SchemaType type);
  // GET /subjects/{subject}/versions/latest.
  absl::StatusOr<RegisteredSchema> Latest(const std::string& subject);

 private:
  struct Response {
    long status = 0;
    std::string body;
  };
  // One request with retries on transport errors and 5xx answers.
  absl::StatusOr<Response> Call(const std::string& method, const std::string& path,
                                const std::string& body);
  // The registry's error message ("message" of its JSON error body), or the body.
  static std::string ErrorMessage(const Response& response);

  const std::string url_;
  absl::Mutex mu_;
  absl::flat_hash_map<int32_t, RegisteredSchema> by_id_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, int32_t> registered_ ABSL_GUARDED_BY(mu_);  // subject\0schema
};

}  // namespace sluice::schema_registry
