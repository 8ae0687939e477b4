// SlotPool placement and the Scheduler's waiting slot requests.
#include "jobmanager/slot_pool.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "jobmanager/scheduler.h"

namespace sluice::jobmanager {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

TEST(SlotPoolTest, SpreadsAJobRoundRobinOverTaskManagers) {
  SlotPool pool;
  pool.AddTaskManager("tm-1", 2);
  pool.AddTaskManager("tm-2", 2);
  pool.AddTaskManager("tm-3", 2);
  auto slots = pool.Allocate("job-a", 4);
  ASSERT_TRUE(slots.ok());
  EXPECT_THAT(*slots, ElementsAre("tm-1", "tm-2", "tm-3", "tm-1"));
  EXPECT_EQ(pool.FreeSlots(), 2);
  EXPECT_EQ(pool.FreeSlots("tm-1"), 0);

  // The next job starts on the TaskManagers with the most free slots.
  auto b = pool.Allocate("job-b", 2);
  ASSERT_TRUE(b.ok());
  EXPECT_THAT(*b, UnorderedElementsAre("tm-2", "tm-3"));
  EXPECT_EQ(pool.FreeSlots(), 0);

  pool.Release("job-a");
  EXPECT_EQ(pool.FreeSlots(), 4);
  EXPECT_EQ(pool.FreeSlots("tm-1"), 2);
}

TEST(SlotPoolTest, NotEnoughSlotsAllocatesNothing) {
  SlotPool pool;
  pool.AddTaskManager("tm-1", 2);
  auto slots = pool.Allocate("job", 3);
  EXPECT_EQ(slots.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(slots.status().message(), "not enough task slots: need 3, cluster has 2 free");
  EXPECT_EQ(pool.FreeSlots(), 2);
}

TEST(SlotPoolTest, RemovedTaskManagerTakesItsSlots) {
  SlotPool pool;
  pool.AddTaskManager("tm-1", 2);
  pool.AddTaskManager("tm-2", 2);
  ASSERT_TRUE(pool.Allocate("job", 2).ok());
  pool.RemoveTaskManager("tm-1");
  EXPECT_EQ(pool.FreeSlots(), 1);
  pool.Release("job");
  EXPECT_EQ(pool.FreeSlots(), 2);
  EXPECT_EQ(pool.TotalSlots("tm-1"), 0);
}

TEST(SchedulerTest, RequestWaitsUntilSlotsArrive) {
  SlotPool pool;
  Scheduler scheduler(&pool, 300'000);
  pool.AddTaskManager("tm-1", 2);
  scheduler.Request("big", 3, 0);
  scheduler.Request("small", 1, 0);
  // The big request does not block the small one.
  std::vector<Scheduler::Grant> grants = scheduler.TryFulfill();
  ASSERT_EQ(grants.size(), 1u);
  EXPECT_EQ(grants[0].job_id, "small");
  EXPECT_TRUE(scheduler.HasRequest("big"));

  pool.AddTaskManager("tm-2", 2);
  grants = scheduler.TryFulfill();
  ASSERT_EQ(grants.size(), 1u);
  EXPECT_EQ(grants[0].job_id, "big");
  EXPECT_EQ(grants[0].slots.size(), 3u);
  EXPECT_FALSE(scheduler.HasRequest("big"));
}

TEST(SchedulerTest, RequestExpiresAfterTheTimeout) {
  SlotPool pool;
  Scheduler scheduler(&pool, 1000);
  pool.AddTaskManager("tm-1", 1);
  scheduler.Request("job", 2, 5000);
  EXPECT_EQ(scheduler.NextDeadlineMs(), 6000);
  EXPECT_TRUE(scheduler.ExpireRequests(5999).empty());
  std::vector<Scheduler::Expired> expired = scheduler.ExpireRequests(6000);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].job_id, "job");
  EXPECT_EQ(expired[0].needed, 2);
  EXPECT_EQ(expired[0].free, 1);
  EXPECT_FALSE(scheduler.NextDeadlineMs().has_value());
}

}  // namespace
}  // namespace sluice::jobmanager
