// SchemaRegistryServer: a running schema registry: a SchemaStore persisted in a directory
// (DirectoryStorage) served over HTTP by RegistryService. Started by `sluice
// schema-registry` and, in-process, by `sluice local --kafka`. Start/Stop from one thread;
// the HTTP worker threads serve requests meanwhile.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/http/http_server.h"
#include "common/schema_registry/registry_service.h"
#include "common/schema_registry/schema_store.h"

namespace sluice::schema_registry {

inline constexpr int kDefaultRegistryPort = 8085;

struct SchemaRegistryServerOptions {
  std::string host = "127.0.0.1";
  int port = kDefaultRegistryPort;  // 0 = a free port
  std::string dir;                  // created when missing
};

class SchemaRegistryServer {
 public:
  // Opens (or creates) the registry in options.dir, then listens. FailedPrecondition when
  // the directory cannot be written, DataLoss naming a corrupt file, Unavailable "cannot
  // listen on HOST:PORT for the schema registry (address in use?)", InvalidArgument for a
  // port outside 0..65535.
  static absl::StatusOr<std::unique_ptr<SchemaRegistryServer>> Start(
      const SchemaRegistryServerOptions& options);
  ~SchemaRegistryServer();  // Stop()

  int port() const { return http_->port(); }
  // "http://127.0.0.1:8085".
  std::string url() const;

  // Stops serving (in-flight requests finish). Idempotent.
  void Stop();

 private:
  SchemaRegistryServer() = default;

  std::unique_ptr<SchemaStore> store_;
  std::unique_ptr<RegistryService> service_;
  std::unique_ptr<http::HttpServer> http_;
};

}  // namespace sluice::schema_registry
