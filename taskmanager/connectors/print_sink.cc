#include "taskmanager/connectors/print_sink.h"

#include <cerrno>
#include <mutex>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "common/types/json_format.h"
#include "taskmanager/connectors/schema_util.h"

namespace sluice::taskmanager::connectors {
namespace {

std::mutex& StreamMutex() {
  static auto* mu = new std::mutex();
  return *mu;
}

}  // namespace

absl::StatusOr<std::unique_ptr<PrintSink>> PrintSink::Create(const proto::OperatorSpec& spec,
                                                             std::FILE* out) {
  auto schema = SchemaOf(spec.input_schema());
  if (!schema.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("print sink '", spec.name(), "': ", schema.status().message()));
  }
  return std::unique_ptr<PrintSink>(new PrintSink(spec.name(), *std::move(schema), out));
}

PrintSink::PrintSink(std::string name, types::SchemaPtr schema, std::FILE* out)
    : name_(std::move(name)), out_(out), encoder_(types::MakeJsonEncoder(std::move(schema))) {}

absl::Status PrintSink::Open(const OperatorContext& ctx) {
  prefix_ = absl::StrCat(name_, "[", ctx.subtask, "]> ");
  return absl::OkStatus();
}

absl::Status PrintSink::ProcessBatch(int input, types::RecordBatch& batch, Collector& out) {
  json_.clear();
  text_.clear();
  encoder_->EncodeBatch(batch, &json_);
  // Encoded JSON rows never contain a raw '\n': each '\n' ends a row.
  size_t start = 0;
  for (size_t nl = json_.find('\n'); nl != std::string::npos; nl = json_.find('\n', start)) {
    text_ += prefix_;
    text_.append(json_, start, nl + 1 - start);
    start = nl + 1;
  }
  std::lock_guard<std::mutex> lock(StreamMutex());
  if (std::fwrite(text_.data(), 1, text_.size(), out_) != text_.size() || std::fflush(out_) != 0) {
    return absl::InternalError(absl::StrCat(
        "print sink '", name_,
        "': cannot write: ", std::error_code(errno, std::generic_category()).message()));
  }
  return absl::OkStatus();
}

}  // namespace sluice::taskmanager::connectors
