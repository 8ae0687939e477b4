#include "taskmanager/state/rocksdb_backend.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <random>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "common/check.h"
#include "common/status_macros.h"
#include "nlohmann/json.hpp"
#include "rocksdb/cache.h"
#include "rocksdb/compaction_filter.h"
#include "rocksdb/db.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/table.h"
#include "rocksdb/utilities/checkpoint.h"
#include "rocksdb/write_batch.h"
#include "spdlog/spdlog.h"
#include "taskmanager/state/heap_backend.h"
#include "taskmanager/state/state_io.h"

namespace sluice::state {
namespace {

constexpr int kMetadataVersion = 1;
constexpr size_t kTimeBytes = 8;

rocksdb::Slice ToSlice(absl::string_view s) { return rocksdb::Slice(s.data(), s.size()); }
absl::string_view ToView(const rocksdb::Slice& s) { return absl::string_view(s.data(), s.size()); }

absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what) {
  if (s.ok()) return absl::OkStatus();
  std::string msg = absl::StrCat(what, ": ", s.ToString());
  if (s.IsCorruption()) return absl::DataLossError(msg);
  if (s.IsNotFound()) return absl::NotFoundError(msg);
  if (s.IsIOError()) return absl::UnavailableError(msg);
  return absl::InternalError(msg);
}

void PutBigEndian16(std::string* dst, int v) {
  dst->push_back(static_cast<char>((v >> 8) & 0xff));
  dst->push_back(static_cast<char>(v & 0xff));
}
void PutBigEndian32(std::string* dst, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) dst->push_back(static_cast<char>((v >> shift) & 0xff));
}
std::string KeyGroupPrefix(int key_group) {
  std::string s;
  PutBigEndian16(&s, key_group);
  return s;
}
// The smallest string greater than every string starting with `prefix`.
std::string PrefixSuccessor(std::string prefix) {
  while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xff) prefix.pop_back();
  if (!prefix.empty()) prefix.back() = static_cast<char>(static_cast<unsigned char>(prefix.back()) + 1);
  return prefix;
}
// Length of the (key group, key) prefix of a stored key, or 0 when malformed.
size_t StateKeyPrefixLength(absl::string_view k) {
  if (k.size() < 6) return 0;
  uint32_t len = 0;
  for (int i = 2; i < 6; ++i) len = (len << 8) | static_cast<unsigned char>(k[i]);
  if (k.size() < 6 + static_cast<size_t>(len)) return 0;
  return 6 + len;
}

int64_t DecodeTime(absl::string_view v) {
  int64_t t = 0;
  if (v.size() >= kTimeBytes) std::memcpy(&t, v.data(), kTimeBytes);
  return t;
}

std::string RandomId() {
  std::mt19937_64 rng(std::random_device{}());
  return absl::StrFormat("%016x", rng());
}

// Files this backend uploaded to `shared/`, by local SST name. Only files of checkpoints that
// completed are reused by later checkpoints.
struct UploadRegistry {
  struct Upload {
    std::string path;  // relative to the job dir
    int64_t size = 0;
  };
  absl::Mutex mu;
  absl::flat_hash_map<std::string, Upload> confirmed ABSL_GUARDED_BY(mu);
  std::map<int64_t, absl::flat_hash_map<std::string, Upload>> pending ABSL_GUARDED_BY(mu);
};

// Drops entries older than their state's TTL when RocksDB compacts them (they already read
// as absent; this reclaims the space). Called on RocksDB's background threads.
class TtlCompactionFilter : public rocksdb::CompactionFilter {
 public:
  explicit TtlCompactionFilter(const Clock* clock) : clock_(clock) {}
  void set_ttl_ms(int64_t ttl_ms) { ttl_ms_.store(ttl_ms, std::memory_order_relaxed); }
  bool Filter(int level, const rocksdb::Slice& key, const rocksdb::Slice& value,
              std::string* new_value, bool* value_changed) const override {
    const int64_t ttl = ttl_ms_.load(std::memory_order_relaxed);
    if (ttl <= 0 || value.size() < kTimeBytes) return false;
    return clock_->WallMillis() - DecodeTime(ToView(value)) >= ttl;
  }
  const char* Name() const override { return "sluice.TtlCompactionFilter"; }

 private:
  const Clock* clock_;
  std::atomic<int64_t> ttl_ms_{0};
};

struct StateInfo {
  std::string name;
  StateKind kind;
};

class RocksDbBackend;

// One registered state: its column family and descriptor settings.
struct CfState {
  std::string name;
  StateKind kind;
  rocksdb::ColumnFamilyHandle* handle = nullptr;
  int64_t ttl_ms = 0;
  ReduceFunction reduce;
  std::unique_ptr<ValueState> value;
  std::unique_ptr<ListState> list;
  std::unique_ptr<MapState> map;
  std::unique_ptr<ReducingState> reducing;
};

class RocksDbBackend : public KeyedStateBackend {
 public:
  explicit RocksDbBackend(const BackendOptions& options)
      : key_groups_(options.key_groups),
        clock_(options.clock != nullptr ? options.clock : SystemClock::Get()),
        local_dir_(options.local_dir),
        db_dir_(JoinPath(options.local_dir, "db")),
        instance_id_(RandomId()),
        uploads_(std::make_shared<UploadRegistry>()) {
    write_options_.disableWAL = true;
  }
  ~RocksDbBackend() override {
    CloseDb();
    RemoveAll(local_dir_);
  }

  absl::Status Init() {
    RemoveAll(local_dir_);
    RETURN_IF_ERROR(CreateDirs(local_dir_));
    return OpenDb(db_dir_);
  }

  const KeyGroupRange& key_groups() const override { return key_groups_; }

  void SetCurrentKey(int key_group, absl::string_view key) override {
    SLUICE_CHECK(key_groups_.Contains(key_group),
                 absl::StrCat("key group ", key_group, " outside ", key_groups_.first, "..",
                              key_groups_.last));
    current_.clear();
    PutBigEndian16(&current_, key_group);
    PutBigEndian32(&current_, static_cast<uint32_t>(key.size()));
    current_.append(key.data(), key.size());
  }

  absl::StatusOr<ValueState*> GetValueState(const StateDescriptor& d) override;
  absl::StatusOr<ListState*> GetListState(const StateDescriptor& d) override;
  absl::StatusOr<MapState*> GetMapState(const StateDescriptor& d) override;
  absl::StatusOr<ReducingState*> GetReducingState(const StateDescriptor& d) override;
  absl::Status ForEachKey(
      absl::string_view name,
      const std::function<void(int key_group, absl::string_view key)>& fn) override;
  absl::StatusOr<std::unique_ptr<SnapshotRunner>> Snapshot(const SnapshotTarget& target) override;
  absl::Status Restore(const std::string& job_dir,
                       const std::vector<proto::KeyedStateHandle>& handles) override;
  void NotifyCheckpointComplete(int64_t checkpoint_id) override {
    absl::MutexLock lock(&uploads_->mu);
    auto end = uploads_->pending.upper_bound(checkpoint_id);
    for (auto it = uploads_->pending.begin(); it != end; ++it) {
      for (auto& [name, upload] : it->second) uploads_->confirmed[name] = upload;
    }
    uploads_->pending.erase(uploads_->pending.begin(), end);
  }

  // For the state objects.
  const std::string& current() const { return current_; }
  int64_t NowMs() const { return clock_->WallMillis(); }
  bool Live(const CfState& s, absl::string_view stored) const {
    return s.ttl_ms <= 0 || NowMs() - DecodeTime(stored) < s.ttl_ms;
  }
  // Reads `key`; true with the payload (after the write time) when present and live.
  absl::StatusOr<bool> Read(CfState& s, absl::string_view key, std::string* payload) {
    rocksdb::Status st = db_->Get(read_options_, s.handle, ToSlice(key), &read_scratch_);
    if (st.IsNotFound()) return false;
    RETURN_IF_ERROR(FromRocks(st, absl::StrCat("rocksdb state '", s.name, "' get")));
    if (read_scratch_.size() < kTimeBytes) {
      return absl::DataLossError(absl::StrCat("rocksdb state '", s.name, "': value without write time"));
    }
    if (!Live(s, read_scratch_)) return false;
    payload->assign(read_scratch_, kTimeBytes, std::string::npos);
    return true;
  }
  absl::Status Write(CfState& s, absl::string_view key, absl::string_view payload) {
    write_scratch_.clear();
    PutFixed64(&write_scratch_, static_cast<uint64_t>(NowMs()));
    write_scratch_.append(payload.data(), payload.size());
    return FromRocks(db_->Put(write_options_, s.handle, ToSlice(key), write_scratch_),
                     absl::StrCat("rocksdb state '", s.name, "' put"));
  }
  absl::Status Delete(CfState& s, absl::string_view key) {
    return FromRocks(db_->Delete(write_options_, s.handle, ToSlice(key)),
                     absl::StrCat("rocksdb state '", s.name, "' delete"));
  }
  // Every entry of the current key of map state `s` (sorted by user key).
  absl::Status ScanCurrent(CfState& s,
                           const std::function<bool(absl::string_view user_key,
                                                    absl::string_view stored)>& fn) {
    const std::string upper = PrefixSuccessor(current_);
    rocksdb::Slice upper_slice(upper);
    rocksdb::ReadOptions ro = read_options_;
    ro.iterate_upper_bound = &upper_slice;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, s.handle));
    for (it->Seek(ToSlice(current_)); it->Valid(); it->Next()) {
      absl::string_view k = ToView(it->key());
      if (!fn(k.substr(current_.size()), ToView(it->value()))) break;
    }
    return FromRocks(it->status(), absl::StrCat("rocksdb state '", s.name, "' scan"));
  }
  absl::Status DeleteCurrentRange(CfState& s) {
    const std::string upper = PrefixSuccessor(current_);
    return FromRocks(db_->DeleteRange(write_options_, s.handle, ToSlice(current_), upper),
                     absl::StrCat("rocksdb state '", s.name, "' clear"));
  }
  std::string& map_key_scratch() { return map_key_scratch_; }

 private:
  absl::Status OpenDb(const std::string& dir);
  void CloseDb();
  absl::StatusOr<CfState*> GetOrCreate(const StateDescriptor& d);
  CfState* AddState(const std::string& name, StateKind kind);
  absl::StatusOr<CfState*> EnsureCf(const std::string& name, StateKind kind);
  absl::Status Materialize(const std::string& job_dir, const proto::KeyedStateHandle& handle,
                           const nlohmann::json& meta, const std::string& dest);
  absl::Status CopyKeyGroups(const std::string& dir, const nlohmann::json& meta);

  // Point lookups dominate (Get + Put per record): bloom filters on every SST and one block
  // cache shared by the backend's column families.
  rocksdb::Options DbOptions() const {
    rocksdb::Options o;
    o.create_if_missing = true;
    o.create_missing_column_families = true;
    o.max_open_files = 256;
    o.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
    o.keep_log_file_num = 2;
    o.write_buffer_size = 8 << 20;  // bounds the flush in a checkpoint's synchronous part
    o.max_background_jobs = 2;
    rocksdb::BlockBasedTableOptions table;
    table.block_cache = block_cache_;
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    return o;
  }

  // Per state: the DB options plus its TTL compaction filter.
  rocksdb::ColumnFamilyOptions CfOptions(const std::string& name) {
    rocksdb::ColumnFamilyOptions o(DbOptions());
    if (name != rocksdb::kDefaultColumnFamilyName) o.compaction_filter = FilterFor(name);
    return o;
  }
  TtlCompactionFilter* FilterFor(const std::string& name) {
    std::unique_ptr<TtlCompactionFilter>& f = ttl_filters_[name];
    if (f == nullptr) f = std::make_unique<TtlCompactionFilter>(clock_);
    return f.get();
  }

  KeyGroupRange key_groups_;
  const Clock* clock_;
  // Outlive the DB (destroyed after CloseDb in the destructor).
  std::map<std::string, std::unique_ptr<TtlCompactionFilter>> ttl_filters_;
  std::string local_dir_;
  std::string db_dir_;
  std::string instance_id_;
  std::shared_ptr<UploadRegistry> uploads_;
  std::shared_ptr<rocksdb::Cache> block_cache_ = rocksdb::NewLRUCache(128 << 20);
  rocksdb::DB* db_ = nullptr;
  rocksdb::ColumnFamilyHandle* default_cf_ = nullptr;
  rocksdb::WriteOptions write_options_;
  rocksdb::ReadOptions read_options_;
  std::map<std::string, std::unique_ptr<CfState>> states_;
  absl::flat_hash_set<std::string> unbound_cfs_;  // in the DB, not registered when opened
  std::string current_;
  std::string read_scratch_;
  std::string write_scratch_;
  std::string map_key_scratch_;
  int64_t snapshot_counter_ = 0;
};

class RocksValueState final : public ValueState {
 public:
  RocksValueState(RocksDbBackend* b, CfState* s) : b_(b), s_(s) {}
  absl::StatusOr<bool> Get(std::string* value) override { return b_->Read(*s_, b_->current(), value); }
  absl::Status Put(absl::string_view value) override { return b_->Write(*s_, b_->current(), value); }
  absl::Status Clear() override { return b_->Delete(*s_, b_->current()); }

 private:
  RocksDbBackend* b_;
  CfState* s_;
};

class RocksReducingState final : public ReducingState {
 public:
  RocksReducingState(RocksDbBackend* b, CfState* s) : b_(b), s_(s) {}
  absl::Status Add(absl::string_view value) override {
    ASSIGN_OR_RETURN(bool found, b_->Read(*s_, b_->current(), &acc_));
    if (found) {
      s_->reduce(&acc_, value);
    } else {
      acc_.assign(value.data(), value.size());
    }
    return b_->Write(*s_, b_->current(), acc_);
  }
  absl::StatusOr<bool> Get(std::string* accumulator) override {
    return b_->Read(*s_, b_->current(), accumulator);
  }
  absl::Status Clear() override { return b_->Delete(*s_, b_->current()); }

 private:
  RocksDbBackend* b_;
  CfState* s_;
  std::string acc_;
};

class RocksListState final : public ListState {
 public:
  RocksListState(RocksDbBackend* b, CfState* s) : b_(b), s_(s) {}
  absl::Status Add(absl::string_view value) override {
    ASSIGN_OR_RETURN(bool found, b_->Read(*s_, b_->current(), &buf_));
    if (!found) buf_.clear();
    PutBytes(&buf_, value);
    return b_->Write(*s_, b_->current(), buf_);
  }
  absl::Status Get(std::vector<std::string>* values) override {
    values->clear();
    ASSIGN_OR_RETURN(bool found, b_->Read(*s_, b_->current(), &buf_));
    if (!found) return absl::OkStatus();
    Decoder d(buf_);
    while (!d.empty()) {
      absl::string_view v;
      if (!d.GetBytes(&v)) {
        return absl::DataLossError(absl::StrCat("rocksdb list state '", s_->name, "' is malformed"));
      }
      values->emplace_back(v);
    }
    return absl::OkStatus();
  }
  absl::Status Update(const std::vector<std::string>& values) override {
    if (values.empty()) return Clear();
    buf_.clear();
    for (const std::string& v : values) PutBytes(&buf_, v);
    return b_->Write(*s_, b_->current(), buf_);
  }
  absl::Status Clear() override { return b_->Delete(*s_, b_->current()); }

 private:
  RocksDbBackend* b_;
  CfState* s_;
  std::string buf_;
};

class RocksMapState final : public MapState {
 public:
  RocksMapState(RocksDbBackend* b, CfState* s) : b_(b), s_(s) {}
  absl::StatusOr<bool> Get(absl::string_view key, std::string* value) override {
    return b_->Read(*s_, MapKey(key), value);
  }
  absl::Status Put(absl::string_view key, absl::string_view value) override {
    return b_->Write(*s_, MapKey(key), value);
  }
  absl::Status Remove(absl::string_view key) override { return b_->Delete(*s_, MapKey(key)); }
  absl::Status ForEach(
      const std::function<bool(absl::string_view, absl::string_view)>& fn) override {
    return b_->ScanCurrent(*s_, [&](absl::string_view uk, absl::string_view stored) {
      if (stored.size() < kTimeBytes || !b_->Live(*s_, stored)) return true;
      return fn(uk, stored.substr(kTimeBytes));
    });
  }
  absl::Status Clear() override { return b_->DeleteCurrentRange(*s_); }

 private:
  const std::string& MapKey(absl::string_view user_key) {
    std::string& k = b_->map_key_scratch();
    k.assign(b_->current());
    k.append(user_key.data(), user_key.size());
    return k;
  }
  RocksDbBackend* b_;
  CfState* s_;
};

absl::Status RocksDbBackend::OpenDb(const std::string& dir) {
  rocksdb::Options options = DbOptions();
  std::vector<std::string> names;
  rocksdb::Status ls = rocksdb::DB::ListColumnFamilies(options, dir, &names);
  if (!ls.ok()) names = {rocksdb::kDefaultColumnFamilyName};
  std::vector<rocksdb::ColumnFamilyDescriptor> descs;
  for (const std::string& n : names) descs.emplace_back(n, CfOptions(n));
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  unbound_cfs_.clear();
  RETURN_IF_ERROR(FromRocks(rocksdb::DB::Open(options, dir, descs, &handles, &db_),
                            absl::StrCat("cannot open rocksdb state in ", dir)));
  for (rocksdb::ColumnFamilyHandle* h : handles) {
    if (h->GetName() == rocksdb::kDefaultColumnFamilyName) {
      default_cf_ = h;
      continue;
    }
    auto it = states_.find(h->GetName());
    if (it != states_.end()) {
      it->second->handle = h;
    } else {
      unbound_cfs_.insert(h->GetName());  // not registered yet: bound by a reopen
      db_->DestroyColumnFamilyHandle(h);
    }
  }
  // Registered states without a column family in this DB get a new one.
  for (auto& [name, s] : states_) {
    bool found = false;
    for (rocksdb::ColumnFamilyHandle* h : handles) found |= h->GetName() == name;
    if (!found) {
      rocksdb::ColumnFamilyHandle* h = nullptr;
      RETURN_IF_ERROR(FromRocks(db_->CreateColumnFamily(CfOptions(name), name, &h),
                                absl::StrCat("cannot create column family '", name, "'")));
      s->handle = h;
    }
  }
  return absl::OkStatus();
}

void RocksDbBackend::CloseDb() {
  if (db_ == nullptr) return;
  for (auto& [name, s] : states_) {
    if (s->handle != nullptr) db_->DestroyColumnFamilyHandle(s->handle);
    s->handle = nullptr;
  }
  if (default_cf_ != nullptr) db_->DestroyColumnFamilyHandle(default_cf_);
  default_cf_ = nullptr;
  rocksdb::Status st = db_->Close();
  if (!st.ok()) spdlog::warn("closing rocksdb state in {}: {}", db_dir_, st.ToString());
  delete db_;
  db_ = nullptr;
}

CfState* RocksDbBackend::AddState(const std::string& name, StateKind kind) {
  auto s = std::make_unique<CfState>();
  s->name = name;
  s->kind = kind;
  CfState* raw = s.get();
  switch (kind) {
    case StateKind::kValue: raw->value = std::make_unique<RocksValueState>(this, raw); break;
    case StateKind::kList: raw->list = std::make_unique<RocksListState>(this, raw); break;
    case StateKind::kMap: raw->map = std::make_unique<RocksMapState>(this, raw); break;
    case StateKind::kReducing:
      raw->reducing = std::make_unique<RocksReducingState>(this, raw);
      break;
  }
  states_[name] = std::move(s);
  return raw;
}

absl::StatusOr<CfState*> RocksDbBackend::EnsureCf(const std::string& name, StateKind kind) {
  auto it = states_.find(name);
  if (it != states_.end()) {
    if (it->second->kind != kind) {
      return absl::InvalidArgumentError(absl::StrCat(
          "state '", name, "' is registered as ", StateKindName(it->second->kind),
          " state, not ", StateKindName(kind)));
    }
    if (it->second->handle != nullptr) return it->second.get();
  }
  CfState* s = it != states_.end() ? it->second.get() : AddState(name, kind);
  if (unbound_cfs_.contains(name)) {
    // The DB has this family but it was unknown when the DB was opened: reopen to bind it.
    CloseDb();
    RETURN_IF_ERROR(OpenDb(db_dir_));
  } else {
    RETURN_IF_ERROR(FromRocks(
        db_->CreateColumnFamily(CfOptions(name), name, &s->handle),
        absl::StrCat("cannot create column family for state '", name, "'")));
  }
  return s;
}

absl::StatusOr<CfState*> RocksDbBackend::GetOrCreate(const StateDescriptor& d) {
  if (d.name.empty()) return absl::InvalidArgumentError("state name must not be empty");
  if (d.name == rocksdb::kDefaultColumnFamilyName) {
    return absl::InvalidArgumentError("state name 'default' is reserved by the rocksdb backend");
  }
  if (d.kind == StateKind::kReducing && !d.reduce) {
    return absl::InvalidArgumentError(
        absl::StrCat("reducing state '", d.name, "' has no reduce function"));
  }
  ASSIGN_OR_RETURN(CfState * s, EnsureCf(d.name, d.kind));
  s->ttl_ms = absl::ToInt64Milliseconds(d.ttl);
  FilterFor(d.name)->set_ttl_ms(s->ttl_ms);
  s->reduce = d.reduce;
  return s;
}

absl::StatusOr<ValueState*> RocksDbBackend::GetValueState(const StateDescriptor& d) {
  if (d.kind != StateKind::kValue) return absl::InvalidArgumentError("GetValueState needs kind kValue");
  ASSIGN_OR_RETURN(CfState * s, GetOrCreate(d));
  return s->value.get();
}
absl::StatusOr<ListState*> RocksDbBackend::GetListState(const StateDescriptor& d) {
  if (d.kind != StateKind::kList) return absl::InvalidArgumentError("GetListState needs kind kList");
  ASSIGN_OR_RETURN(CfState * s, GetOrCreate(d));
  return s->list.get();
}
absl::StatusOr<MapState*> RocksDbBackend::GetMapState(const StateDescriptor& d) {
  if (d.kind != StateKind::kMap) return absl::InvalidArgumentError("GetMapState needs kind kMap");
  ASSIGN_OR_RETURN(CfState * s, GetOrCreate(d));
  return s->map.get();
}
absl::StatusOr<ReducingState*> RocksDbBackend::GetReducingState(const StateDescriptor& d) {
  if (d.kind != StateKind::kReducing) {
    return absl::InvalidArgumentError("GetReducingState needs kind kReducing");
  }
  ASSIGN_OR_RETURN(CfState * s, GetOrCreate(d));
  return s->reducing.get();
}

absl::Status RocksDbBackend::ForEachKey(
    absl::string_view name, const std::function<void(int key_group, absl::string_view key)>& fn) {
  auto it = states_.find(std::string(name));
  if (it == states_.end()) return absl::NotFoundError(absl::StrCat("no state named '", name, "'"));
  CfState& s = *it->second;
  std::unique_ptr<rocksdb::Iterator> iter(db_->NewIterator(read_options_, s.handle));
  // A map state stores one entry per user key under the same (key group, key) prefix.
  std::string last_prefix;
  bool any = false;
  for (iter->SeekToFirst(); iter->Valid(); iter->Next()) {
    absl::string_view k = ToView(iter->key());
    if (!Live(s, ToView(iter->value()))) continue;
    const size_t plen = StateKeyPrefixLength(k);
    if (plen == 0) continue;
    absl::string_view prefix = k.substr(0, plen);
    if (any && prefix == last_prefix) continue;
    any = true;
    last_prefix.assign(prefix.data(), prefix.size());
    const int key_group = (static_cast<unsigned char>(k[0]) << 8) | static_cast<unsigned char>(k[1]);
    fn(key_group, prefix.substr(6));
  }
  return FromRocks(iter->status(), absl::StrCat("rocksdb state '", name, "' scan"));
}

// The asynchronous part: copies the hard-linked checkpoint out of local_dir.
class RocksDbSnapshotRunner : public SnapshotRunner {
 public:
  RocksDbSnapshotRunner(SnapshotTarget target, KeyGroupRange range, std::string local_snap_dir,
                        std::vector<StateInfo> states, std::string instance_id,
                        std::shared_ptr<UploadRegistry> uploads)
      : target_(std::move(target)),
        range_(range),
        snap_dir_(std::move(local_snap_dir)),
        states_(std::move(states)),
        instance_id_(std::move(instance_id)),
        uploads_(std::move(uploads)) {}
  ~RocksDbSnapshotRunner() override { RemoveAll(snap_dir_); }

  absl::StatusOr<proto::KeyedStateHandle> Run() override {
    ASSIGN_OR_RETURN(std::vector<std::string> names, ListDir(snap_dir_));
    std::sort(names.begin(), names.end());
    const bool incremental = !target_.self_contained;
    RETURN_IF_ERROR(CreateDirs(JoinPath(target_.job_dir, target_.exclusive_subdir)));
    if (incremental) RETURN_IF_ERROR(CreateDirs(JoinPath(target_.job_dir, "shared")));

    absl::flat_hash_map<std::string, UploadRegistry::Upload> confirmed;
    if (incremental) {
      absl::MutexLock lock(&uploads_->mu);
      confirmed = uploads_->confirmed;
    }
    proto::KeyedStateHandle handle;
    handle.set_backend("rocksdb");
    handle.set_key_group_first(range_.first);
    handle.set_key_group_last(range_.last);
    nlohmann::json files = nlohmann::json::array();
    absl::flat_hash_map<std::string, UploadRegistry::Upload> uploaded;
    int64_t total = 0, fresh = 0;
    for (const std::string& name : names) {
      const std::string local = JoinPath(snap_dir_, name);
      ASSIGN_OR_RETURN(int64_t size, FileSize(local));
      const bool sst = absl::EndsWith(name, ".sst");
      std::string rel;
      bool shared = false;
      if (sst && incremental) {
        shared = true;
        auto it = confirmed.find(name);
        if (it != confirmed.end() && it->second.size == size) {
          rel = it->second.path;  // uploaded by a completed checkpoint: reference it
        } else {
          rel = JoinPath("shared", absl::StrCat(target_.file_prefix, "-", instance_id_, "-",
                                                target_.checkpoint_id, "-", name));
          RETURN_IF_ERROR(CopyFileDurably(local, JoinPath(target_.job_dir, rel)).status());
          uploaded[name] = {rel, size};
          fresh += size;
        }
      } else {
        rel = JoinPath(target_.exclusive_subdir, absl::StrCat(target_.file_prefix, "-", name));
        RETURN_IF_ERROR(CopyFileDurably(local, JoinPath(target_.job_dir, rel)).status());
        fresh += size;
      }
      total += size;
      proto::StateFile* f = handle.add_files();
      f->set_path(rel);
      f->set_size(size);
      f->set_shared(shared);
      files.push_back({{"name", name}, {"path", rel}});
    }
    nlohmann::json states = nlohmann::json::array();
    for (const StateInfo& s : states_) {
      states.push_back({{"name", s.name}, {"kind", StateKindName(s.kind)}});
    }
    nlohmann::json meta = {{"format", kMetadataVersion},
                           {"key_group_first", range_.first},
                           {"key_group_last", range_.last},
                           {"states", states},
                           {"files", files}};
    handle.set_backend_metadata(meta.dump());
    handle.set_total_size(total);
    handle.set_incremental_size(fresh);
    if (incremental && !uploaded.empty()) {
      absl::MutexLock lock(&uploads_->mu);
      auto& pending = uploads_->pending[target_.checkpoint_id];
      for (auto& [name, upload] : uploaded) pending[name] = upload;
    }
    RemoveAll(snap_dir_);
    return handle;
  }

 private:
  SnapshotTarget target_;
  KeyGroupRange range_;
  std::string snap_dir_;
  std::vector<StateInfo> states_;
  std::string instance_id_;
  std::shared_ptr<UploadRegistry> uploads_;
};

absl::StatusOr<std::unique_ptr<SnapshotRunner>> RocksDbBackend::Snapshot(
    const SnapshotTarget& target) {
  if (db_ == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("rocksdb state in ", db_dir_, " is not open (failed restore)"));
  }
  const std::string snap_dir =
      JoinPath(local_dir_, absl::StrCat("snap-", target.checkpoint_id, "-", ++snapshot_counter_));
  RemoveAll(snap_dir);
  rocksdb::Checkpoint* raw = nullptr;
  RETURN_IF_ERROR(FromRocks(rocksdb::Checkpoint::Create(db_, &raw), "rocksdb checkpoint"));
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  // log_size_for_flush = 0: always flush the memtables (writes skip the WAL).
  RETURN_IF_ERROR(FromRocks(checkpoint->CreateCheckpoint(snap_dir, 0),
                            absl::StrCat("rocksdb checkpoint into ", snap_dir)));
  std::vector<StateInfo> states;
  for (const auto& [name, s] : states_) states.push_back({name, s->kind});
  return std::unique_ptr<SnapshotRunner>(new RocksDbSnapshotRunner(
      target, key_groups_, snap_dir, std::move(states), instance_id_, uploads_));
}

absl::StatusOr<StateKind> ParseKind(const std::string& s) {
  for (StateKind k : {StateKind::kValue, StateKind::kList, StateKind::kMap, StateKind::kReducing}) {
    if (s == StateKindName(k)) return k;
  }
  return absl::DataLossError(absl::StrCat("unknown state kind '", s, "'"));
}

absl::Status RocksDbBackend::Materialize(const std::string& job_dir,
                                         const proto::KeyedStateHandle& handle,
                                         const nlohmann::json& meta, const std::string& dest) {
  RemoveAll(dest);
  RETURN_IF_ERROR(CreateDirs(dest));
  absl::flat_hash_map<std::string, int64_t> sizes;
  for (const proto::StateFile& f : handle.files()) sizes[f.path()] = f.size();
  for (const nlohmann::json& f : meta.at("files")) {
    const std::string name = f.at("name").get<std::string>();
    const std::string rel = f.at("path").get<std::string>();
    if (name.find('/') != std::string::npos || name == ".." || name.empty()) {
      return absl::DataLossError(absl::StrCat("rocksdb state metadata names a bad file '", name, "'"));
    }
    const std::string src = JoinPath(job_dir, rel);
    absl::StatusOr<int64_t> size = FileSize(src);
    if (!size.ok()) {
      return absl::DataLossError(absl::StrCat("state file missing: ", src, " (", size.status().message(), ")"));
    }
    auto expected = sizes.find(rel);
    if (expected != sizes.end() && expected->second != *size) {
      return absl::DataLossError(absl::StrCat("state file ", src, " is truncated or changed: ",
                                              *size, " bytes, the checkpoint recorded ",
                                              expected->second));
    }
    const std::string to = JoinPath(dest, name);
    if (absl::EndsWith(name, ".sst")) {
      RETURN_IF_ERROR(LinkOrCopy(src, to));  // immutable: RocksDB never writes an SST again
    } else {
      RETURN_IF_ERROR(CopyFileDurably(src, to).status());  // MANIFEST etc. are rewritten
    }
  }
  return absl::OkStatus();
}

absl::Status RocksDbBackend::CopyKeyGroups(const std::string& dir, const nlohmann::json& meta) {
  const int first = std::max(meta.at("key_group_first").get<int>(), key_groups_.first);
  const int last = std::min(meta.at("key_group_last").get<int>(), key_groups_.last);
  if (first > last) return absl::OkStatus();
  rocksdb::Options options = DbOptions();
  options.create_if_missing = false;
  std::vector<std::string> names;
  RETURN_IF_ERROR(FromRocks(rocksdb::DB::ListColumnFamilies(options, dir, &names),
                            absl::StrCat("cannot open restored rocksdb state in ", dir)));
  std::vector<rocksdb::ColumnFamilyDescriptor> descs;
  for (const std::string& n : names) descs.emplace_back(n, rocksdb::ColumnFamilyOptions(options));
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* src = nullptr;
  RETURN_IF_ERROR(FromRocks(rocksdb::DB::OpenForReadOnly(options, dir, descs, &handles, &src),
                            absl::StrCat("cannot open restored rocksdb state in ", dir)));
  std::unique_ptr<rocksdb::DB> src_owner(src);
  absl::Status status = absl::OkStatus();
  const std::string lo = KeyGroupPrefix(first);
  const std::string hi = KeyGroupPrefix(last + 1);
  for (rocksdb::ColumnFamilyHandle* h : handles) {
    if (!status.ok() || h->GetName() == rocksdb::kDefaultColumnFamilyName) continue;
    auto found = states_.find(h->GetName());
    if (found == states_.end() || found->second->handle == nullptr) {
      status = absl::DataLossError(absl::StrCat("restored rocksdb state in ", dir, " has column family '",
                                                h->GetName(), "' that its metadata does not list"));
      continue;
    }
    CfState* target = found->second.get();
    rocksdb::Slice upper(hi);
    rocksdb::ReadOptions ro;
    ro.iterate_upper_bound = &upper;
    ro.fill_cache = false;
    std::unique_ptr<rocksdb::Iterator> it(src->NewIterator(ro, h));
    rocksdb::WriteBatch batch;
    for (it->Seek(lo); it->Valid() && status.ok(); it->Next()) {
      batch.Put(target->handle, it->key(), it->value());
      if (batch.GetDataSize() > (4u << 20)) {
        status = FromRocks(db_->Write(write_options_, &batch), "restoring rocksdb state");
        batch.Clear();
      }
    }
    if (status.ok()) status = FromRocks(it->status(), absl::StrCat("reading restored state in ", dir));
    if (status.ok() && batch.Count() > 0) {
      status = FromRocks(db_->Write(write_options_, &batch), "restoring rocksdb state");
    }
  }
  for (rocksdb::ColumnFamilyHandle* h : handles) src->DestroyColumnFamilyHandle(h);
  return status;
}

absl::Status RocksDbBackend::Restore(const std::string& job_dir,
                                     const std::vector<proto::KeyedStateHandle>& handles) {
  std::vector<nlohmann::json> metas;
  for (const proto::KeyedStateHandle& h : handles) {
    if (h.backend() != "rocksdb") {
      return absl::InvalidArgumentError(absl::StrCat(
          "cannot restore a '", h.backend(),
          "' state snapshot into the rocksdb backend (the job's state backend changed)"));
    }
    nlohmann::json meta = nlohmann::json::parse(h.backend_metadata(), nullptr, false);
    if (meta.is_discarded() || !meta.is_object() || meta.value("format", 0) != kMetadataVersion ||
        !meta.contains("files") || !meta.contains("states")) {
      return absl::DataLossError(absl::StrCat("rocksdb state handle for key groups ",
                                              h.key_group_first(), "..", h.key_group_last(),
                                              " has unreadable backend metadata"));
    }
    metas.push_back(std::move(meta));
  }
  if (handles.empty()) return absl::OkStatus();
  try {
    // Register every state the snapshots hold (kinds must agree with registered ones).
    for (const nlohmann::json& meta : metas) {
      for (const nlohmann::json& s : meta.at("states")) {
        ASSIGN_OR_RETURN(StateKind kind, ParseKind(s.at("kind").get<std::string>()));
        const std::string name = s.at("name").get<std::string>();
        auto it = states_.find(name);
        if (it == states_.end()) {
          AddState(name, kind);  // bound to a column family below
        } else if (it->second->kind != kind) {
          return absl::InvalidArgumentError(absl::StrCat(
              "state '", name, "' is ", StateKindName(kind), " state in the snapshot, but is registered as ",
              StateKindName(it->second->kind)));
        }
      }
    }
    const proto::KeyedStateHandle& h0 = handles[0];
    const bool direct = handles.size() == 1 && h0.key_group_first() >= key_groups_.first &&
                        h0.key_group_last() <= key_groups_.last;
    if (direct) {
      // Our DB becomes the snapshot's DB.
      const std::string staging = JoinPath(local_dir_, "restore-staging");
      RETURN_IF_ERROR(Materialize(job_dir, h0, metas[0], staging));
      CloseDb();
      RemoveAll(db_dir_);
      if (::rename(staging.c_str(), db_dir_.c_str()) != 0) {
        return absl::InternalError(absl::StrCat("cannot move ", staging, " to ", db_dir_));
      }
      RETURN_IF_ERROR(OpenDb(db_dir_));
      // The snapshot's shared files are in a completed checkpoint: later checkpoints
      // reference them instead of uploading them again.
      absl::MutexLock lock(&uploads_->mu);
      absl::flat_hash_map<std::string, int64_t> sizes;
      for (const proto::StateFile& f : h0.files()) {
        if (f.shared()) sizes[f.path()] = f.size();
      }
      for (const nlohmann::json& f : metas[0].at("files")) {
        auto it = sizes.find(f.at("path").get<std::string>());
        if (it == sizes.end()) continue;
        uploads_->confirmed[f.at("name").get<std::string>()] = {it->first, it->second};
      }
    }
    for (const nlohmann::json& meta : metas) {
      for (const nlohmann::json& s : meta.at("states")) {
        ASSIGN_OR_RETURN(StateKind kind, ParseKind(s.at("kind").get<std::string>()));
        RETURN_IF_ERROR(EnsureCf(s.at("name").get<std::string>(), kind).status());
      }
    }
    if (!direct) {
      // Rescaling (or several snapshots): copy only our key groups from each.
      for (size_t i = 0; i < handles.size(); ++i) {
        const std::string tmp = JoinPath(local_dir_, absl::StrCat("restore-", i));
        absl::Status st = Materialize(job_dir, handles[i], metas[i], tmp);
        if (st.ok()) st = CopyKeyGroups(tmp, metas[i]);
        RemoveAll(tmp);
        RETURN_IF_ERROR(st);
      }
    }
  } catch (const nlohmann::json::exception& e) {
    return absl::DataLossError(absl::StrCat("rocksdb state metadata is malformed: ", e.what()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<KeyedStateBackend>> CreateRocksDbBackend(
    const BackendOptions& options) {
  if (options.local_dir.empty()) {
    return absl::InvalidArgumentError("rocksdb state backend needs a local directory");
  }
  auto backend = std::make_unique<RocksDbBackend>(options);
  RETURN_IF_ERROR(backend->Init());
  return std::unique_ptr<KeyedStateBackend>(std::move(backend));
}

}  // namespace sluice::state
