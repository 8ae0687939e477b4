// The JobManager over real gRPC, in-process: a JobManagerServer on port 0 called through a
// real stub, and a fake TaskManagerService (also real gRPC) that receives deployments and
// cancellations from the JobManager's GrpcTaskManagerGateway.
#include <memory>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/config.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "jobmanager/jobmanager_server.h"
#include "proto/control.grpc.pb.h"

namespace sluice::jobmanager {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

proto::JobGraph Graph(int parallelism) {
  proto::JobGraph g;
  g.set_name("grpc-job");
  for (int id : {1, 2}) {
    proto::JobVertex* v = g.add_vertices();
    v->set_id(id);
    v->set_name(id == 1 ? "src" : "sink");
    v->set_parallelism(parallelism);
    v->add_chain()->set_name(v->name());
  }
  proto::JobEdge* e = g.add_edges();
  e->set_id(1);
  e->set_source_vertex(1);
  e->set_target_vertex(2);
  e->set_partitioning(proto::FORWARD);
  return g;
}

Config TestConfig() {
  Config config;
  EXPECT_TRUE(config.Set("jobmanager.rpc.port", "0").ok());
  return config;
}

class JobManagerServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = JobManagerServer::Start(TestConfig());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    EXPECT_THAT(server_->address(), HasSubstr("127.0.0.1:"));
    stub_ = proto::JobManagerService::NewStub(
        grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials()));
  }

  std::unique_ptr<JobManagerServer> server_;
  std::unique_ptr<proto::JobManagerService::Stub> stub_;
};

TEST_F(JobManagerServiceTest, SubmitListGetThroughARealStub) {
  grpc::ClientContext submit_ctx;
  proto::SubmitJobRequest submit;
  *submit.mutable_graph() = Graph(2);
  proto::SubmitJobResponse submitted;
  ASSERT_TRUE(stub_->SubmitJob(&submit_ctx, submit, &submitted).ok());
  EXPECT_THAT(submitted.job_id(), SizeIs(32));

  grpc::ClientContext list_ctx;
  proto::ListJobsResponse jobs;
  ASSERT_TRUE(stub_->ListJobs(&list_ctx, proto::ListJobsRequest(), &jobs).ok());
  ASSERT_EQ(jobs.jobs_size(), 1);
  EXPECT_EQ(jobs.jobs(0).job_id(), submitted.job_id());
  EXPECT_EQ(jobs.jobs(0).name(), "grpc-job");
  EXPECT_EQ(jobs.jobs(0).state(), proto::JOB_CREATED);  // no TaskManagers yet
  EXPECT_EQ(jobs.jobs(0).tasks_total(), 4);

  grpc::ClientContext get_ctx;
  proto::GetJobRequest get;
  get.set_job_id(submitted.job_id());
  proto::JobDetail detail;
  ASSERT_TRUE(stub_->GetJob(&get_ctx, get, &detail).ok());
  EXPECT_EQ(detail.summary().job_id(), submitted.job_id());
  ASSERT_EQ(detail.vertices_size(), 2);
  EXPECT_EQ(detail.vertices(1).name(), "sink");
  EXPECT_EQ(detail.vertices(1).subtasks_size(), 2);
  EXPECT_EQ(detail.edges_size(), 1);
}

TEST_F(JobManagerServiceTest, ErrorsMapToGrpcCodes) {
  grpc::ClientContext cancel_ctx;
  proto::CancelJobRequest cancel;
  cancel.set_job_id("ffff");
  proto::Ack ack;
  grpc::Status s = stub_->CancelJob(&cancel_ctx, cancel, &ack);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(s.error_message(), "no job with id ffff");

  grpc::ClientContext submit_ctx;
  proto::SubmitJobRequest submit;
  proto::SubmitJobResponse submitted;
  s = stub_->SubmitJob(&submit_ctx, submit, &submitted);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "job graph: it has no vertices");

  grpc::ClientContext hb_ctx;
  proto::HeartbeatRequest hb;
  hb.set_tm_id("never-registered");
  proto::HeartbeatResponse known;
  ASSERT_TRUE(stub_->Heartbeat(&hb_ctx, hb, &known).ok());
  EXPECT_FALSE(known.known());
}

TEST_F(JobManagerServiceTest, SecondServerOnTheSamePortFailsToStart) {
  Config config;
  ASSERT_TRUE(config.Set("jobmanager.rpc.port", std::to_string(server_->port())).ok());
  auto second = JobManagerServer::Start(config);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(second.status().message(),
            "cannot listen on 127.0.0.1:" + std::to_string(server_->port()) + " (address in use?)");
}

// A TaskManagerService that records deployments; on CancelTasks it reports every task of the
// job CANCELED to the JobManager before answering.
class FakeTaskManager final : public proto::TaskManagerService::Service {
 public:
  void set_jobmanager(proto::JobManagerService::Stub* jm) { jm_ = jm; }

  grpc::Status SubmitTask(grpc::ServerContext*, const proto::TaskDeploymentDescriptor* tdd,
                          proto::Ack*) override {
    absl::MutexLock lock(&mu_);
    tasks_.push_back(*tdd);
    return grpc::Status::OK;
  }

  grpc::Status CancelTasks(grpc::ServerContext*, const proto::CancelTaskRequest* request,
                           proto::Ack*) override {
    for (const proto::TaskDeploymentDescriptor& t : Tasks()) {
      if (t.job_id() != request->job_id()) continue;
      grpc::ClientContext ctx;
      proto::TaskStateUpdate u;
      u.set_job_id(t.job_id());
      u.set_attempt(t.attempt());
      u.set_vertex_id(t.vertex_id());
      u.set_subtask(t.subtask());
      u.set_state(proto::CANCELED);
      proto::Ack ack;
      EXPECT_TRUE(jm_->UpdateTaskState(&ctx, u, &ack).ok());
    }
    absl::MutexLock lock(&mu_);
    ++cancels_;
    return grpc::Status::OK;
  }

  std::vector<proto::TaskDeploymentDescriptor> Tasks() {
    absl::MutexLock lock(&mu_);
    return tasks_;
  }
  bool AwaitTasks(size_t n) {
    absl::MutexLock lock(&mu_);
    auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return tasks_.size() >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(30));
  }
  bool AwaitCancels(int n) {
    absl::MutexLock lock(&mu_);
    auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return cancels_ >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(30));
  }

 private:
  proto::JobManagerService::Stub* jm_ = nullptr;
  absl::Mutex mu_;
  std::vector<proto::TaskDeploymentDescriptor> tasks_ ABSL_GUARDED_BY(mu_);
  int cancels_ ABSL_GUARDED_BY(mu_) = 0;
};

TEST_F(JobManagerServiceTest, DeploysToARealTaskManagerServiceAndCancels) {
  FakeTaskManager tm;
  tm.set_jobmanager(stub_.get());
  grpc::ServerBuilder builder;
  int tm_port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &tm_port);
  builder.RegisterService(&tm);
  std::unique_ptr<grpc::Server> tm_server = builder.BuildAndStart();
  ASSERT_NE(tm_server, nullptr);
  const std::string tm_address = "127.0.0.1:" + std::to_string(tm_port);

  grpc::ClientContext reg_ctx;
  proto::RegisterTaskManagerRequest reg;
  reg.set_tm_id("tm-1");
  reg.set_control_address(tm_address);
  reg.set_data_address(tm_address);
  reg.set_slots(2);
  reg.set_pid(1);
  proto::RegisterTaskManagerResponse registered;
  ASSERT_TRUE(stub_->RegisterTaskManager(&reg_ctx, reg, &registered).ok());
  EXPECT_EQ(registered.heartbeat_interval_ms(), 1000);

  // Job 1 runs to FINISHED.
  grpc::ClientContext submit_ctx;
  proto::SubmitJobRequest submit;
  *submit.mutable_graph() = Graph(2);
  proto::SubmitJobResponse job1;
  ASSERT_TRUE(stub_->SubmitJob(&submit_ctx, submit, &job1).ok());
  ASSERT_TRUE(tm.AwaitTasks(4));
  for (const proto::TaskDeploymentDescriptor& t : tm.Tasks()) {
    EXPECT_EQ(t.job_id(), job1.job_id());
    for (proto::TaskState state : {proto::RUNNING, proto::FINISHED}) {
      grpc::ClientContext ctx;
      proto::TaskStateUpdate u;
      u.set_job_id(t.job_id());
      u.set_attempt(t.attempt());
      u.set_vertex_id(t.vertex_id());
      u.set_subtask(t.subtask());
      u.set_state(state);
      proto::Ack ack;
      ASSERT_TRUE(stub_->UpdateTaskState(&ctx, u, &ack).ok());
    }
  }
  {
    grpc::ClientContext ctx;
    proto::GetJobRequest get;
    get.set_job_id(job1.job_id());
    proto::JobDetail detail;
    ASSERT_TRUE(stub_->GetJob(&ctx, get, &detail).ok());
    EXPECT_EQ(detail.summary().state(), proto::JOB_FINISHED);
    EXPECT_EQ(detail.vertices(0).subtasks(1).tm_id(), "tm-1");
  }

  // Job 2 is cancelled: the TaskManager gets CancelTasks and the job ends CANCELED.
  grpc::ClientContext submit2_ctx;
  proto::SubmitJobResponse job2;
  ASSERT_TRUE(stub_->SubmitJob(&submit2_ctx, submit, &job2).ok());
  ASSERT_TRUE(tm.AwaitTasks(8));
  grpc::ClientContext cancel_ctx;
  proto::CancelJobRequest cancel;
  cancel.set_job_id(job2.job_id());
  proto::Ack ack;
  ASSERT_TRUE(stub_->CancelJob(&cancel_ctx, cancel, &ack).ok());
  ASSERT_TRUE(tm.AwaitCancels(1));
  {
    grpc::ClientContext ctx;
    proto::GetJobRequest get;
    get.set_job_id(job2.job_id());
    proto::JobDetail detail;
    ASSERT_TRUE(stub_->GetJob(&ctx, get, &detail).ok());
    EXPECT_EQ(detail.summary().state(), proto::JOB_CANCELED);
  }

  grpc::ClientContext list_ctx;
  proto::ListTaskManagersResponse tms;
  ASSERT_TRUE(stub_->ListTaskManagers(&list_ctx, proto::ListTaskManagersRequest(), &tms).ok());
  ASSERT_EQ(tms.taskmanagers_size(), 1);
  EXPECT_EQ(tms.taskmanagers(0).tm_id(), "tm-1");
  EXPECT_EQ(tms.taskmanagers(0).slots_total(), 2);
  EXPECT_EQ(tms.taskmanagers(0).slots_free(), 2);
  EXPECT_TRUE(tms.taskmanagers(0).alive());

  server_->Shutdown();
  tm_server->Shutdown();
}

}  // namespace
}  // namespace sluice::jobmanager
