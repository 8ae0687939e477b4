// The keyed running-count job the exactly-once integration tests run, and its brute-force
// check: datagen rows id = 0..rows-1, key k = id % keys, `sums` keeps count(*) as n and
// sum(id) as total per key and emits every update to a file sink. A run is exactly once when
// the committed part files hold, for every key, the updates n = 1..count(k) each exactly once
// and the update n = count(k) carries the key's full sum.
// With `window_ms` > 0 the same job runs on event time: each row has ts = 2026-01-01 + id ms
// (datagen's timestamp sequence), the source emits watermarks, and `sums` is a tumbling
// window of window_ms per key: exactly once means every (k, window) row exactly once with
// the brute-force count and sum. With `pattern` the same event-time stream goes through a
// CEP pattern instead (a: v % 3 = 0, then b: v % 4 = 0 within 1 s, skip_past_last_event):
// exactly once means every brute-force match (a_v, b_v) exactly once. With `join` a second,
// identical datagen stream is interval-joined with the first on k within 50 ms: only equal
// ids match (ids of a key are `keys` ms apart), so every pair (i, i) exactly once.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <vector>
#include <string>

#include "common/types/timestamp.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/cluster_harness.h"

namespace sluice::testing {

struct KeyedCountJob {
  std::string name = "keyed-count";
  int64_t rows = 100'000;
  int64_t keys = 17;
  int64_t rows_per_second = 20'000;
  int seed = 1;
  // Top-level YAML lines, e.g. "checkpointing: {interval: 500ms, dir: /x}\n".
  std::string settings;
  std::string sums_name = "sums";
  std::string out = "out";
  int64_t window_ms = 0;  // > 0: tumbling event-time windows instead of a running aggregate
  bool pattern = false;   // the CEP pattern instead of an aggregate
  bool join = false;      // an interval join of two copies of the stream instead
};

inline std::string KeyedCountSpec(const KeyedCountJob& job) {
  const bool event_time = job.window_ms > 0 || job.pattern || job.join;
  auto source = [&](const std::string& name) {
    return R"yaml(  - name: )yaml" + name + R"yaml(
    connector: datagen
    count: )yaml" + std::to_string(job.rows) + R"yaml(
    rows_per_second: )yaml" + std::to_string(job.rows_per_second) + R"yaml(
    seed: )yaml" + std::to_string(job.seed) + R"yaml(
    schema: {id: int64)yaml" + (event_time ? ", ts: timestamp" : "") + R"yaml(}
    fields: {id: {kind: sequence, min: 0}}
)yaml" + (event_time ? "    watermark: {column: ts, max_delay: 0s}\n" : "");
  };
  auto keyed = [&](const std::string& name, const std::string& input) {
    return "  - name: " + name + "\n    input: " + input + "\n    select: {k: \"id % " +
           std::to_string(job.keys) + "\", v: \"id\"" + (event_time ? ", ts: \"ts\"" : "") + "}\n";
  };
  std::string op;
  if (job.join) {
    op = "  - name: " + job.sums_name + "\n    inputs: [keyed, mirrored]\n" +
         "    join: {on: [k], within: 50ms}\n";
  } else {
    op = "  - name: " + job.sums_name + "\n    input: keyed\n    key_by: [k]\n";
    if (job.pattern) {
      op += R"yaml(    pattern:
      sequence: [{a: "v % 3 = 0"}, {b: "v % 4 = 0"}]
      within: 1s
      skip: skip_past_last_event
      emit: {a_v: a.v, b_v: b.v}
)yaml";
    } else {
      if (job.window_ms > 0) op += "    window: {tumble: " + std::to_string(job.window_ms) + "ms}\n";
      op += "    aggregate: {n: \"count(*)\", total: \"sum(v)\"}\n";
    }
  }
  return "name: " + job.name + "\nparallelism: 2\nconfig: {buffer_timeout: 5ms}\n" + job.settings +
         "sources:\n" + source("numbers") + (job.join ? source("mirror") : "") + "operators:\n" +
         keyed("keyed", "numbers") + (job.join ? keyed("mirrored", "mirror") : "") + op +
         "sinks:\n  - {name: out, input: " + job.sums_name + ", connector: file, path: " + job.out +
         ", format: json}\n";
}

struct ExactlyOnceCounts {
  int64_t checked = 0;     // updates the reference has
  int64_t lost = 0;        // ... missing from the output
  int64_t duplicated = 0;  // extra copies, and rows no correct run produces
};

// Calls `fn` with every row of the committed part files in `out_dir` (in-progress files of
// an uncommitted attempt are skipped).
inline void ForEachCommittedRow(const std::filesystem::path& out_dir,
                                const std::function<void(const nlohmann::json&)>& fn) {
  for (const auto& entry : std::filesystem::directory_iterator(out_dir)) {
    if (entry.path().filename().string().rfind("part-", 0) != 0) continue;  // not committed
    std::ifstream in(entry.path());
    std::string line;
    while (std::getline(in, line)) fn(nlohmann::json::parse(line));
  }
}

// Row identities the reference expects (each once) against those seen (how often).
using RowId = std::pair<int64_t, int64_t>;
inline ExactlyOnceCounts Tally(const std::set<RowId>& expected, const std::map<RowId, int>& seen) {
  ExactlyOnceCounts c;
  for (const RowId& id : expected) {
    ++c.checked;
    auto it = seen.find(id);
    if (it == seen.end()) {
      ++c.lost;
    } else {
      c.duplicated += it->second - 1;
    }
  }
  for (const auto& [id, times] : seen) {
    if (!expected.count(id)) c.duplicated += times;
  }
  return c;
}

// The rows of the committed part files in `out_dir`.
inline std::vector<nlohmann::json> CommittedRows(const std::filesystem::path& out_dir) {
  std::vector<nlohmann::json> rows;
  ForEachCommittedRow(out_dir, [&](const nlohmann::json& row) { rows.push_back(row); });
  return rows;
}

// Compares the output rows of the running count (k, n, total) with the reference computed
// from the input ids `ids` (wrong final totals are test failures naming the key).
inline ExactlyOnceCounts CheckKeyedCounts(const std::vector<nlohmann::json>& output,
                                          const std::vector<int64_t>& ids, int64_t keys) {
  std::map<int64_t, std::pair<int64_t, int64_t>> expected;  // k -> (count, sum)
  for (int64_t id : ids) {
    auto& e = expected[id % keys];
    ++e.first;
    e.second += id;
  }
  std::map<RowId, int> seen;  // (k, n) -> times
  std::map<int64_t, int64_t> final_total;
  for (const nlohmann::json& row : output) {
    const int64_t k = row["k"], n = row["n"];
    ++seen[{k, n}];
    if (n == expected[k].first) final_total[k] = row["total"];
  }
  std::set<RowId> updates;  // every key's updates n = 1..count
  for (const auto& [k, e] : expected) {
    for (int64_t n = 1; n <= e.first; ++n) updates.insert({k, n});
    EXPECT_EQ(final_total[k], e.second) << "key " << k;
  }
  return Tally(updates, seen);
}

// The ids 0 .. rows-1: the input of the jobs whose source generates them.
inline std::vector<int64_t> IdsUpTo(int64_t rows) {
  std::vector<int64_t> ids(static_cast<size_t>(rows));
  for (int64_t id = 0; id < rows; ++id) ids[static_cast<size_t>(id)] = id;
  return ids;
}

inline ExactlyOnceCounts CheckKeyedCounts(const std::vector<nlohmann::json>& output, int64_t rows,
                                          int64_t keys) {
  return CheckKeyedCounts(output, IdsUpTo(rows), keys);
}

inline ExactlyOnceCounts CheckKeyedCounts(const std::filesystem::path& out_dir, int64_t rows,
                                          int64_t keys) {
  SCOPED_TRACE(out_dir.string());
  return CheckKeyedCounts(CommittedRows(out_dir), rows, keys);
}

// The windowed job's check: every (k, window) row exactly once, with its count and sum.
inline ExactlyOnceCounts CheckWindowCounts(const std::filesystem::path& out_dir, int64_t rows,
                                           int64_t keys, int64_t window_ms) {
  std::map<RowId, std::pair<int64_t, int64_t>> expected;  // (k, w) -> n, sum
  for (int64_t id = 0; id < rows; ++id) {
    auto& e = expected[{id % keys, id / window_ms}];
    ++e.first;
    e.second += id;
  }
  // The window index from window_start (2026-01-01 + w * window_ms).
  constexpr int64_t kEpochMs = 1767225600000;  // 2026-01-01T00:00:00Z
  std::map<RowId, int> seen;
  ForEachCommittedRow(out_dir, [&](const nlohmann::json& row) {
    absl::StatusOr<int64_t> start = types::ParseTimestamp(row["window_start"].get<std::string>());
    EXPECT_TRUE(start.ok()) << row.dump();
    if (!start.ok()) return;
    const RowId key = {row["k"].get<int64_t>(), (*start / 1000 - kEpochMs) / window_ms};
    ++seen[key];
    auto it = expected.find(key);
    if (it == expected.end()) return;
    EXPECT_EQ(row["n"].get<int64_t>(), it->second.first) << row.dump();
    EXPECT_EQ(row["total"].get<int64_t>(), it->second.second) << row.dump();
  });
  std::set<RowId> windows;
  for (const auto& [key, e] : expected) windows.insert(key);
  return Tally(windows, seen);
}

// The pattern job's check: per key (ids k, k + keys, ...: one every `keys` ms), a match is an
// id a with a % 3 = 0 and the first later id b of the key with b % 4 = 0 at most 1 s after;
// skip_past_last_event then takes, round after round, the match that ends first.
inline ExactlyOnceCounts CheckPatternMatches(const std::filesystem::path& out_dir, int64_t rows,
                                             int64_t keys) {
  std::set<RowId> expected;
  for (int64_t k = 0; k < keys; ++k) {
    std::vector<int64_t> ids;
    for (int64_t id = k; id < rows; id += keys) ids.push_back(id);
    std::vector<int> end(ids.size(), -1);
    for (size_t s = 0; s < ids.size(); ++s) {
      if (ids[s] % 3 != 0) continue;
      for (size_t j = s + 1; j < ids.size() && ids[j] - ids[s] <= 1000; ++j) {
        if (ids[j] % 4 == 0) {
          end[s] = static_cast<int>(j);
          break;
        }
      }
    }
    int last_end = -1;
    while (true) {
      int best = -1;
      for (size_t s = last_end + 1; s < ids.size(); ++s) {
        if (end[s] >= 0 && (best < 0 || end[s] < end[best])) best = static_cast<int>(s);
      }
      if (best < 0) break;
      expected.insert({ids[best], ids[end[best]]});
      last_end = end[best];
    }
  }
  std::map<RowId, int> seen;
  ForEachCommittedRow(out_dir, [&](const nlohmann::json& row) {
    ++seen[{row["a_v"].get<int64_t>(), row["b_v"].get<int64_t>()}];
  });
  return Tally(expected, seen);
}

// The join job's check: every id joined with itself exactly once, and nothing else.
inline ExactlyOnceCounts CheckJoinPairs(const std::filesystem::path& out_dir, int64_t rows) {
  std::set<RowId> expected;
  for (int64_t id = 0; id < rows; ++id) expected.insert({id, id});
  std::map<RowId, int> seen;
  ForEachCommittedRow(out_dir, [&](const nlohmann::json& row) {
    ++seen[{row["v"].get<int64_t>(), row["mirrored_v"].get<int64_t>()}];
  });
  return Tally(expected, seen);
}

inline void ExpectExactlyOnce(const std::filesystem::path& out_dir, int64_t rows, int64_t keys) {
  ExactlyOnceCounts c = CheckKeyedCounts(out_dir, rows, keys);
  EXPECT_EQ(c.lost, 0) << out_dir;
  EXPECT_EQ(c.duplicated, 0) << out_dir;
}

// `sluice info --output json` fields the tests poll.
inline std::string JobState(const nlohmann::json& info) {
  if (!info.is_object() || !info.contains("summary")) return "";
  return info["summary"].value("state", "");
}

inline int CompletedCheckpoints(const nlohmann::json& info) {
  int n = 0;
  if (!info.is_object() || !info.contains("checkpoints")) return 0;
  for (const auto& c : info["checkpoints"]) n += c.value("status", "") == "COMPLETED";
  return n;
}

// The JSON document of a CLI run whose stderr (progress lines) is captured with its stdout.
inline nlohmann::json JsonOf(const CommandResult& r) {
  const size_t start = r.output.find('{');
  return nlohmann::json::parse(start == std::string::npos ? r.output : r.output.substr(start));
}

}  // namespace sluice::testing
