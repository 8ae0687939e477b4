#include "cli/job_view.h"

#include <climits>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/format.h"
#include "common/types/timestamp.h"

namespace sluice::cli {

RecordTotals JobRecordTotals(const proto::JobDetail& job) {
  std::set<int32_t> has_input;
  std::set<int32_t> has_output;
  for (const auto& edge : job.edges()) {
    has_input.insert(edge.target_vertex());
    has_output.insert(edge.source_vertex());
  }
  RecordTotals totals;
  for (const auto& vertex : job.vertices()) {
    if (!has_input.contains(vertex.id())) totals.read += vertex.records_in();
    if (!has_output.contains(vertex.id())) totals.to_sinks += vertex.records_in();
  }
  return totals;
}

std::vector<std::pair<std::string, int>> SubtaskStateCounts(const proto::VertexDetail& vertex) {
  std::map<int, int> counts;
  for (const auto& subtask : vertex.subtasks()) ++counts[subtask.state()];
  std::vector<std::pair<std::string, int>> result;
  for (const auto& [state, n] : counts) {
    result.emplace_back(TaskStateName(static_cast<proto::TaskState>(state)), n);
  }
  return result;
}

std::string VertexWatermarkText(const proto::VertexDetail& vertex) {
  if (vertex.watermark_idle() && vertex.subtasks_size() > 0) return "idle";
  if (!vertex.has_watermark()) return "-";
  if (vertex.watermark() == INT64_MAX) return "end of input";
  return types::FormatTimestamp(vertex.watermark());
}

std::string SubtaskStateSummary(const proto::VertexDetail& vertex) {
  const auto counts = SubtaskStateCounts(vertex);
  if (counts.empty()) return "-";
  return absl::StrJoin(counts, ", ", [](std::string* out, const auto& entry) {
    absl::StrAppend(out, entry.second, " ", entry.first);
  });
}

std::vector<std::string> EdgeKeyColumns(const proto::JobEdge& edge) {
  std::vector<std::string> names;
  for (int32_t index : edge.key_indexes()) {
    if (index >= 0 && index < edge.schema().fields_size()) {
      names.push_back(edge.schema().fields(index).name());
    } else {
      names.push_back(absl::StrCat("#", index));
    }
  }
  return names;
}

std::string EdgePartitioningText(const proto::JobEdge& edge) {
  std::string text = PartitioningName(edge.partitioning());
  if (edge.partitioning() == proto::HASH) {
    absl::StrAppend(&text, "(", absl::StrJoin(EdgeKeyColumns(edge), ", "), ")");
  }
  return text;
}

}  // namespace sluice::cli
