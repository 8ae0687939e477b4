// Derived views of a JobDetail shared by the text and JSON renderings of `sluice run`,
// `sluice info` and `sluice list`: job-level record totals, per-vertex subtask state
// summaries, edge descriptions. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "proto/control.pb.h"

namespace sluice::cli {

// Records at the job's boundaries, from the per-vertex counters. A vertex's records_in counts
// the records entering its operator chain (for a source vertex: the records its source read),
// so `read` sums records_in over source vertices (no incoming edge) and `to_sinks` sums
// records_in over sink vertices (no outgoing edge).
struct RecordTotals {
  int64_t read = 0;
  int64_t to_sinks = 0;
};
RecordTotals JobRecordTotals(const proto::JobDetail& job);

// Subtask count per state, in TaskState order, only states that occur: {{"RUNNING", 2}, ...}.
std::vector<std::pair<std::string, int>> SubtaskStateCounts(const proto::VertexDetail& vertex);
// "2 RUNNING", "1 RUNNING, 1 FINISHED"; "-" when the vertex has no subtasks yet.
std::string SubtaskStateSummary(const proto::VertexDetail& vertex);

// A vertex's event time: "2026-11-28T12:00:00.000000Z", "idle", "end of input" (its inputs
// ended) or "-" (none yet, or no event time).
std::string VertexWatermarkText(const proto::VertexDetail& vertex);

// Names of the key columns of a HASH edge (from its schema; "#i" when out of range).
std::vector<std::string> EdgeKeyColumns(const proto::JobEdge& edge);
// "FORWARD", "REBALANCE", "BROADCAST", "HASH(card, country)".
std::string EdgePartitioningText(const proto::JobEdge& edge);

}  // namespace sluice::cli
