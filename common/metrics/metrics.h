// Metrics: the types a component uses to own its metrics (a Redpanda-style "probe" holds
// them) and the registry that renders every component's metrics in the Prometheus text
// format for `/metrics`.
// - Counter, Gauge and Histogram are plain atomics: hot paths call Add / Set / Observe
//   (relaxed atomic operations; no lock, no map lookup, no allocation). Safe from any thread.
// - A component registers a Collector with the process's MetricsRegistry. At scrape time the
//   registry calls every collector (on the scraping HTTP thread) with a MetricWriter, to which
//   it writes samples with their labels; collectors must only read thread-safe state.
// - MetricsRegistry::Serialize groups the samples into families and writes them with
//   prometheus-cpp's TextSerializer. The registry is thread-safe; a Registration unregisters its
//   collector when destroyed (waiting for a scrape in progress), so a collector never outlives
//   what it reads.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "prometheus/metric_family.h"

namespace sluice::metrics {

// Label name/value pairs of one sample, e.g. {{"job", id}, {"vertex", "map"}}.
using Labels = std::vector<std::pair<std::string, std::string>>;

// A monotonically increasing count.
class Counter {
 public:
  void Add(int64_t n) { value_.fetch_add(n, std::memory_order_relaxed); }
  void Increment() { Add(1); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

// A value that goes up and down.
class Gauge {
 public:
  void Set(int64_t v) { value_.store(v, std::memory_order_relaxed); }
  void Add(int64_t n) { value_.fetch_add(n, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

// Counts, sum and cumulative buckets of a Histogram at one moment.
struct HistogramSnapshot {
  std::vector<double> upper_bounds;         // ascending, without +Inf
  std::vector<uint64_t> cumulative_counts;  // one per bound, then one for +Inf
  uint64_t count = 0;
  double sum = 0;
};

// Observations counted in fixed buckets (Prometheus `le` semantics: a value lands in the first
// bucket whose upper bound is >= it).
class Histogram {
 public:
  // `upper_bounds` must be strictly ascending and finite (SLUICE_CHECK).
  explicit Histogram(std::vector<double> upper_bounds);
  void Observe(double value);
  HistogramSnapshot Snapshot() const;
  // Bounds start, start*factor, ... (count of them).
  static std::vector<double> ExponentialBounds(double start, double factor, int count);

 private:
  const std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // bounds_.size() + 1 (the last is +Inf)
  std::atomic<double> sum_{0};
};

// Receives the samples of a scrape. Names must match [a-zA-Z_:][a-zA-Z0-9_:]*; a name keeps
// the type and help it was first written with (writing it with another type is a programmer
// error, SLUICE_CHECK). Counters should end in `_total`.
class MetricWriter {
 public:
  void Counter(absl::string_view name, absl::string_view help, Labels labels, double value);
  void Gauge(absl::string_view name, absl::string_view help, Labels labels, double value);
  void Histogram(absl::string_view name, absl::string_view help, Labels labels,
                 const HistogramSnapshot& snapshot);

  std::vector<prometheus::MetricFamily> Take() { return std::move(families_); }

 private:
  prometheus::ClientMetric& Add(absl::string_view name, absl::string_view help,
                                prometheus::MetricType type, Labels labels);

  std::vector<prometheus::MetricFamily> families_;
  absl::flat_hash_map<std::string, size_t> index_;
};

using Collector = std::function<void(MetricWriter&)>;

class MetricsRegistry;

// Keeps a collector registered; unregisters it when destroyed. Move-only.
class Registration {
 public:
  Registration() = default;
  Registration(Registration&& other) noexcept { *this = std::move(other); }
  Registration& operator=(Registration&& other) noexcept;
  ~Registration() { Reset(); }
  void Reset();

 private:
  friend class MetricsRegistry;
  Registration(MetricsRegistry* registry, uint64_t id) : registry_(registry), id_(id) {}
  MetricsRegistry* registry_ = nullptr;
  uint64_t id_ = 0;
};

class MetricsRegistry {
 public:
  MetricsRegistry() = default;
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // Adds a collector; it is called on every scrape until the Registration is destroyed.
  // A collector must not register or unregister collectors.
  [[nodiscard]] Registration Register(Collector collector);

  // Every collector's samples, grouped by family in first-written order.
  std::vector<prometheus::MetricFamily> Collect() const;
  // Collect() in the Prometheus text exposition format (version 0.0.4).
  std::string Serialize() const;

  // The Content-Type of Serialize()'s output.
  static constexpr char kContentType[] = "text/plain; version=0.0.4; charset=utf-8";

 private:
  friend class Registration;
  void Unregister(uint64_t id);

  mutable absl::Mutex mu_;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::list<std::pair<uint64_t, Collector>> collectors_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sluice::metrics
