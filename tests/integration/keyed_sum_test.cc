// A real cluster (JobManager + 3 TaskManagers with 2 slots each, separate processes) runs
// file -> filter -> key_by -> running sum -> file at parallelism 4 over 1 M generated rows,
// submitted with the real CLI; the output must equal a brute-force reference.
#include <map>
#include <random>

#include "tests/integration/cluster_harness.h"

namespace sluice::testing {
namespace {

struct Reference {
  int64_t count = 0;
  int64_t total = 0;
  int64_t top = INT64_MIN;
};

TEST(KeyedSumTest, OneMillionRowsMatchBruteForceReference) {
  Cluster cluster("keyed-sum");
  ASSERT_NO_FATAL_FAILURE(cluster.Start(/*taskmanagers=*/3, /*slots=*/2));

  // Seeded input and the reference computed directly from it.
  std::mt19937_64 rng(42);
  std::string data;
  data.reserve(60 << 20);
  std::map<int64_t, Reference> reference;
  const char* countries[] = {"NL", "DE", "FR", "XX"};
  for (int i = 0; i < 1'000'000; ++i) {
    int64_t card = static_cast<int64_t>(rng() % 20000);
    int64_t amount = static_cast<int64_t>(rng() % 2000);
    const char* country = countries[rng() % 4];
    data += "{\"card\":" + std::to_string(card) + ",\"amount\":" + std::to_string(amount) +
            ",\"country\":\"" + country + "\"}\n";
    if (amount > 500 && std::string(country) != "XX") {
      Reference& r = reference[card];
      ++r.count;
      r.total += amount;
      r.top = std::max(r.top, amount);
    }
  }
  cluster.WriteFile("data/txns.jsonl", data);
  std::string out_dir = (cluster.dir() / "out").string();
  std::string spec = cluster.WriteFile("job.yaml", R"yaml(name: keyed-sum
parallelism: 4
sources:
  - name: txns
    connector: file
    path: data/txns.jsonl
    format: json
    schema: {card: int64, amount: int64, country: string}
operators:
  - name: big
    input: txns
    filter: "amount > 500 and country <> 'XX'"
  - name: per_card
    input: big
    key_by: [card]
    aggregate: {n: "count(*)", total: "sum(amount)", top: "max(amount)"}
sinks:
  - {name: out, input: per_card, connector: file, path: out, format: json}
)yaml");

  CommandResult run = cluster.Sluice({"run", spec});
  ASSERT_EQ(run.exit_code, 0) << run.output;

  // Every key's updates: n runs 1..count exactly once; the last update carries the totals.
  std::map<int64_t, Reference> last;
  std::map<int64_t, std::vector<bool>> seen;
  int64_t rows = 0;
  int part_files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(out_dir)) {
    std::string name = entry.path().filename().string();
    ASSERT_EQ(name.rfind("part-", 0), 0u) << "unexpected file in the output: " << name;
    ++part_files;
    std::ifstream in(entry.path());
    std::string line;
    while (std::getline(in, line)) {
      auto row = nlohmann::json::parse(line);
      int64_t card = row["card"], n = row["n"];
      auto& flags = seen[card];
      if (flags.size() < static_cast<size_t>(n + 1)) flags.resize(n + 1);
      ASSERT_FALSE(flags[n]) << "duplicate update " << n << " for card " << card;
      flags[n] = true;
      if (n > last[card].count) last[card] = {n, row["total"], row["top"]};
      ++rows;
    }
  }
  EXPECT_EQ(part_files, 4);
  int64_t expected_rows = 0;
  for (const auto& [card, r] : reference) expected_rows += r.count;
  EXPECT_EQ(rows, expected_rows);
  ASSERT_EQ(last.size(), reference.size());
  for (const auto& [card, r] : reference) {
    const Reference& got = last[card];
    ASSERT_EQ(got.count, r.count) << "card " << card;
    ASSERT_EQ(got.total, r.total) << "card " << card;
    ASSERT_EQ(got.top, r.top) << "card " << card;
  }
}

}  // namespace
}  // namespace sluice::testing
