// The Dispatcher with a job store (high availability), in-process: a second Dispatcher over
// the same store (a restarted JobManager) recovers the job with its original id, waits for
// the TaskManagers of the last attempt to register again (or for the recovery wait), deploys
// a new attempt number from the stored checkpoint, and forgets the job once it ended.
// Fake gateway, ManualClock, temp directories.
#include <unistd.h>

#include <filesystem>
#include <set>

#include "gtest/gtest.h"
#include "tests/test_dirs.h"
#include "jobmanager/dispatcher.h"
#include "jobmanager/job_store.h"

namespace sluice::jobmanager {
namespace {

namespace fs = std::filesystem;

class RecordingGateway : public TaskManagerGateway {
 public:
  void SubmitTask(const TaskManagerLocation& tm, proto::TaskDeploymentDescriptor tdd,
                  Callback done) override {
    submits.push_back({tm.tm_id, std::move(tdd)});
    done(absl::OkStatus());
  }
  void CancelTasks(const TaskManagerLocation&, proto::CancelTaskRequest, Callback done) override {
    done(absl::OkStatus());
  }
  void TriggerCheckpoint(const TaskManagerLocation&, proto::TriggerCheckpointRequest request,
                         Callback done) override {
    triggers.push_back(request.checkpoint_id());
    done(absl::OkStatus());
  }
  void NotifyCheckpoint(const TaskManagerLocation&, proto::CheckpointNotification,
                        Callback done) override {
    done(absl::OkStatus());
  }
  std::vector<std::pair<std::string, proto::TaskDeploymentDescriptor>> submits;
  std::vector<int64_t> triggers;
};

class DispatcherHaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::sluice::testing::FreshTestDir("sluice-dispatcher-ha");
    auto store = DirectoryJobStore::Open((dir_ / "ha").string());
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<Dispatcher> NewDispatcher(RecordingGateway* gateway) {
    DispatcherOptions o;
    o.heartbeat_interval_ms = 1000;
    o.heartbeat_timeout_ms = 10'000;
    o.seed = 7;
    o.checkpoint_dir = (dir_ / "checkpoints").string();
    o.job_store = store_.get();
    o.recovery_wait_ms = 5'000;
    return std::make_unique<Dispatcher>(&clock_, gateway, o);
  }

  static proto::JobGraph Graph() {
    proto::JobGraph g;
    g.set_name("sums");
    proto::JobVertex* v = g.add_vertices();
    v->set_id(1);
    v->set_name("src");
    v->set_parallelism(2);
    v->add_chain()->set_name("src");
    g.mutable_restart()->set_strategy("none");
    (*g.mutable_config())["checkpointing.interval"] = "1s";
    return g;
  }

  static void Register(Dispatcher& d, const std::string& tm_id) {
    proto::RegisterTaskManagerRequest r;
    r.set_tm_id(tm_id);
    r.set_control_address(tm_id + ":6124");
    r.set_data_address(tm_id + ":6124");
    r.set_slots(1);
    ASSERT_TRUE(d.RegisterTaskManager(r).ok());
  }

  static void ReportAll(Dispatcher& d, const std::string& job_id, int attempt, proto::TaskState state) {
    for (int s = 0; s < 2; ++s) {
      proto::TaskStateUpdate u;
      u.set_job_id(job_id);
      u.set_attempt(attempt);
      u.set_vertex_id(1);
      u.set_subtask(s);
      u.set_state(state);
      ASSERT_TRUE(d.UpdateTaskState(u).ok());
    }
  }

  static void AckAll(Dispatcher& d, const std::string& job_id, int attempt, int64_t id) {
    for (int s = 0; s < 2; ++s) {
      proto::CheckpointReport r;
      r.set_job_id(job_id);
      r.set_attempt(attempt);
      r.set_vertex_id(1);
      r.set_subtask(s);
      r.set_checkpoint_id(id);
      r.mutable_state()->set_vertex_id(1);
      r.mutable_state()->set_subtask(s);
      ASSERT_TRUE(d.ReportCheckpoint(r).ok());
    }
  }

  // A job that ran attempt 0 on tm-1 and tm-2 and completed checkpoint 1, then "died".
  std::string RunUntilCheckpoint() {
    RecordingGateway gateway;
    std::unique_ptr<Dispatcher> first = NewDispatcher(&gateway);
    Register(*first, "tm-1");
    Register(*first, "tm-2");
    absl::StatusOr<std::string> job_id = first->SubmitJob(Graph());
    EXPECT_TRUE(job_id.ok()) << job_id.status();
    EXPECT_EQ(gateway.submits.size(), 2u);
    ReportAll(*first, *job_id, 0, proto::RUNNING);
    clock_.Advance(1000);
    first->Poll();
    EXPECT_EQ(std::set<int64_t>(gateway.triggers.begin(), gateway.triggers.end()), std::set<int64_t>{1});
    AckAll(*first, *job_id, 0, 1);
    EXPECT_EQ(first->GetJob(*job_id)->checkpoints(0).status(), "COMPLETED");
    return *job_id;
  }

  fs::path dir_;
  ManualClock clock_{1'000'000};
  std::unique_ptr<DirectoryJobStore> store_;
};

TEST_F(DispatcherHaTest, RestartedDispatcherRecoversTheJobFromItsCheckpoint) {
  const std::string job_id = RunUntilCheckpoint();

  RecordingGateway gateway;
  std::unique_ptr<Dispatcher> second = NewDispatcher(&gateway);
  absl::StatusOr<int> recovered = second->RecoverJobs();
  ASSERT_TRUE(recovered.ok()) << recovered.status();
  EXPECT_EQ(*recovered, 1);
  absl::StatusOr<proto::JobDetail> detail = second->GetJob(job_id);
  ASSERT_TRUE(detail.ok());
  EXPECT_EQ(detail->summary().state(), proto::JOB_CREATED);

  // Waits for both TaskManagers of attempt 0 (they cancel their stale tasks first).
  Register(*second, "tm-1");
  EXPECT_TRUE(gateway.submits.empty());
  Register(*second, "tm-2");
  ASSERT_EQ(gateway.submits.size(), 2u);
  for (const auto& [tm, tdd] : gateway.submits) {
    EXPECT_EQ(tdd.job_id(), job_id);
    EXPECT_EQ(tdd.attempt(), 1);  // continues after the stored attempt 0
    EXPECT_EQ(tdd.restore_checkpoint_id(), 1);
  }
  // Stale reports of attempt 0 are ignored; checkpoint ids continue after 1.
  ReportAll(*second, job_id, 0, proto::CANCELED);
  EXPECT_EQ(second->GetJob(job_id)->summary().state(), proto::JOB_RUNNING);
  ReportAll(*second, job_id, 1, proto::RUNNING);
  clock_.Advance(1000);
  second->Poll();
  EXPECT_EQ(std::set<int64_t>(gateway.triggers.begin(), gateway.triggers.end()), std::set<int64_t>{2});

  ReportAll(*second, job_id, 1, proto::FINISHED);
  EXPECT_EQ(second->GetJob(job_id)->summary().state(), proto::JOB_FINISHED);
  EXPECT_FALSE(fs::exists(dir_ / "ha" / "jobs" / job_id));
  EXPECT_EQ(*NewDispatcher(&gateway)->RecoverJobs(), 0);
}

TEST_F(DispatcherHaTest, RecoveredJobStopsWaitingForTaskManagersThatNeverComeBack) {
  const std::string job_id = RunUntilCheckpoint();
  RecordingGateway gateway;
  std::unique_ptr<Dispatcher> second = NewDispatcher(&gateway);
  ASSERT_EQ(*second->RecoverJobs(), 1);
  Register(*second, "tm-3");
  Register(*second, "tm-4");
  EXPECT_TRUE(gateway.submits.empty());
  ASSERT_TRUE(second->NextDeadlineMs().has_value());
  clock_.Advance(5'000);
  second->Poll();
  ASSERT_EQ(gateway.submits.size(), 2u);
  EXPECT_EQ(gateway.submits[0].second.restore_checkpoint_id(), 1);
}

TEST_F(DispatcherHaTest, CancelledJobsLeaveTheStore) {
  RecordingGateway gateway;
  std::unique_ptr<Dispatcher> d = NewDispatcher(&gateway);
  absl::StatusOr<std::string> job_id = d->SubmitJob(Graph());  // no slots: waits
  ASSERT_TRUE(job_id.ok());
  EXPECT_TRUE(fs::exists(dir_ / "ha" / "jobs" / *job_id / "jobgraph.pb"));
  ASSERT_TRUE(d->CancelJob(*job_id).ok());
  EXPECT_FALSE(fs::exists(dir_ / "ha" / "jobs" / *job_id));
}

}  // namespace
}  // namespace sluice::jobmanager
