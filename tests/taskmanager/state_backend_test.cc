// One test suite run against both keyed state backends (heap and RocksDB): every state kind
// against a brute-force std::map model under seeded random operations, TTL with a manual
// clock, snapshot + restore, snapshots taken while the task keeps writing, rescaling by key
// group (1 -> 2 and 2 -> 1), storage faults (truncated, corrupt, missing files, unwritable
// directories), for RocksDB incremental checkpoints, and the TimerService kept in the
// backend (against a brute-force model; through snapshot, restore and rescale).
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <tuple>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "gtest/gtest.h"
#include "taskmanager/state/keyed_state_backend.h"
#include "taskmanager/state/timer_service.h"

namespace sluice::state {
namespace {

constexpr int kMaxParallelism = 128;

int KeyGroupOf(const std::string& key) {
  // FNV-1a, folded to 32 bits: deterministic and independent of the backend.
  uint32_t h = 2166136261u;
  for (unsigned char c : key) h = (h ^ c) * 16777619u;
  return network::KeyGroupForKeyHash(static_cast<int32_t>(h), kMaxParallelism);
}

std::string Key(int i) { return absl::StrCat("key-", i); }

std::string Int64Bytes(int64_t v) { return std::string(reinterpret_cast<const char*>(&v), 8); }
int64_t BytesInt64(const std::string& s) {
  int64_t v = 0;
  std::memcpy(&v, s.data(), std::min<size_t>(8, s.size()));
  return v;
}

StateDescriptor Desc(const std::string& name, StateKind kind,
                     absl::Duration ttl = absl::ZeroDuration()) {
  StateDescriptor d;
  d.name = name;
  d.kind = kind;
  d.ttl = ttl;
  if (kind == StateKind::kReducing) {
    d.reduce = [](std::string* acc, absl::string_view v) {
      *acc = Int64Bytes(BytesInt64(*acc) + BytesInt64(std::string(v)));
    };
  }
  return d;
}

struct HeapKind {
  static constexpr BackendKind kKind = BackendKind::kHeap;
};
struct RocksDbKind {
  static constexpr BackendKind kKind = BackendKind::kRocksDb;
};

// The brute-force model of all four states of one backend.
struct Model {
  std::map<std::string, std::string> value;
  std::map<std::string, std::vector<std::string>> list;
  std::map<std::string, std::map<std::string, std::string>> map;
  std::map<std::string, int64_t> sum;
};

template <typename T>
class StateBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           absl::StrCat("state_backend_test_", getpid(), "_",
                        ::testing::UnitTest::GetInstance()->current_test_info()->name(), "_",
                        static_cast<int>(T::kKind));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    backends_.clear();
    std::filesystem::remove_all(dir_);
  }

  KeyedStateBackend* Make(network::KeyGroupRange range = {0, kMaxParallelism - 1}) {
    BackendOptions options;
    options.kind = T::kKind;
    options.max_parallelism = kMaxParallelism;
    options.key_groups = range;
    options.local_dir = (dir_ / absl::StrCat("local-", backends_.size())).string();
    options.clock = &clock_;
    auto backend = CreateKeyedStateBackend(options);
    EXPECT_TRUE(backend.ok()) << backend.status();
    if (!backend.ok()) return nullptr;
    backends_.push_back(std::move(backend).value());
    return backends_.back().get();
  }

  std::string job_dir() const { return (dir_ / "job").string(); }

  SnapshotTarget Target(int64_t id, const std::string& prefix = "v1-s0") {
    SnapshotTarget t;
    t.checkpoint_id = id;
    t.job_dir = job_dir();
    t.exclusive_subdir = absl::StrCat("chk-", id);
    t.file_prefix = prefix;
    return t;
  }

  proto::KeyedStateHandle SnapshotNow(KeyedStateBackend* b, const SnapshotTarget& target) {
    auto runner = b->Snapshot(target);
    EXPECT_TRUE(runner.ok()) << runner.status();
    auto handle = (*runner)->Run();
    EXPECT_TRUE(handle.ok()) << handle.status();
    return handle.ok() ? *handle : proto::KeyedStateHandle();
  }

  struct States {
    ValueState* value;
    ListState* list;
    MapState* map;
    ReducingState* sum;
  };
  States Register(KeyedStateBackend* b, absl::Duration ttl = absl::ZeroDuration()) {
    States s{};
    auto v = b->GetValueState(Desc("value", StateKind::kValue, ttl));
    auto l = b->GetListState(Desc("list", StateKind::kList, ttl));
    auto m = b->GetMapState(Desc("map", StateKind::kMap, ttl));
    auto r = b->GetReducingState(Desc("sum", StateKind::kReducing, ttl));
    EXPECT_TRUE(v.ok() && l.ok() && m.ok() && r.ok());
    if (v.ok()) s.value = *v;
    if (l.ok()) s.list = *l;
    if (m.ok()) s.map = *m;
    if (r.ok()) s.sum = *r;
    return s;
  }

  // Seeded random operations on every state kind, applied to the backend and the model.
  void RandomOps(KeyedStateBackend* b, States s, Model* model, int ops, int num_keys,
                 uint64_t seed) {
    std::mt19937_64 rng(seed);
    for (int i = 0; i < ops; ++i) {
      const std::string key = Key(static_cast<int>(rng() % num_keys));
      b->SetCurrentKey(KeyGroupOf(key), key);
      const std::string val = absl::StrCat("v", rng() % 100000, std::string(rng() % 20, 'x'));
      switch (rng() % 12) {
        case 0:
        case 1:
          ASSERT_TRUE(s.value->Put(val).ok());
          model->value[key] = val;
          break;
        case 2:
          ASSERT_TRUE(s.value->Clear().ok());
          model->value.erase(key);
          break;
        case 3:
          ASSERT_TRUE(s.list->Add(val).ok());
          model->list[key].push_back(val);
          break;
        case 4:
          if (rng() % 4 == 0) {
            ASSERT_TRUE(s.list->Clear().ok());
            model->list.erase(key);
          } else {
            std::vector<std::string> vals = {val, val + "2"};
            ASSERT_TRUE(s.list->Update(vals).ok());
            model->list[key] = vals;
          }
          break;
        case 5:
        case 6: {
          const std::string uk = absl::StrCat("u", rng() % 8);
          ASSERT_TRUE(s.map->Put(uk, val).ok());
          model->map[key][uk] = val;
          break;
        }
        case 7: {
          const std::string uk = absl::StrCat("u", rng() % 8);
          ASSERT_TRUE(s.map->Remove(uk).ok());
          auto it = model->map.find(key);
          if (it != model->map.end()) {
            it->second.erase(uk);
            if (it->second.empty()) model->map.erase(it);
          }
          break;
        }
        case 8:
          if (rng() % 3 == 0) {
            ASSERT_TRUE(s.map->Clear().ok());
            model->map.erase(key);
          }
          break;
        case 9:
        case 10: {
          int64_t x = static_cast<int64_t>(rng() % 1000);
          ASSERT_TRUE(s.sum->Add(Int64Bytes(x)).ok());
          model->sum[key] += x;
          break;
        }
        case 11:
          if (rng() % 3 == 0) {
            ASSERT_TRUE(s.sum->Clear().ok());
            model->sum.erase(key);
          }
          break;
      }
    }
  }

  // Every key in 0..num_keys whose key group is in `range` reads as the model says; keys
  // outside `range` are not checked (they belong to another backend).
  void ExpectEqual(KeyedStateBackend* b, States s, const Model& model, int num_keys) {
    const network::KeyGroupRange range = b->key_groups();
    int64_t value_keys = 0, list_keys = 0, map_keys = 0, sum_keys = 0;
    for (int i = 0; i < num_keys; ++i) {
      const std::string key = Key(i);
      const int kg = KeyGroupOf(key);
      if (!range.Contains(kg)) continue;
      b->SetCurrentKey(kg, key);
      std::string v;
      auto got = s.value->Get(&v);
      ASSERT_TRUE(got.ok());
      auto mv = model.value.find(key);
      ASSERT_EQ(*got, mv != model.value.end()) << key;
      if (*got) {
        EXPECT_EQ(v, mv->second) << key;
      }
      value_keys += *got;

      std::vector<std::string> l;
      ASSERT_TRUE(s.list->Get(&l).ok());
      auto ml = model.list.find(key);
      EXPECT_EQ(l, ml == model.list.end() ? std::vector<std::string>() : ml->second) << key;
      list_keys += !l.empty();

      std::map<std::string, std::string> m;
      ASSERT_TRUE(s.map->ForEach([&](absl::string_view k, absl::string_view val) {
        m[std::string(k)] = std::string(val);
        return true;
      }).ok());
      auto mm = model.map.find(key);
      const std::map<std::string, std::string> want =
          mm == model.map.end() ? std::map<std::string, std::string>() : mm->second;
      EXPECT_EQ(m, want) << key;
      map_keys += !m.empty();
      for (int u = 0; u < 8; ++u) {
        const std::string uk = absl::StrCat("u", u);
        auto g = s.map->Get(uk, &v);
        ASSERT_TRUE(g.ok());
        EXPECT_EQ(*g, m.count(uk) == 1) << key << "/" << uk;
        if (*g) {
          EXPECT_EQ(v, m[uk]);
        }
      }

      auto r = s.sum->Get(&v);
      ASSERT_TRUE(r.ok());
      auto ms = model.sum.find(key);
      ASSERT_EQ(*r, ms != model.sum.end()) << key;
      if (*r) {
        EXPECT_EQ(BytesInt64(v), ms->second) << key;
      }
      sum_keys += *r;
    }
    EXPECT_EQ(*b->NumKeys("value"), value_keys);
    EXPECT_EQ(*b->NumKeys("list"), list_keys);
    EXPECT_EQ(*b->NumKeys("map"), map_keys);
    EXPECT_EQ(*b->NumKeys("sum"), sum_keys);
  }

  std::filesystem::path dir_;
  ManualClock clock_;
  std::vector<std::unique_ptr<KeyedStateBackend>> backends_;
};

using BackendKinds = ::testing::Types<HeapKind, RocksDbKind>;
TYPED_TEST_SUITE(StateBackendTest, BackendKinds);

TYPED_TEST(StateBackendTest, EveryStateKindMatchesBruteForceModel) {
  KeyedStateBackend* b = this->Make();
  auto s = this->Register(b);
  Model model;
  this->RandomOps(b, s, &model, 20000, 300, 1);
  this->ExpectEqual(b, s, model, 300);
}

TYPED_TEST(StateBackendTest, RegistrationErrors) {
  KeyedStateBackend* b = this->Make();
  ASSERT_TRUE(b->GetValueState(Desc("acc", StateKind::kValue)).ok());
  auto again = b->GetValueState(Desc("acc", StateKind::kValue));
  ASSERT_TRUE(again.ok());
  auto wrong = b->GetListState(Desc("acc", StateKind::kList));
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(wrong.status().message().find("acc"), absl::string_view::npos) << wrong.status();
  StateDescriptor no_reduce = Desc("r", StateKind::kReducing);
  no_reduce.reduce = nullptr;
  EXPECT_FALSE(b->GetReducingState(no_reduce).ok());
  EXPECT_EQ(b->NumKeys("nope").status().code(), absl::StatusCode::kNotFound);
}

TYPED_TEST(StateBackendTest, MapForEachStopsEarly) {
  KeyedStateBackend* b = this->Make();
  MapState* m = *b->GetMapState(Desc("m", StateKind::kMap));
  b->SetCurrentKey(KeyGroupOf("a"), "a");
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(m->Put(absl::StrCat("k", i), "v").ok());
  int seen = 0;
  ASSERT_TRUE(m->ForEach([&](absl::string_view, absl::string_view) { return ++seen < 3; }).ok());
  EXPECT_EQ(seen, 3);
  // Another key sees nothing.
  b->SetCurrentKey(KeyGroupOf("b"), "b");
  seen = 0;
  ASSERT_TRUE(m->ForEach([&](absl::string_view, absl::string_view) { return ++seen > 0; }).ok());
  EXPECT_EQ(seen, 0);
}

TYPED_TEST(StateBackendTest, TtlExpiresEntriesByLastWrite) {
  KeyedStateBackend* b = this->Make();
  auto s = this->Register(b, absl::Seconds(10));
  const std::string k = "card-1";
  b->SetCurrentKey(KeyGroupOf(k), k);
  ASSERT_TRUE(s.value->Put("a").ok());
  ASSERT_TRUE(s.list->Add("x").ok());
  ASSERT_TRUE(s.map->Put("old", "1").ok());
  ASSERT_TRUE(s.sum->Add(Int64Bytes(5)).ok());
  this->clock_.Advance(6000);
  ASSERT_TRUE(s.map->Put("new", "2").ok());  // per user key: "old" keeps its write time
  ASSERT_TRUE(s.sum->Add(Int64Bytes(1)).ok());  // a write refreshes the accumulator
  std::string v;
  EXPECT_TRUE(*s.value->Get(&v));
  this->clock_.Advance(5000);  // 11 s after the first writes, 5 s after the second
  EXPECT_FALSE(*s.value->Get(&v));
  std::vector<std::string> l;
  ASSERT_TRUE(s.list->Get(&l).ok());
  EXPECT_TRUE(l.empty());
  EXPECT_FALSE(*s.map->Get("old", &v));
  EXPECT_TRUE(*s.map->Get("new", &v));
  EXPECT_TRUE(*s.sum->Get(&v));
  EXPECT_EQ(BytesInt64(v), 6);
  EXPECT_EQ(*b->NumKeys("value"), 0);
  EXPECT_EQ(*b->NumKeys("map"), 1);
  // Adding to an expired list starts a new list; an expired accumulator restarts.
  ASSERT_TRUE(s.list->Add("y").ok());
  ASSERT_TRUE(s.list->Get(&l).ok());
  EXPECT_EQ(l, std::vector<std::string>{"y"});
  this->clock_.Advance(10000);
  ASSERT_TRUE(s.sum->Add(Int64Bytes(2)).ok());
  EXPECT_TRUE(*s.sum->Get(&v));
  EXPECT_EQ(BytesInt64(v), 2);

  // Expired entries are not restored.
  ASSERT_TRUE(s.value->Put("fresh").ok());
  proto::KeyedStateHandle h = this->SnapshotNow(b, this->Target(1));
  KeyedStateBackend* r = this->Make();
  ASSERT_TRUE(r->Restore(this->job_dir(), {h}).ok());
  auto rs = this->Register(r, absl::Seconds(10));
  r->SetCurrentKey(KeyGroupOf(k), k);
  EXPECT_TRUE(*rs.value->Get(&v));
  EXPECT_EQ(v, "fresh");
  EXPECT_FALSE(*rs.map->Get("new", &v));  // written 15 s before the snapshot
  this->clock_.Advance(10000);
  EXPECT_FALSE(*rs.value->Get(&v));
}

TYPED_TEST(StateBackendTest, SnapshotThenRestoreIsEqual) {
  KeyedStateBackend* b = this->Make();
  auto s = this->Register(b);
  Model model;
  this->RandomOps(b, s, &model, 20000, 500, 2);
  proto::KeyedStateHandle h = this->SnapshotNow(b, this->Target(1));
  EXPECT_EQ(h.key_group_first(), 0);
  EXPECT_EQ(h.key_group_last(), kMaxParallelism - 1);
  EXPECT_GT(h.total_size(), 0);
  ASSERT_GT(h.files_size(), 0);
  for (const auto& f : h.files()) {
    EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(this->job_dir()) / f.path()))
        << f.path();
  }
  KeyedStateBackend* r = this->Make();
  absl::Status st = r->Restore(this->job_dir(), {h});
  ASSERT_TRUE(st.ok()) << st;
  auto rs = this->Register(r);
  this->ExpectEqual(r, rs, model, 500);
  // The restored backend keeps working and snapshots again.
  this->RandomOps(r, rs, &model, 3000, 500, 3);
  proto::KeyedStateHandle h2 = this->SnapshotNow(r, this->Target(2, "v1-s0"));
  KeyedStateBackend* r2 = this->Make();
  ASSERT_TRUE(r2->Restore(this->job_dir(), {h2}).ok());
  auto rs2 = this->Register(r2);
  this->ExpectEqual(r2, rs2, model, 500);
}

TYPED_TEST(StateBackendTest, SnapshotShowsStateAtSnapshotTimeWhileTaskKeepsWriting) {
  KeyedStateBackend* b = this->Make();
  auto s = this->Register(b);
  Model model;
  this->RandomOps(b, s, &model, 10000, 400, 4);
  const Model at_snapshot = model;
  auto runner = b->Snapshot(this->Target(1));
  ASSERT_TRUE(runner.ok()) << runner.status();
  // The asynchronous part runs on another thread while the task keeps writing.
  absl::StatusOr<proto::KeyedStateHandle> handle;
  std::thread upload([&] { handle = (*runner)->Run(); });
  this->RandomOps(b, s, &model, 10000, 400, 5);
  upload.join();
  ASSERT_TRUE(handle.ok()) << handle.status();
  this->ExpectEqual(b, s, model, 400);  // the live state has every write
  KeyedStateBackend* r = this->Make();
  ASSERT_TRUE(r->Restore(this->job_dir(), {*handle}).ok());
  auto rs = this->Register(r);
  this->ExpectEqual(r, rs, at_snapshot, 400);  // the snapshot has none after it
}

TYPED_TEST(StateBackendTest, OverlappingSnapshotsEachShowTheirOwnTime) {
  KeyedStateBackend* b = this->Make();
  auto s = this->Register(b);
  Model model;
  this->RandomOps(b, s, &model, 8000, 300, 20);
  const Model at_first = model;
  auto first = b->Snapshot(this->Target(1));
  ASSERT_TRUE(first.ok());
  this->RandomOps(b, s, &model, 4000, 300, 21);
  const Model at_second = model;
  auto second = b->Snapshot(this->Target(2));
  ASSERT_TRUE(second.ok());
  this->RandomOps(b, s, &model, 4000, 300, 22);
  auto h2 = (*second)->Run();
  ASSERT_TRUE(h2.ok()) << h2.status();
  this->RandomOps(b, s, &model, 4000, 300, 23);
  auto h1 = (*first)->Run();
  ASSERT_TRUE(h1.ok()) << h1.status();
  first->reset();
  second->reset();
  this->RandomOps(b, s, &model, 2000, 300, 24);
  this->ExpectEqual(b, s, model, 300);
  KeyedStateBackend* r1 = this->Make();
  ASSERT_TRUE(r1->Restore(this->job_dir(), {*h1}).ok());
  this->ExpectEqual(r1, this->Register(r1), at_first, 300);
  KeyedStateBackend* r2 = this->Make();
  ASSERT_TRUE(r2->Restore(this->job_dir(), {*h2}).ok());
  this->ExpectEqual(r2, this->Register(r2), at_second, 300);
  // Once both are done, a third snapshot has every write (the deltas were folded back).
  proto::KeyedStateHandle h3 = this->SnapshotNow(b, this->Target(3));
  KeyedStateBackend* r3 = this->Make();
  ASSERT_TRUE(r3->Restore(this->job_dir(), {h3}).ok());
  this->ExpectEqual(r3, this->Register(r3), model, 300);
}

TYPED_TEST(StateBackendTest, RescaleOneToTwoAndTwoToOne) {
  KeyedStateBackend* b = this->Make();
  auto s = this->Register(b);
  Model model;
  this->RandomOps(b, s, &model, 20000, 600, 6);
  proto::KeyedStateHandle h = this->SnapshotNow(b, this->Target(1, "v1-s0"));

  // 1 -> 2: each new subtask takes only its key groups from the one old snapshot.
  std::vector<KeyedStateBackend*> halves;
  std::vector<proto::KeyedStateHandle> half_handles;
  int64_t total_value_keys = 0;
  for (int i = 0; i < 2; ++i) {
    auto range = network::KeyGroupRangeForOperatorIndex(kMaxParallelism, 2, i);
    KeyedStateBackend* half = this->Make(range);
    absl::Status st = half->Restore(this->job_dir(), {h});
    ASSERT_TRUE(st.ok()) << st;
    auto hs = this->Register(half);
    this->ExpectEqual(half, hs, model, 600);
    total_value_keys += *half->NumKeys("value");
    halves.push_back(half);
  }
  EXPECT_EQ(total_value_keys, static_cast<int64_t>(model.value.size()));

  // Both halves keep writing, then 2 -> 1 merges their snapshots.
  for (int i = 0; i < 2; ++i) {
    auto hs = this->Register(halves[i]);
    // Only keys of this half's key groups: filter through a scratch model.
    std::mt19937_64 rng(100 + i);
    for (int n = 0; n < 3000; ++n) {
      const std::string key = Key(static_cast<int>(rng() % 600));
      const int kg = KeyGroupOf(key);
      if (!halves[i]->key_groups().Contains(kg)) continue;
      halves[i]->SetCurrentKey(kg, key);
      const std::string val = absl::StrCat("h", i, "-", n);
      ASSERT_TRUE(hs.value->Put(val).ok());
      model.value[key] = val;
      ASSERT_TRUE(hs.sum->Add(Int64Bytes(n)).ok());
      model.sum[key] += n;
    }
    half_handles.push_back(
        this->SnapshotNow(halves[i], this->Target(2, absl::StrCat("v1-s", i))));
  }
  KeyedStateBackend* merged = this->Make();
  absl::Status st = merged->Restore(this->job_dir(), half_handles);
  ASSERT_TRUE(st.ok()) << st;
  auto ms = this->Register(merged);
  this->ExpectEqual(merged, ms, model, 600);
}

// The largest file of a snapshot (the heap file, or an SST).
std::string LargestFile(const proto::KeyedStateHandle& h) {
  std::string best;
  int64_t size = -1;
  for (const auto& f : h.files()) {
    if (f.size() > size) {
      size = f.size();
      best = f.path();
    }
  }
  return best;
}

TYPED_TEST(StateBackendTest, TruncatedFileIsDataLossNamingTheFile) {
  KeyedStateBackend* b = this->Make();
  auto s = this->Register(b);
  Model model;
  this->RandomOps(b, s, &model, 5000, 300, 7);
  proto::KeyedStateHandle h = this->SnapshotNow(b, this->Target(1));
  const std::string rel = LargestFile(h);
  const std::string path = (std::filesystem::path(this->job_dir()) / rel).string();
  std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
  KeyedStateBackend* r = this->Make();
  absl::Status st = r->Restore(this->job_dir(), {h});
  ASSERT_EQ(st.code(), absl::StatusCode::kDataLoss) << st;
  EXPECT_NE(st.message().find(rel), absl::string_view::npos) << st;
}

TYPED_TEST(StateBackendTest, MissingFileIsDataLossNamingTheFile) {
  KeyedStateBackend* b = this->Make();
  auto s = this->Register(b);
  Model model;
  this->RandomOps(b, s, &model, 2000, 100, 8);
  proto::KeyedStateHandle h = this->SnapshotNow(b, this->Target(1));
  const std::string rel = LargestFile(h);
  std::filesystem::remove(std::filesystem::path(this->job_dir()) / rel);
  KeyedStateBackend* r = this->Make();
  absl::Status st = r->Restore(this->job_dir(), {h});
  ASSERT_TRUE(st.code() == absl::StatusCode::kDataLoss ||
              st.code() == absl::StatusCode::kNotFound)
      << st;
  EXPECT_NE(st.message().find(rel), absl::string_view::npos) << st;
}

TYPED_TEST(StateBackendTest, UnwritableTargetIsAnErrorNamingThePath) {
  KeyedStateBackend* b = this->Make();
  auto s = this->Register(b);
  Model model;
  this->RandomOps(b, s, &model, 1000, 100, 9);
  // A regular file where the checkpoint directory should be (works even as root).
  const std::string blocker = (this->dir_ / "blocker").string();
  std::ofstream(blocker) << "x";
  SnapshotTarget t = this->Target(1);
  t.job_dir = blocker + "/job";
  auto runner = b->Snapshot(t);
  absl::Status st = runner.ok() ? (*runner)->Run().status() : runner.status();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find(blocker), absl::string_view::npos) << st;
  // The backend is unharmed: the next snapshot to a good directory works.
  proto::KeyedStateHandle h = this->SnapshotNow(b, this->Target(2));
  KeyedStateBackend* r = this->Make();
  ASSERT_TRUE(r->Restore(this->job_dir(), {h}).ok());
  auto rs = this->Register(r);
  this->ExpectEqual(r, rs, model, 100);
}

TYPED_TEST(StateBackendTest, ForeignOrMalformedHandlesAreClearErrors) {
  KeyedStateBackend* b = this->Make();
  auto s = this->Register(b);
  Model model;
  this->RandomOps(b, s, &model, 500, 50, 30);
  proto::KeyedStateHandle h = this->SnapshotNow(b, this->Target(1));
  proto::KeyedStateHandle foreign = h;
  foreign.set_backend(TypeParam::kKind == BackendKind::kHeap ? "rocksdb" : "heap");
  absl::Status st = this->Make()->Restore(this->job_dir(), {foreign});
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
  EXPECT_NE(st.message().find("backend"), absl::string_view::npos) << st;
  proto::KeyedStateHandle malformed = h;
  malformed.set_backend_metadata("not json");
  malformed.clear_files();
  st = this->Make()->Restore(this->job_dir(), {malformed});
  EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss) << st;
}

TYPED_TEST(StateBackendTest, SavepointIsSelfContained) {
  KeyedStateBackend* b = this->Make();
  auto s = this->Register(b);
  Model model;
  this->RandomOps(b, s, &model, 5000, 200, 10);
  SnapshotTarget t;
  t.checkpoint_id = 3;
  t.job_dir = (this->dir_ / "savepoint-1").string();
  t.exclusive_subdir = "";
  t.file_prefix = "v1-s0";
  t.self_contained = true;
  proto::KeyedStateHandle h = this->SnapshotNow(b, t);
  for (const auto& f : h.files()) {
    EXPECT_FALSE(f.shared()) << f.path();
    EXPECT_EQ(f.path().find('/'), std::string::npos) << f.path();
  }
  EXPECT_EQ(h.incremental_size(), h.total_size());
  // Moved as a whole, it still restores.
  const std::string moved = (this->dir_ / "moved-savepoint").string();
  std::filesystem::rename(t.job_dir, moved);
  KeyedStateBackend* r = this->Make();
  absl::Status st = r->Restore(moved, {h});
  ASSERT_TRUE(st.ok()) << st;
  auto rs = this->Register(r);
  this->ExpectEqual(r, rs, model, 200);
}

TYPED_TEST(StateBackendTest, IncrementalCheckpointUploadsOnlyNewFiles) {
  if (TypeParam::kKind != BackendKind::kRocksDb) GTEST_SKIP() << "heap snapshots are full";
  KeyedStateBackend* b = this->Make();
  auto s = this->Register(b);
  Model model;
  this->RandomOps(b, s, &model, 20000, 2000, 11);
  proto::KeyedStateHandle h1 = this->SnapshotNow(b, this->Target(1));
  EXPECT_EQ(h1.incremental_size(), h1.total_size());
  b->NotifyCheckpointComplete(1);
  this->RandomOps(b, s, &model, 500, 2000, 12);
  proto::KeyedStateHandle h2 = this->SnapshotNow(b, this->Target(2));
  EXPECT_LT(h2.incremental_size(), h2.total_size());
  EXPECT_GT(h2.incremental_size(), 0);
  int shared_in_both = 0;
  for (const auto& f2 : h2.files()) {
    if (!f2.shared()) {
      EXPECT_EQ(f2.path().rfind("chk-2/", 0), 0u) << f2.path();
      continue;
    }
    EXPECT_EQ(f2.path().rfind("shared/", 0), 0u) << f2.path();
    for (const auto& f1 : h1.files()) shared_in_both += f1.path() == f2.path();
  }
  EXPECT_GT(shared_in_both, 0);
  // Checkpoint 2 alone restores everything (its shared files from checkpoint 1 included).
  std::filesystem::remove_all(std::filesystem::path(this->job_dir()) / "chk-1");
  KeyedStateBackend* r = this->Make();
  absl::Status st = r->Restore(this->job_dir(), {h2});
  ASSERT_TRUE(st.ok()) << st;
  auto rs = this->Register(r);
  this->ExpectEqual(r, rs, model, 2000);
  // After a restore the next checkpoint references the restored shared files again.
  proto::KeyedStateHandle h3 = this->SnapshotNow(r, this->Target(3, "v1-s0"));
  EXPECT_LT(h3.incremental_size(), h3.total_size());
}

TYPED_TEST(StateBackendTest, UnconfirmedCheckpointFilesAreNotReused) {
  if (TypeParam::kKind != BackendKind::kRocksDb) GTEST_SKIP() << "heap snapshots are full";
  KeyedStateBackend* b = this->Make();
  auto s = this->Register(b);
  Model model;
  this->RandomOps(b, s, &model, 5000, 500, 13);
  proto::KeyedStateHandle h1 = this->SnapshotNow(b, this->Target(1));
  // Checkpoint 1 never completes (declined): checkpoint 2 must not depend on its uploads.
  proto::KeyedStateHandle h2 = this->SnapshotNow(b, this->Target(2));
  EXPECT_EQ(h2.incremental_size(), h2.total_size());
}

// Heap-specific: a flipped byte inside a key group section fails its checksum.
TEST(HeapStateFileTest, CorruptSectionIsDataLoss) {
  const std::filesystem::path dir =
      std::filesystem::path(::testing::TempDir()) / absl::StrCat("heap_corrupt_", getpid());
  std::filesystem::remove_all(dir);
  ManualClock clock;
  BackendOptions o;
  o.key_groups = {0, kMaxParallelism - 1};
  o.clock = &clock;
  auto b = *CreateKeyedStateBackend(o);
  ValueState* v = *b->GetValueState(Desc("v", StateKind::kValue));
  for (int i = 0; i < 1000; ++i) {
    b->SetCurrentKey(KeyGroupOf(Key(i)), Key(i));
    ASSERT_TRUE(v->Put(std::string(50, 'a')).ok());
  }
  SnapshotTarget t;
  t.job_dir = dir.string();
  t.exclusive_subdir = "chk-1";
  t.file_prefix = "p";
  proto::KeyedStateHandle h = *(*b->Snapshot(t))->Run();
  const std::string path = (dir / h.files(0).path()).string();
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(std::filesystem::file_size(path) / 2));
    f.put('Z');
  }
  auto r = *CreateKeyedStateBackend(o);
  absl::Status st = r->Restore(dir.string(), {h});
  EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss) << st;
  EXPECT_NE(st.message().find(path), absl::string_view::npos) << st;
  EXPECT_NE(st.message().find("checksum"), absl::string_view::npos) << st;
  std::filesystem::remove_all(dir);
}

TEST(StateBackendFactoryTest, ParsesKindsAndRejectsBadRanges) {
  EXPECT_EQ(*ParseBackendKind("heap"), BackendKind::kHeap);
  EXPECT_EQ(*ParseBackendKind("RocksDB"), BackendKind::kRocksDb);
  auto bad = ParseBackendKind("redis");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("redis"), absl::string_view::npos);
  BackendOptions o;
  o.key_groups = {0, 200};
  EXPECT_EQ(CreateKeyedStateBackend(o).status().code(), absl::StatusCode::kInvalidArgument);
}

// ---- Timers (TimerService over the backend) ----

// The brute-force model of a timer service: every (domain, time, key, namespace) registered
// and not yet fired or deleted.
using TimerModel = std::set<std::tuple<int, int64_t, std::string, std::string>>;

std::vector<std::tuple<int, int64_t, std::string, std::string>> FireModel(TimerModel* model,
                                                                          int domain,
                                                                          int64_t time) {
  std::vector<std::tuple<int, int64_t, std::string, std::string>> fired;
  for (auto it = model->begin(); it != model->end();) {
    if (std::get<0>(*it) == domain && std::get<1>(*it) <= time) {
      fired.push_back(*it);
      it = model->erase(it);
    } else {
      ++it;
    }
  }
  std::stable_sort(fired.begin(), fired.end(), [](const auto& a, const auto& b) {
    return std::get<1>(a) < std::get<1>(b);
  });
  return fired;
}

TYPED_TEST(StateBackendTest, TimersMatchABruteForceModelUnderRandomOperations) {
  KeyedStateBackend* b = this->Make();
  auto timers = TimerService::Create(b, "op.timers");
  ASSERT_TRUE(timers.ok()) << timers.status();
  TimerModel model;
  std::mt19937 rng(77);
  int64_t watermark = 0, now = 0;
  int fired_total = 0;
  for (int op = 0; op < 4000; ++op) {
    const int domain = static_cast<int>(rng() % 2);
    const std::string key = Key(static_cast<int>(rng() % 40));
    const std::string ns = rng() % 3 == 0 ? "" : absl::StrCat("w", rng() % 4);
    const int64_t base = domain == 0 ? watermark : now;
    const int64_t time = base + static_cast<int64_t>(rng() % 200) - 20;
    const TimeDomain d = domain == 0 ? TimeDomain::kEventTime : TimeDomain::kProcessingTime;
    const int r = static_cast<int>(rng() % 10);
    if (r < 6) {
      ASSERT_TRUE((*timers)->Register(d, KeyGroupOf(key), key, ns, time).ok());
      model.emplace(domain, time, key, ns);
    } else if (r < 8) {
      ASSERT_TRUE((*timers)->Delete(d, KeyGroupOf(key), key, ns, time).ok());
      model.erase({domain, time, key, ns});
    } else {
      const int64_t to = base + static_cast<int64_t>(rng() % 100);
      auto expected = FireModel(&model, domain, to);
      std::vector<std::tuple<int, int64_t, std::string, std::string>> got;
      auto fire = [&](const Timer& t) {
        got.emplace_back(static_cast<int>(t.domain), t.timestamp, t.key, t.ns);
        EXPECT_EQ(t.key_group, KeyGroupOf(t.key));
        return absl::OkStatus();
      };
      if (domain == 0) {
        ASSERT_TRUE((*timers)->AdvanceWatermark(to, fire).ok());
        watermark = std::max(watermark, to);
      } else {
        ASSERT_TRUE((*timers)->AdvanceProcessingTime(to, fire).ok());
        now = std::max(now, to);
      }
      // Same timers, in timestamp order (ties in any order).
      ASSERT_EQ(got.size(), expected.size()) << "op " << op;
      for (size_t i = 0; i + 1 < got.size(); ++i) {
        EXPECT_LE(std::get<1>(got[i]), std::get<1>(got[i + 1]));
      }
      std::sort(got.begin(), got.end());
      std::sort(expected.begin(), expected.end());
      EXPECT_EQ(got, expected) << "op " << op;
      fired_total += static_cast<int>(got.size());
    }
  }
  EXPECT_GT(fired_total, 100);
  size_t event = 0;
  for (const auto& t : model) event += std::get<0>(t) == 0;
  EXPECT_EQ((*timers)->size(TimeDomain::kEventTime), event);
  EXPECT_EQ((*timers)->size(TimeDomain::kProcessingTime), model.size() - event);
  std::optional<int64_t> next = (*timers)->NextProcessingTime();
  if (model.size() > event) {
    int64_t earliest = INT64_MAX;
    for (const auto& t : model) {
      if (std::get<0>(t) == 1) earliest = std::min(earliest, std::get<1>(t));
    }
    ASSERT_TRUE(next.has_value());
    EXPECT_EQ(*next, earliest);
  }
}

TYPED_TEST(StateBackendTest, AFiredTimerMayRegisterAnotherThatFiresInTheSameAdvance) {
  KeyedStateBackend* b = this->Make();
  auto timers = *TimerService::Create(b, "op.timers");
  const std::string key = Key(1);
  ASSERT_TRUE(timers->Register(TimeDomain::kEventTime, KeyGroupOf(key), key, "", 10).ok());
  ASSERT_TRUE(timers->Register(TimeDomain::kEventTime, KeyGroupOf(key), key, "", 10).ok());
  std::vector<int64_t> fired;
  ASSERT_TRUE(timers
                  ->AdvanceWatermark(30,
                                     [&](const Timer& t) {
                                       fired.push_back(t.timestamp);
                                       if (t.timestamp == 10) {
                                         return timers->Register(TimeDomain::kEventTime,
                                                                 t.key_group, t.key, "", 20);
                                       }
                                       return absl::OkStatus();
                                     })
                  .ok());
  EXPECT_EQ(fired, (std::vector<int64_t>{10, 20}));  // registered twice, fired once
  EXPECT_EQ(timers->current_watermark(), 30);
  // A watermark never goes back.
  ASSERT_TRUE(timers->AdvanceWatermark(5, [](const Timer&) { return absl::OkStatus(); }).ok());
  EXPECT_EQ(timers->current_watermark(), 30);
  EXPECT_EQ(timers->size(TimeDomain::kEventTime), 0u);
}

// Timers are keyed state: a snapshot holds them, a restore brings them back, and a rescale
// gives each new subtask exactly the timers of its key groups.
TYPED_TEST(StateBackendTest, TimersSurviveSnapshotRestoreAndRescale) {
  KeyedStateBackend* b = this->Make();
  auto timers = *TimerService::Create(b, "op.timers");
  TimerModel model;
  for (int i = 0; i < 300; ++i) {
    const std::string key = Key(i % 97);
    const TimeDomain d = i % 3 == 0 ? TimeDomain::kProcessingTime : TimeDomain::kEventTime;
    ASSERT_TRUE(timers->Register(d, KeyGroupOf(key), key, absl::StrCat("ns", i % 5), 1000 + i).ok());
    model.emplace(static_cast<int>(d), 1000 + i, key, absl::StrCat("ns", i % 5));
  }
  proto::KeyedStateHandle h = this->SnapshotNow(b, this->Target(1));
  // Fired after the snapshot: the restored state still has them.
  ASSERT_TRUE(timers->AdvanceWatermark(5000, [](const Timer&) { return absl::OkStatus(); }).ok());
  EXPECT_EQ(timers->size(TimeDomain::kEventTime), 0u);

  auto collect = [](TimerService* t, TimerModel* out) {
    auto add = [out](const Timer& timer) {
      out->emplace(static_cast<int>(timer.domain), timer.timestamp, timer.key, timer.ns);
      return absl::OkStatus();
    };
    EXPECT_TRUE(t->AdvanceWatermark(INT64_MAX, add).ok());
    EXPECT_TRUE(t->AdvanceProcessingTime(INT64_MAX, add).ok());
  };
  KeyedStateBackend* restored = this->Make();
  ASSERT_TRUE(restored->Restore(this->job_dir(), {h}).ok());
  TimerModel all;
  collect(TimerService::Create(restored, "op.timers")->get(), &all);
  EXPECT_EQ(all, model);

  // 1 -> 2 subtasks: each gets its key groups' timers; together, all of them.
  TimerModel left, right;
  KeyedStateBackend* low = this->Make({0, 63});
  KeyedStateBackend* high = this->Make({64, kMaxParallelism - 1});
  ASSERT_TRUE(low->Restore(this->job_dir(), {h}).ok());
  ASSERT_TRUE(high->Restore(this->job_dir(), {h}).ok());
  collect(TimerService::Create(low, "op.timers")->get(), &left);
  collect(TimerService::Create(high, "op.timers")->get(), &right);
  for (const auto& t : left) EXPECT_LE(KeyGroupOf(std::get<2>(t)), 63);
  for (const auto& t : right) EXPECT_GE(KeyGroupOf(std::get<2>(t)), 64);
  EXPECT_FALSE(left.empty());
  EXPECT_FALSE(right.empty());
  TimerModel both = left;
  both.insert(right.begin(), right.end());
  EXPECT_EQ(both, model);
}

}  // namespace
}  // namespace sluice::state
