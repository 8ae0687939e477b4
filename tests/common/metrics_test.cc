// Tests of common/metrics: counters, gauges, histograms, the collector registry and its
// Prometheus text output (checked with `promtool check metrics`, which must be installed:
// scripts/install-deps.sh installs Debian's `prometheus` package).
#include "common/metrics/metrics.h"

#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/promtool_util.h"

namespace sluice::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

using sluice::testing::PromtoolCheck;

TEST(CounterTest, AddsFromManyThreads) {
  Counter c;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&c] {
      for (int i = 0; i < 10000; ++i) c.Add(2);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.value(), 80000);
  Gauge g;
  g.Set(5);
  g.Add(-7);
  EXPECT_EQ(g.value(), -2);
}

TEST(HistogramTest, BucketsAreCumulativeWithLeSemantics) {
  Histogram h({1, 2, 5});
  for (double v : {0.5, 1.0, 1.5, 2.0, 4.0, 9.0}) h.Observe(v);
  HistogramSnapshot s = h.Snapshot();
  EXPECT_EQ(s.upper_bounds, (std::vector<double>{1, 2, 5}));
  // le=1: 0.5, 1.0; le=2: + 1.5, 2.0; le=5: + 4.0; +Inf: + 9.0
  EXPECT_EQ(s.cumulative_counts, (std::vector<uint64_t>{2, 4, 5, 6}));
  EXPECT_EQ(s.count, 6u);
  EXPECT_DOUBLE_EQ(s.sum, 18.0);
  EXPECT_EQ(Histogram::ExponentialBounds(0.5, 4, 3), (std::vector<double>{0.5, 2, 8}));
}

TEST(MetricsRegistryTest, SerializesFamiliesFromSeveralCollectorsOnce) {
  MetricsRegistry registry;
  Counter records;
  records.Add(42);
  Registration a = registry.Register([&records](MetricWriter& out) {
    out.Counter("sluice_test_records_total", "Records seen.", {{"job", "j1"}, {"subtask", "0"}},
                records.value());
  });
  Registration b = registry.Register([](MetricWriter& out) {
    out.Counter("sluice_test_records_total", "Records seen.", {{"job", "j2"}, {"subtask", "1"}}, 7);
    out.Gauge("sluice_test_slots", "Slots.", {}, 3);
  });
  const std::string text = registry.Serialize();
  EXPECT_THAT(text, HasSubstr("# HELP sluice_test_records_total Records seen.\n"
                              "# TYPE sluice_test_records_total counter\n"
                              "sluice_test_records_total{job=\"j1\",subtask=\"0\"} 42\n"
                              "sluice_test_records_total{job=\"j2\",subtask=\"1\"} 7\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE sluice_test_slots gauge\nsluice_test_slots 3\n"));
  std::string promtool;
  EXPECT_EQ(PromtoolCheck(text, &promtool), 0) << promtool << "\n" << text;

  // An unregistered collector is no longer called.
  b.Reset();
  const std::string after = registry.Serialize();
  EXPECT_THAT(after, Not(HasSubstr("j2")));
  EXPECT_THAT(after, Not(HasSubstr("sluice_test_slots")));
  EXPECT_THAT(after, HasSubstr("j1"));
}

TEST(MetricsRegistryTest, EscapesLabelValuesAndWritesHistograms) {
  MetricsRegistry registry;
  Histogram latency({0.01, 0.1});
  latency.Observe(0.005);
  latency.Observe(0.5);
  Registration r = registry.Register([&latency](MetricWriter& out) {
    out.Gauge("sluice_test_odd", "Odd label values.",
              {{"vertex", "a \"quoted\" back\\slash\nnewline -> x"}}, 1.5);
    out.Histogram("sluice_test_latency_seconds", "Latency.", {}, latency.Snapshot());
  });
  const std::string text = registry.Serialize();
  EXPECT_THAT(
      text,
      HasSubstr("sluice_test_odd{vertex=\"a \\\"quoted\\\" back\\\\slash\\nnewline -> x\"} 1.5"));
  EXPECT_THAT(text, HasSubstr("sluice_test_latency_seconds_bucket{le=\"0.01\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("sluice_test_latency_seconds_bucket{le=\"0.1\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("sluice_test_latency_seconds_bucket{le=\"+Inf\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("sluice_test_latency_seconds_count 2\n"));
  std::string promtool;
  EXPECT_EQ(PromtoolCheck(text, &promtool), 0) << promtool << "\n" << text;
}

TEST(MetricsRegistryDeathTest, RejectsInvalidNamesAndTypeClashes) {
  MetricsRegistry registry;
  Registration bad_name =
      registry.Register([](MetricWriter& out) { out.Gauge("sluice-bad", "dash", {}, 1); });
  EXPECT_DEATH(registry.Serialize(), "invalid metric name 'sluice-bad'");
  bad_name.Reset();
  Registration clash = registry.Register([](MetricWriter& out) {
    out.Gauge("sluice_x", "x", {}, 1);
    out.Counter("sluice_x", "x", {}, 1);
  });
  EXPECT_DEATH(registry.Serialize(), "written with two different types");
}

TEST(PromtoolTest, RejectsWhatItShould) {
  // Guards the checks above: promtool is present and does fail on bad input.
  std::string out;
  EXPECT_NE(PromtoolCheck("garbage{\n", &out), 0) << out;
  EXPECT_THAT(out, Not(HasSubstr("promtool not found")));
}

}  // namespace
}  // namespace sluice::metrics
