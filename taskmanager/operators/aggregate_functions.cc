#include "taskmanager/operators/aggregate_functions.h"

#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace sluice::taskmanager {

using types::Column;
using types::TypeId;

absl::StatusOr<AggregateFunction> ParseAggregateFunction(absl::string_view name,
                                                         bool has_argument) {
  std::string n = absl::AsciiStrToLower(name);
  if (n == "count") return has_argument ? AggregateFunction::kCount : AggregateFunction::kCountStar;
  if (!has_argument) {
    return absl::InvalidArgumentError(absl::StrCat(n, "() needs an argument"));
  }
  if (n == "sum") return AggregateFunction::kSum;
  if (n == "min") return AggregateFunction::kMin;
  if (n == "max") return AggregateFunction::kMax;
  if (n == "avg") return AggregateFunction::kAvg;
  if (n == "first") return AggregateFunction::kFirst;
  if (n == "last") return AggregateFunction::kLast;
  if (n == "count_distinct") return AggregateFunction::kCountDistinct;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown aggregate function '", name,
                   "' (expected count, sum, min, max, avg, first, last or count_distinct)"));
}

void EncodeValue(const Column& col, size_t row, std::string* out) {
  if (col.IsNull(row)) {
    out->push_back('\0');
    return;
  }
  out->push_back('\1');
  if (types::IsIntegerStored(col.type())) {
    int64_t v = col.Int(row);
    out->append(reinterpret_cast<const char*>(&v), sizeof v);
  } else if (col.type() == TypeId::kFloat64) {
    double v = col.Double(row);
    out->append(reinterpret_cast<const char*>(&v), sizeof v);
  } else {
    absl::string_view s = col.Str(row);
    uint32_t len = static_cast<uint32_t>(s.size());
    out->append(reinterpret_cast<const char*>(&len), sizeof len);
    out->append(s.data(), s.size());
  }
}

absl::StatusOr<AggregateCalls> AggregateCalls::Create(const std::string& op_name,
                                                      const proto::AggregateSpec& agg,
                                                      const types::Schema& input,
                                                      int time_column) {
  AggregateCalls calls;
  calls.time_column_ = time_column;
  for (const proto::AggregateCall& c : agg.calls()) {
    Call call;
    absl::StatusOr<AggregateFunction> function =
        ParseAggregateFunction(c.function(), !c.argument().empty());
    if (!function.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("operator '", op_name, "': ", c.name(), ": ", function.status().message()));
    }
    call.function = *function;
    if (!c.argument().empty()) {
      auto compiled = expr::Compile(c.argument(), input);
      if (!compiled.ok()) {
        return absl::InvalidArgumentError(absl::StrCat("operator '", op_name, "': ", c.name(),
                                                       ": ", compiled.status().message()));
      }
      call.argument = std::move(compiled).value();
      call.argument_type = call.argument->result_type();
      call.values = std::make_shared<Column>(call.argument_type);
    }
    calls.calls_.push_back(std::move(call));
  }
  return calls;
}

void AggregateCalls::Reset(std::vector<Accumulator>& accs) const {
  accs.resize(calls_.size());
  for (Accumulator& a : accs) {
    a.count = 0;
    a.i = 0;
    a.d = 0;
    a.s.clear();
    a.t = 0;
    a.distinct.clear();
  }
}

absl::Status AggregateCalls::Evaluate(const types::RecordBatch& batch) {
  for (Call& call : calls_) {
    if (call.argument) RETURN_IF_ERROR(call.argument->Evaluate(batch, call.values.get()));
  }
  times_ = time_column_ >= 0 ? &batch.column(time_column_) : nullptr;
  return absl::OkStatus();
}

namespace {

// Copies value `row` of `v` (of type `t`) into the accumulator's value fields.
void Keep(const Column& v, size_t row, TypeId t, Accumulator& acc) {
  if (t == TypeId::kFloat64) {
    acc.d = v.Double(row);
  } else if (types::IsIntegerStored(t)) {
    acc.i = v.Int(row);
  } else {
    absl::string_view x = v.Str(row);
    acc.s.assign(x.data(), x.size());
  }
}

// Whether `candidate` replaces `kept` for min (is_min) or max.
bool Better(const Accumulator& candidate, const Accumulator& kept, TypeId t, bool is_min) {
  if (t == TypeId::kFloat64) return is_min ? candidate.d < kept.d : candidate.d > kept.d;
  if (types::IsIntegerStored(t)) return is_min ? candidate.i < kept.i : candidate.i > kept.i;
  return is_min ? candidate.s < kept.s : candidate.s > kept.s;
}

}  // namespace

void AggregateCalls::Update(size_t row, std::vector<Accumulator>& accs) const {
  for (size_t c = 0; c < calls_.size(); ++c) {
    const Call& call = calls_[c];
    Accumulator& acc = accs[c];
    if (call.function == AggregateFunction::kCountStar) {
      ++acc.count;
      continue;
    }
    const Column& v = *call.values;
    if (v.IsNull(row)) continue;
    const bool first = acc.count == 0;
    ++acc.count;
    const TypeId t = call.argument_type;
    switch (call.function) {
      case AggregateFunction::kCount:
      case AggregateFunction::kCountStar:
        break;
      case AggregateFunction::kSum:
        if (t == TypeId::kFloat64) acc.d += v.Double(row);
        else acc.i += v.Int(row);
        break;
      case AggregateFunction::kAvg:
        acc.d += t == TypeId::kFloat64 ? v.Double(row) : static_cast<double>(v.Int(row));
        break;
      case AggregateFunction::kMin:
      case AggregateFunction::kMax: {
        const bool is_min = call.function == AggregateFunction::kMin;
        if (t == TypeId::kFloat64) {
          double x = v.Double(row);
          if (first || (is_min ? x < acc.d : x > acc.d)) acc.d = x;
        } else if (types::IsIntegerStored(t)) {
          int64_t x = v.Int(row);
          if (first || (is_min ? x < acc.i : x > acc.i)) acc.i = x;
        } else {
          absl::string_view x = v.Str(row);
          if (first || (is_min ? x < acc.s : x > acc.s)) acc.s.assign(x.data(), x.size());
        }
        break;
      }
      case AggregateFunction::kFirst:
      case AggregateFunction::kLast: {
        // Event time orders the values (null times count as the earliest); equal times keep
        // arrival order.
        const int64_t time = times_ != nullptr && !times_->IsNull(row) ? times_->Int(row) : INT64_MIN;
        const bool take = first || (call.function == AggregateFunction::kFirst ? time < acc.t
                                                                                : time >= acc.t);
        if (take) {
          Keep(v, row, t, acc);
          acc.t = time;
        }
        break;
      }
      case AggregateFunction::kCountDistinct: {
        std::string encoded;
        EncodeValue(v, row, &encoded);
        acc.distinct.insert(std::move(encoded));
        break;
      }
    }
  }
}

void AggregateCalls::Merge(const std::vector<Accumulator>& from,
                           std::vector<Accumulator>& into) const {
  for (size_t c = 0; c < calls_.size(); ++c) {
    const Call& call = calls_[c];
    const Accumulator& a = from[c];
    Accumulator& acc = into[c];
    if (a.count == 0) continue;
    const bool empty = acc.count == 0;
    acc.count += a.count;
    switch (call.function) {
      case AggregateFunction::kCount:
      case AggregateFunction::kCountStar:
        break;
      case AggregateFunction::kSum:
      case AggregateFunction::kAvg:
        acc.i += a.i;
        acc.d += a.d;
        break;
      case AggregateFunction::kMin:
      case AggregateFunction::kMax:
        if (empty || Better(a, acc, call.argument_type, call.function == AggregateFunction::kMin)) {
          acc.i = a.i;
          acc.d = a.d;
          acc.s = a.s;
        }
        break;
      case AggregateFunction::kFirst:
      case AggregateFunction::kLast:
        if (empty || (call.function == AggregateFunction::kFirst ? a.t < acc.t : a.t >= acc.t)) {
          acc.i = a.i;
          acc.d = a.d;
          acc.s = a.s;
          acc.t = a.t;
        }
        break;
      case AggregateFunction::kCountDistinct:
        acc.distinct.insert(a.distinct.begin(), a.distinct.end());
        break;
    }
  }
}

void AggregateCalls::AppendResults(const std::vector<Accumulator>& accs, types::RecordBatch& out,
                                   size_t first_column) const {
  for (size_t c = 0; c < calls_.size(); ++c) {
    const Call& call = calls_[c];
    const Accumulator& acc = accs[c];
    Column& col = out.mutable_column(first_column + c);
    switch (call.function) {
      case AggregateFunction::kCountStar:
      case AggregateFunction::kCount:
        col.AppendInt(acc.count);
        continue;
      case AggregateFunction::kCountDistinct:
        col.AppendInt(static_cast<int64_t>(acc.distinct.size()));
        continue;
      default:
        break;
    }
    if (acc.count == 0) {
      col.AppendNull();
    } else if (call.function == AggregateFunction::kAvg) {
      col.AppendDouble(acc.d / static_cast<double>(acc.count));
    } else if (col.type() == TypeId::kFloat64) {
      col.AppendDouble(acc.d);
    } else if (types::IsIntegerStored(col.type())) {
      col.AppendInt(acc.i);
    } else {
      col.AppendString(acc.s);
    }
  }
}

namespace {

void AppendFixed(int64_t v, std::string* out) {
  out->append(reinterpret_cast<const char*>(&v), sizeof v);
}
void AppendBytes(absl::string_view bytes, std::string* out) {
  const uint32_t len = static_cast<uint32_t>(bytes.size());
  out->append(reinterpret_cast<const char*>(&len), sizeof len);
  out->append(bytes.data(), bytes.size());
}
bool ReadFixed(absl::string_view& in, void* v) {
  if (in.size() < 8) return false;
  std::memcpy(v, in.data(), 8);
  in.remove_prefix(8);
  return true;
}
bool ReadBytes(absl::string_view& in, std::string* out) {
  uint32_t len;
  if (in.size() < sizeof len) return false;
  std::memcpy(&len, in.data(), sizeof len);
  in.remove_prefix(sizeof len);
  if (in.size() < len) return false;
  out->assign(in.data(), len);
  in.remove_prefix(len);
  return true;
}

}  // namespace

void AggregateCalls::Encode(const std::vector<Accumulator>& accs, std::string* out) const {
  out->clear();
  for (size_t c = 0; c < calls_.size(); ++c) {
    const Accumulator& a = accs[c];
    AppendFixed(a.count, out);
    AppendFixed(a.i, out);
    int64_t d;
    std::memcpy(&d, &a.d, 8);
    AppendFixed(d, out);
    AppendBytes(a.s, out);
    switch (calls_[c].function) {
      case AggregateFunction::kFirst:
      case AggregateFunction::kLast:
        AppendFixed(a.t, out);
        break;
      case AggregateFunction::kCountDistinct:
        AppendFixed(static_cast<int64_t>(a.distinct.size()), out);
        for (const std::string& v : a.distinct) AppendBytes(v, out);
        break;
      default:
        break;
    }
  }
}

bool AggregateCalls::Decode(absl::string_view in, std::vector<Accumulator>& accs) const {
  Reset(accs);
  std::string value;
  for (size_t c = 0; c < calls_.size(); ++c) {
    Accumulator& a = accs[c];
    if (!ReadFixed(in, &a.count) || !ReadFixed(in, &a.i) || !ReadFixed(in, &a.d) ||
        !ReadBytes(in, &a.s)) {
      return false;
    }
    switch (calls_[c].function) {
      case AggregateFunction::kFirst:
      case AggregateFunction::kLast:
        if (!ReadFixed(in, &a.t)) return false;
        break;
      case AggregateFunction::kCountDistinct: {
        int64_t n;
        if (!ReadFixed(in, &n) || n < 0 || static_cast<uint64_t>(n) > in.size()) return false;
        for (int64_t k = 0; k < n; ++k) {
          if (!ReadBytes(in, &value)) return false;
          a.distinct.insert(value);
        }
        break;
      }
      default:
        break;
    }
  }
  return in.empty();
}

}  // namespace sluice::taskmanager
