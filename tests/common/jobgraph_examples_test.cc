// Every job spec under examples/ parses, plans, and reads data that exists.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "common/jobgraph/job_spec.h"
#include "gtest/gtest.h"
#include "tests/test_dirs.h"

namespace sluice::jobgraph {
namespace {

std::filesystem::path ExamplesDir() { return ::sluice::testing::SourceDir() / "examples"; }

std::vector<std::filesystem::path> ExampleSpecs() {
  std::vector<std::filesystem::path> specs;
  for (const auto& entry : std::filesystem::directory_iterator(ExamplesDir())) {
    if (entry.path().extension() == ".yaml") specs.push_back(entry.path());
  }
  std::sort(specs.begin(), specs.end());
  return specs;
}

TEST(ExamplesTest, EveryExampleSpecParsesAndItsInputFilesExist) {
  std::vector<std::filesystem::path> specs = ExampleSpecs();
  ASSERT_GE(specs.size(), 3u) << ExamplesDir();
  for (const std::filesystem::path& spec : specs) {
    SCOPED_TRACE(spec.string());
    absl::StatusOr<proto::JobGraph> graph = LoadJobSpecFile(spec.string());
    ASSERT_TRUE(graph.ok()) << graph.status();
    EXPECT_FALSE(graph->vertices().empty());
    for (const proto::JobVertex& vertex : graph->vertices()) {
      for (const proto::OperatorSpec& op : vertex.chain()) {
        if (op.has_file_source()) {
          EXPECT_TRUE(std::filesystem::exists(op.file_source().path())) << op.file_source().path();
        }
        if (op.has_file_sink()) {
          // Output stays inside examples/out (ignored by git).
          EXPECT_EQ(op.file_sink().path().rfind((ExamplesDir() / "out").string(), 0), 0u)
              << op.file_sink().path();
        }
      }
    }
  }
}

TEST(ExamplesTest, TxnTotalsIsFileFilterKeyedAggregateFile) {
  absl::StatusOr<proto::JobGraph> graph =
      LoadJobSpecFile((ExamplesDir() / "txn_totals.yaml").string());
  ASSERT_TRUE(graph.ok()) << graph.status();
  ASSERT_EQ(graph->vertices_size(), 2);
  EXPECT_EQ(graph->vertices(0).name(), "txns -> big");
  EXPECT_EQ(graph->vertices(1).name(), "per_card -> out");
  ASSERT_EQ(graph->edges_size(), 1);
  EXPECT_EQ(graph->edges(0).partitioning(), proto::HASH);
}

}  // namespace
}  // namespace sluice::jobgraph
