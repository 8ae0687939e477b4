#include "jobmanager/job_graph_checks.h"

#include <deque>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/input_files.h"
#include "common/types/format.h"
#include "jobmanager/restart_strategy.h"

namespace sluice::jobmanager {
namespace {

absl::Status Invalid(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("job graph: ", what));
}

std::string VertexLabel(const proto::JobVertex& v) {
  return v.name().empty() ? absl::StrCat("vertex ", v.id())
                          : absl::StrCat("vertex ", v.id(), " (", v.name(), ")");
}

}  // namespace

absl::Status FillKafkaBootstrap(const std::string& default_bootstrap, proto::JobGraph* graph) {
  auto missing = [](const proto::OperatorSpec& op, absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " '", op.name(),
        "': no bootstrap (set bootstrap: host:port in the job spec, or kafka.bootstrap in "
        "the JobManager's configuration; `sluice local --kafka` sets it to its embedded "
        "Kafka)"));
  };
  for (proto::JobVertex& vertex : *graph->mutable_vertices()) {
    for (proto::OperatorSpec& op : *vertex.mutable_chain()) {
      std::string* bootstrap = op.has_kafka_source() ? op.mutable_kafka_source()->mutable_bootstrap()
                               : op.has_kafka_sink() ? op.mutable_kafka_sink()->mutable_bootstrap()
                                                     : nullptr;
      if (bootstrap != nullptr && bootstrap->empty()) {
        if (default_bootstrap.empty()) {
          return missing(op, op.has_kafka_source() ? "kafka source" : "kafka sink");
        }
        *bootstrap = default_bootstrap;
      }
      // A dead-letter topic defaults to its Kafka source's cluster, else the cluster default.
      proto::DeadLetterSpec* dead_letter =
          op.has_kafka_source() ? op.mutable_kafka_source()->mutable_dead_letter()
          : op.has_file_source() ? op.mutable_file_source()->mutable_dead_letter()
                                 : nullptr;
      if (dead_letter == nullptr || dead_letter->topic().empty() ||
          !dead_letter->bootstrap().empty()) {
        continue;
      }
      const std::string& fallback = bootstrap != nullptr ? *bootstrap : default_bootstrap;
      if (fallback.empty()) return missing(op, "the dead-letter topic of source");
      dead_letter->set_bootstrap(fallback);
    }
  }
  return absl::OkStatus();
}

absl::Status FillSchemaRegistry(const std::string& default_registry, proto::JobGraph* graph) {
  for (proto::JobVertex& vertex : *graph->mutable_vertices()) {
    for (proto::OperatorSpec& op : *vertex.mutable_chain()) {
      proto::FormatSpec* format = op.has_kafka_source() ? op.mutable_kafka_source()->mutable_format()
                                  : op.has_kafka_sink() ? op.mutable_kafka_sink()->mutable_format()
                                                        : nullptr;
      if (format == nullptr || !types::UsesSchemaRegistry(format->name()) ||
          format->options().contains("registry")) {
        continue;
      }
      if (default_registry.empty()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "kafka ", op.has_kafka_source() ? "source" : "sink", " '", op.name(), "': format ",
            format->name(), " needs a schema registry (set registry: URL in the job spec, or "
            "kafka.registry in the JobManager's configuration; `sluice local --kafka` sets it "
            "to its built-in registry)"));
      }
      (*format->mutable_options())["registry"] = default_registry;
    }
  }
  return absl::OkStatus();
}

int EffectiveMaxParallelism(const proto::JobGraph& graph) {
  return graph.max_parallelism() == 0 ? kDefaultMaxParallelism : graph.max_parallelism();
}

absl::Status ValidateJobGraph(const proto::JobGraph& graph) {
  if (graph.vertices().empty()) return Invalid("it has no vertices");
  if (graph.max_parallelism() < 0 || graph.max_parallelism() > kUpperMaxParallelism) {
    return Invalid(absl::StrCat("max_parallelism must be between 1 and ", kUpperMaxParallelism,
                                ", got ", graph.max_parallelism()));
  }
  const int max_parallelism = EffectiveMaxParallelism(graph);
  absl::flat_hash_map<int, const proto::JobVertex*> vertices;
  for (const proto::JobVertex& v : graph.vertices()) {
    if (!vertices.emplace(v.id(), &v).second) {
      return Invalid(absl::StrCat("vertex id ", v.id(), " is used twice"));
    }
    if (v.parallelism() < 1) {
      return Invalid(
          absl::StrCat(VertexLabel(v), ": parallelism must be >= 1, got ", v.parallelism()));
    }
    if (v.parallelism() > max_parallelism) {
      return Invalid(
          absl::StrCat(VertexLabel(v), ": parallelism ", v.parallelism(),
                       " exceeds max_parallelism ", max_parallelism,
                       graph.max_parallelism() == 0 ? " (the default; set max_parallelism)" : ""));
    }
    if (v.chain().empty()) return Invalid(absl::StrCat(VertexLabel(v), " has no operators"));
  }
  absl::flat_hash_set<int> edge_ids;
  absl::flat_hash_map<int, int> in_degree;
  absl::flat_hash_map<int, std::vector<int>> successors;
  for (const proto::JobEdge& e : graph.edges()) {
    if (!edge_ids.insert(e.id()).second) {
      return Invalid(absl::StrCat("edge id ", e.id(), " is used twice"));
    }
    auto src = vertices.find(e.source_vertex());
    if (src == vertices.end()) {
      return Invalid(
          absl::StrCat("edge ", e.id(), ": source vertex ", e.source_vertex(), " does not exist"));
    }
    auto dst = vertices.find(e.target_vertex());
    if (dst == vertices.end()) {
      return Invalid(
          absl::StrCat("edge ", e.id(), ": target vertex ", e.target_vertex(), " does not exist"));
    }
    const proto::JobVertex& s = *src->second;
    const proto::JobVertex& t = *dst->second;
    std::string label = absl::StrCat("edge ", e.id(), " (", s.name(), " -> ", t.name(), ")");
    if (e.source_vertex() == e.target_vertex()) {
      return Invalid(absl::StrCat(label, " connects a vertex to itself"));
    }
    if (!proto::Partitioning_IsValid(e.partitioning())) {
      return Invalid(absl::StrCat(label, ": unknown partitioning ", e.partitioning()));
    }
    if (e.partitioning() == proto::FORWARD && s.parallelism() != t.parallelism()) {
      return Invalid(absl::StrCat(label, " is FORWARD but the parallelisms differ (",
                                  s.parallelism(), " vs ", t.parallelism(), ")"));
    }
    if (e.partitioning() == proto::HASH) {
      if (e.key_indexes().empty()) return Invalid(absl::StrCat(label, " is HASH but has no key"));
      for (int k : e.key_indexes()) {
        if (k < 0 || (e.schema().fields_size() > 0 && k >= e.schema().fields_size())) {
          return Invalid(absl::StrCat(label, ": key index ", k, " is not a column of its schema (",
                                      e.schema().fields_size(), " columns)"));
        }
      }
    }
    ++in_degree[e.target_vertex()];
    successors[e.source_vertex()].push_back(e.target_vertex());
  }
  // Kahn's algorithm: every vertex must be reachable in topological order.
  std::deque<int> ready;
  for (const proto::JobVertex& v : graph.vertices()) {
    if (in_degree[v.id()] == 0) ready.push_back(v.id());
  }
  size_t visited = 0;
  while (!ready.empty()) {
    int id = ready.front();
    ready.pop_front();
    ++visited;
    for (int next : successors[id]) {
      if (--in_degree[next] == 0) ready.push_back(next);
    }
  }
  if (visited != vertices.size()) {
    for (const proto::JobVertex& v : graph.vertices()) {
      if (in_degree[v.id()] > 0) {
        return Invalid(absl::StrCat("it has a cycle through ", VertexLabel(v)));
      }
    }
  }
  absl::Status restart = ValidateRestartStrategy(graph.restart());
  if (!restart.ok()) return Invalid(restart.message());
  return CheckInputFilesExist(graph);
}

absl::Status CheckInputFilesExist(const proto::JobGraph& graph) {
  for (const proto::JobVertex& v : graph.vertices()) {
    for (const proto::OperatorSpec& op : v.chain()) {
      if (!op.has_file_source()) continue;
      absl::StatusOr<std::vector<std::string>> files = ListInputFiles(op.file_source().path());
      if (!files.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("file source '", op.name(), "': ", files.status().message()));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace sluice::jobmanager
