#include "taskmanager/state/heap_backend.h"

#include <algorithm>
#include <atomic>
#include <limits>

#include "absl/strings/str_cat.h"
#include "common/check.h"
#include "common/status_macros.h"
#include "taskmanager/state/state_io.h"

namespace sluice::state {

const char* StateKindName(StateKind kind) {
  switch (kind) {
    case StateKind::kValue: return "value";
    case StateKind::kList: return "list";
    case StateKind::kMap: return "map";
    case StateKind::kReducing: return "reducing";
  }
  return "unknown";
}

namespace {

template <typename V>
struct Entry {
  V value;
  int64_t write_ms = 0;
};

using StringMap = absl::flat_hash_map<std::string, Entry<std::string>>;

// Kind-specific value encoding in a snapshot section.
void EncodeValue(const std::string& v, std::string* out) { PutBytes(out, v); }
void EncodeValue(const std::vector<std::string>& v, std::string* out) {
  PutFixed32(out, static_cast<uint32_t>(v.size()));
  for (const std::string& s : v) PutBytes(out, s);
}
bool DecodeValue(Decoder& d, std::string* v) {
  absl::string_view s;
  if (!d.GetBytes(&s)) return false;
  v->assign(s.data(), s.size());
  return true;
}
bool DecodeValue(Decoder& d, std::vector<std::string>* v) {
  uint32_t n;
  if (!d.GetFixed32(&n)) return false;
  v->clear();
  for (uint32_t i = 0; i < n; ++i) {
    absl::string_view s;
    if (!d.GetBytes(&s)) return false;
    v->emplace_back(s);
  }
  return true;
}

}  // namespace

// One registered state: its key groups' tables and the metadata from its descriptor.
class HeapStateBase {
 public:
  HeapStateBase(HeapKeyedStateBackend* backend, std::string name, StateKind kind)
      : backend_(backend), name_(std::move(name)), kind_(kind) {}
  virtual ~HeapStateBase() = default;

  const std::string& name() const { return name_; }
  StateKind kind() const { return kind_; }
  void Configure(const StateDescriptor& d) {
    ttl_ms_ = absl::ToInt64Milliseconds(d.ttl);
    reduce_ = d.reduce;
  }
  bool Expired(int64_t write_ms, int64_t now_ms) const {
    return ttl_ms_ > 0 && now_ms - write_ms >= ttl_ms_;
  }
  int64_t ttl_ms() const { return ttl_ms_; }

  // An immutable view of every key group, taken by the synchronous snapshot part.
  class View {
   public:
    virtual ~View() = default;
    // Appends group `index`'s live entries (count, then entries) to `out`, then drops the
    // view's reference to that group: the task's next write to it needs no copy.
    virtual void EncodeGroup(int index, int64_t now_ms, std::string* out) = 0;
  };
  virtual std::unique_ptr<View> Share() = 0;
  // Calls `fn(group index, key)` for every key with a live value.
  virtual void ForEachLiveKey(int64_t now_ms,
                              const std::function<void(int, absl::string_view)>& fn) const = 0;
  // Adds `count` entries decoded from a snapshot section to group `index`.
  virtual bool DecodeGroup(int index, Decoder& d) = 0;

 protected:
  HeapKeyedStateBackend* backend_;
  std::string name_;
  StateKind kind_;
  int64_t ttl_ms_ = 0;
  ReduceFunction reduce_;
};

namespace {

// The per-key-group tables of one state, with copy-on-write sharing for snapshots.
// V is the per-key value: bytes (value, reducing), a list, or a map of user keys (whose
// entries carry their own write time, so for maps the outer write time is unused).
template <typename V>
class HeapTable : public HeapStateBase {
 public:
  using Table = absl::flat_hash_map<std::string, Entry<V>>;
  static constexpr bool kIsMap = std::is_same_v<V, StringMap>;
  // One key group's table and the number of snapshots still reading it.
  struct PinnedTable {
    Table table;
    std::atomic<int> pins{0};
  };

  HeapTable(HeapKeyedStateBackend* backend, std::string name, StateKind kind, int num_groups)
      : HeapStateBase(backend, std::move(name), kind), groups_(num_groups) {
    for (Group& g : groups_) g.table = std::make_shared<PinnedTable>();
  }

  class TableView : public View {
   public:
    TableView(std::vector<std::shared_ptr<PinnedTable>> tables, int64_t ttl_ms)
        : tables_(std::move(tables)), ttl_ms_(ttl_ms) {}
    ~TableView() override {
      for (auto& t : tables_) Unpin(t);
    }
    void EncodeGroup(int index, int64_t now_ms, std::string* out) override {
      HeapTable::Encode(tables_[index]->table, ttl_ms_, now_ms, out);
      Unpin(tables_[index]);
    }
    static void Unpin(std::shared_ptr<PinnedTable>& t) {
      if (t == nullptr) return;
      // Release: this thread's reads of the table happen-before the task's next write.
      t->pins.fetch_sub(1, std::memory_order_release);
      t.reset();
    }

   private:
    std::vector<std::shared_ptr<PinnedTable>> tables_;
    int64_t ttl_ms_;
  };

  std::unique_ptr<View> Share() override {
    cached_ = nullptr;
    std::vector<std::shared_ptr<PinnedTable>> tables;
    tables.reserve(groups_.size());
    for (Group& g : groups_) {
      if (g.delta != nullptr) Materialize(g);  // an earlier snapshot still pins the base
      g.table->pins.fetch_add(1, std::memory_order_relaxed);
      tables.push_back(g.table);
    }
    return std::make_unique<TableView>(std::move(tables), ttl_ms_);
  }

  static bool Live(int64_t ttl_ms, int64_t write_ms, int64_t now_ms) {
    return ttl_ms <= 0 || now_ms - write_ms < ttl_ms;
  }

  static void Encode(const Table& table, int64_t ttl_ms, int64_t now_ms, std::string* out) {
    const size_t count_pos = out->size();
    PutFixed32(out, 0);
    uint32_t count = 0;
    for (const auto& [key, entry] : table) {
      if constexpr (kIsMap) {
        uint32_t live = 0;
        for (const auto& [uk, ue] : entry.value) live += Live(ttl_ms, ue.write_ms, now_ms);
        if (live == 0) continue;
        PutBytes(out, key);
        PutFixed64(out, static_cast<uint64_t>(entry.write_ms));
        PutFixed32(out, live);
        for (const auto& [uk, ue] : entry.value) {
          if (!Live(ttl_ms, ue.write_ms, now_ms)) continue;
          PutBytes(out, uk);
          PutFixed64(out, static_cast<uint64_t>(ue.write_ms));
          PutBytes(out, ue.value);
        }
      } else {
        if (!Live(ttl_ms, entry.write_ms, now_ms)) continue;
        PutBytes(out, key);
        PutFixed64(out, static_cast<uint64_t>(entry.write_ms));
        EncodeValue(entry.value, out);
      }
      ++count;
    }
    std::memcpy(out->data() + count_pos, &count, 4);
  }

  bool DecodeGroup(int index, Decoder& d) override {
    uint32_t count;
    if (!d.GetFixed32(&count)) return false;
    cached_ = nullptr;
    Table& table = Materialize(groups_[index]);
    for (uint32_t i = 0; i < count; ++i) {
      absl::string_view key;
      uint64_t write_ms;
      if (!d.GetBytes(&key) || !d.GetFixed64(&write_ms)) return false;
      Entry<V>& e = table[key];
      e.write_ms = static_cast<int64_t>(write_ms);
      if constexpr (kIsMap) {
        uint32_t n;
        if (!d.GetFixed32(&n)) return false;
        for (uint32_t j = 0; j < n; ++j) {
          absl::string_view uk, uv;
          uint64_t uw;
          if (!d.GetBytes(&uk) || !d.GetFixed64(&uw) || !d.GetBytes(&uv)) return false;
          Entry<std::string>& ue = e.value[uk];
          ue.value.assign(uv.data(), uv.size());
          ue.write_ms = static_cast<int64_t>(uw);
        }
      } else {
        if (!DecodeValue(d, &e.value)) return false;
      }
    }
    return true;
  }

  void ForEachLiveKey(int64_t now_ms,
                      const std::function<void(int, absl::string_view)>& fn) const override {
    for (size_t i = 0; i < groups_.size(); ++i) {
      const Group& g = groups_[i];
      for (const auto& [key, entry] : g.table->table) {
        if (g.delta != nullptr && g.delta->contains(key)) continue;  // visited below
        if (LiveEntry(entry, now_ms)) fn(static_cast<int>(i), key);
      }
      if (g.delta == nullptr) continue;
      for (const auto& [key, entry] : *g.delta) {
        if (!IsTombstone(entry) && LiveEntry(entry, now_ms)) fn(static_cast<int>(i), key);
      }
    }
  }

 protected:
  // A key group's entries: `table` (the base, which snapshots pin and read) and, while a
  // snapshot pins the base, `delta`: the entries written since (copied from the base on
  // their first write, so the copying is proportional to the writes, not to the state) and
  // tombstones for erased keys. Reads look in the delta first. Once no snapshot pins the
  // base, the delta is folded into it (Settle) on the group's next access.
  struct Group {
    std::shared_ptr<PinnedTable> table;
    std::unique_ptr<Table> delta;
  };
  static constexpr int64_t kTombstone = std::numeric_limits<int64_t>::min();
  static bool IsTombstone(const Entry<V>& e) { return e.write_ms == kTombstone; }
  bool LiveEntry(const Entry<V>& e, int64_t now_ms) const {
    if constexpr (kIsMap) {
      for (const auto& [uk, ue] : e.value) {
        if (Live(ttl_ms_, ue.write_ms, now_ms)) return true;
      }
      return false;
    } else {
      return Live(ttl_ms_, e.write_ms, now_ms);
    }
  }

  // Whether a running snapshot still reads this group's base (then it must not change).
  static bool IsPinned(const Group& g) {
    return g.table->pins.load(std::memory_order_acquire) > 0;
  }
  // Folds the delta into the base once no snapshot pins it.
  static void Settle(Group& g) {
    if (g.delta == nullptr || IsPinned(g)) return;
    Table& base = g.table->table;
    for (auto& [key, entry] : *g.delta) {
      if (IsTombstone(entry)) {
        base.erase(key);
      } else {
        base.insert_or_assign(key, std::move(entry));
      }
    }
    g.delta.reset();
  }
  // The group as one unpinned table (a pinned base is copied with the delta applied):
  // restore, and a snapshot taken while an earlier one still pins the group.
  static Table& Materialize(Group& g) {
    Settle(g);
    if (IsPinned(g)) {
      auto copy = std::make_shared<PinnedTable>();
      copy->table = g.table->table;
      g.table = std::move(copy);
      Settle(g);
    }
    return g.table->table;
  }

  Group& current_group() { return groups_[backend_->current_group_index()]; }

  // The current key's live entry (read only), or nullptr. Erases an expired entry when
  // allowed.
  Entry<V>* Find() {
    Group& g = current_group();
    Settle(g);
    const std::string& key = backend_->current_key();
    Entry<V>* e = nullptr;
    if (g.delta != nullptr) {
      auto it = g.delta->find(key);
      if (it != g.delta->end()) {
        if (IsTombstone(it->second)) return nullptr;
        e = &it->second;
      }
    }
    const bool plain = g.delta == nullptr && !IsPinned(g);
    if (e == nullptr) {
      auto it = g.table->table.find(key);
      if (it == g.table->table.end()) return nullptr;
      if constexpr (!kIsMap) {
        if (ttl_ms_ > 0 && !Live(ttl_ms_, it->second.write_ms, backend_->NowMs())) {
          if (plain) g.table->table.erase(it);
          cached_ = nullptr;
          return nullptr;
        }
      }
      e = &it->second;
    } else if constexpr (!kIsMap) {
      if (ttl_ms_ > 0 && !Live(ttl_ms_, e->write_ms, backend_->NowMs())) return nullptr;
    }
    if (plain) {
      // A Get followed by a Put of the same key (the common read-modify-write) skips the
      // second lookup; any insert or erase in this table, a new key or a snapshot resets it.
      cached_ = e;
      cached_key_generation_ = backend_->key_generation();
    }
    return e;
  }
  // The current key's entry for writing (created when absent, holding the previous value
  // otherwise), its write time set to now.
  Entry<V>& Upsert() {
    Group& g = current_group();
    const int64_t now = backend_->NowMs();
    if (cached_ != nullptr && cached_key_generation_ == backend_->key_generation() &&
        g.delta == nullptr && !IsPinned(g)) {
      cached_->write_ms = now;
      return *cached_;
    }
    Settle(g);
    const std::string& key = backend_->current_key();
    if (!IsPinned(g)) {
      Entry<V>& e = g.table->table[key];  // may rehash: other pointers are invalid
      e.write_ms = now;
      cached_ = &e;
      cached_key_generation_ = backend_->key_generation();
      return e;
    }
    cached_ = nullptr;
    Entry<V>& e = DeltaEntry(g, key);
    e.write_ms = now;
    return e;
  }
  // While pinned: the key's delta entry, copied from the base on first write (an empty entry
  // when the key is absent or erased).
  static Entry<V>& DeltaEntry(Group& g, const std::string& key) {
    if (g.delta == nullptr) g.delta = std::make_unique<Table>();
    auto [it, inserted] = g.delta->try_emplace(key);
    Entry<V>& e = it->second;
    if (inserted) {
      auto base = g.table->table.find(key);
      if (base != g.table->table.end()) e = base->second;
    } else if (IsTombstone(e)) {
      e = Entry<V>();
    }
    return e;
  }
  // Entry for writing without creating it (write time unchanged); nullptr when absent.
  Entry<V>* FindMutable() {
    Group& g = current_group();
    Settle(g);
    const std::string& key = backend_->current_key();
    if (!IsPinned(g)) {
      auto it = g.table->table.find(key);
      return it == g.table->table.end() ? nullptr : &it->second;
    }
    cached_ = nullptr;
    if (g.delta != nullptr) {
      auto it = g.delta->find(key);
      if (it != g.delta->end()) return IsTombstone(it->second) ? nullptr : &it->second;
    }
    if (!g.table->table.contains(key)) return nullptr;
    return &DeltaEntry(g, key);
  }
  void Erase() {
    cached_ = nullptr;
    Group& g = current_group();
    Settle(g);
    const std::string& key = backend_->current_key();
    if (!IsPinned(g)) {
      g.table->table.erase(key);
      return;
    }
    if (g.table->table.contains(key)) {
      Entry<V>& e = DeltaEntry(g, key);
      e = Entry<V>();
      e.write_ms = kTombstone;
    } else if (g.delta != nullptr) {
      g.delta->erase(key);
    }
  }

  std::vector<Group> groups_;
  Entry<V>* cached_ = nullptr;  // the current key's entry, while valid (see Find)
  uint64_t cached_key_generation_ = 0;
};

class HeapValueState final : public HeapTable<std::string>, public ValueState {
 public:
  using HeapTable::HeapTable;
  absl::StatusOr<bool> Get(std::string* value) override {
    Entry<std::string>* e = Find();
    if (e == nullptr) return false;
    value->assign(e->value);
    return true;
  }
  absl::Status Put(absl::string_view value) override {
    Upsert().value.assign(value.data(), value.size());
    return absl::OkStatus();
  }
  absl::Status Clear() override {
    Erase();
    return absl::OkStatus();
  }
};

class HeapReducingState final : public HeapTable<std::string>, public ReducingState {
 public:
  using HeapTable::HeapTable;
  absl::Status Add(absl::string_view value) override {
    Entry<std::string>* live = Find();
    if (live == nullptr) {
      Upsert().value.assign(value.data(), value.size());
      return absl::OkStatus();
    }
    Entry<std::string>& e = Upsert();
    reduce_(&e.value, value);
    return absl::OkStatus();
  }
  absl::StatusOr<bool> Get(std::string* accumulator) override {
    Entry<std::string>* e = Find();
    if (e == nullptr) return false;
    accumulator->assign(e->value);
    return true;
  }
  absl::Status Clear() override {
    Erase();
    return absl::OkStatus();
  }
};

class HeapListState final : public HeapTable<std::vector<std::string>>, public ListState {
 public:
  using HeapTable::HeapTable;
  absl::Status Add(absl::string_view value) override {
    const bool live = Find() != nullptr;
    Entry<std::vector<std::string>>& e = Upsert();
    if (!live) e.value.clear();
    e.value.emplace_back(value);
    return absl::OkStatus();
  }
  absl::Status Get(std::vector<std::string>* values) override {
    values->clear();
    if (Entry<std::vector<std::string>>* e = Find()) *values = e->value;
    return absl::OkStatus();
  }
  absl::Status Update(const std::vector<std::string>& values) override {
    if (values.empty()) {
      Erase();
      return absl::OkStatus();
    }
    Upsert().value = values;
    return absl::OkStatus();
  }
  absl::Status Clear() override {
    Erase();
    return absl::OkStatus();
  }
};

class HeapMapState final : public HeapTable<StringMap>, public MapState {
 public:
  using HeapTable::HeapTable;
  absl::StatusOr<bool> Get(absl::string_view key, std::string* value) override {
    Entry<StringMap>* e = Find();
    if (e == nullptr) return false;
    auto it = e->value.find(key);
    if (it == e->value.end() ||
        (ttl_ms_ > 0 && !Live(ttl_ms_, it->second.write_ms, backend_->NowMs()))) {
      return false;
    }
    value->assign(it->second.value);
    return true;
  }
  absl::Status Put(absl::string_view key, absl::string_view value) override {
    Entry<StringMap>& e = Upsert();
    Entry<std::string>& ue = e.value[key];
    ue.value.assign(value.data(), value.size());
    ue.write_ms = e.write_ms;
    return absl::OkStatus();
  }
  absl::Status Remove(absl::string_view key) override {
    Entry<StringMap>* e = FindMutable();
    if (e == nullptr) return absl::OkStatus();
    e->value.erase(key);
    if (e->value.empty()) Erase();
    return absl::OkStatus();
  }
  absl::Status ForEach(
      const std::function<bool(absl::string_view, absl::string_view)>& fn) override {
    Entry<StringMap>* e = Find();
    if (e == nullptr) return absl::OkStatus();
    const int64_t now = backend_->NowMs();
    for (const auto& [uk, ue] : e->value) {
      if (!Live(ttl_ms_, ue.write_ms, now)) continue;
      if (!fn(uk, ue.value)) break;
    }
    return absl::OkStatus();
  }
  absl::Status Clear() override {
    Erase();
    return absl::OkStatus();
  }
};

// The asynchronous part: writes the shared views to `<job_dir>/<exclusive_subdir>/<prefix>`.
class HeapSnapshotRunner : public SnapshotRunner {
 public:
  struct StateSnap {
    std::string name;
    StateKind kind;
    std::unique_ptr<HeapStateBase::View> view;
  };
  HeapSnapshotRunner(SnapshotTarget target, KeyGroupRange range, int64_t now_ms,
                     std::vector<StateSnap> states)
      : target_(std::move(target)), range_(range), now_ms_(now_ms), states_(std::move(states)) {}

  absl::StatusOr<proto::KeyedStateHandle> Run() override {
    const std::string rel = JoinPath(target_.exclusive_subdir,
                                     absl::StrCat(target_.file_prefix, "-keyed.heap"));
    const std::string dir = JoinPath(target_.job_dir, target_.exclusive_subdir);
    RETURN_IF_ERROR(CreateDirs(dir));
    const std::string path = JoinPath(target_.job_dir, rel);
    DurableFileWriter out;
    RETURN_IF_ERROR(out.Open(path));

    // Header.
    std::string header(kHeapMagic, 8);
    PutFixed32(&header, kHeapFormatVersion);
    PutFixed32(&header, static_cast<uint32_t>(range_.first));
    PutFixed32(&header, static_cast<uint32_t>(range_.last));
    PutFixed32(&header, static_cast<uint32_t>(states_.size()));
    for (const StateSnap& s : states_) {
      PutBytes(&header, s.name);
      header.push_back(static_cast<char>(s.kind));
    }
    PutFixed32(&header, Crc32(header));
    RETURN_IF_ERROR(out.Append(header));

    // One section per key group; the index remembers where.
    std::string index;
    std::string section;
    for (int g = 0; g < range_.size(); ++g) {
      section.clear();
      for (StateSnap& s : states_) s.view->EncodeGroup(g, now_ms_, &section);
      PutFixed64(&index, static_cast<uint64_t>(out.bytes_written()));
      PutFixed64(&index, section.size());
      PutFixed32(&index, Crc32(section));
      RETURN_IF_ERROR(out.Append(section));
    }
    const uint64_t index_offset = static_cast<uint64_t>(out.bytes_written());
    std::string footer;
    PutFixed64(&footer, index_offset);
    PutFixed32(&footer, Crc32(index));
    footer.append(kHeapMagic, 8);
    RETURN_IF_ERROR(out.Append(index));
    RETURN_IF_ERROR(out.Append(footer));
    const int64_t size = out.bytes_written();
    RETURN_IF_ERROR(out.Finish());

    proto::KeyedStateHandle handle;
    handle.set_backend("heap");
    handle.set_key_group_first(range_.first);
    handle.set_key_group_last(range_.last);
    proto::StateFile* f = handle.add_files();
    f->set_path(rel);
    f->set_size(size);
    f->set_shared(false);
    handle.set_total_size(size);
    handle.set_incremental_size(size);
    return handle;
  }

 private:
  SnapshotTarget target_;
  KeyGroupRange range_;
  int64_t now_ms_;
  std::vector<StateSnap> states_;
};

constexpr size_t kFooterSize = 8 + 4 + 8;
constexpr size_t kIndexEntrySize = 8 + 8 + 4;

}  // namespace

HeapKeyedStateBackend::HeapKeyedStateBackend(const BackendOptions& options)
    : key_groups_(options.key_groups),
      clock_(options.clock != nullptr ? options.clock : SystemClock::Get()) {
  SLUICE_CHECK(key_groups_.size() > 0, "heap backend needs a non-empty key group range");
}

HeapKeyedStateBackend::~HeapKeyedStateBackend() = default;

void HeapKeyedStateBackend::SetCurrentKey(int key_group, absl::string_view key) {
  SLUICE_CHECK(key_groups_.Contains(key_group),
               absl::StrCat("key group ", key_group, " outside ", key_groups_.first, "..",
                            key_groups_.last));
  current_group_index_ = key_group - key_groups_.first;
  current_key_.assign(key.data(), key.size());
  ++key_generation_;
}

HeapStateBase* HeapKeyedStateBackend::CreateState(const std::string& name, StateKind kind) {
  const int n = key_groups_.size();
  std::unique_ptr<HeapStateBase> state;
  switch (kind) {
    case StateKind::kValue:
      state = std::make_unique<HeapValueState>(this, name, kind, n);
      break;
    case StateKind::kReducing:
      state = std::make_unique<HeapReducingState>(this, name, kind, n);
      break;
    case StateKind::kList:
      state = std::make_unique<HeapListState>(this, name, kind, n);
      break;
    case StateKind::kMap:
      state = std::make_unique<HeapMapState>(this, name, kind, n);
      break;
  }
  HeapStateBase* raw = state.get();
  states_.push_back(std::move(state));
  by_name_[name] = raw;
  return raw;
}

absl::StatusOr<HeapStateBase*> HeapKeyedStateBackend::GetOrCreate(
    const StateDescriptor& descriptor) {
  if (descriptor.name.empty()) return absl::InvalidArgumentError("state name must not be empty");
  if (descriptor.kind == StateKind::kReducing && !descriptor.reduce) {
    return absl::InvalidArgumentError(
        absl::StrCat("reducing state '", descriptor.name, "' has no reduce function"));
  }
  HeapStateBase* state;
  auto it = by_name_.find(descriptor.name);
  if (it == by_name_.end()) {
    state = CreateState(descriptor.name, descriptor.kind);
  } else {
    state = it->second;
    if (state->kind() != descriptor.kind) {
      return absl::InvalidArgumentError(absl::StrCat(
          "state '", descriptor.name, "' is registered as ", StateKindName(state->kind()),
          " state, not ", StateKindName(descriptor.kind)));
    }
  }
  state->Configure(descriptor);
  return state;
}

absl::StatusOr<ValueState*> HeapKeyedStateBackend::GetValueState(const StateDescriptor& d) {
  if (d.kind != StateKind::kValue) return absl::InvalidArgumentError("GetValueState needs kind kValue");
  ASSIGN_OR_RETURN(HeapStateBase * s, GetOrCreate(d));
  return static_cast<HeapValueState*>(s);
}
absl::StatusOr<ListState*> HeapKeyedStateBackend::GetListState(const StateDescriptor& d) {
  if (d.kind != StateKind::kList) return absl::InvalidArgumentError("GetListState needs kind kList");
  ASSIGN_OR_RETURN(HeapStateBase * s, GetOrCreate(d));
  return static_cast<HeapListState*>(s);
}
absl::StatusOr<MapState*> HeapKeyedStateBackend::GetMapState(const StateDescriptor& d) {
  if (d.kind != StateKind::kMap) return absl::InvalidArgumentError("GetMapState needs kind kMap");
  ASSIGN_OR_RETURN(HeapStateBase * s, GetOrCreate(d));
  return static_cast<HeapMapState*>(s);
}
absl::StatusOr<ReducingState*> HeapKeyedStateBackend::GetReducingState(const StateDescriptor& d) {
  if (d.kind != StateKind::kReducing) {
    return absl::InvalidArgumentError("GetReducingState needs kind kReducing");
  }
  ASSIGN_OR_RETURN(HeapStateBase * s, GetOrCreate(d));
  return static_cast<HeapReducingState*>(s);
}

absl::Status HeapKeyedStateBackend::ForEachKey(
    absl::string_view name, const std::function<void(int key_group, absl::string_view key)>& fn) {
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return absl::NotFoundError(absl::StrCat("no state named '", name, "'"));
  const int first = key_groups_.first;
  it->second->ForEachLiveKey(NowMs(), [&](int index, absl::string_view key) {
    fn(first + index, key);
  });
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<SnapshotRunner>> HeapKeyedStateBackend::Snapshot(
    const SnapshotTarget& target) {
  std::vector<HeapSnapshotRunner::StateSnap> states;
  states.reserve(states_.size());
  for (const auto& s : states_) {
    states.push_back({s->name(), s->kind(), s->Share()});
  }
  return std::unique_ptr<SnapshotRunner>(
      new HeapSnapshotRunner(target, key_groups_, NowMs(), std::move(states)));
}

absl::Status HeapKeyedStateBackend::Restore(const std::string& job_dir,
                                            const std::vector<proto::KeyedStateHandle>& handles) {
  for (const proto::KeyedStateHandle& h : handles) RETURN_IF_ERROR(RestoreOne(job_dir, h));
  return absl::OkStatus();
}

absl::Status HeapKeyedStateBackend::RestoreOne(const std::string& job_dir,
                                               const proto::KeyedStateHandle& handle) {
  if (handle.backend() != "heap") {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot restore a '", handle.backend(),
        "' state snapshot into the heap backend (the job's state backend changed)"));
  }
  if (handle.files_size() != 1) {
    return absl::DataLossError(absl::StrCat("heap state handle for key groups ",
                                            handle.key_group_first(), "..",
                                            handle.key_group_last(), " lists ",
                                            handle.files_size(), " files, expected 1"));
  }
  const std::string path = JoinPath(job_dir, handle.files(0).path());
  RandomAccessFile file;
  if (absl::Status s = file.Open(path); !s.ok()) {
    return absl::DataLossError(absl::StrCat("state file missing or unreadable: ", s.message()));
  }
  auto corrupt = [&](absl::string_view what) {
    return absl::DataLossError(absl::StrCat("state file ", path, " is corrupt: ", what));
  };
  if (handle.files(0).size() > 0 && file.size() != handle.files(0).size()) {
    return absl::DataLossError(absl::StrCat("state file ", path, " is truncated or changed: ",
                                            file.size(), " bytes, the checkpoint recorded ",
                                            handle.files(0).size()));
  }
  if (file.size() < static_cast<int64_t>(kFooterSize + 8)) {
    return absl::DataLossError(absl::StrCat("state file ", path, " is truncated (",
                                            file.size(), " bytes)"));
  }
  std::string footer;
  RETURN_IF_ERROR(file.ReadAt(file.size() - kFooterSize, kFooterSize, &footer));
  if (footer.compare(12, 8, kHeapMagic, 8) != 0) {
    return absl::DataLossError(
        absl::StrCat("state file ", path, " is truncated or not a heap state file (bad footer)"));
  }
  Decoder fd(footer);
  uint64_t index_offset = 0;
  uint32_t index_crc = 0;
  fd.GetFixed64(&index_offset);
  fd.GetFixed32(&index_crc);

  // Header: everything before the first section; read a generous prefix and parse.
  const int64_t header_max = std::min<int64_t>(static_cast<int64_t>(index_offset), 1 << 20);
  std::string header;
  RETURN_IF_ERROR(file.ReadAt(0, static_cast<size_t>(header_max), &header));
  Decoder hd(header);
  absl::string_view magic;
  uint32_t version, first, last, num_states;
  if (!hd.GetRaw(8, &magic) || magic != absl::string_view(kHeapMagic, 8)) {
    return corrupt("bad magic");
  }
  if (!hd.GetFixed32(&version) || version != kHeapFormatVersion) {
    return corrupt(absl::StrCat("unsupported format version ", version));
  }
  if (!hd.GetFixed32(&first) || !hd.GetFixed32(&last) || !hd.GetFixed32(&num_states)) {
    return corrupt("short header");
  }
  std::vector<std::pair<std::string, StateKind>> names;
  for (uint32_t i = 0; i < num_states; ++i) {
    absl::string_view name, kind;
    if (!hd.GetBytes(&name) || !hd.GetRaw(1, &kind) || kind[0] < 0 || kind[0] > 3) {
      return corrupt("bad state table");
    }
    names.emplace_back(std::string(name), static_cast<StateKind>(kind[0]));
  }
  // The header crc covers everything before it: magic, 4 fixed32, the state table.
  {
    size_t len = 8 + 16;
    for (const auto& [name, kind] : names) len += 4 + name.size() + 1;
    uint32_t stored;
    Decoder crc_d(absl::string_view(header).substr(len));
    if (!crc_d.GetFixed32(&stored) || stored != Crc32(absl::string_view(header).substr(0, len))) {
      return corrupt("header checksum mismatch");
    }
  }
  const int file_first = static_cast<int>(first), file_last = static_cast<int>(last);
  if (file_first != handle.key_group_first() || file_last != handle.key_group_last() ||
      file_last < file_first) {
    return corrupt(absl::StrCat("key groups ", file_first, "..", file_last,
                                " do not match the handle's ", handle.key_group_first(), "..",
                                handle.key_group_last()));
  }
  const int num_groups = file_last - file_first + 1;
  const size_t index_len = kIndexEntrySize * static_cast<size_t>(num_groups);
  if (index_offset + index_len + kFooterSize != static_cast<uint64_t>(file.size())) {
    return corrupt("index size does not match the file size");
  }
  std::string index;
  RETURN_IF_ERROR(file.ReadAt(static_cast<int64_t>(index_offset), index_len, &index));
  if (Crc32(index) != index_crc) return corrupt("index checksum mismatch");

  // States in file order (created when not registered yet; kinds must match).
  std::vector<HeapStateBase*> targets;
  for (const auto& [name, kind] : names) {
    auto it = by_name_.find(name);
    if (it == by_name_.end()) {
      targets.push_back(CreateState(name, kind));
    } else if (it->second->kind() != kind) {
      return absl::InvalidArgumentError(absl::StrCat(
          "state '", name, "' in ", path, " is ", StateKindName(kind), " state, but is registered as ",
          StateKindName(it->second->kind())));
    } else {
      targets.push_back(it->second);
    }
  }

  const int lo = std::max(file_first, key_groups_.first);
  const int hi = std::min(file_last, key_groups_.last);
  std::string section;
  for (int g = lo; g <= hi; ++g) {
    Decoder id(absl::string_view(index).substr(kIndexEntrySize * (g - file_first)));
    uint64_t offset = 0, length = 0;
    uint32_t crc = 0;
    id.GetFixed64(&offset);
    id.GetFixed64(&length);
    id.GetFixed32(&crc);
    if (offset + length > index_offset) return corrupt(absl::StrCat("key group ", g, " out of bounds"));
    RETURN_IF_ERROR(file.ReadAt(static_cast<int64_t>(offset), length, &section));
    if (Crc32(section) != crc) return corrupt(absl::StrCat("key group ", g, " checksum mismatch"));
    Decoder sd(section);
    for (HeapStateBase* s : targets) {
      if (!s->DecodeGroup(g - key_groups_.first, sd)) {
        return corrupt(absl::StrCat("key group ", g, " state '", s->name(), "' is malformed"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace sluice::state
