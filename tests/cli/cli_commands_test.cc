// The verbs against an in-process fake JobManager: what `list`, `info`, `run`, `cancel` and
// `taskmanagers` print and which exit code they return.
#include <atomic>

#include "cli/format.h"
#include "gmock/gmock.h"
#include "nlohmann/json.hpp"
#include "gtest/gtest.h"
#include "tests/cli/cli_test_util.h"

namespace sluice::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::CliResult;
using testing::CountLines;
using testing::FakeJobManager;
using testing::MakeJob;

constexpr int64_t kNowMs = 1'700'000'192'000;  // 3m 12s after MakeJob's start

class CommandsTest : public ::testing::Test {
 protected:
  // Runs the CLI against the fake JobManager with a fixed clock and a spec loader that
  // returns a graph named "txn-alerts".
  CliResult Sluice(std::vector<std::string> args,
                   const std::function<void(CommandEnv&)>& configure = {}) {
    args.insert(args.end(), {"--jobmanager", jm_.address()});
    return testing::RunSluice(args, [&](CommandEnv& env) {
      env.clock = &clock_;
      env.load_spec = [this](const std::string& path, int parallelism) {
        loaded_path_ = path;
        proto::JobGraph graph;
        graph.set_name("txn-alerts");
        graph.add_vertices()->set_parallelism(parallelism);
        return absl::StatusOr<proto::JobGraph>(graph);
      };
      if (configure) configure(env);
    });
  }

  FakeJobManager jm_;
  ManualClock clock_{kNowMs};
  std::string loaded_path_;
};

TEST_F(CommandsTest, ListShowsATable) {
  jm_.ScriptJob("j1", {MakeJob("j1", "txn-alerts", proto::JOB_RUNNING)});
  jm_.ScriptJob("j2", {MakeJob("j2", "word-count", proto::JOB_FAILED)});
  CliResult r = Sluice({"list"});
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string start = FormatWallTime(1'700'000'000'000);
  EXPECT_EQ(r.out,
            "ID  NAME        STATE    START                DURATION  TASKS  RESTARTS\n"
            "j1  txn-alerts  RUNNING  " + start + "    3m 12s    4/4         0\n"
            "j2  word-count  FAILED   " + start + "    3m 12s    0/4         0\n");
  EXPECT_EQ(r.err, "");
}

TEST_F(CommandsTest, ListJsonIsAnArrayOfJobSummaries) {
  jm_.ScriptJob("j1", {MakeJob("j1", "txn-alerts", proto::JOB_RUNNING)});
  CliResult r = Sluice({"list", "--output", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  nlohmann::json jobs = nlohmann::json::parse(r.out);
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0]["job_id"], "j1");
  EXPECT_EQ(jobs[0]["state"], "JOB_RUNNING");
  EXPECT_EQ(jobs[0]["tasks_running"], 4);
}

TEST_F(CommandsTest, ListWithoutJobs) {
  EXPECT_EQ(Sluice({"list"}).out, "No jobs.\n");
  EXPECT_EQ(Sluice({"list", "-o", "json"}).out, "[]\n");
}

TEST_F(CommandsTest, InfoShowsVerticesEdgesAndFailure) {
  jm_.ScriptJob("j2", {MakeJob("j2", "word-count", proto::JOB_FAILED)});
  CliResult r = Sluice({"info", "j2"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Job:       j2\n"));
  EXPECT_THAT(r.out, HasSubstr("State:     FAILED\n"));
  EXPECT_THAT(r.out, HasSubstr("Duration:  3m 12s\n"));
  EXPECT_THAT(r.out, HasSubstr("Records:   1000 read, 400 to sinks\n"));
  EXPECT_THAT(r.out,
              HasSubstr("  ID  NAME             PARALLELISM  STATE                 RECORDS IN  RECORDS OUT  WATERMARK\n"
                        "  1   txns -> big                2  1 FAILED, 1 CANCELED        1000          400  -\n"
                        "  2   per_card -> out            2  1 FAILED, 1 CANCELED         400            0  -\n"));
  EXPECT_THAT(r.out, HasSubstr("Edges:\n  EDGE    PARTITIONING\n  1 -> 2  HASH(k)\n"));
  EXPECT_THAT(r.out, HasSubstr("Failure cause: TaskManager tm-1 lost (no heartbeat for 10s)\n"));
  EXPECT_THAT(r.out, HasSubstr("Exceptions (oldest first):\n  1. attempt 0: TaskManager tm-1 lost"));
}

TEST_F(CommandsTest, InfoJsonIsTheJobDetail) {
  jm_.ScriptJob("j2", {MakeJob("j2", "word-count", proto::JOB_FAILED)});
  CliResult r = Sluice({"info", "j2", "--output", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  nlohmann::json info = nlohmann::json::parse(r.out);
  EXPECT_EQ(info["summary"]["state"], "JOB_FAILED");
  EXPECT_EQ(info["summary"]["restarts"], 0);
  EXPECT_EQ(info["vertices"][1]["records_in"], 400);
  EXPECT_EQ(info["edges"][0]["target_vertex"], 2);
  EXPECT_THAT(info["failure_cause"].get<std::string>(), HasSubstr("lost"));
}

TEST_F(CommandsTest, InfoOnUnknownJobIsExit2) {
  CliResult r = Sluice({"info", "nope"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "sluice info: no job with id nope\n");
  EXPECT_EQ(r.out, "");
}

TEST_F(CommandsTest, RunDetachedPrintsTheJobId) {
  jm_.OnSubmit("job-7", {MakeJob("job-7", "txn-alerts", proto::JOB_CREATED)});
  CliResult r = Sluice({"run", "spec.yaml", "--detached", "--parallelism", "3"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "Job job-7 submitted (txn-alerts)\n");
  EXPECT_EQ(loaded_path_, "spec.yaml");
  ASSERT_EQ(jm_.submitted().size(), 1u);
  EXPECT_EQ(jm_.submitted()[0].name(), "txn-alerts");
  EXPECT_EQ(jm_.submitted()[0].vertices(0).parallelism(), 3);
  EXPECT_EQ(jm_.get_job_calls(), 0);
}

TEST_F(CommandsTest, RunDetachedJson) {
  jm_.OnSubmit("job-7", {MakeJob("job-7", "txn-alerts", proto::JOB_CREATED)});
  CliResult r = Sluice({"run", "spec.yaml", "-d", "--output", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  nlohmann::json json = nlohmann::json::parse(r.out);
  EXPECT_EQ(json, (nlohmann::json{{"job_id", "job-7"}, {"name", "txn-alerts"}}));
}

TEST_F(CommandsTest, RunAttachedFinishedIsExit0WithSummary) {
  jm_.OnSubmit("job-1", {MakeJob("job-1", "txn-alerts", proto::JOB_CREATED),
                         MakeJob("job-1", "txn-alerts", proto::JOB_RUNNING),
                         MakeJob("job-1", "txn-alerts", proto::JOB_FINISHED)});
  CliResult r = Sluice({"run", "spec.yaml"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "Job job-1 submitted (txn-alerts)\n"
            "Job job-1 FINISHED after 3m 12s\n"
            "  records:  1000 read, 400 to sinks\n"
            "  restarts: 0\n");
  // Plain progress lines on a non-terminal, one per change.
  EXPECT_EQ(r.err,
            "CREATED  tasks 0/4 running, 0 finished  records 1000 read, 400 to sinks  restarts 0\n"
            "RUNNING  tasks 4/4 running, 0 finished  records 1000 read, 400 to sinks  restarts 0\n"
            "FINISHED  tasks 0/4 running, 4 finished  records 1000 read, 400 to sinks  restarts 0\n");
}

TEST_F(CommandsTest, RunAttachedOnATerminalRewritesOneLine) {
  jm_.OnSubmit("job-1", {MakeJob("job-1", "txn-alerts", proto::JOB_RUNNING),
                         MakeJob("job-1", "txn-alerts", proto::JOB_FINISHED)});
  CliResult r = Sluice({"run", "spec.yaml"}, [](CommandEnv& env) { env.err_is_tty = true; });
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err,
            "\r\033[KRUNNING  tasks 4/4 running, 0 finished  records 1000 read, 400 to sinks  "
            "restarts 0"
            "\r\033[KFINISHED  tasks 0/4 running, 4 finished  records 1000 read, 400 to sinks  "
            "restarts 0\n");
}

TEST_F(CommandsTest, RunAttachedFailedIsExit1WithCause) {
  jm_.OnSubmit("job-1", {MakeJob("job-1", "txn-alerts", proto::JOB_RUNNING),
                         MakeJob("job-1", "txn-alerts", proto::JOB_FAILED)});
  CliResult r = Sluice({"run", "spec.yaml"});
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Job job-1 FAILED after 3m 12s\n"));
  EXPECT_THAT(r.out, HasSubstr("  cause:    TaskManager tm-1 lost (no heartbeat for 10s)\n"));
}

TEST_F(CommandsTest, RunAttachedCanceledIsExit1) {
  jm_.OnSubmit("job-1", {MakeJob("job-1", "txn-alerts", proto::JOB_CANCELED)});
  CliResult r = Sluice({"run", "spec.yaml"});
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Job job-1 CANCELED after"));
}

TEST_F(CommandsTest, RunAttachedJsonPrintsOnlyTheFinalDetailOnStdout) {
  jm_.OnSubmit("job-1", {MakeJob("job-1", "txn-alerts", proto::JOB_FINISHED)});
  CliResult r = Sluice({"run", "spec.yaml", "--output", "json"});
  EXPECT_EQ(r.code, 0) << r.err;
  nlohmann::json json = nlohmann::json::parse(r.out);
  EXPECT_EQ(json["summary"]["state"], "JOB_FINISHED");
  EXPECT_THAT(r.err, HasSubstr("Job job-1 submitted (txn-alerts)\n"));
}

TEST_F(CommandsTest, CtrlCWhileAttachedLeavesTheJobRunning) {
  jm_.OnSubmit("job-1", {MakeJob("job-1", "txn-alerts", proto::JOB_RUNNING)});
  std::atomic<bool> interrupted{true};
  CliResult r = Sluice({"run", "spec.yaml"}, [&](CommandEnv& env) { env.interrupted = &interrupted; });
  EXPECT_EQ(r.code, 130);
  EXPECT_THAT(r.err, HasSubstr("job keeps running; cancel with: sluice cancel job-1 --jobmanager " +
                               jm_.address() + "\n"));
  EXPECT_TRUE(jm_.canceled().empty());
}

TEST_F(CommandsTest, RejectedSubmitIsOneLineExit2) {
  jm_.RejectSubmit(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                "source txns: no-such-file.jsonl: no such file"));
  CliResult r = Sluice({"run", "spec.yaml"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "sluice run: source txns: no-such-file.jsonl: no such file\n");
  EXPECT_EQ(r.out, "");
}

TEST_F(CommandsTest, SpecErrorIsExit2AndNothingIsSubmitted) {
  CliResult r = Sluice({"run", "job.yaml"}, [](CommandEnv& env) {
    env.load_spec = [](const std::string&, int) -> absl::StatusOr<proto::JobGraph> {
      return absl::InvalidArgumentError("job.yaml:9:13: unknown column 'amout' (did you mean 'amount'?)");
    };
  });
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "sluice run: job.yaml:9:13: unknown column 'amout' (did you mean 'amount'?)\n");
  EXPECT_TRUE(jm_.submitted().empty());
}

TEST_F(CommandsTest, CancelWaitsForCanceled) {
  jm_.ScriptJob("j1", {MakeJob("j1", "n", proto::JOB_RUNNING)});
  jm_.OnCancel("j1", {MakeJob("j1", "n", proto::JOB_CANCELLING),
                      MakeJob("j1", "n", proto::JOB_CANCELLING),
                      MakeJob("j1", "n", proto::JOB_CANCELED)});
  CliResult r = Sluice({"cancel", "j1"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "Job j1 CANCELED\n");
  EXPECT_EQ(jm_.canceled(), std::vector<std::string>{"j1"});
}

TEST_F(CommandsTest, CancelJson) {
  jm_.ScriptJob("j1", {MakeJob("j1", "n", proto::JOB_RUNNING)});
  jm_.OnCancel("j1", {MakeJob("j1", "n", proto::JOB_CANCELED)});
  CliResult r = Sluice({"cancel", "j1", "--output", "json"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out),
            (nlohmann::json{{"job_id", "j1"}, {"state", "JOB_CANCELED"}}));
}

TEST_F(CommandsTest, CancelOfAnEndedJobReportsItsState) {
  jm_.ScriptJob("j1", {MakeJob("j1", "n", proto::JOB_FINISHED)});
  CliResult r = Sluice({"cancel", "j1"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "Job j1 already ended: FINISHED\n");
  EXPECT_TRUE(jm_.canceled().empty());
}

TEST_F(CommandsTest, CancelUnknownJobIsExit2) {
  CliResult r = Sluice({"cancel", "nope"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "sluice cancel: no job with id nope\n");
}

TEST_F(CommandsTest, CancelGivesUpAfterTheTimeout) {
  jm_.ScriptJob("j1", {MakeJob("j1", "n", proto::JOB_RUNNING)});
  jm_.OnCancel("j1", {MakeJob("j1", "n", proto::JOB_CANCELLING)});
  CliResult r = Sluice({"cancel", "j1", "--timeout", "0ms"},
                       [](CommandEnv& env) { env.clock = SystemClock::Get(); });
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "sluice cancel: job j1 is still CANCELLING after 0s (cancel was requested)\n");
}

TEST_F(CommandsTest, TaskManagersTable) {
  proto::TaskManagerInfo a;
  a.set_tm_id("tm-a");
  a.set_control_address("127.0.0.1:40001");
  a.set_slots_total(2);
  a.set_slots_free(1);
  a.set_last_heartbeat_ms(kNowMs - 2000);
  a.set_alive(true);
  a.set_rss_bytes(150LL << 20);
  a.set_pid(4242);
  proto::TaskManagerInfo b;
  b.set_tm_id("tm-b");
  b.set_control_address("127.0.0.1:40002");
  b.set_slots_total(2);
  b.set_last_heartbeat_ms(kNowMs - 12000);
  jm_.SetTaskManagers({a, b});
  CliResult r = Sluice({"taskmanagers"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "ID    ADDRESS          SLOTS  LAST HEARTBEAT  RSS MiB   PID\n"
            "tm-a  127.0.0.1:40001    1/2  2s ago              150  4242\n"
            "tm-b  127.0.0.1:40002    0/2  12s ago (lost)        -     -\n");
  r = Sluice({"taskmanagers", "--output", "json"});
  nlohmann::json json = nlohmann::json::parse(r.out);
  EXPECT_EQ(json[0]["control_address"], "127.0.0.1:40001");
  EXPECT_EQ(json[0]["slots_free"], 1);
  EXPECT_EQ(json[1]["alive"], false);
}

TEST_F(CommandsTest, NoTaskManagers) {
  EXPECT_EQ(Sluice({"taskmanagers"}).out, "No TaskManagers registered.\n");
}

}  // namespace
}  // namespace sluice::cli
