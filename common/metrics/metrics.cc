#include "common/metrics/metrics.h"

#include <cmath>
#include <limits>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/check.h"
#include "prometheus/text_serializer.h"

namespace sluice::metrics {
namespace {

bool IsValidName(absl::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    const bool digit = c >= '0' && c <= '9';
    if (!alpha && !(digit && i > 0)) return false;
  }
  return true;
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), counts_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i < bounds_.size(); ++i) {
    SLUICE_CHECK(std::isfinite(bounds_[i]), "histogram bounds must be finite");
    SLUICE_CHECK(i == 0 || bounds_[i - 1] < bounds_[i], "histogram bounds must ascend");
  }
  for (size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
}

void Histogram::Observe(double value) {
  size_t bucket = 0;
  while (bucket < bounds_.size() && value > bounds_[bucket]) ++bucket;
  counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

HistogramSnapshot Histogram::Snapshot() const {
  HistogramSnapshot s;
  s.upper_bounds = bounds_;
  uint64_t running = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    running += counts_[i].load(std::memory_order_relaxed);
    s.cumulative_counts.push_back(running);
  }
  s.count = running;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

std::vector<double> Histogram::ExponentialBounds(double start, double factor, int count) {
  std::vector<double> bounds;
  double b = start;
  for (int i = 0; i < count; ++i, b *= factor) bounds.push_back(b);
  return bounds;
}

prometheus::ClientMetric& MetricWriter::Add(absl::string_view name, absl::string_view help,
                                            prometheus::MetricType type, Labels labels) {
  SLUICE_CHECK(IsValidName(name), absl::StrCat("invalid metric name '", name, "'"));
  auto [it, inserted] = index_.try_emplace(std::string(name), families_.size());
  if (inserted) {
    prometheus::MetricFamily family;
    family.name = std::string(name);
    family.help = std::string(help);
    family.type = type;
    families_.push_back(std::move(family));
  }
  prometheus::MetricFamily& family = families_[it->second];
  SLUICE_CHECK(family.type == type,
               absl::StrCat("metric '", name, "' written with two different types"));
  prometheus::ClientMetric& metric = family.metric.emplace_back();
  metric.label.reserve(labels.size());
  for (auto& [key, value] : labels) {
    SLUICE_CHECK(IsValidName(key) && key.find(':') == std::string::npos,
                 absl::StrCat("invalid label name '", key, "'"));
    metric.label.push_back({std::move(key), std::move(value)});
  }
  return metric;
}

void MetricWriter::Counter(absl::string_view name, absl::string_view help, Labels labels,
                           double value) {
  Add(name, help, prometheus::MetricType::Counter, std::move(labels)).counter.value = value;
}

void MetricWriter::Gauge(absl::string_view name, absl::string_view help, Labels labels,
                         double value) {
  Add(name, help, prometheus::MetricType::Gauge, std::move(labels)).gauge.value = value;
}

void MetricWriter::Histogram(absl::string_view name, absl::string_view help, Labels labels,
                             const HistogramSnapshot& snapshot) {
  prometheus::ClientMetric& metric =
      Add(name, help, prometheus::MetricType::Histogram, std::move(labels));
  metric.histogram.sample_count = snapshot.count;
  metric.histogram.sample_sum = snapshot.sum;
  for (size_t i = 0; i < snapshot.cumulative_counts.size(); ++i) {
    const double bound = i < snapshot.upper_bounds.size() ? snapshot.upper_bounds[i]
                                                          : std::numeric_limits<double>::infinity();
    metric.histogram.bucket.push_back({snapshot.cumulative_counts[i], bound});
  }
}

Registration& Registration::operator=(Registration&& other) noexcept {
  if (this != &other) {
    Reset();
    registry_ = other.registry_;
    id_ = other.id_;
    other.registry_ = nullptr;
    other.id_ = 0;
  }
  return *this;
}

void Registration::Reset() {
  if (registry_ != nullptr) registry_->Unregister(id_);
  registry_ = nullptr;
  id_ = 0;
}

Registration MetricsRegistry::Register(Collector collector) {
  absl::MutexLock lock(&mu_);
  const uint64_t id = next_id_++;
  collectors_.emplace_back(id, std::move(collector));
  return Registration(this, id);
}

void MetricsRegistry::Unregister(uint64_t id) {
  absl::MutexLock lock(&mu_);
  collectors_.remove_if([id](const auto& entry) { return entry.first == id; });
}

std::vector<prometheus::MetricFamily> MetricsRegistry::Collect() const {
  MetricWriter writer;
  absl::MutexLock lock(&mu_);
  for (const auto& [id, collector] : collectors_) collector(writer);
  return writer.Take();
}

std::string MetricsRegistry::Serialize() const {
  std::vector<prometheus::MetricFamily> families = Collect();
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

}  // namespace sluice::metrics
