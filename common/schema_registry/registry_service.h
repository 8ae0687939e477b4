// RegistryService: Confluent Schema Registry's REST API over a SchemaStore, as one
// http::HttpHandler (common/http/http_server.h). Routes (subjects URL-encoded in paths):
//   GET  /                                   {}
//   GET  /subjects[?deleted=true]            ["orders-value", ...]
//   GET  /subjects/{s}/versions              [1, 2]
//   GET  /subjects/{s}/versions/{v|latest}   {"subject","version","id","schema"[,"schemaType"]}
//   GET  /subjects/{s}/versions/{v}/schema   the schema text itself
//   POST /subjects/{s}/versions              {"schema", "schemaType"?} -> {"id": N}
//   POST /subjects/{s}                       is this schema registered under s? -> as GET version
//   DELETE /subjects/{s}[?permanent=true]    [1, 2]; /subjects/{s}/versions/{v} -> 1
//   GET  /schemas/ids/{id}                   {"schema"[,"schemaType"]}; .../schema: the text;
//                                            .../versions: [{"subject","version"}]
//   GET  /schemas/types                      ["AVRO", "PROTOBUF"]
//   POST /compatibility/subjects/{s}/versions[/{v|latest}][?verbose=true]
//                                            {"is_compatible": b[, "messages": [...]]}
//   GET|PUT /config, GET|PUT|DELETE /config/{s}   {"compatibilityLevel": L} / {"compatibility": L}
// Errors are Confluent's {"error_code": 40401, "message": "..."} with the HTTP status the code
// starts with (404, 409, 422, 500); unknown routes 404, wrong methods 405. Answers are
// application/vnd.schemaregistry.v1+json. Thread-safe (the store is): Handle runs on the
// HTTP server's worker threads.
#pragma once

#include "common/http/http_server.h"
#include "common/schema_registry/schema_store.h"

namespace sluice::schema_registry {

inline constexpr char kRegistryContentType[] = "application/vnd.schemaregistry.v1+json";

class RegistryService {
 public:
  // `store` must outlive the service.
  explicit RegistryService(SchemaStore* store) : store_(store) {}

  http::HttpResponse Handle(const http::HttpRequest& request) const;

 private:
  http::HttpResponse Subjects(const http::HttpRequest& request, absl::string_view rest) const;
  http::HttpResponse Schemas(const http::HttpRequest& request, absl::string_view rest) const;
  http::HttpResponse Compatibility(const http::HttpRequest& request, absl::string_view rest) const;
  http::HttpResponse Config(const http::HttpRequest& request, absl::string_view rest) const;

  SchemaStore* store_;
};

}  // namespace sluice::schema_registry
