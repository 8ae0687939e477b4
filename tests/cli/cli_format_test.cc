// Human formatting of the CLI: durations, wall times, "ago", state names, tables.
#include "cli/format.h"
#include "common/job_state.h"

#include "cli/table.h"
#include "gtest/gtest.h"

namespace sluice::cli {
namespace {

TEST(HumanDurationTest, UsesTheTwoLargestUnits) {
  EXPECT_EQ(HumanDuration(0), "0s");
  EXPECT_EQ(HumanDuration(-5), "0s");
  EXPECT_EQ(HumanDuration(850), "850ms");
  EXPECT_EQ(HumanDuration(12'400), "12s");
  EXPECT_EQ(HumanDuration(192'000), "3m 12s");
  EXPECT_EQ(HumanDuration(3'600'000), "1h 0m");
  EXPECT_EQ(HumanDuration(2 * 3'600'000 + 5 * 60'000 + 59'000), "2h 5m");
  EXPECT_EQ(HumanDuration(3 * 86'400'000LL + 4 * 3'600'000), "3d 4h");
}

TEST(FormatWallTimeTest, FormatsInTheGivenZone) {
  EXPECT_EQ(FormatWallTime(1'700'000'000'000, absl::UTCTimeZone()), "2023-11-14 22:13:20");
  EXPECT_EQ(FormatWallTime(0), "-");
}

TEST(FormatAgoTest, SaysHowLongAgo) {
  EXPECT_EQ(FormatAgo(10'000, 13'500), "3s ago");
  EXPECT_EQ(FormatAgo(0, 13'500), "never");
}

TEST(StateNamesTest, DropTheEnumPrefix) {
  EXPECT_EQ(JobStateName(proto::JOB_RUNNING), "RUNNING");
  EXPECT_EQ(JobStateName(proto::JOB_CANCELLING), "CANCELLING");
  EXPECT_EQ(JobStateName(static_cast<proto::JobState>(42)), "UNKNOWN(42)");
  EXPECT_EQ(TaskStateName(proto::DEPLOYING), "DEPLOYING");
  EXPECT_EQ(PartitioningName(proto::HASH), "HASH");
  EXPECT_TRUE(IsJobEnded(proto::JOB_CANCELED));
  EXPECT_FALSE(IsJobEnded(proto::JOB_RESTARTING));
}

TEST(JobDurationTest, RunningJobsCountUntilNow) {
  proto::JobSummary s;
  EXPECT_EQ(JobDurationMillis(s, 5000), 0);  // not started
  s.set_start_time_ms(1000);
  EXPECT_EQ(JobDurationMillis(s, 5000), 4000);
  s.set_end_time_ms(3000);
  EXPECT_EQ(JobDurationMillis(s, 5000), 2000);
}

TEST(TableTest, AlignsColumnsWithoutTrailingSpaces) {
  Table t({"ID", "NAME", {"RECORDS", Align::kRight}, "STATE"});
  t.AddRow({"1", "txns", "1200", "RUNNING"});
  t.AddRow({"22", "a longer name", "7", "FINISHED"});
  EXPECT_EQ(t.ToString(),
            "ID  NAME           RECORDS  STATE\n"
            "1   txns              1200  RUNNING\n"
            "22  a longer name        7  FINISHED\n");
}

TEST(TableTest, IndentsAndFillsMissingCells) {
  Table t({"A", "B"}, "  ");
  t.AddRow({"x"});
  EXPECT_EQ(t.ToString(), "  A  B\n  x\n");
  EXPECT_EQ(t.num_rows(), 1u);
}

TEST(TableTest, MeasuresUtf8ByCharacters) {
  Table t({"NAME", "N"});
  t.AddRow({"Zürich", "1"});
  t.AddRow({"Bern", "2"});
  EXPECT_EQ(t.ToString(),
            "NAME    N\n"
            "Zürich  1\n"
            "Bern    2\n");
}

}  // namespace
}  // namespace sluice::cli
