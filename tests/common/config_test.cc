#include "common/config.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/duration.h"
#include "gtest/gtest.h"
#include "tests/test_dirs.h"

namespace sluice {
namespace {

std::string TempFile(const std::string& name, const std::string& content) {
  auto path = std::filesystem::temp_directory_path() / (name + std::to_string(::getpid()));
  std::ofstream(path) << content;
  return path.string();
}

TEST(ConfigTest, DefaultsComeFromTheTable) {
  Config config;
  EXPECT_EQ(config.GetInt("jobmanager.rpc.port"), 6123);
  EXPECT_EQ(config.GetInt("rest.port"), 8081);
  EXPECT_EQ(config.GetBytes("taskmanager.network.buffer_size"), 32 * 1024);
  EXPECT_EQ(config.GetDurationMillis("pipeline.buffer_timeout"), 10);
}

TEST(ConfigTest, FileThenFlagsOverride) {
  std::string path = TempFile("sluice-config", "taskmanager:\n  slots: 4\n  network.buffers: 512\nheartbeat.timeout: 30s\n");
  Config config;
  ASSERT_TRUE(config.LoadFile(path).ok());
  ASSERT_TRUE(config.SetFlag("taskmanager.slots=8").ok());
  EXPECT_EQ(config.GetInt("taskmanager.slots"), 8);
  EXPECT_EQ(config.GetInt("taskmanager.network.buffers"), 512);
  EXPECT_EQ(config.GetDurationMillis("heartbeat.timeout"), 30'000);
}

TEST(ConfigTest, BadInputNamesTheKeyAndLine) {
  Config config;
  absl::Status unknown = config.SetFlag("taskmanager.slotz=2");
  EXPECT_EQ(unknown.message(), "unknown config key 'taskmanager.slotz' (did you mean 'taskmanager.slots'?)");
  absl::Status bad_int = config.SetFlag("taskmanager.slots=many");
  EXPECT_EQ(bad_int.message(), "config key 'taskmanager.slots': 'many' is not an integer");
  EXPECT_FALSE(config.SetFlag("no-equals-sign").ok());

  std::string path = TempFile("sluice-config-bad", "taskmanager:\n  slots: 2\nheartbeat.timeout: soon\n");
  absl::Status s = config.LoadFile(path);
  EXPECT_NE(s.message().find("line 3"), absl::string_view::npos) << s;
  EXPECT_NE(s.message().find("heartbeat.timeout"), absl::string_view::npos) << s;

  std::string malformed = TempFile("sluice-config-malformed", "a: [1, 2\n");
  EXPECT_NE(config.LoadFile(malformed).message().find("line"), absl::string_view::npos);
  EXPECT_EQ(config.LoadFile("/no/such/file.yaml").code(), absl::StatusCode::kNotFound);
}

TEST(ConfigTest, SizesAndDurations) {
  EXPECT_EQ(ParseBytes("64mb").value(), 64 << 20);
  EXPECT_EQ(ParseBytes("4096").value(), 4096);
  EXPECT_FALSE(ParseBytes("lots").ok());
  EXPECT_EQ(ParseDurationMillis("500ms").value(), 500);
  EXPECT_EQ(ParseDurationMillis("1.5s").value(), 1500);
  EXPECT_EQ(ParseDurationMillis("2m").value(), 120'000);
  EXPECT_EQ(ParseDurationMillis("1h").value(), 3'600'000);
  EXPECT_FALSE(ParseDurationMillis("5 parsecs").ok());
  EXPECT_EQ(FormatDurationMillis(120'000), "2m");
}

TEST(ConfigTest, DocsAreGeneratedFromTheTable) {
  std::ifstream in(::sluice::testing::SourceDir() / "docs" / "configuration.md");
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(), ConfigDocsMarkdown())
      << "docs/configuration.md is stale: regenerate with `build/bin/sluice config-docs > docs/configuration.md`";
}

}  // namespace
}  // namespace sluice
