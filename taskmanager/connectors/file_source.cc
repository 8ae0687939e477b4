#include "taskmanager/connectors/file_source.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "proto/checkpoint.pb.h"
#include "spdlog/spdlog.h"
#include "taskmanager/connectors/schema_util.h"

namespace sluice::taskmanager::connectors {
namespace {

constexpr size_t kBatchTextBytes = 4 << 20;
constexpr int64_t kLoggedSkips = 5;

}  // namespace

absl::StatusOr<std::unique_ptr<FileSource>> FileSource::Create(const proto::OperatorSpec& spec,
                                                               Options options) {
  const proto::FileSourceSpec& file = spec.file_source();
  auto prefix = [&](const absl::Status& s) {
    return absl::Status(s.code(), absl::StrCat("file source '", spec.name(), "': ", s.message()));
  };
  if (file.path().empty()) {
    return absl::InvalidArgumentError(absl::StrCat("file source '", spec.name(), "': no path"));
  }
  auto skip = SkipsBadRecords(file.on_error());
  if (!skip.ok()) return prefix(skip.status());
  auto format = types::ParseFormatOptions(file.format());
  if (!format.ok()) return prefix(format.status());
  if (absl::Status s = types::CheckLineFormat(*format, "file"); !s.ok()) return prefix(s);
  auto schema = SchemaOf(spec.output_schema());
  if (!schema.ok()) return prefix(schema.status());
  return std::unique_ptr<FileSource>(new FileSource(
      spec.name(), file.path(), *skip, *std::move(format), *std::move(schema), options));
}

FileSource::FileSource(std::string name, std::string path, bool skip_errors,
                       types::FormatOptions format, types::SchemaPtr schema, Options options)
    : name_(std::move(name)),
      path_(std::move(path)),
      skip_errors_(skip_errors),
      format_(std::move(format)),
      schema_(std::move(schema)),
      options_(options),
      decoder_(types::MakeLineDecoder(format_, schema_)),
      batch_(schema_) {}

absl::Status FileSource::Open(const OperatorContext& ctx) {
  subtask_ = ctx.subtask;
  parallelism_ = ctx.parallelism;
  auto files = ListInputFiles(path_);
  if (!files.ok()) {
    return absl::Status(files.status().code(),
                        absl::StrCat("file source '", name_, "': ", files.status().message()));
  }
  auto all = PlanSplits(*files, options_.split_bytes);
  if (!all.ok()) {
    return absl::Status(all.status().code(),
                        absl::StrCat("file source '", name_, "': ", all.status().message()));
  }
  splits_ = SplitsOfSubtask(*all, ctx.subtask, ctx.parallelism);
  return absl::OkStatus();
}

absl::Status FileSource::InitializeState(StateInitContext& ctx) {
  if (ctx.operator_state.empty()) return absl::OkStatus();
  proto::FileSourceState state;
  if (ctx.operator_state.size() != 1 || !state.ParseFromString(ctx.operator_state[0]) ||
      state.parallelism() != parallelism_) {
    return absl::FailedPreconditionError(absl::StrCat(
        "file source '", name_, "': its checkpointed position cannot be restored at parallelism ",
        parallelism_));
  }
  if (state.split_index() < 0 || static_cast<size_t>(state.split_index()) > splits_.size()) {
    return absl::DataLossError(absl::StrCat("file source '", name_, "': checkpointed split ",
                                            state.split_index(), " does not exist (the input has ",
                                            splits_.size(), " splits for this subtask now)"));
  }
  next_split_ = static_cast<size_t>(state.split_index());
  if (state.lines_read() == 0 || next_split_ == splits_.size()) return absl::OkStatus();
  RETURN_IF_ERROR(OpenNextSplit());
  while (reader_->lines_returned() < state.lines_read()) {
    lines_.clear();
    bool at_end = false;
    const int64_t left = state.lines_read() - reader_->lines_returned();
    RETURN_IF_ERROR(reader_->Next(static_cast<size_t>(std::min<int64_t>(left, 4096)), &lines_, &at_end));
    if (at_end && reader_->lines_returned() < state.lines_read()) {
      return absl::DataLossError(absl::StrCat(
          "file source '", name_, "': ", reader_->split().path, " is shorter than at the checkpoint (",
          state.lines_read(), " lines read then)"));
    }
    if (at_end) {
      reader_.reset();
      break;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> FileSource::SnapshotState(int64_t checkpoint_id) {
  proto::FileSourceState state;
  state.set_parallelism(parallelism_);
  if (reader_ != nullptr) {
    state.set_split_index(static_cast<int>(next_split_) - 1);
    state.set_lines_read(reader_->lines_returned());
  } else {
    state.set_split_index(static_cast<int>(next_split_));
  }
  return state.SerializeAsString();
}

absl::Status FileSource::OpenNextSplit() {
  const FileSplit& split = splits_[next_split_++];
  ASSIGN_OR_RETURN(reader_, SplitLineReader::Open(split, options_.read_buffer_bytes));
  if (split.start == 0 && format_.SkipsFirstLine()) {
    bool at_end;
    lines_.clear();
    RETURN_IF_ERROR(reader_->Next(1, &lines_, &at_end));
  }
  return absl::OkStatus();
}

absl::StatusOr<SourcePoll> FileSource::PollNext(Collector& out) {
  batch_.Clear();
  size_t lines_taken = 0;
  size_t text_bytes = 0;
  bool ended = false;
  while (lines_taken < options_.batch_lines && text_bytes < kBatchTextBytes) {
    if (reader_ == nullptr) {
      if (next_split_ >= splits_.size()) {
        ended = true;
        break;
      }
      RETURN_IF_ERROR(OpenNextSplit());
    }
    lines_.clear();
    bool at_end = false;
    const int64_t first_line = reader_->lines_returned();
    RETURN_IF_ERROR(reader_->Next(options_.batch_lines - lines_taken, &lines_, &at_end));
    if (!lines_.empty()) {
      errors_.clear();
      decoder_->DecodeLines(lines_, &batch_, &errors_);
      if (!errors_.empty()) RETURN_IF_ERROR(HandleErrors(first_line));
      lines_taken += lines_.size();
      for (absl::string_view line : lines_) text_bytes += line.size();
    }
    if (at_end) reader_.reset();
  }
  if (batch_.num_rows() > 0) RETURN_IF_ERROR(out.Collect(batch_));
  return ended ? SourcePoll::kEnd : SourcePoll::kMore;
}

absl::Status FileSource::HandleErrors(int64_t first_line) {
  for (const types::DecodeError& e : errors_) {
    if (skip_errors_ && records_skipped_ >= kLoggedSkips) {
      ++records_skipped_;
      continue;
    }
    ASSIGN_OR_RETURN(int64_t before, reader_->LinesBeforeSplit());
    int64_t line = before + first_line + static_cast<int64_t>(e.line_index) + 1;
    std::string message =
        absl::StrCat("file ", reader_->split().path, " line ", line, ": ", e.message);
    if (!skip_errors_) return absl::InvalidArgumentError(message);
    ++records_skipped_;
    spdlog::warn("file source '{}' ({}): skipped a bad record: {}{}", name_, subtask_, message,
                 records_skipped_ == kLoggedSkips ? " (further bad records are only counted)" : "");
  }
  return absl::OkStatus();
}

absl::Status FileSource::Close() {
  reader_.reset();
  return absl::OkStatus();
}

}  // namespace sluice::taskmanager::connectors
