// Structural checks of a submitted JobGraph (what the JobManager needs to schedule it; the
// spec compiler in common/jobgraph checks types and expressions before submission): vertices
// exist, ids are unique, parallelism >= 1 and <= max_parallelism, edges reference vertices,
// FORWARD edges connect equal parallelisms, HASH keys are columns of the edge schema, no
// cycles, a known restart strategy. Used by the Dispatcher on SubmitJob. Thread-safe.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "proto/jobgraph.pb.h"

namespace sluice::jobmanager {

// Key groups of a job whose graph leaves max_parallelism at 0.
inline constexpr int kDefaultMaxParallelism = 128;
inline constexpr int kUpperMaxParallelism = 32768;

// InvalidArgument naming the vertex/edge at fault, e.g.
// "job graph: edge 2 (big -> per_card) is FORWARD but the parallelisms differ (2 vs 4)".
// Also runs CheckInputFilesExist.
absl::Status ValidateJobGraph(const proto::JobGraph& graph);

// Every file source's path names existing input (the JobManager sees the file system the
// TaskManagers read, as Flink's split enumerator does): InvalidArgument
// "file source 'txns': no such file or directory: /data/txns.jsonl" otherwise.
absl::Status CheckInputFilesExist(const proto::JobGraph& graph);

// Gives every Kafka source and sink without a bootstrap the cluster's `kafka.bootstrap`
// (`default_bootstrap`), and every dead-letter topic without one its Kafka source's (or, of a
// file source, the cluster's); InvalidArgument "kafka source 'txns': no bootstrap ..." when
// there is none.
absl::Status FillKafkaBootstrap(const std::string& default_bootstrap, proto::JobGraph* graph);

// Gives every Kafka source and sink in a registry format (types::UsesSchemaRegistry:
// avro-confluent, protobuf-confluent) without a
// `registry` format option the cluster's `kafka.registry` (`default_registry`);
// InvalidArgument "kafka sink 'alerts': format avro-confluent needs a schema registry ..." when
// that is empty too.
absl::Status FillSchemaRegistry(const std::string& default_registry, proto::JobGraph* graph);

// graph.max_parallelism(), or kDefaultMaxParallelism when it is 0.
int EffectiveMaxParallelism(const proto::JobGraph& graph);

}  // namespace sluice::jobmanager
