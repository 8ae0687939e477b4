#include "taskmanager/operators/keyed_process_function.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "taskmanager/operators/basic_operators.h"
#include "taskmanager/operators/keyed_input.h"
#include "taskmanager/operators/operator_registry.h"
#include "taskmanager/operators/output_buffer.h"
#include "taskmanager/state/timer_service.h"

namespace sluice::taskmanager {
namespace {

class KeyedProcessOperator : public Operator, private KeyedProcessFunction::Context {
 public:
  KeyedProcessOperator(std::string name, KeyedInput keys, std::vector<types::TypeId> key_types,
                       types::SchemaPtr output, std::unique_ptr<KeyedProcessFunction> function)
      : name_(std::move(name)), keys_(std::move(keys)), key_types_(std::move(key_types)),
        output_(std::move(output)), function_(std::move(function)) {}

  absl::Status Open(const OperatorContext& ctx) override {
    keys_.Open(ctx);
    clock_ = ctx.clock != nullptr ? ctx.clock : SystemClock::Get();
    return absl::OkStatus();
  }
  absl::Status InitializeState(StateInitContext& ctx) override {
    RETURN_IF_ERROR(keys_.InitializeState(ctx));
    return Bind();
  }

  absl::Status ProcessBatch(int input, types::RecordBatch& batch, Collector& out) override {
    RETURN_IF_ERROR(Bind());  // unit tests skip InitializeState
    keys_.HashBatch(batch);
    out_ = &out;
    for (size_t row = 0; row < batch.num_rows(); ++row) {
      RETURN_IF_ERROR(keys_.SetKey(batch, row));
      RETURN_IF_ERROR(Named(function_->ProcessElement(batch, row, *this)));
    }
    return output_.Flush(out);
  }

  absl::Status ProcessWatermark(int64_t watermark, Collector& out) override {
    RETURN_IF_ERROR(Bind());
    if (watermark <= watermark_) return absl::OkStatus();
    watermark_ = watermark;
    out_ = &out;
    domain_ = state::TimeDomain::kEventTime;
    RETURN_IF_ERROR(timers_->AdvanceWatermark(watermark, [this](const state::Timer& timer) {
      return OnTimer(timer);
    }));
    return output_.Flush(out);
  }

  absl::Status ProcessProcessingTime(int64_t now_ms, Collector& out) override {
    RETURN_IF_ERROR(Bind());
    out_ = &out;
    domain_ = state::TimeDomain::kProcessingTime;
    RETURN_IF_ERROR(timers_->AdvanceProcessingTime(now_ms, [this](const state::Timer& timer) {
      return OnTimer(timer);
    }));
    return output_.Flush(out);
  }

  std::optional<int64_t> NextProcessingTime() const override {
    return timers_ != nullptr ? timers_->NextProcessingTime() : std::nullopt;
  }

 private:
  absl::Status OnTimer(const state::Timer& timer) {
    keys_.SetEncodedKey(timer.key_group, timer.key);
    return Named(function_->OnTimer(timer.timestamp, *this));
  }

  absl::Status Bind() {
    if (timers_ != nullptr) return absl::OkStatus();
    ASSIGN_OR_RETURN(state::KeyedStateBackend * backend, keys_.backend());
    ASSIGN_OR_RETURN(timers_, state::TimerService::Create(backend, absl::StrCat(name_, ".timers")));
    return Named(function_->Open(*backend));
  }
  absl::Status Named(absl::Status s) const {
    if (s.ok()) return s;
    return absl::Status(s.code(), absl::StrCat("operator '", name_, "': ", s.message()));
  }

  // Context.
  absl::Status RegisterTimer(int64_t time) override {
    return timers_->Register(state::TimeDomain::kEventTime, keys_.key_group(), keys_.key(), "", time);
  }
  absl::Status DeleteTimer(int64_t time) override {
    return timers_->Delete(state::TimeDomain::kEventTime, keys_.key_group(), keys_.key(), "", time);
  }
  absl::Status RegisterProcessingTimer(int64_t time_ms) override {
    return timers_->Register(state::TimeDomain::kProcessingTime, keys_.key_group(), keys_.key(),
                             "", time_ms);
  }
  absl::Status DeleteProcessingTimer(int64_t time_ms) override {
    return timers_->Delete(state::TimeDomain::kProcessingTime, keys_.key_group(), keys_.key(), "",
                           time_ms);
  }
  int64_t current_processing_time() const override { return clock_->NowMillis(); }
  state::TimeDomain timer_domain() const override { return domain_; }
  int64_t watermark() const override { return watermark_; }
  types::RecordBatch& output() override { return output_.batch(); }
  absl::Status AppendKey() override {
    if (AppendEncodedKey(keys_.key(), key_types_, output_.batch())) return absl::OkStatus();
    return absl::InternalError(absl::StrCat("operator '", name_, "': the key does not fit the "
                                            "first columns of the output"));
  }
  absl::Status Emit() override { return output_.EndRow(*out_); }

  std::string name_;
  KeyedInput keys_;
  std::vector<types::TypeId> key_types_;
  OutputBuffer output_;
  std::unique_ptr<KeyedProcessFunction> function_;
  std::unique_ptr<state::TimerService> timers_;
  int64_t watermark_ = INT64_MIN;
  const Clock* clock_ = SystemClock::Get();
  state::TimeDomain domain_ = state::TimeDomain::kEventTime;  // of the timers firing
  Collector* out_ = nullptr;  // the collector of the call in progress
};

}  // namespace

absl::StatusOr<std::unique_ptr<Operator>> MakeKeyedProcessOperator(
    const proto::OperatorSpec& spec, std::unique_ptr<KeyedProcessFunction> function) {
  ASSIGN_OR_RETURN(types::SchemaPtr input, InputSchemaOf(spec));
  ASSIGN_OR_RETURN(types::SchemaPtr output, OutputSchemaOf(spec));
  auto it = spec.user().options().find("key_by");
  if (it == spec.user().options().end() || it->second.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("operator '", spec.name(), "': a keyed process function needs key_by"));
  }
  google::protobuf::RepeatedPtrField<std::string> keys;
  for (absl::string_view key : absl::StrSplit(it->second, ',')) keys.Add(std::string(key));
  ASSIGN_OR_RETURN(KeyedInput keyed, KeyedInput::Create(spec.name(), keys, *input));
  std::vector<types::TypeId> key_types;
  for (int index : keyed.key_indexes()) key_types.push_back(input->field(index).type);
  return std::unique_ptr<Operator>(new KeyedProcessOperator(
      spec.name(), std::move(keyed), std::move(key_types), std::move(output), std::move(function)));
}

void RegisterKeyedProcessFunction(const std::string& name, KeyedProcessFunctionFactory factory) {
  RegisterUserOperator(name, [factory](const proto::OperatorSpec& spec) {
    return MakeKeyedProcessOperator(spec, factory());
  });
}

}  // namespace sluice::taskmanager
