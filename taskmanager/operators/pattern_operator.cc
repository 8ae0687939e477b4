#include "taskmanager/operators/pattern_operator.h"

#include <algorithm>
#include <cstring>
#include <random>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/types/batch_serde.h"
#include "taskmanager/operators/basic_operators.h"
#include "taskmanager/operators/time_windows.h"

namespace sluice::taskmanager {
namespace {

constexpr char kExpiryTimer[] = "x";

void PutInt(int64_t v, std::string* out) { out->append(reinterpret_cast<const char*>(&v), 8); }
bool GetInt(absl::string_view& in, int64_t* v) {
  if (in.size() < 8) return false;
  std::memcpy(v, in.data(), 8);
  in.remove_prefix(8);
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Operator>> PatternOperator::Create(const proto::OperatorSpec& spec) {
  const proto::PatternSpec& pattern = spec.pattern();
  auto error = [&spec](absl::string_view message) {
    return absl::InvalidArgumentError(absl::StrCat("operator '", spec.name(), "': ", message));
  };
  std::unique_ptr<PatternOperator> op(new PatternOperator());
  op->name_ = spec.name();
  ASSIGN_OR_RETURN(op->input_, InputSchemaOf(spec));
  ASSIGN_OR_RETURN(op->output_, OutputSchemaOf(spec));
  ASSIGN_OR_RETURN(KeyedInput keys, KeyedInput::Create(spec.name(), pattern.key_columns(), *op->input_));
  op->keys_ = std::make_unique<KeyedInput>(std::move(keys));
  std::optional<int> time = op->input_->IndexOf(pattern.time_column());
  if (!time || op->input_->field(*time).type != types::TypeId::kTimestamp) {
    return error(absl::StrCat("pattern time column '", pattern.time_column(),
                              "' is not a timestamp column of (", op->input_->ToString(), ")"));
  }
  op->time_column_ = *time;
  // The match row: the event's columns, then "<step>.<column>" for every positive step.
  std::vector<types::Field> fields = op->input_->fields();
  for (const proto::PatternStep& step : pattern.steps()) {
    for (const types::Field& f : op->input_->fields()) {
      fields.push_back({absl::StrCat(step.name(), ".", f.name), f.type});
    }
  }
  op->match_schema_ = std::make_shared<const types::Schema>(std::move(fields));
  if (pattern.steps().empty()) return error("a pattern needs at least one step");
  for (const proto::PatternStep& s : pattern.steps()) {
    Step step;
    step.name = s.name();
    if (s.after() == "followed_by" || s.after().empty()) step.after = After::kFollowedBy;
    else if (s.after() == "next") step.after = After::kNext;
    else if (s.after() == "not_next") step.after = After::kNotNext;
    else if (s.after() == "not_followed_by") step.after = After::kNotFollowedBy;
    else return error(absl::StrCat("step '", s.name(), "': unknown after '", s.after(), "'"));
    step.min = s.min();
    step.max = s.max();
    if (!step.negative() && (step.min < 0 || (step.max >= 0 && step.max < std::max(step.min, 1)))) {
      return error(absl::StrCat("step '", s.name(), "': bad quantifier ", s.min(), "..", s.max()));
    }
    absl::StatusOr<std::unique_ptr<expr::CompiledExpr>> condition =
        expr::Compile(s.condition(), *op->match_schema_);
    if (!condition.ok()) {
      return error(absl::StrCat("step '", s.name(), "': ", condition.status().message()));
    }
    if ((*condition)->result_type() != types::TypeId::kBool) {
      return error(absl::StrCat("step '", s.name(), "': the condition is not a bool"));
    }
    step.condition = *std::move(condition);
    op->steps_.push_back(std::move(step));
  }
  if (op->steps_.front().negative() || op->steps_.front().min == 0 ||
      op->steps_.back().negative() || op->steps_.back().min != op->steps_.back().max) {
    return error("a pattern starts with a step that must match and ends with one of a fixed count");
  }
  for (size_t i = 1; i < op->steps_.size(); ++i) {
    const Step& prev = op->steps_[i - 1];
    if (op->steps_[i].negative() && (prev.negative() || prev.min != prev.max)) {
      return error(absl::StrCat("step '", op->steps_[i].name,
                                "': a negative step must follow a step of a fixed count"));
    }
  }
  for (const proto::NamedExpr& e : pattern.emit()) {
    absl::StatusOr<std::unique_ptr<expr::CompiledExpr>> compiled =
        expr::Compile(e.expr(), *op->match_schema_);
    if (!compiled.ok()) {
      return error(absl::StrCat("emit '", e.name(), "': ", compiled.status().message()));
    }
    op->emit_values_.emplace_back((*compiled)->result_type());
    op->emits_.push_back(*std::move(compiled));
  }
  if (op->output_->size() != op->keys_->key_indexes().size() + op->emits_.size()) {
    return error("output schema does not match the keys and emit columns");
  }
  op->within_ = pattern.within_us();
  if (pattern.skip() == "skip_past_last_event") {
    op->skip_past_last_ = true;
  } else if (!pattern.skip().empty() && pattern.skip() != "no_skip") {
    return error(absl::StrCat("unknown skip strategy '", pattern.skip(),
                              "' (expected no_skip or skip_past_last_event)"));
  }
  op->one_row_ = std::make_unique<types::RecordBatch>(op->input_);
  op->match_ = std::make_unique<types::RecordBatch>(op->match_schema_);
  op->output_buffer_ = std::make_unique<OutputBuffer>(op->output_);
  return op;
}

absl::Status PatternOperator::Open(const OperatorContext& ctx) {
  keys_->Open(ctx);
  sequence_ = std::random_device{}() | (uint64_t{std::random_device{}()} << 32);
  return absl::OkStatus();
}

absl::Status PatternOperator::InitializeState(StateInitContext& ctx) {
  RETURN_IF_ERROR(keys_->InitializeState(ctx));
  return BindState();
}

absl::Status PatternOperator::BindState() {
  if (timers_ != nullptr) return absl::OkStatus();
  ASSIGN_OR_RETURN(backend_, keys_->backend());
  auto named = [this](const absl::Status& s) {
    return absl::Status(s.code(), absl::StrCat("operator '", name_, "': ", s.message()));
  };
  state::StateDescriptor events;
  events.name = absl::StrCat(name_, ".events");
  events.kind = state::StateKind::kMap;
  absl::StatusOr<state::MapState*> e = backend_->GetMapState(events);
  if (!e.ok()) return named(e.status());
  state::StateDescriptor partials;
  partials.name = absl::StrCat(name_, ".partials");
  partials.kind = state::StateKind::kValue;
  absl::StatusOr<state::ValueState*> p = backend_->GetValueState(partials);
  if (!p.ok()) return named(p.status());
  absl::StatusOr<std::unique_ptr<state::TimerService>> timers =
      state::TimerService::Create(backend_, absl::StrCat(name_, ".timers"));
  if (!timers.ok()) return named(timers.status());
  events_ = *e;
  partials_ = *p;
  timers_ = *std::move(timers);
  return absl::OkStatus();
}

absl::StatusOr<int64_t> PatternOperator::NumStateEntries() {
  RETURN_IF_ERROR(BindState());
  int64_t n = 0;
  for (const char* suffix : {".events", ".partials"}) {
    std::vector<std::pair<int, std::string>> keys;
    absl::Status s = backend_->ForEachKey(absl::StrCat(name_, suffix),
                                          [&keys](int group, absl::string_view key) {
                                            keys.emplace_back(group, std::string(key));
                                          });
    if (!s.ok()) return s;
    for (const auto& [group, key] : keys) {
      backend_->SetCurrentKey(group, key);
      if (suffix[1] == 'e') {
        RETURN_IF_ERROR(events_->ForEach([&n](absl::string_view, absl::string_view) {
          ++n;
          return true;
        }));
      } else {
        ASSIGN_OR_RETURN(std::vector<Partial> partials, LoadPartials());
        n += static_cast<int64_t>(partials.size());
      }
    }
  }
  return n;
}

absl::Status PatternOperator::FillMatchRow(const types::RecordBatch& event, const Partial* p) {
  match_->Clear();
  const size_t columns = input_->size();
  for (size_t c = 0; c < columns; ++c) match_->mutable_column(c).AppendFrom(event.column(c), 0);
  for (size_t s = 0; s < steps_.size(); ++s) {
    const types::RecordBatch* taken = p != nullptr ? p->events[s].get() : nullptr;
    for (size_t c = 0; c < columns; ++c) {
      types::Column& col = match_->mutable_column(columns * (s + 1) + c);
      if (taken != nullptr) col.AppendFrom(taken->column(c), 0);
      else col.AppendNull();
    }
  }
  match_->SetNumRows(1);
  return absl::OkStatus();
}

absl::StatusOr<bool> PatternOperator::Matches(int s, const types::RecordBatch& event, const Partial* p) {
  RETURN_IF_ERROR(FillMatchRow(event, p));
  RETURN_IF_ERROR(steps_[s].condition->Evaluate(*match_, &bool_out_));
  return !bool_out_.IsNull(0) && bool_out_.Int(0) != 0;
}

int PatternOperator::NextPositive(Partial& p, int s) const {
  int q = s + 1;
  for (; q < static_cast<int>(steps_.size()) && steps_[q].negative(); ++q) {
    if (steps_[q].after == After::kNotNext) p.not_next = q;
    else p.not_followed = q;
  }
  return q;
}

void PatternOperator::Take(Partial& p, int s, const std::shared_ptr<const types::RecordBatch>& event) {
  p.not_followed = -1;  // a step after the not_followed_by guard took an event: it is over
  if (s != p.pos) {
    p.pos = s;
    p.taken = 0;
  }
  p.events[s] = event;
  ++p.taken;
  p.skipped = false;
  if (steps_[s].max >= 0 && p.taken == steps_[s].max) {
    p.pos = NextPositive(p, s);
    p.taken = 0;
  }
}

bool PatternOperator::CanProgress(const Partial& p) const {
  const Step& cur = steps_[p.pos];
  if ((cur.max < 0 || p.taken < cur.max) && cur.after != After::kNext) return true;
  if (p.taken < cur.min) return false;
  for (int q = p.pos + 1; q < static_cast<int>(steps_.size()); ++q) {
    if (steps_[q].after != After::kNext) return true;
    if (steps_[q].min > 0) break;
  }
  return false;
}

absl::StatusOr<bool> PatternOperator::Advance(Partial& p,
                                              const std::shared_ptr<const types::RecordBatch>& event,
                                              int64_t time) {
  if (within_ > 0 && time - p.start > within_) return false;
  if (p.not_next >= 0) {
    const int guard = p.not_next;
    p.not_next = -1;
    ASSIGN_OR_RETURN(bool hit, Matches(guard, *event, &p));
    if (hit) return false;
  }
  if (p.not_followed >= 0) {
    ASSIGN_OR_RETURN(bool hit, Matches(p.not_followed, *event, &p));
    if (hit) return false;
  }
  const Step& cur = steps_[p.pos];
  // Greedy: the step being filled first, then (once it has its minimum) the steps after it,
  // past optional ones that cannot take the event.
  if ((cur.max < 0 || p.taken < cur.max) && (cur.after != After::kNext || !p.skipped)) {
    ASSIGN_OR_RETURN(bool match, Matches(p.pos, *event, &p));
    if (match) {
      Take(p, p.pos, event);
      return true;
    }
  }
  if (p.taken >= cur.min) {
    for (int q = p.pos + 1; q < static_cast<int>(steps_.size()); ++q) {
      if (steps_[q].after != After::kNext || !p.skipped) {
        ASSIGN_OR_RETURN(bool match, Matches(q, *event, &p));
        if (match) {
          Take(p, q, event);
          return true;
        }
      }
      if (steps_[q].min > 0) break;
    }
  }
  p.skipped = true;
  return CanProgress(p);
}

absl::StatusOr<std::vector<PatternOperator::Partial>> PatternOperator::LoadPartials() {
  std::vector<Partial> partials;
  std::string bytes;
  ASSIGN_OR_RETURN(bool found, partials_->Get(&bytes));
  if (!found) return partials;
  absl::string_view in(bytes);
  auto corrupt = [this] {
    return absl::DataLossError(absl::StrCat("operator '", name_, "': malformed partial matches in state"));
  };
  int64_t count;
  if (!GetInt(in, &count) || count < 0) return corrupt();
  for (int64_t i = 0; i < count; ++i) {
    Partial p;
    int64_t pos, taken, skipped, not_next, not_followed;
    if (!GetInt(in, &pos) || !GetInt(in, &taken) || !GetInt(in, &skipped) ||
        !GetInt(in, &not_next) || !GetInt(in, &not_followed) || !GetInt(in, &p.start) ||
        pos < 0 || pos >= static_cast<int64_t>(steps_.size())) {
      return corrupt();
    }
    p.pos = static_cast<int>(pos);
    p.taken = static_cast<int>(taken);
    p.skipped = skipped != 0;
    p.not_next = static_cast<int>(not_next);
    p.not_followed = static_cast<int>(not_followed);
    p.events.resize(steps_.size());
    for (auto& e : p.events) {
      int64_t size;
      if (!GetInt(in, &size) || size < 0 || static_cast<uint64_t>(size) > in.size()) return corrupt();
      if (size > 0) {
        absl::StatusOr<types::RecordBatch> row = types::DeserializeBatch(input_, in.substr(0, size));
        if (!row.ok() || row->num_rows() != 1) return corrupt();
        e = std::make_shared<const types::RecordBatch>(*std::move(row));
      }
      in.remove_prefix(size);
    }
    partials.push_back(std::move(p));
  }
  if (!in.empty()) return corrupt();
  return partials;
}

absl::Status PatternOperator::StorePartials(const std::vector<Partial>& partials) {
  if (partials.empty()) return partials_->Clear();
  std::string& out = bytes_scratch_;
  out.clear();
  PutInt(static_cast<int64_t>(partials.size()), &out);
  std::string row;
  for (const Partial& p : partials) {
    for (int64_t v : {int64_t{p.pos}, int64_t{p.taken}, int64_t{p.skipped}, int64_t{p.not_next},
                      int64_t{p.not_followed}, p.start}) {
      PutInt(v, &out);
    }
    for (const auto& e : p.events) {
      row.clear();
      if (e != nullptr) types::SerializeBatch(*e, &row);
      PutInt(static_cast<int64_t>(row.size()), &out);
      out.append(row);
    }
  }
  return partials_->Put(out);
}

absl::Status PatternOperator::EmitMatch(const Partial& p, Collector& out) {
  // Bare columns are the last event's: the one the last step took.
  const types::RecordBatch& last = *p.events.back();
  RETURN_IF_ERROR(FillMatchRow(last, &p));
  types::RecordBatch& b = output_buffer_->batch();
  const std::vector<int>& keys = keys_->key_indexes();
  for (size_t k = 0; k < keys.size(); ++k) b.mutable_column(k).AppendFrom(last.column(keys[k]), 0);
  for (size_t e = 0; e < emits_.size(); ++e) {
    RETURN_IF_ERROR(emits_[e]->Evaluate(*match_, &emit_values_[e]));
    b.mutable_column(keys.size() + e).AppendFrom(emit_values_[e], 0);
  }
  return output_buffer_->EndRow(out);
}

absl::Status PatternOperator::ProcessKey(Collector& out) {
  std::vector<std::pair<std::string, std::string>> ready;
  RETURN_IF_ERROR(events_->ForEach([&](absl::string_view key, absl::string_view value) {
    if (TimeOfKey(key) <= watermark()) ready.emplace_back(std::string(key), std::string(value));
    return true;
  }));
  if (ready.empty()) return absl::OkStatus();
  std::sort(ready.begin(), ready.end());  // time, then arrival
  ASSIGN_OR_RETURN(std::vector<Partial> partials, LoadPartials());
  const int n = static_cast<int>(steps_.size());
  for (const auto& [key, value] : ready) {
    RETURN_IF_ERROR(events_->Remove(key));
    absl::StatusOr<types::RecordBatch> row = types::DeserializeBatch(input_, value);
    if (!row.ok() || row->num_rows() != 1) {
      return absl::DataLossError(absl::StrCat("operator '", name_, "': malformed waiting event"));
    }
    const auto event = std::make_shared<const types::RecordBatch>(*std::move(row));
    const int64_t time = TimeOfKey(key);
    std::vector<Partial> next, completed;
    for (Partial& p : partials) {
      ASSIGN_OR_RETURN(bool alive, Advance(p, event, time));
      if (!alive) continue;
      (p.pos == n ? completed : next).push_back(std::move(p));
    }
    ASSIGN_OR_RETURN(bool starts, Matches(0, *event, nullptr));
    if (starts) {
      Partial p;
      p.start = time;
      p.events.resize(steps_.size());
      Take(p, 0, event);
      (p.pos == n ? completed : next).push_back(std::move(p));
    }
    if (skip_past_last_ && !completed.empty()) {
      // The earliest match wins; every other partial match overlaps it.
      RETURN_IF_ERROR(EmitMatch(completed.front(), out));
      next.clear();
    } else {
      for (const Partial& p : completed) RETURN_IF_ERROR(EmitMatch(p, out));
    }
    partials = std::move(next);
  }
  if (within_ > 0) {
    for (const Partial& p : partials) {
      RETURN_IF_ERROR(timers_->Register(state::TimeDomain::kEventTime, keys_->key_group(),
                                        keys_->key(), kExpiryTimer,
                                        SaturatingAdd(p.start, within_ + 1)));
    }
  }
  return StorePartials(partials);
}

absl::Status PatternOperator::Expire(int64_t time) {
  ASSIGN_OR_RETURN(std::vector<Partial> partials, LoadPartials());
  const size_t before = partials.size();
  partials.erase(std::remove_if(partials.begin(), partials.end(),
                                [&](const Partial& p) { return time - p.start > within_; }),
                 partials.end());
  if (partials.size() == before) return absl::OkStatus();
  return StorePartials(partials);
}

absl::Status PatternOperator::ProcessBatch(int input, types::RecordBatch& batch, Collector& out) {
  RETURN_IF_ERROR(BindState());  // unit tests skip InitializeState
  keys_->HashBatch(batch);
  const types::Column& times = batch.column(time_column_);
  for (size_t row = 0; row < batch.num_rows(); ++row) {
    if (times.IsNull(row) || times.Int(row) <= watermark()) {
      CountLate();
      continue;
    }
    RETURN_IF_ERROR(keys_->SetKey(batch, row));
    one_row_->Clear();
    one_row_->AppendRow(batch, row);
    bytes_scratch_.clear();
    types::SerializeBatch(*one_row_, &bytes_scratch_);
    const int64_t time = times.Int(row);
    RETURN_IF_ERROR(events_->Put(TimeOrderedKey(time, sequence_++), bytes_scratch_));
    RETURN_IF_ERROR(timers_->Register(state::TimeDomain::kEventTime, keys_->key_group(),
                                      keys_->key(), "", time));
  }
  return absl::OkStatus();
}

absl::Status PatternOperator::ProcessWatermark(int64_t watermark, Collector& out) {
  RETURN_IF_ERROR(BindState());
  if (!AdvanceTo(watermark)) return absl::OkStatus();
  RETURN_IF_ERROR(timers_->AdvanceWatermark(watermark, [&](const state::Timer& timer) -> absl::Status {
    // The timer service made the timer's key current; KeyedInput needs it for new timers.
    keys_->SetEncodedKey(timer.key_group, timer.key);
    if (timer.ns == kExpiryTimer) return Expire(timer.timestamp);
    return ProcessKey(out);
  }));
  return output_buffer_->Flush(out);
}

}  // namespace sluice::taskmanager
