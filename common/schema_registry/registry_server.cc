#include "common/schema_registry/registry_server.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace sluice::schema_registry {

// Schemas are small, but a request may carry a large one.
constexpr size_t kMaxRequestBytes = 16 << 20;

absl::StatusOr<std::unique_ptr<SchemaRegistryServer>> SchemaRegistryServer::Start(
    const SchemaRegistryServerOptions& options) {
  if (options.port < 0 || options.port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("the port must be between 0 and 65535, got ", options.port));
  }
  std::unique_ptr<SchemaRegistryServer> server(new SchemaRegistryServer());
  ASSIGN_OR_RETURN(std::unique_ptr<DirectoryStorage> storage, DirectoryStorage::Open(options.dir));
  ASSIGN_OR_RETURN(server->store_, SchemaStore::Open(std::move(storage)));
  server->service_ = std::make_unique<RegistryService>(server->store_.get());
  http::HttpServerOptions http_options;
  http_options.max_body_bytes = kMaxRequestBytes;
  const RegistryService* service = server->service_.get();
  ASSIGN_OR_RETURN(
      server->http_,
      http::HttpServer::Start(
          options.host, options.port, "the schema registry",
          [service](const http::HttpRequest& r) { return service->Handle(r); }, http_options));
  return server;
}

SchemaRegistryServer::~SchemaRegistryServer() { Stop(); }

std::string SchemaRegistryServer::url() const { return absl::StrCat("http://", http_->address()); }

void SchemaRegistryServer::Stop() {
  if (http_ != nullptr) http_->Stop();
}

}  // namespace sluice::schema_registry
