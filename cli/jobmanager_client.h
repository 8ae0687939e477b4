// JobManagerClient: the CLI's gRPC client of JobManagerService (submit, list, get, cancel
// jobs; list TaskManagers). Every call first makes sure the channel is connected (bounded by
// connect_timeout_ms, failing fast when the port refuses), then runs with wait_for_ready off
// and a call deadline, so an absent JobManager is reported within seconds, never a hang.
// Errors are absl::Status with a message a user can act on:
//   Unavailable       "cannot reach the JobManager at HOST:PORT (is it running? start one
//                      with `sluice local`)"
//   DeadlineExceeded  "the JobManager at HOST:PORT did not answer GetJob within 10s"
//   Unauthenticated   "the JobManager at HOST:PORT refused the call: missing bearer token ..."
//   other codes       the JobManager's own code and message (NotFound for unknown job ids).
// Transport security (TLS, mutual TLS) and the bearer token come from the options
// (cli/client_security.h fills them from --tls-* and --token-file).
// Not thread-safe: one client per thread (the CLI uses it from its main thread).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/rpc/credentials.h"
#include "common/security/bearer_token.h"
#include "grpcpp/grpcpp.h"
#include "proto/control.grpc.pb.h"

namespace sluice::cli {

struct JobManagerClientOptions {
  int64_t connect_timeout_ms = 3000;
  int64_t call_timeout_ms = 10000;
  rpc::RpcCredentials credentials;             // plaintext by default
  std::optional<security::BearerToken> token;  // sent as `authorization` metadata
};

class JobManagerClient {
 public:
  explicit JobManagerClient(std::string address, JobManagerClientOptions options = {});

  const std::string& address() const { return address_; }

  // Returns the new job's id.
  // `request.graph` plus optional restore_path / allow_non_restored_state.
  absl::StatusOr<std::string> SubmitJob(const proto::SubmitJobRequest& request);
  absl::StatusOr<std::string> SubmitJob(const proto::JobGraph& graph) {
    proto::SubmitJobRequest request;
    *request.mutable_graph() = graph;
    return SubmitJob(request);
  }
  absl::StatusOr<proto::TriggerSavepointResponse> TriggerSavepoint(
      const proto::TriggerSavepointRequest& request);
  absl::StatusOr<std::vector<proto::JobSummary>> ListJobs();
  absl::StatusOr<proto::JobDetail> GetJob(const std::string& job_id);
  absl::Status CancelJob(const std::string& job_id);
  absl::StatusOr<std::vector<proto::TaskManagerInfo>> ListTaskManagers();

  // The Unavailable error used when the JobManager cannot be reached.
  // `tls`: the hint names the TLS flags (a failed handshake looks like an absent server).
  static absl::Status UnreachableError(absl::string_view address, bool tls = false);

 private:
  absl::Status EnsureConnected();
  void PrepareContext(grpc::ClientContext* context) const;
  absl::Status ToStatus(const grpc::Status& status, absl::string_view method);

  std::string address_;
  JobManagerClientOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<proto::JobManagerService::Stub> stub_;
};

}  // namespace sluice::cli
