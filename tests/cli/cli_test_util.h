// Test helpers for the CLI: RunSluice (the CLI in-process, output captured), ClosedPort,
// MakeJob, and FakeJobManager: an in-process JobManagerService on 127.0.0.1:<free port> for the CLI tests.
// It stores submitted graphs and answers GetJob from a per-job script of JobDetails (each call
// consumes the next one; the last one repeats), so attached runs are deterministic.
// Thread-safe (gRPC calls arrive on server threads; the test reads on its own thread).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <sstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "cli/app.h"
#include "cli/commands.h"
#include "common/rpc/grpc_server.h"
#include "gtest/gtest.h"
#include "proto/control.grpc.pb.h"

namespace sluice::cli::testing {

// A job detail with the given state and a two-vertex graph (source 1 -> sink 2, HASH by "k").
inline proto::JobDetail MakeJob(const std::string& id, const std::string& name,
                                proto::JobState state) {
  proto::JobDetail job;
  proto::JobSummary* s = job.mutable_summary();
  s->set_job_id(id);
  s->set_name(name);
  s->set_state(state);
  s->set_start_time_ms(1'700'000'000'000);
  if (state == proto::JOB_FINISHED || state == proto::JOB_FAILED || state == proto::JOB_CANCELED) {
    s->set_end_time_ms(1'700'000'192'000);  // 3m 12s later
  }
  s->set_tasks_total(4);
  s->set_tasks_running(state == proto::JOB_RUNNING ? 4 : 0);
  s->set_tasks_finished(state == proto::JOB_FINISHED ? 4 : 0);
  for (int id_ = 1; id_ <= 2; ++id_) {
    proto::VertexDetail* v = job.add_vertices();
    v->set_id(id_);
    v->set_name(id_ == 1 ? "txns -> big" : "per_card -> out");
    v->set_parallelism(2);
    v->set_records_in(id_ == 1 ? 1000 : 400);
    v->set_records_out(id_ == 1 ? 400 : 0);
    for (int i = 0; i < 2; ++i) {
      proto::SubtaskDetail* st = v->add_subtasks();
      st->set_subtask(i);
      st->set_state(state == proto::JOB_RUNNING    ? proto::RUNNING
                    : state == proto::JOB_FINISHED ? proto::FINISHED
                    : state == proto::JOB_FAILED   ? (i == 0 ? proto::FAILED : proto::CANCELED)
                                                   : proto::CREATED);
      st->set_tm_id("tm-" + std::to_string(i));
      st->mutable_metrics()->set_records_in(v->records_in() / 2);
      st->mutable_metrics()->set_records_out(v->records_out() / 2);
    }
  }
  proto::JobEdge* e = job.add_edges();
  e->set_id(1);
  e->set_source_vertex(1);
  e->set_target_vertex(2);
  e->set_partitioning(proto::HASH);
  e->add_key_indexes(0);
  proto::Field* f = e->mutable_schema()->add_fields();
  f->set_name("k");
  f->set_type(proto::INT64);
  if (state == proto::JOB_FAILED) {
    job.set_failure_cause("TaskManager tm-1 lost (no heartbeat for 10s)");
    job.add_exceptions("attempt 0: TaskManager tm-1 lost (no heartbeat for 10s)");
  }
  return job;
}

class FakeJobManager : public proto::JobManagerService::Service {
 public:
  FakeJobManager() {
    auto server = rpc::StartServer("127.0.0.1", 0, {this}, 64 << 20);
    EXPECT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }
  ~FakeJobManager() override { server_.server->Shutdown(); }

  std::string address() const { return server_.address; }

  // GetJob(id) answers these in turn; the last repeats. Also makes the job listed.
  void ScriptJob(const std::string& id, std::vector<proto::JobDetail> details) {
    absl::MutexLock lock(&mu_);
    scripts_[id] = std::deque<proto::JobDetail>(details.begin(), details.end());
  }
  // The id the next SubmitJob returns, and the script that job then follows.
  void OnSubmit(const std::string& id, std::vector<proto::JobDetail> details) {
    absl::MutexLock lock(&mu_);
    next_id_ = id;
    scripts_[id] = std::deque<proto::JobDetail>(details.begin(), details.end());
  }
  void RejectSubmit(grpc::Status status) {
    absl::MutexLock lock(&mu_);
    submit_error_ = status;
  }
  // CancelJob(id) makes GetJob answer `after_cancel` next.
  void OnCancel(const std::string& id, std::vector<proto::JobDetail> after_cancel) {
    absl::MutexLock lock(&mu_);
    on_cancel_[id] = after_cancel;
  }
  void SetTaskManagers(std::vector<proto::TaskManagerInfo> tms) {
    absl::MutexLock lock(&mu_);
    tms_ = std::move(tms);
  }

  std::vector<proto::JobGraph> submitted() const {
    absl::MutexLock lock(&mu_);
    return submitted_;
  }
  std::vector<std::string> canceled() const {
    absl::MutexLock lock(&mu_);
    return canceled_;
  }
  int get_job_calls() const {
    absl::MutexLock lock(&mu_);
    return get_job_calls_;
  }

  grpc::Status SubmitJob(grpc::ServerContext*, const proto::SubmitJobRequest* request,
                         proto::SubmitJobResponse* response) override {
    absl::MutexLock lock(&mu_);
    if (!submit_error_.ok()) return submit_error_;
    submitted_.push_back(request->graph());
    response->set_job_id(next_id_);
    return grpc::Status::OK;
  }

  grpc::Status ListJobs(grpc::ServerContext*, const proto::ListJobsRequest*,
                        proto::ListJobsResponse* response) override {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, script] : scripts_) {
      if (!script.empty()) *response->add_jobs() = script.front().summary();
    }
    return grpc::Status::OK;
  }

  grpc::Status GetJob(grpc::ServerContext*, const proto::GetJobRequest* request,
                      proto::JobDetail* response) override {
    absl::MutexLock lock(&mu_);
    ++get_job_calls_;
    auto it = scripts_.find(request->job_id());
    if (it == scripts_.end() || it->second.empty()) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown job " + request->job_id());
    }
    *response = it->second.front();
    if (it->second.size() > 1) it->second.pop_front();
    return grpc::Status::OK;
  }

  grpc::Status CancelJob(grpc::ServerContext*, const proto::CancelJobRequest* request,
                         proto::Ack*) override {
    absl::MutexLock lock(&mu_);
    if (!scripts_.contains(request->job_id())) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown job " + request->job_id());
    }
    canceled_.push_back(request->job_id());
    auto it = on_cancel_.find(request->job_id());
    if (it != on_cancel_.end()) {
      scripts_[request->job_id()] = std::deque<proto::JobDetail>(it->second.begin(), it->second.end());
    }
    return grpc::Status::OK;
  }

  grpc::Status ListTaskManagers(grpc::ServerContext*, const proto::ListTaskManagersRequest*,
                                proto::ListTaskManagersResponse* response) override {
    absl::MutexLock lock(&mu_);
    for (const auto& tm : tms_) *response->add_taskmanagers() = tm;
    return grpc::Status::OK;
  }

 private:
  rpc::RunningServer server_;
  mutable absl::Mutex mu_;
  std::string next_id_ = "job-1";
  grpc::Status submit_error_ = grpc::Status::OK;
  std::map<std::string, std::deque<proto::JobDetail>> scripts_;
  std::map<std::string, std::vector<proto::JobDetail>> on_cancel_;
  std::vector<proto::TaskManagerInfo> tms_;
  std::vector<proto::JobGraph> submitted_;
  std::vector<std::string> canceled_;
  int get_job_calls_ = 0;
};

// Runs the CLI in-process and captures what it printed.
struct CliResult {
  int code = -1;
  std::string out;
  std::string err;
};

// Runs `sluice <args>` in-process (attached runs poll every millisecond); `configure` may
// adjust the environment (spec loader, interrupt flag, clock) first.
inline CliResult RunSluice(const std::vector<std::string>& args,
                           const std::function<void(CommandEnv&)>& configure = {}) {
  std::ostringstream out;
  std::ostringstream err;
  CommandEnv env;
  env.out = &out;
  env.err = &err;
  env.poll_interval_ms = 1;
  if (configure) configure(env);
  CliResult result;
  result.code = RunCli(args, env);
  result.out = out.str();
  result.err = err.str();
  return result;
}

inline int CountLines(const std::string& text) {
  return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

// A port with nothing listening: bound to 127.0.0.1:0, then closed.
inline int ClosedPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace sluice::cli::testing
