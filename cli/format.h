// Human-readable formatting for the sluice command line: durations ("3m 12s"), wall-clock
// times in the local time zone, "ago" phrases and the display names of job/task states and
// partitionings. Used by every CLI command; pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "proto/control.pb.h"
#include "proto/jobgraph.pb.h"

namespace sluice::cli {

// "850ms", "12s", "3m 12s", "2h 5m", "3d 4h"; negative durations read as "0s".
std::string HumanDuration(int64_t ms);
// "0 B", "512 B", "3.4 KiB", "12.0 MiB", "1.5 GiB".
std::string HumanBytes(int64_t bytes);

// "2026-11-28 12:00:05" in `tz` (the local time zone by default); "-" for 0 (unknown).
std::string FormatWallTime(int64_t epoch_ms, absl::TimeZone tz = absl::LocalTimeZone());

// "3s ago" for a moment `then_ms` seen at `now_ms` (both epoch ms); "never" for 0.
std::string FormatAgo(int64_t then_ms, int64_t now_ms);

// "RUNNING", "FAILED", "CANCELLING" ... (the enum name without its JOB_ prefix).
std::string JobStateName(proto::JobState state);
// "CREATED", "DEPLOYING", "RUNNING" ... (the enum name).
std::string TaskStateName(proto::TaskState state);
// "FORWARD", "REBALANCE", "HASH", "BROADCAST".
std::string PartitioningName(proto::Partitioning partitioning);

// How long the job has run: end - start when it ended, now - start while it runs, 0 before
// it started.
int64_t JobDurationMillis(const proto::JobSummary& summary, int64_t now_ms);

}  // namespace sluice::cli
