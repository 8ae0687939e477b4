// File source: files/directories/globs, byte-range splits over subtasks (every line read
// exactly once for any split size and parallelism), CRLF and missing final newlines, CSV
// headers, bad records with on_error fail/skip (line numbers of the file), missing paths.
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <random>

#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "taskmanager/connectors/file_source.h"
#include "taskmanager/connectors/file_splits.h"

namespace sluice::taskmanager::connectors {
namespace {

namespace fs = std::filesystem;

class CollectBatches : public Collector {
 public:
  absl::Status Collect(types::RecordBatch& batch) override {
    batches.push_back(batch);
    return absl::OkStatus();
  }
  std::vector<types::RecordBatch> batches;
};

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "sluice-fsrc-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }
  std::string Write(const std::string& name, const std::string& content) const {
    fs::path p = path_ / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
  }

 private:
  fs::path path_;
};

proto::OperatorSpec Spec(const std::string& path, const std::string& format = "json",
                         const std::string& on_error = "",
                         std::vector<std::pair<std::string, types::TypeId>> columns = {
                             {"id", types::TypeId::kInt64}, {"s", types::TypeId::kString}}) {
  proto::OperatorSpec spec;
  spec.set_name("txns");
  spec.mutable_file_source()->set_path(path);
  spec.mutable_file_source()->mutable_format()->set_name(format);
  spec.mutable_file_source()->set_on_error(on_error);
  std::vector<types::Field> fields;
  for (auto& [name, type] : columns) fields.push_back({name, type});
  *spec.mutable_output_schema() = types::Schema(fields).ToProto();
  return spec;
}

struct RunResult {
  absl::Status status;
  std::vector<int64_t> ids;          // column 0 of every row, in order
  std::vector<std::string> strings;  // column 1
  int64_t skipped = 0;
  int64_t dead_lettered = 0;
  int polls = 0;
};

RunResult RunSource(const proto::OperatorSpec& spec, FileSource::Options options, int subtask,
                    int parallelism) {
  RunResult r;
  auto source = FileSource::Create(spec, options);
  if (!source.ok()) {
    r.status = source.status();
    return r;
  }
  OperatorContext ctx;
  ctx.subtask = subtask;
  ctx.parallelism = parallelism;
  r.status = (*source)->Open(ctx);
  CollectBatches out;
  while (r.status.ok()) {
    auto poll = (*source)->PollNext(out);
    ++r.polls;
    if (!poll.ok()) {
      r.status = poll.status();
      break;
    }
    if (*poll == SourcePoll::kEnd) break;
    if (r.polls > 1'000'000) {
      r.status = absl::InternalError("source never ended");
      break;
    }
  }
  for (const types::RecordBatch& b : out.batches) {
    EXPECT_GT(b.num_rows(), 0u) << "empty batch emitted";
    EXPECT_LE(b.num_rows(), options.batch_lines);
    for (size_t i = 0; i < b.num_rows(); ++i) {
      r.ids.push_back(b.column(0).Int(i));
      if (b.num_columns() > 1) {
        r.strings.push_back(b.column(1).IsNull(i) ? "<null>" : std::string(b.column(1).Str(i)));
      }
    }
  }
  r.skipped = (*source)->bad_records().skipped;
  r.dead_lettered = (*source)->bad_records().dead_lettered;
  (*source)->Close().IgnoreError();
  return r;
}

// Files of JSON lines with ids first..first+n-1 and strings of random length, written with
// '\n' or "\r\n", with or without a final newline, with an empty line here and there.
std::string Lines(std::mt19937_64& rng, int64_t first, int n, bool crlf, bool final_newline,
                  std::map<int64_t, std::string>* expected) {
  std::string text;
  for (int i = 0; i < n; ++i) {
    int64_t id = first + i;
    std::string s(rng() % 40, 'a' + static_cast<char>(id % 26));
    (*expected)[id] = s;
    text += "{\"id\":" + std::to_string(id) + ",\"s\":\"" + s + "\"}";
    if (i + 1 < n || final_newline) text += crlf ? "\r\n" : "\n";
    if (rng() % 10 == 0 && i + 1 < n) text += crlf ? "\r\n" : "\n";  // an empty line
  }
  return text;
}

TEST(ConnectorsFileSourceTest, EveryLineIsReadExactlyOnceForAnySplitSizeAndParallelism) {
  TempDir dir;
  std::mt19937_64 rng(11);
  std::map<int64_t, std::string> expected;
  dir.Write("in/a.jsonl", Lines(rng, 0, 200, false, true, &expected));
  dir.Write("in/b.jsonl", Lines(rng, 1000, 100, true, true, &expected));    // CRLF
  dir.Write("in/c.jsonl", Lines(rng, 2000, 100, false, false, &expected));  // no final \n
  dir.Write("in/d.jsonl", Lines(rng, 3000, 1, true, false, &expected));     // one line
  dir.Write("in/e.jsonl", "");                                              // empty
  dir.Write("in/.hidden.jsonl", "{\"id\":-1}\n");
  dir.Write("in/_SUCCESS", "{\"id\":-2}\n");
  const std::string path = (dir.path() / "in").string();

  for (int64_t split_bytes :
       {int64_t{1}, int64_t{7}, int64_t{100}, int64_t{4096}, kDefaultSplitBytes}) {
    for (size_t buffer : {size_t{16}, size_t{1000}, size_t{1} << 20}) {
      if (split_bytes < 100 && buffer > 1000) continue;  // keeps the test fast
      for (int parallelism = 1; parallelism <= 5; ++parallelism) {
        SCOPED_TRACE(testing::Message() << "split_bytes " << split_bytes << " buffer " << buffer
                                        << " parallelism " << parallelism);
        FileSource::Options options;
        options.split_bytes = split_bytes;
        options.read_buffer_bytes = buffer;
        options.batch_lines = 64;
        std::map<int64_t, std::string> got;
        for (int subtask = 0; subtask < parallelism; ++subtask) {
          RunResult r = RunSource(Spec(path), options, subtask, parallelism);
          ASSERT_TRUE(r.status.ok()) << r.status;
          for (size_t i = 0; i < r.ids.size(); ++i) {
            ASSERT_TRUE(got.emplace(r.ids[i], r.strings[i]).second) << "read twice: " << r.ids[i];
          }
        }
        ASSERT_EQ(got, expected);
      }
    }
  }
}

TEST(ConnectorsFileSourceTest, SingleFileRowsKeepFileOrderWithinASubtask) {
  TempDir dir;
  std::mt19937_64 rng(3);
  std::map<int64_t, std::string> expected;
  std::string file = dir.Write("one.jsonl", Lines(rng, 0, 3000, false, true, &expected));
  RunResult r = RunSource(Spec(file), FileSource::Options(), 0, 1);
  ASSERT_TRUE(r.status.ok()) << r.status;
  ASSERT_EQ(r.ids.size(), 3000u);
  for (int64_t i = 0; i < 3000; ++i) ASSERT_EQ(r.ids[i], i);
  // ~3300 lines (3000 records and some empty lines) in batches of 1024 lines; the poll that
  // reads the last lines also returns kEnd.
  EXPECT_EQ(r.polls, 4);
}

TEST(ConnectorsFileSourceTest, GlobMatchesSortedFiles) {
  TempDir dir;
  dir.Write("x/2.jsonl", "{\"id\":2}\n");
  dir.Write("x/1.jsonl", "{\"id\":1}\n");
  dir.Write("x/1.txt", "{\"id\":9}\n");
  auto files = ListInputFiles((dir.path() / "x/*.jsonl").string());
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_EQ(*files, (std::vector<std::string>{(dir.path() / "x/1.jsonl").string(),
                                              (dir.path() / "x/2.jsonl").string()}));
  RunResult r = RunSource(Spec((dir.path() / "x/*.jsonl").string()), FileSource::Options(), 0, 1);
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.ids, (std::vector<int64_t>{1, 2}));
}

TEST(ConnectorsFileSourceTest, SplitsAreAssignedRoundRobinByGlobalIndex) {
  TempDir dir;
  std::string a = dir.Write("a", std::string(25, 'x'));
  std::string b = dir.Write("b", std::string(10, 'x'));
  auto splits = PlanSplits({a, b}, 10);
  ASSERT_TRUE(splits.ok());
  EXPECT_EQ(*splits, (std::vector<FileSplit>{{a, 0, 10}, {a, 10, 20}, {a, 20, 25}, {b, 0, 10}}));
  EXPECT_EQ(SplitsOfSubtask(*splits, 1, 3), (std::vector<FileSplit>{{a, 10, 20}}));
  EXPECT_EQ(SplitsOfSubtask(*splits, 0, 3), (std::vector<FileSplit>{{a, 0, 10}, {b, 0, 10}}));
}

TEST(ConnectorsFileSourceTest, CsvHeaderLineOfEveryFileIsSkipped) {
  TempDir dir;
  dir.Write("c/1.csv", "id,s\n1,a\n2,\"b,c\"\n");
  dir.Write("c/2.csv", "id,s\r\n3,d\r\n");
  auto spec = Spec((dir.path() / "c").string(), "csv");
  (*spec.mutable_file_source()->mutable_format()->mutable_options())["header"] = "true";
  for (int64_t split_bytes : {int64_t{1}, int64_t{3}, kDefaultSplitBytes}) {
    FileSource::Options options;
    options.split_bytes = split_bytes;
    std::map<int64_t, std::string> got;
    for (int subtask = 0; subtask < 2; ++subtask) {
      RunResult r = RunSource(spec, options, subtask, 2);
      ASSERT_TRUE(r.status.ok()) << r.status;
      for (size_t i = 0; i < r.ids.size(); ++i) got[r.ids[i]] = r.strings[i];
    }
    EXPECT_EQ(got, (std::map<int64_t, std::string>{{1, "a"}, {2, "b,c"}, {3, "d"}})) << split_bytes;
  }
}

TEST(ConnectorsFileSourceTest, BadRecordFailsWithFileAndLineNumber) {
  TempDir dir;
  std::string text;
  for (int i = 1; i <= 100; ++i) {
    text += i == 77 ? "{\"id\":\"x\"}\n" : "{\"id\":" + std::to_string(i) + "}\n";
    if (i == 10) text += "\n";  // an empty line counts as a line of the file
  }
  std::string file = dir.Write("bad.jsonl", text);
  for (int64_t split_bytes : {int64_t{50}, kDefaultSplitBytes}) {
    FileSource::Options options;
    options.split_bytes = split_bytes;
    int failures = 0;
    for (int subtask = 0; subtask < 3; ++subtask) {
      RunResult r = RunSource(Spec(file), options, subtask, 3);
      if (r.status.ok()) continue;
      ++failures;
      EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument);
      EXPECT_EQ(r.status.message(),
                "file source 'txns': file " + file +
                    " line 78: column 'id': expected int64, got \"x\"");
    }
    EXPECT_EQ(failures, 1) << split_bytes;
  }
}

TEST(ConnectorsFileSourceTest, SkipModeCountsBadRecordsAndKeepsTheRest) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 3000; ++i) {
    text += i % 100 == 0 ? "not json\n" : "{\"id\":" + std::to_string(i) + "}\n";
  }
  std::string file = dir.Write("bad.jsonl", text);
  FileSource::Options options;
  options.split_bytes = 1000;
  int64_t rows = 0, skipped = 0;
  for (int subtask = 0; subtask < 2; ++subtask) {
    RunResult r = RunSource(Spec(file, "json", "skip"), options, subtask, 2);
    ASSERT_TRUE(r.status.ok()) << r.status;
    rows += r.ids.size();
    skipped += r.skipped;
  }
  EXPECT_EQ(rows, 2970);
  EXPECT_EQ(skipped, 30);
}

TEST(ConnectorsFileSourceTest, DeadLetterModeWritesEachBadRecordWithItsReasonAndLine) {
  TempDir dir;
  std::string text;
  std::set<std::string> want;
  for (int i = 0; i < 3000; ++i) {
    if (i % 100 == 0) {
      text += "not json " + std::to_string(i) + "\n";
      want.insert("line " + std::to_string(i + 1) + ": not json " + std::to_string(i));
    } else {
      text += "{\"id\":" + std::to_string(i) + "}\n";
    }
  }
  std::string file = dir.Write("bad.jsonl", text);
  const fs::path dead = dir.path() / "dead";
  proto::OperatorSpec spec = Spec(file, "json", "dead_letter");
  spec.mutable_file_source()->mutable_dead_letter()->set_path(dead.string());
  FileSource::Options options;
  options.split_bytes = 1000;
  int64_t rows = 0, dead_lettered = 0;
  for (int subtask = 0; subtask < 2; ++subtask) {
    RunResult r = RunSource(spec, options, subtask, 2);
    ASSERT_TRUE(r.status.ok()) << r.status;
    rows += r.ids.size();
    dead_lettered += r.dead_lettered;
    EXPECT_EQ(r.skipped, 0);
  }
  EXPECT_EQ(rows, 2970);
  EXPECT_EQ(dead_lettered, 30);
  // One JSON object per bad record in <dir>/<source>-<subtask>.jsonl; the raw bytes base64.
  std::set<std::string> got;
  for (int subtask = 0; subtask < 2; ++subtask) {
    std::ifstream in(dead / ("txns-" + std::to_string(subtask) + ".jsonl"));
    std::string line;
    while (std::getline(in, line)) {
      nlohmann::json j = nlohmann::json::parse(line);
      EXPECT_EQ(j["source"], "txns");
      EXPECT_THAT(j["error"].get<std::string>(), ::testing::HasSubstr("invalid JSON"));
      std::string raw;
      ASSERT_TRUE(absl::Base64Unescape(j["raw_base64"].get<std::string>(), &raw));
      const std::string location = j["location"];
      ASSERT_EQ(location.rfind("file " + file + " ", 0), 0u) << location;
      got.insert(location.substr(file.size() + 6) + ": " + raw);
    }
  }
  EXPECT_EQ(got, want);
}

TEST(ConnectorsFileSourceTest, LinesLongerThanTheReadBufferAreRead) {
  TempDir dir;
  std::string big(100'000, 'q');
  std::string file = dir.Write("long.jsonl", "{\"id\":1,\"s\":\"" + big + "\"}\n{\"id\":2}\n");
  FileSource::Options options;
  options.read_buffer_bytes = 64;
  RunResult r = RunSource(Spec(file), options, 0, 1);
  ASSERT_TRUE(r.status.ok()) << r.status;
  ASSERT_EQ(r.ids, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(r.strings[0], big);
}

TEST(ConnectorsFileSourceTest, MissingPathIsNotFoundAtOpen) {
  TempDir dir;
  std::string missing = (dir.path() / "no-such.jsonl").string();
  RunResult r = RunSource(Spec(missing), FileSource::Options(), 0, 1);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(r.status.message(), "file source 'txns': no such file or directory: " + missing);
  std::string glob = (dir.path() / "*.csv").string();
  r = RunSource(Spec(glob), FileSource::Options(), 0, 1);
  EXPECT_EQ(r.status.message(), "file source 'txns': no such file or directory: " + glob);
}

TEST(ConnectorsFileSourceTest, EmptyDirectoryEndsRightAway) {
  TempDir dir;
  fs::create_directories(dir.path() / "empty");
  RunResult r = RunSource(Spec((dir.path() / "empty").string()), FileSource::Options(), 0, 1);
  ASSERT_TRUE(r.status.ok());
  EXPECT_TRUE(r.ids.empty());
  EXPECT_EQ(r.polls, 1);
}

TEST(ConnectorsFileSourceTest, BadSpecsAreRejectedAtCreate) {
  EXPECT_EQ(FileSource::Create(Spec("x", "json", "dead_letter")).status().message(),
            "file source 'txns': on_error: dead_letter needs dead_letter: {topic: ...} or "
            "{path: ...}");
  EXPECT_EQ(FileSource::Create(Spec("x", "json", "ignore")).status().message(),
            "file source 'txns': on_error must be fail, skip or dead_letter, not 'ignore'");
  EXPECT_EQ(FileSource::Create(Spec("x", "xml")).status().message(),
            "file source 'txns': unknown format 'xml' (expected json, csv, avro, avro-confluent, protobuf, protobuf-confluent)");
  EXPECT_EQ(FileSource::Create(Spec("x", "avro")).status().message(),
            "file source 'txns': format avro has one record per message: the file connector "
            "takes json or csv");
  EXPECT_EQ(FileSource::Create(Spec("x", "json", "", {})).status().message(),
            "file source 'txns': no schema (no columns)");
}

}  // namespace
}  // namespace sluice::taskmanager::connectors
