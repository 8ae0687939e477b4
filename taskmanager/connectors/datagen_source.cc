#include "taskmanager/connectors/datagen_source.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/hash.h"
#include "common/types/format_values.h"
#include "proto/checkpoint.pb.h"
#include "taskmanager/connectors/schema_util.h"

namespace sluice::taskmanager::connectors {

using types::Column;
using types::TypeId;

struct DatagenSource::ColumnGen {
  enum class Kind { kSequence, kRandom, kChoice };
  TypeId type;
  Kind kind;
  int64_t imin = 0;  // int64 / timestamp (ms) / string and bytes lengths / sequence start
  int64_t imax = 0;
  double dmin = 0;  // float64 random
  double dmax = 0;
  bool wraps = false;  // sequence with a max
  uint64_t span = 0;   // sequence: max - min + 1; random int: max - min + 1 (0 = 2^64)
  uint64_t key = 0;    // hash key of (seed, column name)
  Column choices{TypeId::kInt64};
};

namespace {

using Gen = DatagenSource::ColumnGen;

// SplitMix64 finalizer: a counter-based generator, so row g's values do not depend on how
// rows were batched.
uint64_t Mix(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t HashOf(uint64_t key, int64_t g) { return Mix(key ^ Mix(static_cast<uint64_t>(g))); }

absl::Status Error(const proto::OperatorSpec& spec, absl::string_view column,
                   absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("datagen source '", spec.name(), "': column '", column, "': ", what));
}

absl::StatusOr<Gen> MakeGen(const proto::OperatorSpec& spec, const types::Field& field,
                            const proto::DatagenFieldSpec* f, uint64_t seed) {
  Gen gen;
  gen.type = field.type;
  gen.key = Mix(seed ^ Fnv1a64(field.name));
  std::string kind = f != nullptr ? f->kind() : "";
  if (kind.empty()) kind = field.type == TypeId::kTimestamp ? "sequence" : "random";
  const bool has_min = f != nullptr && f->has_min();
  const bool has_max = f != nullptr && f->has_max();
  const bool is_string = types::IsStringStored(field.type);
  if (kind == "sequence") {
    gen.kind = Gen::Kind::kSequence;
    gen.imin = has_min ? std::llround(f->min())
                       : (field.type == TypeId::kTimestamp ? DatagenSource::kEpochMillis : 0);
    gen.dmin = has_min ? f->min() : static_cast<double>(gen.imin);
    if (has_max) {
      if (f->max() < gen.dmin) return Error(spec, field.name, "sequence max is below min");
      gen.wraps = true;
      gen.span = static_cast<uint64_t>(std::floor(f->max() - gen.dmin)) + 1;
    }
  } else if (kind == "random") {
    gen.kind = Gen::Kind::kRandom;
    if (field.type == TypeId::kFloat64) {
      gen.dmin = has_min ? f->min() : 0;
      gen.dmax = has_max ? f->max() : 1000;
      if (gen.dmax < gen.dmin) return Error(spec, field.name, "random max is below min");
    } else {
      int64_t dmin = 0, dmax = 1'000'000;
      if (is_string) dmin = dmax = 8;
      if (field.type == TypeId::kTimestamp) {
        dmin = DatagenSource::kEpochMillis;
        dmax = dmin + 86'400'000;
      }
      gen.imin = has_min ? std::llround(f->min()) : dmin;
      gen.imax = has_max ? std::llround(f->max()) : dmax;
      if (is_string && has_min != has_max) {  // one bound given: a fixed length
        gen.imin = gen.imax = has_min ? gen.imin : gen.imax;
      }
      if (gen.imax < gen.imin) return Error(spec, field.name, "random max is below min");
      if (is_string && (gen.imin < 0 || gen.imax > (1 << 20))) {
        return Error(spec, field.name, "random length must be within 0..1048576");
      }
      gen.span = static_cast<uint64_t>(gen.imax) - static_cast<uint64_t>(gen.imin) + 1;
    }
  } else if (kind == "choice") {
    gen.kind = Gen::Kind::kChoice;
    if (f->values().empty()) return Error(spec, field.name, "choice needs a list of values");
    gen.choices = Column(field.type);
    for (const std::string& v : f->values()) {
      if (!types::AppendParsedText(field.type, v, types::TimestampUnit::kMillis, &gen.choices)) {
        return Error(spec, field.name,
                     absl::StrCat("choice value '", v, "' is not a ", types::TypeName(field.type)));
      }
    }
  } else {
    return Error(spec, field.name,
                 absl::StrCat("unknown kind '", kind, "' (expected sequence, random or choice)"));
  }
  return gen;
}

void AppendSequence(const Gen& gen, int64_t g, Column* col, std::string* scratch) {
  int64_t i = gen.wraps ? static_cast<int64_t>(static_cast<uint64_t>(g) % gen.span) : g;
  switch (gen.type) {
    case TypeId::kBool:
      col->AppendInt(i & 1);
      break;
    case TypeId::kInt64:
      col->AppendInt(gen.imin + i);
      break;
    case TypeId::kFloat64:
      col->AppendDouble(gen.dmin + static_cast<double>(i));
      break;
    case TypeId::kTimestamp:
      col->AppendInt((gen.imin + i) * 1000);
      break;
    case TypeId::kString:
    case TypeId::kBytes:
      scratch->clear();
      types::AppendInt64(gen.imin + i, scratch);
      col->AppendString(*scratch);
      break;
  }
}

void AppendRandom(const Gen& gen, int64_t g, Column* col, std::string* scratch) {
  uint64_t h = HashOf(gen.key, g);
  switch (gen.type) {
    case TypeId::kBool:
      col->AppendInt(static_cast<int64_t>(h >> 63));
      break;
    case TypeId::kInt64:
    case TypeId::kTimestamp: {
      uint64_t offset = gen.span == 0 ? h : h % gen.span;
      int64_t v = static_cast<int64_t>(static_cast<uint64_t>(gen.imin) + offset);
      col->AppendInt(gen.type == TypeId::kTimestamp ? v * 1000 : v);
      break;
    }
    case TypeId::kFloat64: {
      double unit = static_cast<double>(h >> 11) * 0x1p-53;  // [0, 1)
      col->AppendDouble(gen.dmin + unit * (gen.dmax - gen.dmin));
      break;
    }
    case TypeId::kString:
    case TypeId::kBytes: {
      size_t len = static_cast<size_t>(gen.imin) + static_cast<size_t>(h % gen.span);
      scratch->resize(len);
      uint64_t bits = 0;
      for (size_t j = 0; j < len; ++j) {
        if (j % 8 == 0) bits = Mix(h + j);
        if (gen.type == TypeId::kString) {
          (*scratch)[j] = static_cast<char>('a' + bits % 26);
          bits /= 26;
        } else {
          (*scratch)[j] = static_cast<char>(bits & 0xff);
          bits >>= 8;
        }
      }
      col->AppendString(*scratch);
      break;
    }
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<DatagenSource>> DatagenSource::Create(
    const proto::OperatorSpec& spec) {
  const proto::DatagenSourceSpec& d = spec.datagen_source();
  auto schema = SchemaOf(spec.output_schema());
  if (!schema.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("datagen source '", spec.name(), "': ", schema.status().message()));
  }
  for (const auto& [name, unused] : d.fields()) {
    if (!(*schema)->IndexOf(name).has_value()) {
      std::vector<std::string> names;
      for (const types::Field& f : (*schema)->fields()) names.push_back(f.name);
      return absl::InvalidArgumentError(
          absl::StrCat("datagen source '", spec.name(), "': fields: no column '", name,
                       "' (columns: ", absl::StrJoin(names, ", "), ")"));
    }
  }
  if (d.rows_per_second() < 0 || std::isnan(d.rows_per_second())) {
    return absl::InvalidArgumentError(
        absl::StrCat("datagen source '", spec.name(), "': rows_per_second must be >= 0"));
  }
  std::vector<ColumnGen> columns;
  for (const types::Field& field : (*schema)->fields()) {
    auto it = d.fields().find(field.name);
    auto gen = MakeGen(spec, field, it == d.fields().end() ? nullptr : &it->second, d.seed());
    if (!gen.ok()) return gen.status();
    columns.push_back(*std::move(gen));
  }
  return std::unique_ptr<DatagenSource>(
      new DatagenSource(*std::move(schema), std::move(columns), d.count(), d.rows_per_second()));
}

DatagenSource::DatagenSource(types::SchemaPtr schema, std::vector<ColumnGen> columns, int64_t count,
                             double rows_per_second)
    : schema_(std::move(schema)),
      columns_(std::move(columns)),
      count_(count),
      rows_per_second_(rows_per_second),
      batch_(schema_) {}

DatagenSource::~DatagenSource() = default;

absl::Status DatagenSource::Open(const OperatorContext& ctx) {
  clock_ = ctx.clock != nullptr ? ctx.clock : SystemClock::Get();
  subtask_ = ctx.subtask;
  parallelism_ = std::max(1, ctx.parallelism);
  sequences_ = {MakeSequence(subtask_, parallelism_, 0)};
  if (rows_per_second_ > 0) {
    rate_ = rows_per_second_ / parallelism_ / 1000.0;
    // Emit ~100 ms worth of rows at a time (at most a batch). The bucket holds two of those, and
    // at least 20 ms of rows, so that the task's wake-ups (about a millisecond apart at best)
    // lose no tokens at high rates.
    target_ = std::max(1.0, std::min<double>(kBatchRows, std::floor(rate_ * 100)));
    capacity_ = std::max(2 * target_, rate_ * 20);
    tokens_ = target_;
    last_refill_ms_ = clock_->NowMillis();
  }
  return absl::OkStatus();
}

size_t DatagenSource::Allowed(size_t wanted) {
  if (rate_ <= 0) return wanted;
  const int64_t now = clock_->NowMillis();
  tokens_ = std::min(capacity_, tokens_ + static_cast<double>(now - last_refill_ms_) * rate_);
  last_refill_ms_ = now;
  // Wait for target_ rows rather than emitting tiny batches.
  const double target = std::min(static_cast<double>(wanted), target_);
  if (tokens_ >= target) {
    size_t n = std::min(wanted, static_cast<size_t>(tokens_));
    tokens_ -= static_cast<double>(n);
    return n;
  }
  idle_wait_ms_ = std::max<int64_t>(1, static_cast<int64_t>(std::ceil((target - tokens_) / rate_)));
  return 0;
}

void DatagenSource::Generate(int64_t first, int64_t step, size_t n) {
  std::string scratch;
  for (size_t c = 0; c < columns_.size(); ++c) {
    const ColumnGen& gen = columns_[c];
    Column* col = &batch_.mutable_column(c);
    col->Reserve(n);
    // One loop per kind: the row loops stay tight (no per-row switch).
    const int64_t end = first + static_cast<int64_t>(n) * step;
    switch (gen.kind) {
      case ColumnGen::Kind::kSequence:
        for (int64_t g = first; g != end; g += step) AppendSequence(gen, g, col, &scratch);
        break;
      case ColumnGen::Kind::kRandom:
        for (int64_t g = first; g != end; g += step) AppendRandom(gen, g, col, &scratch);
        break;
      case ColumnGen::Kind::kChoice:
        for (int64_t g = first; g != end; g += step) {
          col->AppendFrom(gen.choices, HashOf(gen.key, g) % gen.choices.size());
        }
        break;
    }
  }
  batch_.SetNumRows(n);
}

DatagenSource::Sequence DatagenSource::MakeSequence(int64_t offset, int64_t stride,
                                                   int64_t emitted) const {
  Sequence s{offset, stride, emitted, -1};
  if (count_ >= 0) s.limit = count_ > offset ? (count_ - offset + stride - 1) / stride : 0;
  return s;
}

absl::Status DatagenSource::InitializeState(StateInitContext& ctx) {
  if (!ctx.restored) return absl::OkStatus();
  // Restored: exactly the sequences handed to this subtask (none when the job was scaled out
  // beyond the number of sequences).
  sequences_.clear();
  current_ = 0;
  for (const std::string& blob : ctx.operator_state) {
    proto::DatagenSourceState state;
    if (!state.ParseFromString(blob)) {
      return absl::DataLossError("datagen source: corrupt checkpointed position");
    }
    for (const auto& s : state.sequences()) {
      if (s.stride() < 1 || s.offset() < 0 || s.emitted() < 0) {
        return absl::DataLossError("datagen source: invalid checkpointed sequence");
      }
      sequences_.push_back(MakeSequence(s.offset(), s.stride(), s.emitted()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> DatagenSource::SnapshotState(int64_t checkpoint_id) {
  proto::DatagenSourceState state;
  for (const Sequence& s : sequences_) {
    proto::DatagenSourceState::Sequence* out = state.add_sequences();
    out->set_offset(s.offset);
    out->set_stride(s.stride);
    out->set_emitted(s.emitted);
  }
  return state.SerializeAsString();
}

absl::StatusOr<SourcePoll> DatagenSource::PollNext(Collector& out) {
  // The next sequence with rows left, taking turns.
  size_t tried = 0;
  while (tried < sequences_.size() && sequences_[current_].done()) {
    current_ = (current_ + 1) % sequences_.size();
    ++tried;
  }
  if (tried == sequences_.size()) return SourcePoll::kEnd;
  Sequence& seq = sequences_[current_];
  size_t wanted = kBatchRows;
  if (seq.limit >= 0) wanted = static_cast<size_t>(std::min<int64_t>(wanted, seq.limit - seq.emitted));
  size_t n = Allowed(wanted);
  if (n == 0) return SourcePoll::kIdle;
  batch_.Clear();
  Generate(seq.offset + seq.emitted * seq.stride, seq.stride, n);
  seq.emitted += static_cast<int64_t>(n);
  emitted_ += static_cast<int64_t>(n);
  current_ = (current_ + 1) % sequences_.size();
  absl::Status s = out.Collect(batch_);
  if (!s.ok()) return s;
  const bool all_done = std::all_of(sequences_.begin(), sequences_.end(),
                                    [](const Sequence& q) { return q.done(); });
  return all_done ? SourcePoll::kEnd : SourcePoll::kMore;
}

}  // namespace sluice::taskmanager::connectors
