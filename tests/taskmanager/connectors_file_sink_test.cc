// File sink: part files appear only on Finish (atomic rename), Close without Finish leaves
// nothing, leftovers of earlier attempts are replaced, and I/O errors name the path. With
// checkpoints: two-phase commit (in-progress -> pending at the barrier -> committed when the
// checkpoint completes) and restore (pending files committed, later files deleted).
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"
#include "taskmanager/connectors/file_sink.h"

namespace sluice::taskmanager::connectors {
namespace {

namespace fs = std::filesystem;

class NoOutput : public Collector {
 public:
  absl::Status Collect(types::RecordBatch&) override { return absl::OkStatus(); }
};

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "sluice-fsink-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

types::SchemaPtr TheSchema() {
  return std::make_shared<types::Schema>(std::vector<types::Field>{
      {"card", types::TypeId::kInt64}, {"country", types::TypeId::kString}});
}

proto::OperatorSpec Spec(const std::string& path, const std::string& format = "json") {
  proto::OperatorSpec spec;
  spec.set_name("out");
  spec.mutable_file_sink()->set_path(path);
  spec.mutable_file_sink()->mutable_format()->set_name(format);
  *spec.mutable_input_schema() = TheSchema()->ToProto();
  return spec;
}

types::RecordBatch Rows(int64_t first, int n) {
  types::RecordBatch batch(TheSchema());
  for (int i = 0; i < n; ++i) {
    batch.mutable_column(0).AppendInt(first + i);
    batch.mutable_column(1).AppendString(i % 2 ? "NL" : "DE");
  }
  batch.SetNumRows(n);
  return batch;
}

std::string Read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> Names(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

OperatorContext Subtask(int subtask) {
  OperatorContext ctx;
  ctx.subtask = subtask;
  ctx.parallelism = 4;
  return ctx;
}

TEST(ConnectorsFileSinkTest, PartFileAppearsOnlyOnFinish) {
  TempDir tmp;
  fs::path dir = tmp.path() / "a" / "b";  // created with its parents
  auto sink = FileSink::Create(Spec(dir.string()), /*buffer_bytes=*/100);
  ASSERT_TRUE(sink.ok()) << sink.status();
  ASSERT_TRUE((*sink)->Open(Subtask(3)).ok());
  NoOutput out;
  std::string expected;
  for (int b = 0; b < 20; ++b) {
    types::RecordBatch batch = Rows(b * 10, 10);
    ASSERT_TRUE((*sink)->ProcessBatch(0, batch, out).ok());
  }
  for (int i = 0; i < 200; ++i) {
    expected +=
        "{\"card\":" + std::to_string(i) + ",\"country\":\"" + (i % 2 ? "NL" : "DE") + "\"}\n";
  }
  EXPECT_EQ(Names(dir), std::vector<std::string>{".part-3.inprogress"});
  ASSERT_TRUE((*sink)->Finish(out).ok());
  EXPECT_EQ(Names(dir), std::vector<std::string>{"part-3.json"});
  EXPECT_EQ(Read(dir / "part-3.json"), expected);
  EXPECT_TRUE((*sink)->Close().ok());
  EXPECT_EQ(Names(dir), std::vector<std::string>{"part-3.json"});
}

TEST(ConnectorsFileSinkTest, CsvPartFileAndEmptyInput) {
  TempDir tmp;
  auto sink = FileSink::Create(Spec(tmp.path().string(), "csv"));
  ASSERT_TRUE(sink.ok());
  ASSERT_TRUE((*sink)->Open(Subtask(0)).ok());
  NoOutput out;
  ASSERT_TRUE((*sink)->Finish(out).ok());
  EXPECT_EQ(Names(tmp.path()), std::vector<std::string>{"part-0.csv"});
  EXPECT_EQ(Read(tmp.path() / "part-0.csv"), "");
}

TEST(ConnectorsFileSinkTest, CsvWithHeaderStartsWithTheColumnNames) {
  TempDir tmp;
  proto::OperatorSpec spec = Spec(tmp.path().string(), "csv");
  auto& options = *spec.mutable_file_sink()->mutable_format()->mutable_options();
  options["header"] = "true";
  options["delimiter"] = ";";
  auto sink = FileSink::Create(spec);
  ASSERT_TRUE(sink.ok());
  ASSERT_TRUE((*sink)->Open(Subtask(1)).ok());
  NoOutput out;
  types::RecordBatch batch = Rows(7, 2);
  ASSERT_TRUE((*sink)->ProcessBatch(0, batch, out).ok());
  ASSERT_TRUE((*sink)->Finish(out).ok());
  EXPECT_EQ(Read(tmp.path() / "part-1.csv"), "card;country\n7;DE\n8;NL\n");
}

TEST(ConnectorsFileSinkTest, CloseWithoutFinishLeavesNothing) {
  TempDir tmp;
  auto sink = FileSink::Create(Spec(tmp.path().string()), 10);
  ASSERT_TRUE(sink.ok());
  ASSERT_TRUE((*sink)->Open(Subtask(1)).ok());
  NoOutput out;
  types::RecordBatch batch = Rows(0, 100);
  ASSERT_TRUE((*sink)->ProcessBatch(0, batch, out).ok());
  ASSERT_TRUE((*sink)->Close().ok());
  EXPECT_TRUE(Names(tmp.path()).empty());
}

TEST(ConnectorsFileSinkTest, LeftoverOfAnEarlierAttemptIsReplaced) {
  TempDir tmp;
  std::ofstream(tmp.path() / ".part-2.inprogress") << "half-written junk";
  std::ofstream(tmp.path() / "part-2.json") << "old committed output\n";
  auto sink = FileSink::Create(Spec(tmp.path().string()));
  ASSERT_TRUE(sink.ok());
  ASSERT_TRUE((*sink)->Open(Subtask(2)).ok());
  NoOutput out;
  types::RecordBatch batch = Rows(5, 1);
  ASSERT_TRUE((*sink)->ProcessBatch(0, batch, out).ok());
  ASSERT_TRUE((*sink)->Finish(out).ok());
  EXPECT_EQ(Names(tmp.path()), std::vector<std::string>{"part-2.json"});
  EXPECT_EQ(Read(tmp.path() / "part-2.json"), "{\"card\":5,\"country\":\"DE\"}\n");
}

TEST(ConnectorsFileSinkTest, ALateAttemptNeitherDeletesNorPublishesTheNewAttemptsFile) {
  TempDir tmp;
  auto old_attempt = FileSink::Create(Spec(tmp.path().string()));
  auto new_attempt = FileSink::Create(Spec(tmp.path().string()));
  ASSERT_TRUE((*old_attempt)->Open(Subtask(0)).ok());
  ASSERT_TRUE((*new_attempt)->Open(Subtask(0)).ok());
  NoOutput out;
  types::RecordBatch old_rows = Rows(100, 1);
  types::RecordBatch new_rows = Rows(1, 1);
  ASSERT_TRUE((*old_attempt)->ProcessBatch(0, old_rows, out).ok());
  ASSERT_TRUE((*new_attempt)->ProcessBatch(0, new_rows, out).ok());
  absl::Status late = (*old_attempt)->Finish(out);
  EXPECT_EQ(late.code(), absl::StatusCode::kAborted) << late;
  ASSERT_TRUE((*old_attempt)->Close().ok());
  EXPECT_EQ(Names(tmp.path()), std::vector<std::string>{".part-0.inprogress"});
  ASSERT_TRUE((*new_attempt)->Finish(out).ok());
  EXPECT_EQ(Read(tmp.path() / "part-0.json"), "{\"card\":1,\"country\":\"DE\"}\n");
}

TEST(ConnectorsFileSinkTest, DirectoryThatCannotBeCreatedIsAnErrorNamingIt) {
  TempDir tmp;
  std::ofstream(tmp.path() / "file") << "x";
  std::string dir = (tmp.path() / "file" / "out").string();
  auto sink = FileSink::Create(Spec(dir));
  ASSERT_TRUE(sink.ok());
  absl::Status s = (*sink)->Open(Subtask(0));
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "file sink 'out': cannot create directory " + dir + ": Not a directory");
}

TEST(ConnectorsFileSinkTest, WriteErrorNamesTheFileAndErrno) {
  TempDir tmp;
  auto sink = FileSink::Create(Spec(tmp.path().string()), 1000);
  ASSERT_TRUE(sink.ok());
  ASSERT_TRUE((*sink)->Open(Subtask(0)).ok());
  // A 4 KiB file size limit makes write() fail with EFBIG, like a full disk.
  signal(SIGXFSZ, SIG_IGN);
  rlimit saved;
  getrlimit(RLIMIT_FSIZE, &saved);
  rlimit small = saved;
  small.rlim_cur = 4096;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  NoOutput out;
  absl::Status s;
  for (int i = 0; i < 100 && s.ok(); ++i) {
    types::RecordBatch batch = Rows(i * 100, 100);
    s = (*sink)->ProcessBatch(0, batch, out);
  }
  setrlimit(RLIMIT_FSIZE, &saved);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(s.message(), "file sink 'out': cannot write " +
                             (tmp.path() / ".part-0.inprogress").string() + ": File too large");
  ASSERT_TRUE((*sink)->Close().ok());
  EXPECT_TRUE(Names(tmp.path()).empty());
}

OperatorContext Checkpointing(int subtask) {
  OperatorContext ctx = Subtask(subtask);
  ctx.checkpointing = true;
  return ctx;
}

// A sink of subtask 1 with checkpoints, initialized from `state` (empty: a fresh start).
std::unique_ptr<FileSink> RollingSink(const fs::path& dir, std::vector<std::string> state = {}) {
  auto sink = FileSink::Create(Spec(dir.string()));
  EXPECT_TRUE(sink.ok()) << sink.status();
  EXPECT_TRUE((*sink)->Open(Checkpointing(1)).ok());
  StateInitContext init;
  init.restored = !state.empty();
  init.operator_state = std::move(state);
  absl::Status s = (*sink)->InitializeState(init);
  EXPECT_TRUE(s.ok()) << s;
  return *std::move(sink);
}

void Write(FileSink& sink, int64_t first, int n) {
  NoOutput out;
  types::RecordBatch batch = Rows(first, n);
  ASSERT_TRUE(sink.ProcessBatch(0, batch, out).ok());
}

TEST(ConnectorsFileSinkTest, CheckpointsCommitPartsInTwoPhases) {
  TempDir tmp;
  auto sink = RollingSink(tmp.path());
  Write(*sink, 0, 5);
  EXPECT_EQ(Names(tmp.path()), std::vector<std::string>{".part-1-0.inprogress"});
  absl::StatusOr<std::string> state1 = sink->SnapshotState(1);  // pre-commit
  ASSERT_TRUE(state1.ok()) << state1.status();
  EXPECT_EQ(Names(tmp.path()), std::vector<std::string>{".part-1-0.pending"});
  Write(*sink, 5, 5);
  ASSERT_TRUE(sink->SnapshotState(2).ok());
  ASSERT_TRUE(sink->NotifyCheckpointComplete(1).ok());  // commits part 0 only
  EXPECT_EQ(Names(tmp.path()), (std::vector<std::string>{".part-1-1.pending", "part-1-0.json"}));
  ASSERT_TRUE(sink->NotifyCheckpointComplete(2).ok());
  EXPECT_EQ(Names(tmp.path()), (std::vector<std::string>{"part-1-0.json", "part-1-1.json"}));
  // A snapshot with nothing written adds no file; the end commits the last part.
  ASSERT_TRUE(sink->SnapshotState(3).ok());
  Write(*sink, 10, 2);
  NoOutput out;
  ASSERT_TRUE(sink->Finish(out).ok());
  EXPECT_EQ(Names(tmp.path()),
            (std::vector<std::string>{"part-1-0.json", "part-1-1.json", "part-1-2.json"}));
  EXPECT_EQ(Read(tmp.path() / "part-1-2.json"),
            "{\"card\":10,\"country\":\"DE\"}\n{\"card\":11,\"country\":\"NL\"}\n");
}

TEST(ConnectorsFileSinkTest, RestoreCommitsPendingPartsAndDeletesLaterOnes) {
  TempDir tmp;
  std::string state;
  {
    auto sink = RollingSink(tmp.path());
    Write(*sink, 0, 3);
    state = *sink->SnapshotState(1);  // part 0 pending in checkpoint 1
    Write(*sink, 3, 3);
    ASSERT_TRUE(sink->SnapshotState(2).ok());  // part 1 pending, checkpoint 2 never completes
    Write(*sink, 6, 3);                        // part 2 in progress when the process dies
    // kill -9: no Close, no commit. (The destructor would clean up; simulate the crash by
    // leaving the files as they are.)
    fs::copy(tmp.path(), tmp.path().string() + ".crash", fs::copy_options::recursive);
  }
  fs::remove_all(tmp.path());
  fs::rename(tmp.path().string() + ".crash", tmp.path());
  // A leftover final file numbered after the checkpoint (committed at the end of a bounded
  // stream by the failed attempt) holds records the restored job emits again.
  std::ofstream(tmp.path() / "part-1-3.json") << "{\"card\":99}\n";
  std::ofstream(tmp.path() / "part-0-7.json") << "other subtask\n";  // not ours: kept
  auto restored = RollingSink(tmp.path(), {state});
  EXPECT_EQ(Names(tmp.path()), (std::vector<std::string>{"part-0-7.json", "part-1-0.json"}));
  EXPECT_EQ(Read(tmp.path() / "part-1-0.json"),
            "{\"card\":0,\"country\":\"DE\"}\n{\"card\":1,\"country\":\"NL\"}\n"
            "{\"card\":2,\"country\":\"DE\"}\n");
  // Restoring the same state again (a second failure) is idempotent.
  auto again = RollingSink(tmp.path(), {state});
  EXPECT_EQ(Names(tmp.path()), (std::vector<std::string>{"part-0-7.json", "part-1-0.json"}));
  // The next part continues the numbering.
  Write(*again, 3, 1);
  NoOutput out;
  ASSERT_TRUE(again->Finish(out).ok());
  EXPECT_EQ(Names(tmp.path()),
            (std::vector<std::string>{"part-0-7.json", "part-1-0.json", "part-1-1.json"}));
}

TEST(ConnectorsFileSinkTest, FreshStartWithCheckpointsDeletesOldPartsOfTheSubtask) {
  TempDir tmp;
  std::ofstream(tmp.path() / "part-1-0.json") << "old\n";
  std::ofstream(tmp.path() / ".part-1-4.pending") << "old\n";
  std::ofstream(tmp.path() / "part-2-0.json") << "other subtask\n";
  auto sink = RollingSink(tmp.path());
  EXPECT_EQ(Names(tmp.path()), std::vector<std::string>{"part-2-0.json"});
}

TEST(ConnectorsFileSinkTest, MissingPendingFileOfACompletedCheckpointIsDataLoss) {
  TempDir tmp;
  std::string state;
  {
    auto sink = RollingSink(tmp.path());
    Write(*sink, 0, 3);
    state = *sink->SnapshotState(1);
  }
  fs::remove(tmp.path() / ".part-1-0.pending");
  auto sink = FileSink::Create(Spec(tmp.path().string()));
  ASSERT_TRUE((*sink)->Open(Checkpointing(1)).ok());
  StateInitContext init;
  init.restored = true;
  init.operator_state = {state};
  absl::Status s = (*sink)->InitializeState(init);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(s.message().find(".part-1-0.pending"), std::string::npos) << s;
}

TEST(ConnectorsFileSinkTest, BadSpecsAreRejectedAtCreate) {
  EXPECT_EQ(FileSink::Create(Spec("x", "parquet")).status().message(),
            "file sink 'out': unknown format 'parquet' (expected json, csv, avro, avro-confluent, protobuf, protobuf-confluent)");
  EXPECT_EQ(FileSink::Create(Spec("")).status().message(), "file sink 'out': no path");
}

}  // namespace
}  // namespace sluice::taskmanager::connectors
