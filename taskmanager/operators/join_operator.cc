#include "taskmanager/operators/join_operator.h"

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

constexpr char kSideTag[2] = {'L', 'R'};

}  // namespace

absl::StatusOr<std::unique_ptr<Operator>> JoinOperator::Create(
    const proto::OperatorSpec& spec) {
  const proto::JoinSpec& join = spec.join();
  auto error = [&spec](absl::string_view message) {
    return absl::InvalidArgumentError(absl::StrCat("operator '", spec.name(), "': ", message));
  };
  std::unique_ptr<JoinOperator> op(new JoinOperator());
  op->name_ = spec.name();
  ASSIGN_OR_RETURN(op->output_, OutputSchemaOf(spec));
  ASSIGN_OR_RETURN(op->sides_[0].schema, InputSchemaOf(spec));
  ASSIGN_OR_RETURN(types::Schema right, types::Schema::FromProto(join.right_schema()));
  op->sides_[1].schema = std::make_shared<const types::Schema>(std::move(right));
  const std::string* time_columns[2] = {&join.left_time_column(), &join.right_time_column()};
  for (int s = 0; s < 2; ++s) {
    Side& side = op->sides_[s];
    ASSIGN_OR_RETURN(KeyedInput keys, KeyedInput::Create(spec.name(), join.key_columns(), *side.schema));
    side.keys = std::make_unique<KeyedInput>(std::move(keys));
    std::optional<int> time = side.schema->IndexOf(*time_columns[s]);
    if (!time || side.schema->field(*time).type != types::TypeId::kTimestamp) {
      return error(absl::StrCat("join time column '", *time_columns[s], "' is not a timestamp column of (",
                                side.schema->ToString(), ")"));
    }
    side.time_column = *time;
  }
  for (size_t c = 0; c < op->sides_[1].schema->size(); ++c) {
    const std::string& column = op->sides_[1].schema->field(c).name;
    if (std::find(join.key_columns().begin(), join.key_columns().end(), column) ==
        join.key_columns().end()) {
      op->right_output_columns_.push_back(static_cast<int>(c));
    }
  }
  if (op->output_->size() != op->sides_[0].schema->size() + op->right_output_columns_.size()) {
    return error("output schema does not match the joined columns");
  }
  op->lower_ = join.lower_us();
  op->upper_ = join.upper_us();
  if (op->lower_ > op->upper_) return error("the join's lower bound is after its upper bound");
  if (const proto::WindowSpec& w = join.window(); !w.kind().empty()) {
    if (w.kind() != "tumble" && w.kind() != "slide") {
      return error(absl::StrCat("a window join takes tumble or slide windows, not '", w.kind(), "'"));
    }
    op->window_size_ = w.size_us();
    op->window_slide_ = w.kind() == "slide" ? w.slide_us() : w.size_us();
    if (op->window_size_ <= 0 || op->window_slide_ <= 0) {
      return error("window size and slide must be positive");
    }
    if (join.type() == "left") return error("a window join is inner only");
  }
  if (join.type() == "left") {
    op->left_outer_ = true;
  } else if (join.type() != "inner" && !join.type().empty()) {
    return error(absl::StrCat("unknown join type '", join.type(), "' (expected inner or left)"));
  }
  for (int s = 0; s < 2; ++s) op->one_row_[s] = std::make_unique<types::RecordBatch>(op->sides_[s].schema);
  op->output_buffer_ = std::make_unique<OutputBuffer>(op->output_);
  return op;
}

absl::Status JoinOperator::Open(const OperatorContext& ctx) {
  for (Side& side : sides_) side.keys->Open(ctx);
  // Buffer keys must stay unique across restarts (restored entries keep theirs).
  sequence_ = std::random_device{}() | (uint64_t{std::random_device{}()} << 32);
  return absl::OkStatus();
}

absl::Status JoinOperator::InitializeState(StateInitContext& ctx) {
  RETURN_IF_ERROR(sides_[0].keys->InitializeState(ctx));
  return BindState();
}

absl::Status JoinOperator::BindState() {
  if (timers_ != nullptr) return absl::OkStatus();
  ASSIGN_OR_RETURN(backend_, sides_[0].keys->backend());
  sides_[1].keys->ShareBackend(backend_);
  auto named = [this](const absl::Status& s) {
    return absl::Status(s.code(), absl::StrCat("operator '", name_, "': ", s.message()));
  };
  for (int s = 0; s < 2; ++s) {
    state::StateDescriptor d;
    d.name = absl::StrCat(name_, s == 0 ? ".left" : ".right");
    d.kind = state::StateKind::kMap;
    absl::StatusOr<state::MapState*> buffer = backend_->GetMapState(d);
    if (!buffer.ok()) return named(buffer.status());
    sides_[s].buffer = *buffer;
  }
  absl::StatusOr<std::unique_ptr<state::TimerService>> timers =
      state::TimerService::Create(backend_, absl::StrCat(name_, ".timers"));
  if (!timers.ok()) return named(timers.status());
  timers_ = *std::move(timers);
  return absl::OkStatus();
}

absl::StatusOr<int64_t> JoinOperator::NumBufferedRows() {
  RETURN_IF_ERROR(BindState());
  int64_t n = 0;
  for (const char* suffix : {".left", ".right"}) {
    const std::string name = absl::StrCat(name_, suffix);
    std::vector<std::pair<int, std::string>> keys;
    absl::Status s = backend_->ForEachKey(name, [&keys](int group, absl::string_view key) {
      keys.emplace_back(group, std::string(key));
    });
    if (!s.ok()) return s;
    state::MapState* buffer = sides_[suffix[1] == 'l' ? 0 : 1].buffer;
    for (const auto& [group, key] : keys) {
      backend_->SetCurrentKey(group, key);
      RETURN_IF_ERROR(buffer->ForEach([&n](absl::string_view, absl::string_view) {
        ++n;
        return true;
      }));
    }
  }
  return n;
}

absl::Status JoinOperator::EmitJoined(const types::RecordBatch& left, size_t lrow,
                                              const types::RecordBatch* right, size_t rrow,
                                              Collector& out) {
  types::RecordBatch& b = output_buffer_->batch();
  const size_t left_columns = sides_[0].schema->size();
  for (size_t c = 0; c < left_columns; ++c) b.mutable_column(c).AppendFrom(left.column(c), lrow);
  for (size_t j = 0; j < right_output_columns_.size(); ++j) {
    types::Column& col = b.mutable_column(left_columns + j);
    if (right != nullptr) {
      col.AppendFrom(right->column(right_output_columns_[j]), rrow);
    } else {
      col.AppendNull();
    }
  }
  return output_buffer_->EndRow(out);
}

absl::Status JoinOperator::AddRow(int input, const types::RecordBatch& batch, size_t row,
                                          int64_t time, Collector& out) {
  const int other = 1 - input;
  // The other side's rows of this key within the interval. A left row at l matches right
  // rows in [l + lower, l + upper]; a right row at r matches left rows in
  // [r - upper, r - lower].
  const int64_t from = input == 0 ? SaturatingAdd(time, lower_) : SaturatingAdd(time, -upper_);
  const int64_t to = input == 0 ? SaturatingAdd(time, upper_) : SaturatingAdd(time, -lower_);
  struct Match {
    std::string key;
    std::string value;
  };
  std::vector<Match> matches;
  RETURN_IF_ERROR(sides_[other].buffer->ForEach([&](absl::string_view key, absl::string_view value) {
    const int64_t t = TimeOfKey(key);
    if (t >= from && t <= to) matches.push_back({std::string(key), std::string(value)});
    return true;
  }));
  for (Match& m : matches) {
    ASSIGN_OR_RETURN(types::RecordBatch stored, DecodeRow(other, m.value));
    if (input == 0) {
      RETURN_IF_ERROR(EmitJoined(batch, row, &stored, 0, out));
    } else {
      RETURN_IF_ERROR(EmitJoined(stored, 0, &batch, row, out));
      if (left_outer_ && m.value[0] == 0) {  // the left row has a match now
        m.value[0] = 1;
        RETURN_IF_ERROR(sides_[other].buffer->Put(m.key, m.value));
      }
    }
  }
  // Buffer the row until no row of the other side can match it any more.
  EncodeRow(input, batch, row, input == 0 && !matches.empty());
  const std::string key = TimeOrderedKey(time, sequence_++);
  RETURN_IF_ERROR(sides_[input].buffer->Put(key, value_scratch_));
  const int64_t expires = input == 0 ? SaturatingAdd(time, upper_) : SaturatingAdd(time, -lower_);
  const KeyedInput& keys = *sides_[input].keys;
  return timers_->Register(state::TimeDomain::kEventTime, keys.key_group(), keys.key(),
                           absl::StrCat(absl::string_view(&kSideTag[input], 1), key), expires);
}

absl::Status JoinOperator::ProcessBatch(int input, types::RecordBatch& batch, Collector& out) {
  if (input != 0 && input != 1) {
    return absl::InternalError(absl::StrCat("operator '", name_, "': input ", input,
                                            " (a join has inputs 0 and 1)"));
  }
  RETURN_IF_ERROR(BindState());  // unit tests skip InitializeState
  Side& side = sides_[input];
  side.keys->HashBatch(batch);
  const types::Column& times = batch.column(side.time_column);
  for (size_t row = 0; row < batch.num_rows(); ++row) {
    const bool windowed = window_size_ > 0;
    if (times.IsNull(row) || (!windowed && times.Int(row) <= watermark())) {
      CountLate();
      continue;
    }
    RETURN_IF_ERROR(side.keys->SetKey(batch, row));
    if (!windowed) {
      RETURN_IF_ERROR(AddRow(input, batch, row, times.Int(row), out));
      continue;
    }
    ASSIGN_OR_RETURN(bool added, AddToWindows(input, batch, row, times.Int(row)));
    if (!added) CountLate();
  }
  return output_buffer_->Flush(out);
}

void JoinOperator::EncodeRow(int input, const types::RecordBatch& batch, size_t row, bool matched) {
  types::RecordBatch& one_row = *one_row_[input];
  one_row.Clear();
  one_row.AppendRow(batch, row);
  value_scratch_.assign(1, static_cast<char>(matched ? 1 : 0));
  types::SerializeBatch(one_row, &value_scratch_);  // appends
}

absl::StatusOr<types::RecordBatch> JoinOperator::DecodeRow(int input, absl::string_view value) const {
  absl::StatusOr<types::RecordBatch> row =
      value.empty() ? absl::DataLossError("empty")
                    : types::DeserializeBatch(sides_[input].schema, value.substr(1));
  if (!row.ok() || row->num_rows() != 1) {
    return absl::DataLossError(absl::StrCat("operator '", name_, "': malformed buffered row"));
  }
  return row;
}

absl::StatusOr<bool> JoinOperator::AddToWindows(int input, const types::RecordBatch& batch,
                                                size_t row, int64_t time) {
  bool added = false;
  absl::Status status;
  EncodeRow(input, batch, row, false);
  const KeyedInput& keys = *sides_[input].keys;
  ForEachTimeWindow(time, window_size_, window_slide_, [&](int64_t start, int64_t end) {
    if (!status.ok() || end - 1 <= watermark()) return;  // fired already
    added = true;
    status = sides_[input].buffer->Put(TimeOrderedKey(start, sequence_++), value_scratch_);
    if (!status.ok()) return;
    std::string ns(1, 'W');
    ns.append(reinterpret_cast<const char*>(&start), sizeof start);
    status = timers_->Register(state::TimeDomain::kEventTime, keys.key_group(), keys.key(), ns,
                               end - 1);
  });
  if (!status.ok()) return status;
  return added;
}

absl::Status JoinOperator::FireWindow(int64_t start, Collector& out) {
  std::vector<std::pair<std::string, types::RecordBatch>> rows[2];
  for (int s = 0; s < 2; ++s) {
    std::vector<std::pair<std::string, std::string>> entries;
    RETURN_IF_ERROR(sides_[s].buffer->ForEach([&](absl::string_view key, absl::string_view value) {
      if (TimeOfKey(key) == start) entries.emplace_back(std::string(key), std::string(value));
      return true;
    }));
    std::sort(entries.begin(), entries.end());  // arrival order
    for (auto& [key, value] : entries) {
      ASSIGN_OR_RETURN(types::RecordBatch row, DecodeRow(s, value));
      rows[s].emplace_back(key, std::move(row));
    }
  }
  for (const auto& [lkey, left] : rows[0]) {
    for (const auto& [rkey, right] : rows[1]) RETURN_IF_ERROR(EmitJoined(left, 0, &right, 0, out));
  }
  for (int s = 0; s < 2; ++s) {
    for (const auto& [key, row] : rows[s]) RETURN_IF_ERROR(sides_[s].buffer->Remove(key));
  }
  return absl::OkStatus();
}

absl::Status JoinOperator::OnTimer(const state::Timer& timer, Collector& out) {
  if (!timer.ns.empty() && timer.ns[0] == 'W' && timer.ns.size() == 9) {
    int64_t start;
    std::memcpy(&start, timer.ns.data() + 1, sizeof start);
    return FireWindow(start, out);
  }
  if (timer.ns.empty() || (timer.ns[0] != 'L' && timer.ns[0] != 'R')) {
    return absl::DataLossError(absl::StrCat("operator '", name_, "': malformed timer namespace"));
  }
  const int input = timer.ns[0] == 'L' ? 0 : 1;
  const absl::string_view key = absl::string_view(timer.ns).substr(1);
  if (input == 0 && left_outer_) {
    ASSIGN_OR_RETURN(bool found, sides_[0].buffer->Get(key, &value_scratch_));
    if (found && !value_scratch_.empty() && value_scratch_[0] == 0) {
      ASSIGN_OR_RETURN(types::RecordBatch stored, DecodeRow(0, value_scratch_));
      RETURN_IF_ERROR(EmitJoined(stored, 0, nullptr, 0, out));
    }
  }
  return sides_[input].buffer->Remove(key);
}

absl::Status JoinOperator::ProcessWatermark(int64_t watermark, Collector& out) {
  RETURN_IF_ERROR(BindState());
  if (!AdvanceTo(watermark)) return absl::OkStatus();
  RETURN_IF_ERROR(timers_->AdvanceWatermark(
      watermark, [this, &out](const state::Timer& timer) { return OnTimer(timer, out); }));
  return output_buffer_->Flush(out);
}

}  // namespace sluice::taskmanager
