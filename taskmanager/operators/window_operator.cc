#include "taskmanager/operators/window_operator.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "spdlog/spdlog.h"
#include "taskmanager/operators/basic_operators.h"
#include "taskmanager/operators/time_windows.h"

namespace sluice::taskmanager {
namespace {

}  // namespace

absl::StatusOr<std::unique_ptr<Operator>> WindowOperator::Create(const proto::OperatorSpec& spec) {
  ASSIGN_OR_RETURN(types::SchemaPtr input, InputSchemaOf(spec));
  ASSIGN_OR_RETURN(types::SchemaPtr output, OutputSchemaOf(spec));
  const proto::AggregateSpec& agg = spec.aggregate();
  const proto::WindowSpec& window = agg.window();
  auto error = [&spec](absl::string_view message) {
    return absl::InvalidArgumentError(absl::StrCat("operator '", spec.name(), "': ", message));
  };
  std::optional<int> time_column = input->IndexOf(window.time_column());
  if (!time_column || input->field(*time_column).type != types::TypeId::kTimestamp) {
    return error(absl::StrCat("window time column '", window.time_column(),
                              "' is not a timestamp column of (", input->ToString(), ")"));
  }
  ASSIGN_OR_RETURN(KeyedInput keys, KeyedInput::Create(spec.name(), agg.key_columns(), *input));
  if (output->size() != static_cast<size_t>(agg.key_columns_size() + 2 + agg.calls_size())) {
    return error("output schema does not match its key, window and aggregate columns");
  }
  ASSIGN_OR_RETURN(AggregateCalls calls,
                   AggregateCalls::Create(spec.name(), agg, *input, *time_column));
  std::unique_ptr<WindowOperator> op(new WindowOperator(output, std::move(keys), std::move(calls)));
  op->name_ = spec.name();
  op->input_ = input;
  op->late_output_ = window.late_output();
  op->time_column_ = *time_column;
  op->lateness_ = window.allowed_lateness_us();
  if (window.kind() == "tumble") {
    op->kind_ = Kind::kTumble;
    op->size_ = op->slide_ = window.size_us();
  } else if (window.kind() == "slide") {
    op->kind_ = Kind::kSlide;
    op->size_ = window.size_us();
    op->slide_ = window.slide_us();
  } else if (window.kind() == "session") {
    op->kind_ = Kind::kSession;
    op->gap_ = window.gap_us();
  } else {
    return error(absl::StrCat("unknown window kind '", window.kind(),
                              "' (expected tumble, slide or session)"));
  }
  if (op->kind_ == Kind::kSession ? op->gap_ <= 0 : (op->size_ <= 0 || op->slide_ <= 0)) {
    return error("window size, slide and gap must be positive");
  }
  if (op->lateness_ < 0) return error("allowed_lateness must be >= 0");
  for (int index : op->keys_.key_indexes()) op->key_types_.push_back(input->field(index).type);
  return op;
}

absl::Status WindowOperator::Open(const OperatorContext& ctx) {
  keys_.Open(ctx);
  if (late_output_.empty()) return absl::OkStatus();
  return OpenLateOutput(ctx, name_, late_output_, input_);
}

absl::Status WindowOperator::InitializeState(StateInitContext& ctx) {
  RETURN_IF_ERROR(keys_.InitializeState(ctx));
  return BindState();
}

absl::Status WindowOperator::BindState() {
  if (windows_ != nullptr) return absl::OkStatus();
  ASSIGN_OR_RETURN(backend_, keys_.backend());
  state::StateDescriptor d;
  d.name = absl::StrCat(name_, ".windows");
  d.kind = state::StateKind::kMap;
  absl::StatusOr<state::MapState*> windows = backend_->GetMapState(d);
  if (!windows.ok()) {
    return absl::Status(windows.status().code(),
                        absl::StrCat("operator '", name_, "': ", windows.status().message()));
  }
  absl::StatusOr<std::unique_ptr<state::TimerService>> timers =
      state::TimerService::Create(backend_, absl::StrCat(name_, ".timers"));
  if (!timers.ok()) {
    return absl::Status(timers.status().code(),
                        absl::StrCat("operator '", name_, "': ", timers.status().message()));
  }
  windows_ = *windows;
  timers_ = *std::move(timers);
  return absl::OkStatus();
}

absl::string_view WindowOperator::EncodeWindow(const Window& w) {
  ns_.resize(kind_ == Kind::kSession ? 16 : 8);  // within the small-string buffer: no malloc
  std::memcpy(ns_.data(), &w.start, 8);
  if (kind_ == Kind::kSession) std::memcpy(ns_.data() + 8, &w.end, 8);
  return ns_;
}

bool WindowOperator::DecodeWindow(absl::string_view bytes, Window* w) const {
  if (bytes.size() != (kind_ == Kind::kSession ? 16u : 8u)) return false;
  std::memcpy(&w->start, bytes.data(), 8);
  if (kind_ == Kind::kSession) {
    std::memcpy(&w->end, bytes.data() + 8, 8);
  } else {
    w->end = SaturatingAdd(w->start, size_);
  }
  return true;
}

int64_t WindowOperator::CleanupTime(const Window& w) const {
  return SaturatingAdd(w.end - 1, lateness_);
}

absl::StatusOr<int64_t> WindowOperator::NumWindows() {
  RETURN_IF_ERROR(BindState());
  int64_t n = 0;
  std::vector<std::pair<int, std::string>> keys;
  RETURN_IF_ERROR(backend_->ForEachKey(absl::StrCat(name_, ".windows"),
                                       [&keys](int group, absl::string_view key) {
                                         keys.emplace_back(group, std::string(key));
                                       }));
  for (const auto& [group, key] : keys) {
    backend_->SetCurrentKey(group, key);
    RETURN_IF_ERROR(windows_->ForEach([&n](absl::string_view, absl::string_view) {
      ++n;
      return true;
    }));
  }
  return n;
}

absl::Status WindowOperator::RegisterTimers(const Window& w) {
  const absl::string_view ns = EncodeWindow(w);
  if (w.end - 1 > watermark()) {
    RETURN_IF_ERROR(timers_->Register(state::TimeDomain::kEventTime, keys_.key_group(),
                                      keys_.key(), ns, w.end - 1));
  }
  if (lateness_ > 0) {
    RETURN_IF_ERROR(timers_->Register(state::TimeDomain::kEventTime, keys_.key_group(),
                                      keys_.key(), ns, CleanupTime(w)));
  }
  return absl::OkStatus();
}

absl::Status WindowOperator::DeleteTimers(const Window& w) {
  const absl::string_view ns = EncodeWindow(w);
  RETURN_IF_ERROR(timers_->Delete(state::TimeDomain::kEventTime, keys_.key_group(), keys_.key(),
                                  ns, w.end - 1));
  return timers_->Delete(state::TimeDomain::kEventTime, keys_.key_group(), keys_.key(), ns,
                         CleanupTime(w));
}

absl::Status WindowOperator::Emit(const Window& w, const std::vector<Accumulator>& accs,
                                  const types::RecordBatch* batch, size_t row,
                                  absl::string_view key, Collector& out) {
  const size_t num_keys = key_types_.size();
  if (batch != nullptr) {
    keys_.AppendKey(*batch, row, output_.batch());
  } else if (!AppendEncodedKey(key, key_types_, output_.batch())) {
    return absl::DataLossError(
        absl::StrCat("operator '", name_, "': malformed key in timer state"));
  }
  types::RecordBatch& b = output_.batch();
  b.mutable_column(num_keys).AppendInt(w.start);
  b.mutable_column(num_keys + 1).AppendInt(w.end);
  calls_.AppendResults(accs, b, num_keys + 2);
  return output_.EndRow(out);
}

absl::StatusOr<bool> WindowOperator::AddToTimeWindows(const types::RecordBatch& batch, size_t row,
                                                      int64_t ts, Collector& out) {
  std::vector<Window>& windows = windows_scratch_;
  windows.clear();
  ForEachTimeWindow(ts, size_, slide_, [&](int64_t start, int64_t end) {
    const Window w{start, end};
    if (CleanupTime(w) > watermark()) windows.push_back(w);  // else this window is gone
  });
  for (const Window& w : windows) {
    ASSIGN_OR_RETURN(bool found, windows_->Get(EncodeWindow(w), &value_scratch_));
    if (!found) {
      calls_.Reset(accs_);
      RETURN_IF_ERROR(RegisterTimers(w));
    } else if (!calls_.Decode(value_scratch_, accs_)) {
      return absl::DataLossError(absl::StrCat("operator '", name_,
                                              "': malformed window accumulators in state"));
    }
    calls_.Update(row, accs_);
    calls_.Encode(accs_, &value_scratch_);
    RETURN_IF_ERROR(windows_->Put(EncodeWindow(w), value_scratch_));
    if (w.end - 1 <= watermark()) RETURN_IF_ERROR(Emit(w, accs_, &batch, row, {}, out));  // late update
  }
  return !windows.empty();
}

absl::StatusOr<bool> WindowOperator::AddToSession(const types::RecordBatch& batch, size_t row,
                                                  int64_t ts, Collector& out) {
  Window w{ts, SaturatingAdd(ts, gap_)};
  if (CleanupTime(w) <= watermark()) return false;
  // Every session of this key that touches the new one merges into it.
  std::vector<std::pair<Window, std::string>> touching;
  bool corrupt = false;
  RETURN_IF_ERROR(windows_->ForEach([&](absl::string_view key, absl::string_view value) {
    Window other;
    if (!DecodeWindow(key, &other)) {
      corrupt = true;
      return false;
    }
    if (other.start <= w.end && other.end >= w.start) touching.emplace_back(other, std::string(value));
    return true;
  }));
  if (corrupt) {
    return absl::DataLossError(absl::StrCat("operator '", name_, "': malformed session in state"));
  }
  calls_.Reset(merged_);
  for (const auto& [other, value] : touching) {
    if (!calls_.Decode(value, accs_)) {
      return absl::DataLossError(absl::StrCat("operator '", name_,
                                              "': malformed session accumulators in state"));
    }
    calls_.Merge(accs_, merged_);
    w.start = std::min(w.start, other.start);
    w.end = std::max(w.end, other.end);
    RETURN_IF_ERROR(windows_->Remove(EncodeWindow(other)));
    RETURN_IF_ERROR(DeleteTimers(other));
  }
  calls_.Update(row, merged_);
  calls_.Encode(merged_, &value_scratch_);
  RETURN_IF_ERROR(windows_->Put(EncodeWindow(w), value_scratch_));
  RETURN_IF_ERROR(RegisterTimers(w));
  if (w.end - 1 <= watermark()) RETURN_IF_ERROR(Emit(w, merged_, &batch, row, {}, out));
  return true;
}

absl::Status WindowOperator::ProcessBatch(int input, types::RecordBatch& batch, Collector& out) {
  RETURN_IF_ERROR(BindState());  // unit tests skip InitializeState
  if (batch.num_rows() == 0) return absl::OkStatus();
  RETURN_IF_ERROR(calls_.Evaluate(batch));
  keys_.HashBatch(batch);
  const types::Column& times = batch.column(time_column_);
  for (size_t row = 0; row < batch.num_rows(); ++row) {
    if (times.IsNull(row)) {
      if (null_time_dropped_++ == 0) {
        spdlog::warn("operator '{}': records whose window time is null {}", name_,
                     late_output_.empty() ? "are dropped" : "go to the late output");
      }
      RETURN_IF_ERROR(Late(batch, row));
      continue;
    }
    RETURN_IF_ERROR(keys_.SetKey(batch, row));
    const int64_t ts = times.Int(row);
    ASSIGN_OR_RETURN(bool added, kind_ == Kind::kSession ? AddToSession(batch, row, ts, out)
                                                         : AddToTimeWindows(batch, row, ts, out));
    if (!added) RETURN_IF_ERROR(Late(batch, row));
  }
  RETURN_IF_ERROR(FlushLate());
  return output_.Flush(out);
}

absl::Status WindowOperator::OnTimer(const state::Timer& timer, Collector& out) {
  Window w;
  if (!DecodeWindow(timer.ns, &w)) {
    return absl::DataLossError(absl::StrCat("operator '", name_, "': malformed timer namespace"));
  }
  if (timer.timestamp == w.end - 1) {
    ASSIGN_OR_RETURN(bool found, windows_->Get(timer.ns, &value_scratch_));
    if (found) {
      if (!calls_.Decode(value_scratch_, accs_)) {
        return absl::DataLossError(absl::StrCat("operator '", name_,
                                                "': malformed window accumulators in state"));
      }
      RETURN_IF_ERROR(Emit(w, accs_, nullptr, 0, timer.key, out));
    }
  }
  if (timer.timestamp == CleanupTime(w)) RETURN_IF_ERROR(windows_->Remove(timer.ns));
  return absl::OkStatus();
}

absl::Status WindowOperator::ProcessWatermark(int64_t watermark, Collector& out) {
  RETURN_IF_ERROR(BindState());
  if (!AdvanceTo(watermark)) return absl::OkStatus();
  RETURN_IF_ERROR(timers_->AdvanceWatermark(
      watermark, [this, &out](const state::Timer& timer) { return OnTimer(timer, out); }));
  return output_.Flush(out);
}

}  // namespace sluice::taskmanager
