#include "cli/format.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace sluice::cli {

std::string HumanDuration(int64_t ms) {
  if (ms <= 0) return "0s";
  if (ms < 1000) return absl::StrCat(ms, "ms");
  const int64_t s = ms / 1000;
  if (s < 60) return absl::StrCat(s, "s");
  if (s < 3600) return absl::StrCat(s / 60, "m ", s % 60, "s");
  if (s < 86400) return absl::StrCat(s / 3600, "h ", (s % 3600) / 60, "m");
  return absl::StrCat(s / 86400, "d ", (s % 86400) / 3600, "h");
}

std::string HumanBytes(int64_t bytes) {
  if (bytes < 1024) return absl::StrCat(bytes, " B");
  const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes) / 1024;
  int unit = 0;
  while (v >= 1024 && unit < 3) {
    v /= 1024;
    ++unit;
  }
  return absl::StrFormat("%.1f %s", v, units[unit]);
}

std::string FormatWallTime(int64_t epoch_ms, absl::TimeZone tz) {
  if (epoch_ms <= 0) return "-";
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", absl::FromUnixMillis(epoch_ms), tz);
}

std::string FormatAgo(int64_t then_ms, int64_t now_ms) {
  if (then_ms <= 0) return "never";
  return absl::StrCat(HumanDuration(now_ms - then_ms), " ago");
}

std::string JobStateName(proto::JobState state) {
  std::string name = proto::JobState_Name(state);
  if (name.empty()) return absl::StrCat("UNKNOWN(", static_cast<int>(state), ")");
  if (absl::StartsWith(name, "JOB_")) name.erase(0, 4);
  return name;
}

std::string TaskStateName(proto::TaskState state) {
  std::string name = proto::TaskState_Name(state);
  if (name.empty()) return absl::StrCat("UNKNOWN(", static_cast<int>(state), ")");
  return name;
}

std::string PartitioningName(proto::Partitioning partitioning) {
  std::string name = proto::Partitioning_Name(partitioning);
  if (name.empty()) return absl::StrCat("UNKNOWN(", static_cast<int>(partitioning), ")");
  return name;
}

int64_t JobDurationMillis(const proto::JobSummary& summary, int64_t now_ms) {
  if (summary.start_time_ms() <= 0) return 0;
  const int64_t end = summary.end_time_ms() > 0 ? summary.end_time_ms() : now_ms;
  return end > summary.start_time_ms() ? end - summary.start_time_ms() : 0;
}

}  // namespace sluice::cli
