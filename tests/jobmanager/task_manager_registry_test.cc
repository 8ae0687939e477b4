#include "jobmanager/task_manager_registry.h"

#include "common/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sluice::jobmanager {
namespace {

using ::testing::HasSubstr;

proto::RegisterTaskManagerRequest Registration(const std::string& id, int slots = 2) {
  proto::RegisterTaskManagerRequest r;
  r.set_tm_id(id);
  r.set_control_address(id + ":6124");
  r.set_data_address(id + ":6125");
  r.set_slots(slots);
  r.set_pid(4242);
  return r;
}

proto::HeartbeatRequest Heartbeat(const std::string& id, int64_t rss = 0) {
  proto::HeartbeatRequest h;
  h.set_tm_id(id);
  h.set_rss_bytes(rss);
  return h;
}

TEST(TaskManagerRegistryTest, RegistersAndKeepsTheLatestHeartbeat) {
  ManualClock clock;
  TaskManagerRegistry registry(&clock, 10'000);
  auto replaced = registry.Register(Registration("tm-1"));
  ASSERT_TRUE(replaced.ok());
  EXPECT_FALSE(replaced->has_value());

  proto::HeartbeatRequest hb = Heartbeat("tm-1", 1 << 20);
  proto::TaskMetrics* m = hb.add_tasks();
  m->set_job_id("j");
  m->set_records_in(10);
  clock.Advance(1000);
  EXPECT_TRUE(registry.Heartbeat(hb));
  hb.mutable_tasks(0)->set_records_in(25);
  hb.set_rss_bytes(2 << 20);
  clock.Advance(1000);
  EXPECT_TRUE(registry.Heartbeat(hb));

  const TaskManagerRecord* tm = registry.FindAlive("tm-1");
  ASSERT_NE(tm, nullptr);
  EXPECT_EQ(tm->location.control_address, "tm-1:6124");
  EXPECT_EQ(tm->location.data_address, "tm-1:6125");
  EXPECT_EQ(tm->slots, 2);
  EXPECT_EQ(tm->pid, 4242);
  EXPECT_EQ(tm->rss_bytes, 2 << 20);
  ASSERT_EQ(tm->task_metrics.size(), 1u);
  EXPECT_EQ(tm->task_metrics[0].records_in(), 25);
  EXPECT_EQ(tm->last_heartbeat_ms, clock.NowMillis());
}

TEST(TaskManagerRegistryTest, UnknownTaskManagerHeartbeatIsNotKnown) {
  ManualClock clock;
  TaskManagerRegistry registry(&clock, 10'000);
  EXPECT_FALSE(registry.Heartbeat(Heartbeat("ghost")));
}

TEST(TaskManagerRegistryTest, SilentTaskManagerIsLostWithCause) {
  ManualClock clock;
  TaskManagerRegistry registry(&clock, 10'000);
  ASSERT_TRUE(registry.Register(Registration("tm-1")).ok());
  ASSERT_TRUE(registry.Register(Registration("tm-2")).ok());
  EXPECT_EQ(registry.NextExpiryMs(), clock.NowMillis() + 10'001);

  clock.Advance(6000);
  EXPECT_TRUE(registry.Heartbeat(Heartbeat("tm-2")));
  clock.Advance(4000);  // tm-1 silent for exactly the timeout: still alive
  EXPECT_TRUE(registry.ExpireSilent().empty());
  clock.Advance(5);
  std::vector<LostTaskManager> lost = registry.ExpireSilent();
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_EQ(lost[0].record.location.tm_id, "tm-1");
  EXPECT_EQ(lost[0].cause, "TaskManager tm-1 (tm-1:6124) lost: no heartbeat for 10005 ms");
  EXPECT_EQ(registry.FindAlive("tm-1"), nullptr);
  // It is still listed, as not alive, and must register again.
  ASSERT_EQ(registry.List().size(), 2u);
  EXPECT_FALSE(registry.List()[0]->alive);
  EXPECT_FALSE(registry.Heartbeat(Heartbeat("tm-1")));
  ASSERT_TRUE(registry.Register(Registration("tm-1")).ok());
  EXPECT_NE(registry.FindAlive("tm-1"), nullptr);
}

TEST(TaskManagerRegistryTest, ReRegistrationReplacesTheOldProcess) {
  ManualClock clock;
  TaskManagerRegistry registry(&clock, 10'000);
  ASSERT_TRUE(registry.Register(Registration("tm-1", 2)).ok());
  auto replaced = registry.Register(Registration("tm-1", 4));
  ASSERT_TRUE(replaced.ok());
  ASSERT_TRUE(replaced->has_value());
  EXPECT_THAT((*replaced)->cause, HasSubstr("TaskManager tm-1 (tm-1:6124) lost"));
  EXPECT_EQ(registry.FindAlive("tm-1")->slots, 4);
  EXPECT_EQ(registry.List().size(), 1u);
}

TEST(TaskManagerRegistryTest, RejectsBadRegistrations) {
  ManualClock clock;
  TaskManagerRegistry registry(&clock, 10'000);
  EXPECT_EQ(registry.Register(Registration("")).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(registry.Register(Registration("tm", 0)).status().message()),
              HasSubstr("slots must be >= 1"));
  proto::RegisterTaskManagerRequest no_data = Registration("tm-3");
  no_data.clear_data_address();
  ASSERT_TRUE(registry.Register(no_data).ok());
  EXPECT_EQ(registry.FindAlive("tm-3")->location.data_address, "tm-3:6124");
}

}  // namespace
}  // namespace sluice::jobmanager
