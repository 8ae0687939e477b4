// Argument parsing and exit codes of `sluice`: usage errors are one line and exit 2, job spec
// errors and an unreachable JobManager too; unsupported verbs say so.
#include "cli/app.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/cli/cli_test_util.h"

namespace sluice::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using testing::ClosedPort;
using testing::CountLines;
using testing::RunSluice;

// Expects exit 2 with exactly one line on stderr that starts with `prefix` and contains
// `needle`, and nothing on stdout.
void ExpectUsageError(const testing::CliResult& r, const std::string& prefix,
                      const std::string& needle) {
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_THAT(r.err, StartsWith(prefix));
  EXPECT_THAT(r.err, HasSubstr(needle));
  EXPECT_EQ(CountLines(r.err), 1) << r.err;
  EXPECT_EQ(r.out, "");
}

std::string WriteTempFile(const std::string& name, const std::string& content) {
  const std::filesystem::path dir =
      std::filesystem::path(::testing::TempDir()) / ("cli_app_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / name).string();
  std::ofstream(path) << content;
  return path;
}

TEST(CliAppTest, NoCommandIsAUsageError) {
  ExpectUsageError(RunSluice({}), "sluice: a command is required", "run, list, info");
}

TEST(CliAppTest, UnknownCommandIsNamed) {
  ExpectUsageError(RunSluice({"lsit"}), "sluice: unknown command 'lsit'", "list");
}

TEST(CliAppTest, MissingArgumentsAreUsageErrors) {
  ExpectUsageError(RunSluice({"run"}), "sluice run: ", "JOB.yaml");
  ExpectUsageError(RunSluice({"info"}), "sluice info: ", "JOB_ID");
  ExpectUsageError(RunSluice({"cancel"}), "sluice cancel: ", "see: sluice cancel --help");
  ExpectUsageError(RunSluice({"stop", "j1"}), "sluice stop: ", "--savepoint-dir");
  ExpectUsageError(RunSluice({"savepoint", "j1"}), "sluice savepoint: ", "DIR");
}

TEST(CliAppTest, BadOptionValuesAreUsageErrors) {
  ExpectUsageError(RunSluice({"list", "--output", "yaml"}), "sluice list: ", "yaml");
  ExpectUsageError(RunSluice({"run", "job.yaml", "--parallelism", "0"}), "sluice run: ",
                   "--parallelism");
  ExpectUsageError(RunSluice({"list", "--bogus"}), "sluice list: ", "--bogus");
  ExpectUsageError(RunSluice({"local", "--slots", "0"}), "sluice local: ", "--slots");
  ExpectUsageError(RunSluice({"cancel", "j1", "--timeout", "soon"}), "sluice cancel: --timeout",
                   "soon");
}

TEST(CliAppTest, HelpExitsZeroOnStdout) {
  testing::CliResult r = RunSluice({"--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_THAT(r.out, HasSubstr("taskmanagers"));
  EXPECT_THAT(r.out, HasSubstr("--jobmanager"));
  r = RunSluice({"run", "--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_THAT(r.out, HasSubstr("--detached"));
  EXPECT_THAT(r.out, HasSubstr("--from-savepoint"));
}

TEST(CliAppTest, SpecErrorIsOneLineWithFileAndLine) {
  const std::string spec = WriteTempFile("broken.yaml", "name: bad\nsources:\n  - name: [txns\n");
  ExpectUsageError(RunSluice({"run", spec, "--jobmanager", "127.0.0.1:1"}), "sluice run: " + spec + ":",
                   spec);
}

TEST(CliAppTest, MissingSpecFileIsOneLine) {
  ExpectUsageError(RunSluice({"run", "/nonexistent/job.yaml"}), "sluice run: ",
                   "/nonexistent/job.yaml");
}

TEST(CliAppTest, ParallelismReachesTheSpecLoader) {
  int seen = -1;
  testing::CliResult r = RunSluice(
      {"run", "job.yaml", "-p", "3", "--jobmanager", "127.0.0.1:" + std::to_string(ClosedPort())},
      [&](CommandEnv& env) {
        env.load_spec = [&](const std::string& path, int parallelism) {
          seen = parallelism;
          return absl::StatusOr<proto::JobGraph>(proto::JobGraph());
        };
      });
  EXPECT_EQ(seen, 3);
  EXPECT_EQ(r.code, 2);
}

TEST(CliAppTest, UnreachableJobManagerIsOneLineExit2) {
  const std::string address = "127.0.0.1:" + std::to_string(ClosedPort());
  const std::string expected = "cannot reach the JobManager at " + address +
                               " (is it running? start one with `sluice local`)";
  auto fake_loader = [](CommandEnv& env) {
    env.load_spec = [](const std::string&, int) {
      return absl::StatusOr<proto::JobGraph>(proto::JobGraph());
    };
  };
  for (std::vector<std::string> args :
       {std::vector<std::string>{"run", "job.yaml"}, {"run", "job.yaml", "--detached"}, {"list"},
        {"info", "j1"}, {"cancel", "j1"}, {"taskmanagers", "--output", "json"}}) {
    args.insert(args.end(), {"--jobmanager", address});
    testing::CliResult r = RunSluice(args, fake_loader);
    ExpectUsageError(r, "sluice " + args[0] + ": " + expected, "");
  }
}

TEST(CliAppTest, JobManagerComesFromTheEnvironment) {
  const std::string address = "127.0.0.1:" + std::to_string(ClosedPort());
  ::setenv("SLUICE_JOBMANAGER", address.c_str(), 1);
  testing::CliResult r = RunSluice({"list"});
  ::unsetenv("SLUICE_JOBMANAGER");
  ExpectUsageError(r, "sluice list: cannot reach the JobManager at " + address, "");
}

TEST(CliAppTest, DefaultJobManagerIsLocalhost6123) {
  GlobalOptions defaults;
  EXPECT_EQ(defaults.jobmanager, "localhost:6123");
}

TEST(CliAppTest, ConfigDocsPrintsTheReference) {
  testing::CliResult r = RunSluice({"config-docs"});
  EXPECT_EQ(r.code, 0);
  EXPECT_THAT(r.out, HasSubstr("jobmanager.rpc.port"));
  EXPECT_THAT(r.out, HasSubstr("taskmanager.slots"));
}

}  // namespace
}  // namespace sluice::cli
