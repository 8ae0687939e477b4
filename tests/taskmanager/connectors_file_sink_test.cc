// File sink: part files appear only on Finish (atomic rename), Close without Finish leaves
// nothing, leftovers of earlier attempts are replaced, and I/O errors name the path.
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

TEST(ConnectorsFileSinkTest, BadSpecsAreRejectedAtCreate) {
  EXPECT_EQ(FileSink::Create(Spec("x", "parquet")).status().message(),
            "file sink 'out': unknown format 'parquet' (expected json or csv)");
  EXPECT_EQ(FileSink::Create(Spec("")).status().message(), "file sink 'out': no path");
}

}  // namespace
}  // namespace sluice::taskmanager::connectors
