// TEST DOUBLE: a minimal in-process Confluent schema registry for the `*-confluent` format
// tests, until Sluice's own registry (branch `registry`) is merged and replaces it. It speaks
// just enough of the REST API over a real HTTP server (port 0): GET /schemas/ids/{id} and
// POST /subjects/{subject}/versions (the same schema text under a subject keeps its id; no
// compatibility checks). Thread-safe (the server's worker threads call the handler).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "common/http/http_server.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace sluice::testing {

class FakeSchemaRegistry {
 public:
  struct Entry {
    std::string schema;
    std::string type;  // "AVRO", "PROTOBUF"
    std::string subject;
  };

  FakeSchemaRegistry() {
    auto server = http::HttpServer::Start(
        "127.0.0.1", 0, "the test schema registry",
        [this](const http::HttpRequest& request) { return Handle(request); });
    EXPECT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  std::string url() const { return "http://" + server_->address(); }
  void Stop() { server_->Stop(); }

  // Stores a schema as if registered; returns its id.
  int Add(const std::string& subject, const std::string& schema, const std::string& type) {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, entry] : by_id_) {
      if (entry.subject == subject && entry.schema == schema && entry.type == type) return id;
    }
    const int id = next_id_++;
    by_id_[id] = Entry{schema, type, subject};
    return id;
  }

  std::map<int, Entry> entries() const {
    absl::MutexLock lock(&mu_);
    return by_id_;
  }

 private:
  static http::HttpResponse Error(int status, int code, const std::string& message) {
    http::HttpResponse r;
    r.status = status;
    r.body = nlohmann::json{{"error_code", code}, {"message", message}}.dump();
    return r;
  }

  http::HttpResponse Handle(const http::HttpRequest& request) {
    http::HttpResponse r;
    int id = 0;
    if (request.method == "GET" && absl::StartsWith(request.path, "/schemas/ids/") &&
        absl::SimpleAtoi(request.path.substr(13), &id)) {
      absl::MutexLock lock(&mu_);
      auto it = by_id_.find(id);
      if (it == by_id_.end()) return Error(404, 40403, "Schema not found");
      nlohmann::json body = {{"schema", it->second.schema}};
      if (it->second.type != "AVRO") body["schemaType"] = it->second.type;
      r.body = body.dump();
      return r;
    }
    constexpr absl::string_view kSubjects = "/subjects/";
    if (request.method == "POST" && absl::StartsWith(request.path, kSubjects) &&
        absl::EndsWith(request.path, "/versions")) {
      const std::string subject = request.path.substr(
          kSubjects.size(), request.path.size() - kSubjects.size() - 9);
      nlohmann::json body = nlohmann::json::parse(request.body, nullptr, false);
      if (body.is_discarded() || !body.contains("schema")) {
        return Error(422, 42201, "Invalid schema");
      }
      if (body.contains("references") && !body["references"].empty()) {
        return Error(422, 42201, "references are not supported by the test registry");
      }
      r.body = nlohmann::json{{"id", Add(subject, body["schema"].get<std::string>(),
                                         body.value("schemaType", "AVRO"))}}
                   .dump();
      return r;
    }
    return Error(404, 40401, "not found");
  }

  mutable absl::Mutex mu_;
  std::map<int, Entry> by_id_ ABSL_GUARDED_BY(mu_);
  int next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::unique_ptr<http::HttpServer> server_;
};

}  // namespace sluice::testing
