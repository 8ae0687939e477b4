// CheckpointCoordinator state machine with a manual clock and a temp directory: trigger
// timing, max concurrent, acknowledgements completing a checkpoint (atomic _metadata),
// declines and timeouts aborting, stale reports ignored, retained checkpoints and the shared
// files only they referenced deleted, and restore falling back past unreadable checkpoints.
#include "jobmanager/checkpoint_coordinator.h"

#include <filesystem>
#include <fstream>

#include "common/file_util.h"
#include "gtest/gtest.h"
#include "tests/test_dirs.h"

namespace sluice::jobmanager {
namespace {

namespace fs = std::filesystem;
using TaskKey = CheckpointCoordinator::TaskKey;

class CheckpointCoordinatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::sluice::testing::FreshTestDir("sluice-coordinator");
    proto::JobVertex* v = graph_.add_vertices();
    v->set_id(0);
    v->set_name("source");
    v->set_parallelism(2);
    v->add_chain()->set_name("numbers");
    graph_.set_max_parallelism(128);
  }
  void TearDown() override { fs::remove_all(dir_); }

  CheckpointOptions Options(int retained = 1) {
    CheckpointOptions o;
    o.interval_ms = 1000;
    o.timeout_ms = 5000;
    o.retained = retained;
    o.job_dir = (dir_ / "job").string();
    return o;
  }

  proto::CheckpointReport Ack(int64_t id, int subtask, int attempt = 0,
                              std::vector<std::pair<std::string, bool>> files = {}) {
    proto::CheckpointReport r;
    r.set_job_id("job");
    r.set_attempt(attempt);
    r.set_vertex_id(0);
    r.set_subtask(subtask);
    r.set_checkpoint_id(id);
    r.mutable_state()->set_vertex_id(0);
    r.mutable_state()->set_subtask(subtask);
    for (const auto& [path, shared] : files) {
      fs::create_directories((dir_ / "job" / path).parent_path());
      std::ofstream(dir_ / "job" / path) << "state of " << path;
      proto::StateFile* f = r.mutable_state()->mutable_keyed()->add_files();
      f->set_path(path);
      f->set_shared(shared);
      f->set_size(static_cast<int64_t>(fs::file_size(dir_ / "job" / path)));
    }
    return r;
  }

  // Triggers the next checkpoint (advancing the clock by an interval) and acks it fully.
  int64_t CompleteOne(CheckpointCoordinator& c, std::vector<std::pair<std::string, bool>> files = {}) {
    clock_.Advance(1000);
    std::optional<int64_t> id = c.MaybeTrigger(tasks_);
    EXPECT_TRUE(id.has_value());
    EXPECT_FALSE(c.OnReport(Ack(*id, 0, 0, files)).has_value());
    EXPECT_EQ(c.OnReport(Ack(*id, 1)), id);
    return *id;
  }

  fs::path dir_;
  proto::JobGraph graph_;
  ManualClock clock_{1'000'000};
  std::vector<TaskKey> tasks_ = {{0, 0}, {0, 1}};
};

TEST_F(CheckpointCoordinatorTest, TriggersEveryIntervalOnceAllTasksRun) {
  CheckpointCoordinator c("job", Options(), &graph_, &clock_);
  EXPECT_FALSE(c.MaybeTrigger(tasks_).has_value());  // not running yet
  c.OnAllRunning(0);
  EXPECT_EQ(c.NextTimerMs(), clock_.NowMillis() + 1000);
  EXPECT_FALSE(c.MaybeTrigger(tasks_).has_value());
  clock_.Advance(1000);
  EXPECT_EQ(c.MaybeTrigger(tasks_), 1);
  clock_.Advance(1000);
  EXPECT_FALSE(c.MaybeTrigger(tasks_).has_value());  // max_concurrent 1: 1 is still pending
  ASSERT_EQ(c.history().size(), 1u);
  EXPECT_EQ(c.history().back().status(), "IN_PROGRESS");
}

TEST_F(CheckpointCoordinatorTest, AllAcksCompleteAndWriteMetadata) {
  CheckpointCoordinator c("job", Options(), &graph_, &clock_);
  c.OnAllRunning(0);
  const int64_t id = CompleteOne(c, {{"chk-1/v0-s0.state", false}});
  const fs::path metadata = dir_ / "job" / "chk-1" / "_metadata";
  ASSERT_TRUE(fs::exists(metadata));
  proto::CheckpointMetadata m;
  ASSERT_TRUE(m.ParseFromString(*ReadFile(metadata.string())));
  EXPECT_EQ(m.checkpoint_id(), id);
  EXPECT_EQ(m.tasks_size(), 2);
  ASSERT_EQ(m.vertices_size(), 1);
  EXPECT_EQ(m.vertices(0).operator_names(0), "numbers");
  EXPECT_EQ(c.history().back().status(), "COMPLETED");
  EXPECT_EQ(c.history().back().acknowledged(), 2);
  EXPECT_EQ(c.num_completed(), 1);
}

TEST_F(CheckpointCoordinatorTest, DeclineAbortsAndDeletesTheCheckpointDirectory) {
  CheckpointCoordinator c("job", Options(), &graph_, &clock_);
  c.OnAllRunning(0);
  clock_.Advance(1000);
  const int64_t id = *c.MaybeTrigger(tasks_);
  EXPECT_FALSE(c.OnReport(Ack(id, 0, 0, {{"chk-1/v0-s0.state", false}})).has_value());
  proto::CheckpointReport decline = Ack(id, 1);
  decline.set_decline_reason("sums (2/2): No space left on device");
  EXPECT_FALSE(c.OnReport(decline).has_value());
  EXPECT_EQ(c.history().back().status(), "FAILED");
  EXPECT_NE(c.history().back().failure().find("No space left"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir_ / "job" / "chk-1"));
  EXPECT_EQ(c.TakeAborted(), std::vector<int64_t>{id});
  // A late ack of the aborted checkpoint changes nothing; the next one still works.
  EXPECT_FALSE(c.OnReport(Ack(id, 1)).has_value());
  EXPECT_EQ(CompleteOne(c), 2);
}

TEST_F(CheckpointCoordinatorTest, ExpiredCheckpointIsAborted) {
  CheckpointCoordinator c("job", Options(), &graph_, &clock_);
  c.OnAllRunning(0);
  clock_.Advance(1000);
  const int64_t id = *c.MaybeTrigger(tasks_);
  EXPECT_EQ(c.NextTimerMs(), clock_.NowMillis() + 1000);  // next trigger before the timeout
  clock_.Advance(5000);
  c.MaybeTrigger(tasks_);
  EXPECT_EQ(c.history().front().status(), "FAILED");
  EXPECT_NE(c.history().front().failure().find("expired"), std::string::npos);
  EXPECT_FALSE(c.OnReport(Ack(id, 0)).has_value());
}

TEST_F(CheckpointCoordinatorTest, ReportsOfAnotherAttemptOrTwiceAreIgnored) {
  CheckpointCoordinator c("job", Options(), &graph_, &clock_);
  c.OnAllRunning(1);
  clock_.Advance(1000);
  const int64_t id = *c.MaybeTrigger(tasks_);
  EXPECT_FALSE(c.OnReport(Ack(id, 0, /*attempt=*/0)).has_value());  // stale attempt
  EXPECT_FALSE(c.OnReport(Ack(id, 0, 1)).has_value());
  EXPECT_FALSE(c.OnReport(Ack(id, 0, 1)).has_value());  // duplicate
  EXPECT_EQ(c.OnReport(Ack(id, 1, 1)), id);
}

TEST_F(CheckpointCoordinatorTest, AttemptStoppedAbortsPendingAndStopsTriggering) {
  CheckpointCoordinator c("job", Options(), &graph_, &clock_);
  c.OnAllRunning(0);
  clock_.Advance(1000);
  ASSERT_TRUE(c.MaybeTrigger(tasks_).has_value());
  c.OnAttemptStopped("numbers (1/2) failed: boom");
  EXPECT_EQ(c.history().back().status(), "FAILED");
  EXPECT_FALSE(c.NextTimerMs().has_value());
  clock_.Advance(5000);
  EXPECT_FALSE(c.MaybeTrigger(tasks_).has_value());
}

TEST_F(CheckpointCoordinatorTest, RetainedCheckpointsAndSharedFilesAreCleanedUp) {
  CheckpointCoordinator c("job", Options(/*retained=*/1), &graph_, &clock_);
  c.OnAllRunning(0);
  CompleteOne(c, {{"shared/a.sst", true}, {"shared/b.sst", true}});
  CompleteOne(c, {{"shared/b.sst", true}, {"shared/c.sst", true}});
  EXPECT_FALSE(fs::exists(dir_ / "job" / "chk-1"));
  EXPECT_TRUE(fs::exists(dir_ / "job" / "chk-2" / "_metadata"));
  EXPECT_FALSE(fs::exists(dir_ / "job" / "shared" / "a.sst"));  // only checkpoint 1 used it
  EXPECT_TRUE(fs::exists(dir_ / "job" / "shared" / "b.sst"));
  EXPECT_TRUE(fs::exists(dir_ / "job" / "shared" / "c.sst"));
}

TEST_F(CheckpointCoordinatorTest, RestoreFallsBackPastTruncatedMetadataOrMissingFiles) {
  CheckpointCoordinator c("job", Options(/*retained=*/3), &graph_, &clock_);
  c.OnAllRunning(0);
  CompleteOne(c, {{"chk-1/v0-s0.state", false}});
  CompleteOne(c, {{"chk-2/v0-s0.state", false}});
  CompleteOne(c, {{"chk-3/v0-s0.state", false}});
  ASSERT_EQ(c.LatestForRestore()->checkpoint_id(), 3);
  // Checkpoint 3's metadata truncated, checkpoint 2's state file missing: 1 is used.
  const fs::path metadata3 = dir_ / "job" / "chk-3" / "_metadata";
  fs::resize_file(metadata3, fs::file_size(metadata3) / 2);
  fs::remove(dir_ / "job" / "chk-2" / "v0-s0.state");
  std::optional<proto::CheckpointMetadata> restore = c.LatestForRestore();
  ASSERT_TRUE(restore.has_value());
  EXPECT_EQ(restore->checkpoint_id(), 1);
  // A state file with another size than recorded (truncated) is not restorable either.
  fs::resize_file(dir_ / "job" / "chk-1" / "v0-s0.state", 3);
  EXPECT_FALSE(c.LatestForRestore().has_value());
}

TEST(CheckpointOptionsTest, ReadsTheJobsKeysAndNeedsADirectory) {
  proto::JobGraph graph;
  (*graph.mutable_config())["checkpointing.interval"] = "500ms";
  (*graph.mutable_config())["checkpointing.retained"] = "3";
  auto o = CheckpointOptionsForJob(graph, "j1", "/data/ckpt");
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->interval_ms, 500);
  EXPECT_EQ(o->retained, 3);
  EXPECT_EQ(o->job_dir, "/data/ckpt/j1");
  EXPECT_FALSE(CheckpointOptionsForJob(graph, "j1", "").ok());
  (*graph.mutable_config())["checkpointing.interval"] = "soon";
  auto bad = CheckpointOptionsForJob(graph, "j1", "/data/ckpt");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("checkpointing.interval"), std::string::npos);
  proto::JobGraph off;
  EXPECT_EQ(CheckpointOptionsForJob(off, "j1", "/data").value().interval_ms, 0);
}

}  // namespace
}  // namespace sluice::jobmanager
