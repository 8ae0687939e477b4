// High-availability storage: the directory JobStore (write, read back, remove; corrupt or
// partial entries skipped), the scan of a recovered job's checkpoints, the leader file, and
// the CheckpointCoordinator's HA hooks (the store's pointer is written before a checkpoint
// counts as completed; a recovered coordinator restores from it and continues the ids).
#include "jobmanager/job_store.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/clock.h"
#include "common/file_util.h"
#include "common/ha_leader.h"
#include "gtest/gtest.h"
#include "tests/test_dirs.h"
#include "jobmanager/checkpoint_coordinator.h"

namespace sluice::jobmanager {
namespace {

namespace fs = std::filesystem;

class JobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::sluice::testing::FreshTestDir("sluice-job-store");
    proto::JobVertex* v = graph_.add_vertices();
    v->set_id(0);
    v->set_name("source");
    v->set_parallelism(2);
    v->add_chain()->set_name("numbers");
    graph_.set_name("job");
    graph_.set_max_parallelism(128);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<DirectoryJobStore> Open() {
    absl::StatusOr<std::unique_ptr<DirectoryJobStore>> store = DirectoryJobStore::Open((dir_ / "ha").string());
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }

  void WriteMetadata(const fs::path& job_dir, int64_t id) {
    proto::CheckpointMetadata m;
    m.set_job_id("job");
    m.set_checkpoint_id(id);
    fs::create_directories(job_dir / ("chk-" + std::to_string(id)));
    std::string bytes;
    m.SerializeToString(&bytes);
    ASSERT_TRUE(WriteFileAtomically((job_dir / ("chk-" + std::to_string(id)) / "_metadata").string(), bytes).ok());
  }

  fs::path dir_;
  proto::JobGraph graph_;
};

TEST_F(JobStoreTest, WritesAndReadsBackJobsWithTheirCheckpointAndAttempt) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->PutJob("aaaa", graph_).ok());
  ASSERT_TRUE(store->PutJob("bbbb", graph_).ok());
  ASSERT_TRUE(store->PutCheckpoint("aaaa", {7, "/ckpt/aaaa/chk-7/_metadata"}).ok());
  ASSERT_TRUE(store->PutCheckpoint("aaaa", {8, "/ckpt/aaaa/chk-8/_metadata"}).ok());
  ASSERT_TRUE(store->PutAttempt("aaaa", 3, {"tm-1", "tm-2"}).ok());

  // A new store over the same directory (a restarted JobManager) reads the same.
  auto reopened = Open();
  absl::StatusOr<std::vector<StoredJob>> jobs = reopened->RecoverJobs();
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  ASSERT_EQ(jobs->size(), 2u);
  const StoredJob& a = (*jobs)[0].job_id == "aaaa" ? (*jobs)[0] : (*jobs)[1];
  const StoredJob& b = (*jobs)[0].job_id == "aaaa" ? (*jobs)[1] : (*jobs)[0];
  EXPECT_EQ(a.graph.name(), "job");
  EXPECT_EQ(a.graph.vertices(0).parallelism(), 2);
  ASSERT_TRUE(a.checkpoint.has_value());
  EXPECT_EQ(a.checkpoint->checkpoint_id, 8);
  EXPECT_EQ(a.checkpoint->metadata_path, "/ckpt/aaaa/chk-8/_metadata");
  EXPECT_EQ(a.last_attempt, 3);
  EXPECT_EQ(a.taskmanagers, (std::vector<std::string>{"tm-1", "tm-2"}));
  EXPECT_EQ(b.job_id, "bbbb");
  EXPECT_FALSE(b.checkpoint.has_value());
  EXPECT_EQ(b.last_attempt, -1);
  // Atomic writes leave no temp files behind.
  for (const auto& entry : fs::recursive_directory_iterator(dir_ / "ha")) {
    EXPECT_EQ(entry.path().filename().string().find(".tmp"), std::string::npos) << entry.path();
  }
}

TEST_F(JobStoreTest, RemovedJobsAreNotRecovered) {
  auto store = Open();
  ASSERT_TRUE(store->PutJob("aaaa", graph_).ok());
  ASSERT_TRUE(store->PutCheckpoint("aaaa", {1, "x"}).ok());
  ASSERT_TRUE(store->PutJob("bbbb", graph_).ok());
  ASSERT_TRUE(store->RemoveJob("aaaa").ok());
  EXPECT_FALSE(fs::exists(dir_ / "ha" / "jobs" / "aaaa"));
  auto jobs = store->RecoverJobs();
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ((*jobs)[0].job_id, "bbbb");
  EXPECT_TRUE(store->RemoveJob("never-stored").ok());
}

TEST_F(JobStoreTest, CorruptOrPartialEntriesAreSkipped) {
  auto store = Open();
  ASSERT_TRUE(store->PutJob("good", graph_).ok());
  ASSERT_TRUE(store->PutJob("badpointer", graph_).ok());
  ASSERT_TRUE(store->PutJob("badattempt", graph_).ok());
  const fs::path jobs = dir_ / "ha" / "jobs";
  std::ofstream(jobs / "badpointer" / "checkpoint") << "{\"checkpoint_id\": \"seven\"}";
  std::ofstream(jobs / "badattempt" / "attempt") << "[1, 2";
  fs::create_directories(jobs / "badgraph");
  std::ofstream(jobs / "badgraph" / "jobgraph.pb") << "\xff\xff\xff garbage";
  fs::create_directories(jobs / "nograph");  // cut short before its graph was written
  std::ofstream(jobs / "nograph" / "checkpoint") << "{\"checkpoint_id\": 1, \"metadata_path\": \"x\"}";
  fs::create_directories(jobs / "bad name");
  std::ofstream(jobs / "stray-file") << "x";

  auto recovered = store->RecoverJobs();
  ASSERT_TRUE(recovered.ok()) << recovered.status();
  ASSERT_EQ(recovered->size(), 1u);
  EXPECT_EQ((*recovered)[0].job_id, "good");
}

TEST_F(JobStoreTest, RejectsIdsThatAreNotJobIds) {
  auto store = Open();
  EXPECT_EQ(store->PutJob("../escape", graph_).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->RemoveJob("").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(dir_ / "escape"));
}

TEST_F(JobStoreTest, UnwritableDirectoryIsAnErrorNamingIt) {
  fs::create_directories(dir_);
  std::ofstream(dir_ / "file") << "x";
  absl::StatusOr<std::unique_ptr<DirectoryJobStore>> store =
      DirectoryJobStore::Open((dir_ / "file" / "ha").string());
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find((dir_ / "file" / "ha").string()), std::string::npos);
}

TEST_F(JobStoreTest, ScanFindsCompletedCheckpointsUpToThePointer) {
  const fs::path job_dir = dir_ / "ckpt" / "job";
  WriteMetadata(job_dir, 1);
  WriteMetadata(job_dir, 2);
  WriteMetadata(job_dir, 4);
  fs::create_directories(job_dir / "chk-3");  // in progress when the JobManager died
  std::ofstream(job_dir / "chk-3" / "_metadata") << "truncated";
  fs::create_directories(job_dir / "chk-6");  // pending, never completed
  fs::create_directories(job_dir / "shared");

  RecoveredCheckpoints found = ScanCheckpoints(job_dir.string(), /*up_to_id=*/4);
  ASSERT_EQ(found.completed.size(), 3u);
  EXPECT_EQ(found.completed[0].checkpoint_id(), 1);
  EXPECT_EQ(found.completed[1].checkpoint_id(), 2);
  EXPECT_EQ(found.completed[2].checkpoint_id(), 4);
  EXPECT_EQ(found.max_id, 6);

  found = ScanCheckpoints(job_dir.string(), /*up_to_id=*/0);
  EXPECT_TRUE(found.completed.empty());
  EXPECT_EQ(found.max_id, 6);
  EXPECT_EQ(ScanCheckpoints((dir_ / "missing").string(), 5).max_id, 0);
}

TEST_F(JobStoreTest, LeaderFileRoundTripAndErrors) {
  const std::string ha = (dir_ / "ha").string();
  EXPECT_EQ(ReadLeaderFile(ha).status().code(), absl::StatusCode::kNotFound);
  LeaderInfo leader{"127.0.0.1:4242", "127.0.0.1:8081", "abc123", 77};
  ASSERT_TRUE(WriteLeaderFile(ha, leader).ok());
  absl::StatusOr<LeaderInfo> read = ReadLeaderFile(ha);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->rpc_address, "127.0.0.1:4242");
  EXPECT_EQ(read->rest_address, "127.0.0.1:8081");
  EXPECT_EQ(read->session_id, "abc123");
  EXPECT_EQ(read->pid, 77);
  std::ofstream(LeaderFilePath(ha)) << "{\"rpc_address\": 5}";
  EXPECT_EQ(ReadLeaderFile(ha).status().code(), absl::StatusCode::kDataLoss);
}

// --- The CheckpointCoordinator's HA hooks ---

class CoordinatorHaTest : public JobStoreTest {
 protected:
  CheckpointOptions Options() {
    CheckpointOptions o;
    o.interval_ms = 1000;
    o.timeout_ms = 5000;
    o.retained = 1;
    o.job_dir = (dir_ / "ckpt" / "job").string();
    return o;
  }
  proto::CheckpointReport Ack(int64_t id, int subtask, int attempt) {
    proto::CheckpointReport r;
    r.set_job_id("job");
    r.set_attempt(attempt);
    r.set_vertex_id(0);
    r.set_subtask(subtask);
    r.set_checkpoint_id(id);
    r.mutable_state()->set_vertex_id(0);
    r.mutable_state()->set_subtask(subtask);
    return r;
  }
  std::optional<int64_t> TriggerAndAck(CheckpointCoordinator& c, int attempt) {
    clock_.Advance(1000);
    std::optional<int64_t> id = c.MaybeTrigger(tasks_);
    if (!id) return std::nullopt;
    c.OnReport(Ack(*id, 0, attempt));
    return c.OnReport(Ack(*id, 1, attempt));
  }
  ManualClock clock_{1'000'000};
  std::vector<CheckpointCoordinator::TaskKey> tasks_ = {{0, 0}, {0, 1}};
};

TEST_F(CoordinatorHaTest, PointerIsWrittenBeforeCompletionAndAFailedWriteAbortsTheCheckpoint) {
  auto store = Open();
  ASSERT_TRUE(store->PutJob("job", graph_).ok());
  bool fail = false;
  CheckpointOptions options = Options();
  options.on_completed = [&](int64_t id, const std::string& metadata_path) -> absl::Status {
    EXPECT_TRUE(fs::exists(metadata_path));  // _metadata first, then the pointer
    if (fail) return absl::UnavailableError("disk full");
    return store->PutCheckpoint("job", {id, metadata_path});
  };
  CheckpointCoordinator c("job", options, &graph_, &clock_);
  c.OnAllRunning(0);
  EXPECT_EQ(TriggerAndAck(c, 0), 1);
  auto jobs = store->RecoverJobs();
  ASSERT_TRUE(jobs.ok());
  ASSERT_TRUE((*jobs)[0].checkpoint.has_value());
  EXPECT_EQ((*jobs)[0].checkpoint->checkpoint_id, 1);
  EXPECT_EQ((*jobs)[0].checkpoint->metadata_path, Options().job_dir + "/chk-1/_metadata");

  fail = true;
  EXPECT_EQ(TriggerAndAck(c, 0), std::nullopt);  // not completed: no task commits it
  EXPECT_FALSE(fs::exists(Options().job_dir + "/chk-2"));
  EXPECT_EQ(c.history().back().status(), "FAILED");
  EXPECT_EQ(c.LatestForRestore()->checkpoint_id(), 1);
}

TEST_F(CoordinatorHaTest, RecoveredCoordinatorRestoresTheLatestAndContinuesIds) {
  const fs::path job_dir = dir_ / "ckpt" / "job";
  WriteMetadata(job_dir, 4);
  WriteMetadata(job_dir, 5);
  fs::create_directories(job_dir / "chk-6");  // pending when the JobManager died
  RecoveredCheckpoints found = ScanCheckpoints(job_dir.string(), /*up_to_id=*/5);
  CheckpointCoordinator c("job", Options(), &graph_, &clock_);
  for (const auto& m : found.completed) c.RecoverCompleted(m);
  c.ContinueIdsAfter(found.max_id);
  ASSERT_TRUE(c.LatestForRestore().has_value());
  EXPECT_EQ(c.LatestForRestore()->checkpoint_id(), 5);
  EXPECT_EQ(c.history().back().status(), "COMPLETED");

  // The newest one is unreadable: falls back to the older recovered one.
  std::ofstream(job_dir / "chk-5" / "_metadata") << "x";
  EXPECT_EQ(c.LatestForRestore()->checkpoint_id(), 4);

  // Barrier ids keep increasing across JobManagers; completing one subsumes the recovered ones.
  c.OnAllRunning(3);
  EXPECT_EQ(TriggerAndAck(c, 3), 7);
  EXPECT_EQ(c.LatestForRestore()->checkpoint_id(), 7);
  EXPECT_FALSE(fs::exists(job_dir / "chk-4"));
}

}  // namespace
}  // namespace sluice::jobmanager
