// The `--output json` shape (field names of control.proto, enums by name, numbers as numbers)
// and the job views shared by the text output.
#include "cli/json_output.h"

#include <sstream>

#include "cli/job_view.h"
#include "gtest/gtest.h"
#include "tests/cli/cli_test_util.h"

namespace sluice::cli {
namespace {

using testing::MakeJob;

TEST(ProtoToJsonTest, JobDetailKeepsProtoNamesWithPlainNumbers) {
  proto::JobDetail job = MakeJob("j1", "txn-alerts", proto::JOB_RUNNING);
  nlohmann::json json = ProtoToJson(job);
  EXPECT_EQ(json["summary"]["job_id"], "j1");
  EXPECT_EQ(json["summary"]["state"], "JOB_RUNNING");
  EXPECT_EQ(json["summary"]["start_time_ms"], 1'700'000'000'000);  // a number, not "1700..."
  EXPECT_EQ(json["summary"]["end_time_ms"], 0);                    // defaults are present
  EXPECT_EQ(json["summary"]["restarts"], 0);
  ASSERT_EQ(json["vertices"].size(), 2u);
  EXPECT_EQ(json["vertices"][0]["name"], "txns -> big");
  EXPECT_EQ(json["vertices"][0]["subtasks"][1]["state"], "RUNNING");
  EXPECT_EQ(json["vertices"][0]["subtasks"][1]["metrics"]["records_in"], 500);
  EXPECT_EQ(json["edges"][0]["partitioning"], "HASH");
  EXPECT_EQ(json["edges"][0]["key_indexes"], nlohmann::json::array({0}));
  EXPECT_EQ(json["edges"][0]["schema"]["fields"][0]["type"], "INT64");
  EXPECT_EQ(json["failure_cause"], "");
  EXPECT_EQ(json["exceptions"], nlohmann::json::array());
}

TEST(ProtoToJsonTest, MapsAndOneofs) {
  proto::JobGraph graph;
  (*graph.mutable_config())["buffer_timeout"] = "5ms";
  proto::OperatorSpec* op = graph.add_vertices()->add_chain();
  op->mutable_filter()->set_predicate("amount > 1");
  nlohmann::json json = ProtoToJson(graph);
  EXPECT_EQ(json["config"]["buffer_timeout"], "5ms");
  const nlohmann::json& chain0 = json["vertices"][0]["chain"][0];
  EXPECT_EQ(chain0["filter"]["predicate"], "amount > 1");
  EXPECT_FALSE(chain0.contains("select")) << chain0.dump();  // unset oneof members are absent
}

TEST(ProtoToJsonTest, ListsAreArraysAndPrintingIsPretty) {
  std::vector<proto::TaskManagerInfo> tms(1);
  tms[0].set_tm_id("tm-a");
  tms[0].set_rss_bytes(5LL << 30);
  std::ostringstream out;
  PrintJson(out, ProtoListToJson(tms));
  nlohmann::json parsed = nlohmann::json::parse(out.str());
  ASSERT_TRUE(parsed.is_array());
  EXPECT_EQ(parsed[0]["tm_id"], "tm-a");
  EXPECT_EQ(parsed[0]["rss_bytes"], 5LL << 30);
  EXPECT_EQ(parsed[0]["alive"], false);
  EXPECT_EQ(out.str().back(), '\n');
  EXPECT_NE(out.str().find("\n  {"), std::string::npos);
}

TEST(JobViewTest, RecordTotalsAreReadBySourcesAndReceivedBySinks) {
  proto::JobDetail job = MakeJob("j1", "n", proto::JOB_RUNNING);
  RecordTotals totals = JobRecordTotals(job);
  EXPECT_EQ(totals.read, 1000);     // vertex 1 has no input edge
  EXPECT_EQ(totals.to_sinks, 400);  // vertex 2 has no output edge
}

TEST(JobViewTest, SubtaskStatesAndEdges) {
  proto::JobDetail job = MakeJob("j1", "n", proto::JOB_FAILED);
  EXPECT_EQ(SubtaskStateSummary(job.vertices(0)), "1 FAILED, 1 CANCELED");
  EXPECT_EQ(SubtaskStateSummary(proto::VertexDetail()), "-");
  EXPECT_EQ(EdgePartitioningText(job.edges(0)), "HASH(k)");
  proto::JobEdge forward;
  EXPECT_EQ(EdgePartitioningText(forward), "FORWARD");
  proto::JobEdge bad = job.edges(0);
  bad.add_key_indexes(7);
  EXPECT_EQ(EdgePartitioningText(bad), "HASH(k, #7)");
}

}  // namespace
}  // namespace sluice::cli
