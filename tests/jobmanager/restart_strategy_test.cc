#include "jobmanager/restart_strategy.h"

#include <vector>

#include "common/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sluice::jobmanager {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Optional;

TEST(RestartStrategyTest, NoneNeverRestarts) {
  NoRestartStrategy none;
  EXPECT_EQ(none.NextDelayMs(0), std::nullopt);
  EXPECT_EQ(none.NextDelayMs(1000), std::nullopt);
}

TEST(RestartStrategyTest, FixedDelayRestartsTheConfiguredNumberOfTimes) {
  ManualClock clock;
  FixedDelayRestartStrategy fixed(2, 1500);
  EXPECT_THAT(fixed.NextDelayMs(clock.NowMillis()), Optional(1500));
  clock.Advance(10'000);
  EXPECT_THAT(fixed.NextDelayMs(clock.NowMillis()), Optional(1500));
  clock.Advance(10'000);
  EXPECT_EQ(fixed.NextDelayMs(clock.NowMillis()), std::nullopt);
  EXPECT_EQ(fixed.Describe(), "fixed_delay (2 attempts, 1500 ms delay)");
}

TEST(RestartStrategyTest, ExponentialDelayDoublesUpToMaxAndResetsAfterQuietPeriod) {
  ManualClock clock;
  ExponentialDelayRestartStrategy exp(/*initial_ms=*/100, /*max_ms=*/1000, /*multiplier=*/2.0,
                                      /*jitter=*/0.0, /*reset_after_ms=*/60'000, /*seed=*/1);
  std::vector<int64_t> delays;
  for (int i = 0; i < 6; ++i) {
    delays.push_back(*exp.NextDelayMs(clock.NowMillis()));
    clock.Advance(1000);
  }
  EXPECT_THAT(delays, ElementsAre(100, 200, 400, 800, 1000, 1000));
  clock.Advance(60'000);  // quiet for longer than reset_after
  EXPECT_THAT(exp.NextDelayMs(clock.NowMillis()), Optional(100));
  clock.Advance(1000);
  EXPECT_THAT(exp.NextDelayMs(clock.NowMillis()), Optional(200));
}

TEST(RestartStrategyTest, ExponentialJitterIsBoundedAndReproducibleWithASeed) {
  auto run = [](uint64_t seed) {
    ManualClock clock;
    ExponentialDelayRestartStrategy exp(1000, 64'000, 2.0, /*jitter=*/0.25, 3'600'000, seed);
    std::vector<int64_t> delays;
    for (int i = 0; i < 6; ++i) {
      delays.push_back(*exp.NextDelayMs(clock.NowMillis()));
      clock.Advance(100);
    }
    return delays;
  };
  std::vector<int64_t> a = run(42);
  EXPECT_EQ(a, run(42));
  EXPECT_NE(a, run(43));
  int64_t base = 1000;
  bool any_moved = false;
  for (int64_t d : a) {
    EXPECT_GE(d, base * 3 / 4) << "base " << base;
    EXPECT_LE(d, base * 5 / 4) << "base " << base;
    any_moved = any_moved || d != base;
    base *= 2;
  }
  EXPECT_TRUE(any_moved);
}

TEST(RestartStrategyTest, FailureRateFailsTheJobOnTooManyFailuresWithinTheInterval) {
  ManualClock clock;
  FailureRateRestartStrategy rate(/*max_failures=*/2, /*interval_ms=*/10'000, /*delay_ms=*/500);
  EXPECT_THAT(rate.NextDelayMs(clock.NowMillis()), Optional(500));  // t=0
  clock.Advance(4000);
  EXPECT_THAT(rate.NextDelayMs(clock.NowMillis()), Optional(500));  // t=4s
  clock.Advance(4000);
  EXPECT_EQ(rate.NextDelayMs(clock.NowMillis()), std::nullopt);  // t=8s: 3 within 10s
}

TEST(RestartStrategyTest, FailureRateForgetsFailuresOutsideTheWindow) {
  ManualClock clock;
  FailureRateRestartStrategy rate(2, 10'000, 500);
  EXPECT_THAT(rate.NextDelayMs(clock.NowMillis()), Optional(500));  // t=0
  clock.Advance(6000);
  EXPECT_THAT(rate.NextDelayMs(clock.NowMillis()), Optional(500));  // t=6s
  clock.Advance(5000);
  EXPECT_THAT(rate.NextDelayMs(clock.NowMillis()), Optional(500));  // t=11s: t=0 left window
  clock.Advance(1000);
  EXPECT_EQ(rate.NextDelayMs(clock.NowMillis()), std::nullopt);  // t=12s: 6s, 11s, 12s
}

TEST(RestartStrategyTest, CreatesFromProtoWithDefaultsAndAliases) {
  proto::RestartStrategy spec;
  auto none = CreateRestartStrategy(spec, 1);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ((*none)->Describe(), "none");

  spec.set_strategy("fixed-delay");
  spec.set_attempts(3);
  spec.set_delay_ms(2000);
  auto fixed = CreateRestartStrategy(spec, 1);
  ASSERT_TRUE(fixed.ok());
  EXPECT_EQ((*fixed)->Describe(), "fixed_delay (3 attempts, 2000 ms delay)");

  proto::RestartStrategy exp_spec;
  exp_spec.set_strategy("exponential_delay");
  auto exp = CreateRestartStrategy(exp_spec, 1);
  ASSERT_TRUE(exp.ok());
  EXPECT_THAT((*exp)->NextDelayMs(0), Optional(1000));  // default initial 1s
  EXPECT_THAT((*exp)->NextDelayMs(1), Optional(2000));  // default multiplier 2
}

TEST(RestartStrategyTest, RejectsUnknownNamesAndBadNumbers) {
  proto::RestartStrategy spec;
  spec.set_strategy("sometimes");
  EXPECT_THAT(std::string(ValidateRestartStrategy(spec).message()),
              HasSubstr("unknown strategy 'sometimes'"));
  spec.set_strategy("exponential_delay");
  spec.set_jitter(1.5);
  EXPECT_THAT(std::string(ValidateRestartStrategy(spec).message()),
              HasSubstr("jitter must be between 0 and 1"));
  spec.set_jitter(0.1);
  spec.set_initial_ms(5000);
  spec.set_max_ms(1000);
  EXPECT_THAT(std::string(ValidateRestartStrategy(spec).message()),
              HasSubstr("max (1000 ms) must not be below initial (5000 ms)"));
  proto::RestartStrategy fixed;
  fixed.set_strategy("fixed_delay");
  fixed.set_attempts(-1);
  EXPECT_EQ(ValidateRestartStrategy(fixed).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sluice::jobmanager
