// The JobManager's control logic end to end, in-process: TaskManagers register and heartbeat,
// jobs are scheduled onto shared slots, deployed through a fake TaskManagerGateway, run,
// fail, restart, get cancelled. Time is a ManualClock; timers fire from Poll().
#include "jobmanager/dispatcher.h"

#include <map>
#include <set>

#include "absl/container/flat_hash_set.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sluice::jobmanager {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

// Records every call; answers at once (SubmitTask fails for TaskManagers in failing_tms) or,
// with hold_cancels, keeps CancelTasks callbacks for the test to complete.
class FakeGateway : public TaskManagerGateway {
 public:
  struct SubmitCall {
    TaskManagerLocation tm;
    proto::TaskDeploymentDescriptor tdd;
  };
  struct CancelCall {
    TaskManagerLocation tm;
    proto::CancelTaskRequest request;
    Callback done;
  };

  void SubmitTask(const TaskManagerLocation& tm, proto::TaskDeploymentDescriptor tdd,
                  Callback done) override {
    submits.push_back({tm, std::move(tdd)});
    done(failing_tms.contains(tm.tm_id) ? absl::UnavailableError("connection refused")
                                        : absl::OkStatus());
  }
  void CancelTasks(const TaskManagerLocation& tm, proto::CancelTaskRequest request,
                   Callback done) override {
    cancels.push_back({tm, request, done});
    if (!hold_cancels) done(absl::OkStatus());
  }

  // Submits of one attempt of a job.
  std::vector<SubmitCall> SubmitsOf(const std::string& job_id, int attempt) const {
    std::vector<SubmitCall> out;
    for (const SubmitCall& s : submits) {
      if (s.tdd.job_id() == job_id && s.tdd.attempt() == attempt) out.push_back(s);
    }
    return out;
  }
  std::set<std::string> CancelledTms() const {
    std::set<std::string> out;
    for (const CancelCall& c : cancels) out.insert(c.tm.tm_id);
    return out;
  }

  std::vector<SubmitCall> submits;
  std::vector<CancelCall> cancels;
  absl::flat_hash_set<std::string> failing_tms;
  bool hold_cancels = false;
};

proto::JobGraph TwoVertexGraph(int parallelism, const std::string& restart = "none",
                               int sink_parallelism = -1) {
  proto::JobGraph g;
  g.set_name("wordcount");
  auto add_vertex = [&](int id, const std::string& name, int p) {
    proto::JobVertex* v = g.add_vertices();
    v->set_id(id);
    v->set_name(name);
    v->set_parallelism(p);
    v->add_chain()->set_name(name);
  };
  add_vertex(1, "src", parallelism);
  add_vertex(2, "sink", sink_parallelism > 0 ? sink_parallelism : parallelism);
  proto::JobEdge* e = g.add_edges();
  e->set_id(5);
  e->set_source_vertex(1);
  e->set_target_vertex(2);
  e->set_partitioning(proto::REBALANCE);
  g.mutable_restart()->set_strategy(restart);
  return g;
}

class DispatcherTest : public ::testing::Test {
 protected:
  DispatcherTest() : dispatcher_(&clock_, &gateway_, Options()) {}

  static DispatcherOptions Options() {
    DispatcherOptions o;
    o.heartbeat_interval_ms = 1000;
    o.heartbeat_timeout_ms = 10'000;
    o.slot_request_timeout_ms = 300'000;
    o.seed = 7;
    return o;
  }

  void Register(const std::string& tm_id, int slots = 2) {
    proto::RegisterTaskManagerRequest r;
    r.set_tm_id(tm_id);
    r.set_control_address(tm_id + ":6124");
    r.set_data_address(tm_id + ":6125");
    r.set_slots(slots);
    auto response = dispatcher_.RegisterTaskManager(r);
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->heartbeat_interval_ms(), 1000);
    EXPECT_THAT(response->jm_session(), SizeIs(32));
  }

  void HeartbeatFrom(const std::string& tm_id) {
    proto::HeartbeatRequest h;
    h.set_tm_id(tm_id);
    EXPECT_TRUE(dispatcher_.Heartbeat(h).known());
  }

  std::string Submit(const proto::JobGraph& graph) {
    auto job_id = dispatcher_.SubmitJob(graph);
    EXPECT_TRUE(job_id.ok()) << job_id.status();
    return job_id.ok() ? *job_id : "";
  }

  absl::Status Report(const std::string& job_id, int attempt, int vertex_id, int subtask,
                      proto::TaskState state, const std::string& error = "",
                      int64_t records_out = -1) {
    proto::TaskStateUpdate u;
    u.set_job_id(job_id);
    u.set_attempt(attempt);
    u.set_vertex_id(vertex_id);
    u.set_subtask(subtask);
    u.set_state(state);
    u.set_error(error);
    if (records_out >= 0) {
      u.mutable_metrics()->set_records_in(records_out / 2);
      u.mutable_metrics()->set_records_out(records_out);
    }
    return dispatcher_.UpdateTaskState(u);
  }

  // Every deployed task of the attempt reports `state`.
  void ReportAll(const std::string& job_id, int attempt, proto::TaskState state) {
    for (const auto& s : gateway_.SubmitsOf(job_id, attempt)) {
      ASSERT_TRUE(Report(job_id, attempt, s.tdd.vertex_id(), s.tdd.subtask(), state).ok());
    }
  }

  proto::JobDetail Detail(const std::string& job_id) {
    auto detail = dispatcher_.GetJob(job_id);
    EXPECT_TRUE(detail.ok()) << detail.status();
    return detail.ok() ? *detail : proto::JobDetail();
  }

  int FreeSlots() {
    int free = 0;
    for (const proto::TaskManagerInfo& tm : dispatcher_.ListTaskManagers()) free += tm.slots_free();
    return free;
  }

  ManualClock clock_;
  FakeGateway gateway_;
  Dispatcher dispatcher_;
};

// The timer thread calls Poll and then sleeps until NextDeadlineMs: Poll must not report a
// timer change to it (on_timers_changed), or it would wake itself and spin (a JobManager once
// burnt a core idling that way); requests from other threads do report theirs.
TEST(DispatcherTimerTest, PollDoesNotWakeTheTimerThreadButRequestsDo) {
  ManualClock clock;
  FakeGateway gateway;
  int pokes = 0;
  DispatcherOptions options;
  options.heartbeat_interval_ms = 1000;
  options.heartbeat_timeout_ms = 10'000;
  options.on_timers_changed = [&pokes] { ++pokes; };
  Dispatcher dispatcher(&clock, &gateway, options);
  proto::RegisterTaskManagerRequest r;
  r.set_tm_id("tm-1");
  r.set_control_address("tm-1:6124");
  r.set_slots(2);
  ASSERT_TRUE(dispatcher.RegisterTaskManager(r).ok());
  EXPECT_GE(pokes, 1);  // a new TaskManager: a new heartbeat deadline
  pokes = 0;
  for (int i = 0; i < 5; ++i) {
    dispatcher.Poll();
    clock.Advance(100);
  }
  EXPECT_EQ(pokes, 0);
  ASSERT_TRUE(dispatcher.SubmitJob(TwoVertexGraph(1)).ok());
  EXPECT_GE(pokes, 1);
}

TEST_F(DispatcherTest, SubmittedJobIsDeployedAndRunsToFinished) {
  Register("tm-1");
  Register("tm-2");
  std::string job = Submit(TwoVertexGraph(2));
  EXPECT_THAT(job, SizeIs(32));
  EXPECT_EQ(job.find_first_not_of("0123456789abcdef"), std::string::npos);

  // Every task is deployed at once; the job is RUNNING with its tasks DEPLOYING.
  ASSERT_THAT(gateway_.SubmitsOf(job, 0), SizeIs(4));
  proto::JobDetail d = Detail(job);
  EXPECT_EQ(d.summary().state(), proto::JOB_RUNNING);
  EXPECT_EQ(d.summary().name(), "wordcount");
  EXPECT_EQ(d.summary().tasks_total(), 4);
  EXPECT_EQ(d.vertices(0).subtasks(0).state(), proto::DEPLOYING);
  EXPECT_EQ(FreeSlots(), 2);

  ReportAll(job, 0, proto::RUNNING);
  EXPECT_EQ(Detail(job).summary().tasks_running(), 4);

  // Heartbeat metrics show up in GetJob.
  proto::HeartbeatRequest hb;
  hb.set_tm_id("tm-1");
  proto::TaskMetrics* m = hb.add_tasks();
  m->set_job_id(job);
  m->set_attempt(0);
  m->set_vertex_id(1);
  m->set_subtask(0);
  m->set_records_out(7);
  EXPECT_TRUE(dispatcher_.Heartbeat(hb).known());
  EXPECT_EQ(Detail(job).vertices(0).records_out(), 7);

  // Final updates carry the final metrics; every task finished -> the job finished.
  for (int v : {1, 2}) {
    for (int s : {0, 1}) {
      ASSERT_TRUE(Report(job, 0, v, s, proto::FINISHED, "", v == 1 ? 100 : 40).ok());
    }
  }
  d = Detail(job);
  EXPECT_EQ(d.summary().state(), proto::JOB_FINISHED);
  EXPECT_EQ(d.summary().tasks_finished(), 4);
  EXPECT_GT(d.summary().end_time_ms(), 0);
  EXPECT_EQ(d.vertices(0).records_out(), 200);
  EXPECT_EQ(d.vertices(1).records_out(), 80);
  EXPECT_EQ(d.vertices(1).records_in(), 40);
  ASSERT_EQ(d.edges_size(), 1);
  EXPECT_EQ(d.edges(0).id(), 5);
  EXPECT_TRUE(d.failure_cause().empty());
  EXPECT_EQ(FreeSlots(), 4);  // slots given back
  EXPECT_THAT(dispatcher_.ListJobs(), SizeIs(1));
}

TEST_F(DispatcherTest, SlotSharingPlacesSubtaskIOfEveryVertexInSlotIAcrossTaskManagers) {
  Register("tm-1");
  Register("tm-2");
  Register("tm-3");
  std::string job = Submit(TwoVertexGraph(4, "none", /*sink_parallelism=*/2));
  ASSERT_THAT(gateway_.SubmitsOf(job, 0), SizeIs(6));
  std::map<std::pair<int, int>, std::string> tm_of;  // (vertex, subtask) -> tm
  auto at = [&](int vertex, int subtask) { return tm_of[std::make_pair(vertex, subtask)]; };
  for (const auto& s : gateway_.SubmitsOf(job, 0)) {
    tm_of[std::make_pair(s.tdd.vertex_id(), s.tdd.subtask())] = s.tm.tm_id;
    EXPECT_EQ(s.tm.control_address, s.tm.tm_id + ":6124");
  }
  // 4 shared slots, round-robin: all three TaskManagers are used.
  std::set<std::string> used;
  for (int i = 0; i < 4; ++i) used.insert(at(1, i));
  EXPECT_THAT(used, ElementsAre("tm-1", "tm-2", "tm-3"));
  // Subtask i of the sink shares slot i with subtask i of the source.
  EXPECT_EQ(at(2, 0), at(1, 0));
  EXPECT_EQ(at(2, 1), at(1, 1));
  EXPECT_EQ(FreeSlots(), 2);
  // GetJob shows where each subtask runs.
  proto::JobDetail d = Detail(job);
  EXPECT_EQ(d.vertices(1).subtasks(1).tm_id(), at(2, 1));
  // The sink's input channels point at the producers' TaskManagers.
  for (const auto& s : gateway_.SubmitsOf(job, 0)) {
    if (s.tdd.vertex_id() != 2) continue;
    ASSERT_EQ(s.tdd.inputs(0).channels_size(), 4);
    for (int p = 0; p < 4; ++p) {
      EXPECT_EQ(s.tdd.inputs(0).channels(p).producer_tm_id(), at(1, p));
      EXPECT_EQ(s.tdd.inputs(0).channels(p).producer_address(), at(1, p) + ":6125");
    }
  }
}

TEST_F(DispatcherTest, LostTaskManagerFailsItsTasksAndTheJob) {
  Register("tm-1", 1);
  Register("tm-2", 1);
  std::string job = Submit(TwoVertexGraph(2));
  ReportAll(job, 0, proto::RUNNING);

  clock_.Advance(6000);
  HeartbeatFrom("tm-1");
  clock_.Advance(4001);  // tm-2 silent for 10001 ms > heartbeat.timeout
  EXPECT_EQ(dispatcher_.NextDeadlineMs(), clock_.NowMillis());
  dispatcher_.Poll();

  proto::JobDetail d = Detail(job);
  EXPECT_EQ(d.summary().state(), proto::JOB_FAILED);
  EXPECT_THAT(d.failure_cause(),
              HasSubstr("TaskManager tm-2 (tm-2:6124) lost: no heartbeat for 10001 ms"));
  EXPECT_THAT(d.failure_cause(), HasSubstr("(2/2) failed"));
  ASSERT_THAT(d.exceptions(), SizeIs(1));
  EXPECT_THAT(d.exceptions(0), HasSubstr("not restarted: restart strategy none"));
  for (const auto& v : d.vertices()) {
    for (const auto& s : v.subtasks()) {
      EXPECT_EQ(s.state(), s.tm_id() == "tm-2" ? proto::FAILED : proto::CANCELED)
          << v.name() << " " << s.subtask();
    }
  }
  // The surviving TaskManager was told to cancel; the lost one was not called.
  EXPECT_THAT(gateway_.CancelledTms(), ElementsAre("tm-1"));
  EXPECT_EQ(gateway_.cancels[0].request.job_id(), job);
  EXPECT_EQ(gateway_.cancels[0].request.attempt(), 0);

  // The lost TaskManager is listed as not alive and must register again.
  std::vector<proto::TaskManagerInfo> tms = dispatcher_.ListTaskManagers();
  ASSERT_THAT(tms, SizeIs(2));
  EXPECT_TRUE(tms[0].alive());
  EXPECT_FALSE(tms[1].alive());
  proto::HeartbeatRequest late;
  late.set_tm_id("tm-2");
  EXPECT_FALSE(dispatcher_.Heartbeat(late).known());
  EXPECT_EQ(FreeSlots(), 1);
}

TEST_F(DispatcherTest, FailedTaskRestartsWithFixedDelayThenSucceeds) {
  Register("tm-1");
  Register("tm-2");
  proto::JobGraph graph = TwoVertexGraph(2, "fixed_delay");
  graph.mutable_restart()->set_attempts(1);
  graph.mutable_restart()->set_delay_ms(1000);
  std::string job = Submit(graph);
  ReportAll(job, 0, proto::RUNNING);

  ASSERT_TRUE(Report(job, 0, 2, 1, proto::FAILED, "division by zero").ok());
  proto::JobDetail d = Detail(job);
  EXPECT_EQ(d.summary().state(), proto::JOB_RESTARTING);
  EXPECT_EQ(d.failure_cause(), "sink (2/2) failed: division by zero");
  // The other tasks of the attempt were cancelled on every TaskManager that runs them.
  EXPECT_THAT(gateway_.CancelledTms(), ElementsAre("tm-1", "tm-2"));
  EXPECT_EQ(d.vertices(0).subtasks(0).state(), proto::CANCELED);

  // No redeployment before the delay.
  clock_.Advance(999);
  dispatcher_.Poll();
  EXPECT_THAT(gateway_.SubmitsOf(job, 1), SizeIs(0));
  EXPECT_EQ(dispatcher_.NextDeadlineMs(), clock_.NowMillis() + 1);
  clock_.Advance(1);
  dispatcher_.Poll();
  ASSERT_THAT(gateway_.SubmitsOf(job, 1), SizeIs(4));
  // The new attempt's partitions carry the new attempt number.
  for (const auto& s : gateway_.SubmitsOf(job, 1)) {
    if (s.tdd.vertex_id() == 1) {
      EXPECT_EQ(s.tdd.outputs(0).partition_id(), job + "/1/5/" + std::to_string(s.tdd.subtask()));
    }
  }
  d = Detail(job);
  EXPECT_EQ(d.summary().state(), proto::JOB_RUNNING);
  EXPECT_EQ(d.summary().restarts(), 1);

  // Late news from attempt 0 changes nothing.
  ASSERT_TRUE(Report(job, 0, 1, 0, proto::FAILED, "stale").ok());
  EXPECT_EQ(Detail(job).summary().state(), proto::JOB_RUNNING);

  ReportAll(job, 1, proto::RUNNING);
  ReportAll(job, 1, proto::FINISHED);
  d = Detail(job);
  EXPECT_EQ(d.summary().state(), proto::JOB_FINISHED);
  EXPECT_EQ(d.summary().restarts(), 1);
  ASSERT_THAT(d.exceptions(), SizeIs(1));
  EXPECT_THAT(d.exceptions(0), HasSubstr("sink (2/2) failed: division by zero"));
}

TEST_F(DispatcherTest, FailedTaskWithNoRestartFailsTheJobWithTheCause) {
  Register("tm-1");
  std::string job = Submit(TwoVertexGraph(1));
  ReportAll(job, 0, proto::RUNNING);
  ASSERT_TRUE(Report(job, 0, 1, 0, proto::FAILED, "cannot open data/txns.jsonl").ok());
  proto::JobDetail d = Detail(job);
  EXPECT_EQ(d.summary().state(), proto::JOB_FAILED);
  EXPECT_EQ(d.failure_cause(), "src (1/1) failed: cannot open data/txns.jsonl");
  EXPECT_EQ(d.vertices(0).subtasks(0).state(), proto::FAILED);
  EXPECT_EQ(d.vertices(1).subtasks(0).state(), proto::CANCELED);
  ASSERT_THAT(d.exceptions(), SizeIs(1));
  // "<RFC 3339 time> <cause> (not restarted: ...)"
  EXPECT_THAT(d.exceptions(0),
              ::testing::MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2}T.*Z src \\(1/1\\) failed: cannot "
                                      "open data/txns.jsonl \\(not restarted: restart strategy "
                                      "none\\)"));
  EXPECT_EQ(FreeSlots(), 2);
  // Cancelling an ended job is refused.
  EXPECT_EQ(dispatcher_.CancelJob(job).code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(DispatcherTest, RestartAfterLostTaskManagerUsesOnlySurvivors) {
  Register("tm-1");
  Register("tm-2");
  proto::JobGraph graph = TwoVertexGraph(2, "fixed_delay");
  graph.mutable_restart()->set_attempts(3);
  graph.mutable_restart()->set_delay_ms(0);
  std::string job = Submit(graph);
  ReportAll(job, 0, proto::RUNNING);
  clock_.Advance(5000);
  HeartbeatFrom("tm-1");
  clock_.Advance(5001);
  dispatcher_.Poll();  // tm-2 lost -> restart with delay 0 once cancellations are done
  dispatcher_.Poll();
  auto attempt1 = gateway_.SubmitsOf(job, 1);
  ASSERT_THAT(attempt1, SizeIs(4));
  for (const auto& s : attempt1) EXPECT_EQ(s.tm.tm_id, "tm-1");
  EXPECT_EQ(Detail(job).summary().state(), proto::JOB_RUNNING);
}

TEST_F(DispatcherTest, RestartedTaskManagerReRegisteringFailsItsOldTasks) {
  Register("tm-1", 2);
  std::string job = Submit(TwoVertexGraph(2));
  ReportAll(job, 0, proto::RUNNING);
  Register("tm-1", 2);  // the process restarted
  proto::JobDetail d = Detail(job);
  EXPECT_EQ(d.summary().state(), proto::JOB_FAILED);
  EXPECT_THAT(d.failure_cause(), HasSubstr("TaskManager tm-1 (tm-1:6124) lost"));
  EXPECT_EQ(FreeSlots(), 2);
}

// An unreachable TaskManager is declared lost at once (not after the heartbeat timeout), so a
// restart does not deploy onto it again.
TEST_F(DispatcherTest, FailedDeploymentFailsTheAttemptAndDropsTheUnreachableTaskManager) {
  Register("tm-1", 1);
  Register("tm-2", 1);
  gateway_.failing_tms.insert("tm-2");
  std::string job = Submit(TwoVertexGraph(2));
  proto::JobDetail d = Detail(job);
  EXPECT_EQ(d.summary().state(), proto::JOB_FAILED);
  EXPECT_THAT(d.failure_cause(), HasSubstr("TaskManager tm-2 (tm-2:6124) lost: unreachable (connection refused)"));
  EXPECT_EQ(FreeSlots(), 1);
}

TEST_F(DispatcherTest, CancelJobCancelsTasksAndEndsWhenTaskManagersAck) {
  Register("tm-1");
  Register("tm-2");
  gateway_.hold_cancels = true;
  std::string job = Submit(TwoVertexGraph(2));
  ReportAll(job, 0, proto::RUNNING);
  ASSERT_TRUE(dispatcher_.CancelJob(job).ok());
  EXPECT_EQ(Detail(job).summary().state(), proto::JOB_CANCELLING);
  EXPECT_EQ(Detail(job).vertices(0).subtasks(0).state(), proto::CANCELING);
  ASSERT_THAT(gateway_.cancels, SizeIs(2));
  EXPECT_TRUE(dispatcher_.CancelJob(job).ok());  // again: still cancelling, fine

  gateway_.cancels[0].done(absl::OkStatus());
  EXPECT_EQ(Detail(job).summary().state(), proto::JOB_CANCELLING);
  // A task reports CANCELED itself; the other TaskManager acks.
  for (const auto& s : gateway_.SubmitsOf(job, 0)) {
    if (s.tm.tm_id == gateway_.cancels[1].tm.tm_id) {
      ASSERT_TRUE(Report(job, 0, s.tdd.vertex_id(), s.tdd.subtask(), proto::CANCELED).ok());
      break;
    }
  }
  gateway_.cancels[1].done(absl::DeadlineExceededError("slow"));
  proto::JobDetail d = Detail(job);
  EXPECT_EQ(d.summary().state(), proto::JOB_CANCELED);
  EXPECT_GT(d.summary().end_time_ms(), 0);
  EXPECT_EQ(FreeSlots(), 4);
}

TEST_F(DispatcherTest, CancelOfAWaitingJobAndOfUnknownJobs) {
  std::string job = Submit(TwoVertexGraph(2));  // no TaskManagers: waits
  EXPECT_EQ(Detail(job).summary().state(), proto::JOB_CREATED);
  ASSERT_TRUE(dispatcher_.CancelJob(job).ok());
  EXPECT_EQ(Detail(job).summary().state(), proto::JOB_CANCELED);
  Register("tm-1");
  EXPECT_THAT(gateway_.submits, SizeIs(0));  // no longer wants slots

  absl::Status missing = dispatcher_.CancelJob("0123");
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(missing.message(), "no job with id 0123");
  EXPECT_EQ(dispatcher_.GetJob("0123").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Report("0123", 0, 1, 0, proto::RUNNING).code(), absl::StatusCode::kNotFound);
}

TEST_F(DispatcherTest, JobWaitsForSlotsUntilTaskManagersRegister) {
  Register("tm-1", 2);
  std::string job = Submit(TwoVertexGraph(4));
  EXPECT_EQ(Detail(job).summary().state(), proto::JOB_CREATED);
  EXPECT_THAT(gateway_.submits, SizeIs(0));
  for (int i = 0; i < 6; ++i) {  // a minute passes, tm-1 keeps heartbeating
    clock_.Advance(10'000);
    HeartbeatFrom("tm-1");
    dispatcher_.Poll();
  }
  EXPECT_EQ(Detail(job).summary().state(), proto::JOB_CREATED);
  Register("tm-2", 2);
  EXPECT_EQ(Detail(job).summary().state(), proto::JOB_RUNNING);
  EXPECT_THAT(gateway_.SubmitsOf(job, 0), SizeIs(8));
}

TEST_F(DispatcherTest, JobFailsWhenSlotsDoNotArriveInTime) {
  Register("tm-1", 2);
  std::string job = Submit(TwoVertexGraph(4));
  EXPECT_EQ(dispatcher_.NextDeadlineMs(), clock_.NowMillis() + 10'001);  // heartbeat first
  for (int i = 0; i < 30; ++i) {                                         // 5 minutes of heartbeats
    clock_.Advance(10'000);
    HeartbeatFrom("tm-1");
    dispatcher_.Poll();
  }
  proto::JobDetail d = Detail(job);
  EXPECT_EQ(d.summary().state(), proto::JOB_FAILED);
  EXPECT_EQ(d.failure_cause(), "not enough task slots: need 4, cluster has 2 free");
  EXPECT_THAT(gateway_.submits, SizeIs(0));
}

TEST_F(DispatcherTest, BadUpdatesAndGraphsAreRejected) {
  Register("tm-1");
  std::string job = Submit(TwoVertexGraph(1));
  EXPECT_EQ(Report(job, 0, 99, 0, proto::RUNNING).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Report(job, 0, 1, 3, proto::RUNNING).code(), absl::StatusCode::kInvalidArgument);
  proto::JobGraph bad = TwoVertexGraph(1);
  bad.mutable_edges(0)->set_source_vertex(42);
  auto rejected = dispatcher_.SubmitJob(bad);
  EXPECT_EQ(rejected.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(rejected.status().message()),
              HasSubstr("edge 5: source vertex 42 does not exist"));
  EXPECT_THAT(dispatcher_.ListJobs(), SizeIs(1));
}

TEST_F(DispatcherTest, ExponentialDelayRestartsRepeatedly) {
  Register("tm-1");
  proto::JobGraph graph = TwoVertexGraph(1, "exponential_delay");
  graph.mutable_restart()->set_initial_ms(100);
  graph.mutable_restart()->set_max_ms(1000);
  std::string job = Submit(graph);
  int64_t expected_delay = 100;
  for (int attempt = 0; attempt < 3; ++attempt) {
    ReportAll(job, attempt, proto::RUNNING);
    ASSERT_TRUE(Report(job, attempt, 1, 0, proto::FAILED, "flaky").ok());
    EXPECT_EQ(Detail(job).summary().state(), proto::JOB_RESTARTING);
    EXPECT_EQ(dispatcher_.NextDeadlineMs(), clock_.NowMillis() + expected_delay);
    clock_.Advance(expected_delay);
    dispatcher_.Poll();
    ASSERT_THAT(gateway_.SubmitsOf(job, attempt + 1), SizeIs(2));
    expected_delay *= 2;
  }
  EXPECT_EQ(Detail(job).summary().restarts(), 3);
  EXPECT_THAT(Detail(job).exceptions(), SizeIs(3));
}

}  // namespace
}  // namespace sluice::jobmanager
