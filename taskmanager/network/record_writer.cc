#include "taskmanager/network/record_writer.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/status_macros.h"
#include "common/types/batch_serde.h"
#include "taskmanager/network/key_groups.h"

namespace sluice::network {
namespace {

// Room left in a gRPC message for the Buffer envelope around the batch bytes.
constexpr int64_t kEnvelopeBytes = 1024;

// Appends rows [begin, end) of `src` to `dst` column by column (bulk copies).
void AppendRange(types::RecordBatch* dst, const types::RecordBatch& src, size_t begin,
                 size_t end) {
  for (size_t c = 0; c < src.num_columns(); ++c) {
    const types::Column& s = src.column(c);
    types::Column& d = dst->mutable_column(c);
    d.mutable_valid().insert(d.mutable_valid().end(), s.valid().begin() + begin,
                             s.valid().begin() + end);
    if (types::IsIntegerStored(s.type())) {
      d.mutable_ints().insert(d.mutable_ints().end(), s.ints().begin() + begin,
                              s.ints().begin() + end);
    } else if (s.type() == types::TypeId::kFloat64) {
      d.mutable_doubles().insert(d.mutable_doubles().end(), s.doubles().begin() + begin,
                                 s.doubles().begin() + end);
    } else {
      const std::vector<uint32_t>& so = s.offsets();
      std::vector<uint32_t>& dof = d.mutable_offsets();
      std::string& chars = d.mutable_chars();
      const uint32_t shift = static_cast<uint32_t>(chars.size()) - so[begin];
      chars.append(s.chars().data() + so[begin], so[end] - so[begin]);
      for (size_t r = begin; r < end; ++r) dof.push_back(so[r + 1] + shift);
    }
  }
  dst->SetNumRows(dst->num_rows() + (end - begin));
}

// dst[base + i] = src[rows[i]] for i < count, dst grown by count first (a gather loop without
// a capacity check per element).
template <typename T>
void Gather(std::vector<T>& dst, const std::vector<T>& src, const uint32_t* rows, size_t count) {
  const size_t base = dst.size();
  dst.resize(base + count);
  T* out = dst.data() + base;
  for (size_t i = 0; i < count; ++i) out[i] = src[rows[i]];
}

// Appends the rows rows[0..count) of `src` to `dst`, one column at a time.
void AppendSelected(types::RecordBatch* dst, const types::RecordBatch& src, const uint32_t* rows,
                    size_t count) {
  for (size_t c = 0; c < src.num_columns(); ++c) {
    const types::Column& s = src.column(c);
    types::Column& d = dst->mutable_column(c);
    Gather(d.mutable_valid(), s.valid(), rows, count);
    if (types::IsIntegerStored(s.type())) {
      Gather(d.mutable_ints(), s.ints(), rows, count);
    } else if (s.type() == types::TypeId::kFloat64) {
      Gather(d.mutable_doubles(), s.doubles(), rows, count);
    } else {
      const std::vector<uint32_t>& so = s.offsets();
      std::vector<uint32_t>& dof = d.mutable_offsets();
      std::string& chars = d.mutable_chars();
      size_t bytes = 0;
      for (size_t i = 0; i < count; ++i) bytes += so[rows[i] + 1] - so[rows[i]];
      size_t at = chars.size();
      chars.resize(at + bytes);
      const size_t base = dof.size();
      dof.resize(base + count);
      for (size_t i = 0; i < count; ++i) {
        const uint32_t r = rows[i];
        const uint32_t n = so[r + 1] - so[r];
        std::memcpy(chars.data() + at, s.chars().data() + so[r], n);
        at += n;
        dof[base + i] = static_cast<uint32_t>(at);
      }
    }
  }
  dst->SetNumRows(dst->num_rows() + count);
}

std::string EdgeName(const proto::OutputDescriptor& out) {
  return absl::StrCat("output edge ", out.edge_id(), " (partition ", out.partition_id(), ")");
}

}  // namespace

absl::Status RecordWriter::Validate(const proto::OutputDescriptor& out,
                                    const types::Schema& schema, int max_parallelism) {
  const std::string edge = EdgeName(out);
  if (out.partition_id().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(edge, ": no partition_id"));
  }
  if (out.num_subpartitions() < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(edge, ": num_subpartitions is ", out.num_subpartitions(), ", must be >= 1"));
  }
  switch (out.partitioning()) {
    case proto::FORWARD:
      if (out.num_subpartitions() != 1) {
        return absl::InvalidArgumentError(absl::StrCat(
            edge, ": a FORWARD edge has exactly one subpartition, got ", out.num_subpartitions()));
      }
      break;
    case proto::REBALANCE:
    case proto::BROADCAST:
      break;
    case proto::HASH:
      if (out.key_indexes().empty()) {
        return absl::InvalidArgumentError(absl::StrCat(edge, ": HASH partitioning without keys"));
      }
      for (int k : out.key_indexes()) {
        if (k < 0 || k >= static_cast<int>(schema.size())) {
          return absl::InvalidArgumentError(absl::StrCat(edge, ": key column ", k,
                                                         " is out of range for schema (",
                                                         schema.ToString(), ")"));
        }
      }
      if (max_parallelism < out.num_subpartitions() || max_parallelism > kMaxMaxParallelism) {
        return absl::InvalidArgumentError(absl::StrCat(
            edge, ": max_parallelism ", max_parallelism, " must be between the consumer parallelism (",
            out.num_subpartitions(), ") and ", kMaxMaxParallelism));
      }
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat(edge, ": unknown partitioning ", static_cast<int>(out.partitioning())));
  }
  return absl::OkStatus();
}

RecordWriter::RecordWriter(std::shared_ptr<ResultPartition> partition,
                           const proto::OutputDescriptor& out, types::SchemaPtr schema,
                           int max_parallelism, const NetworkConfig& config, const Clock* clock,
                           const std::atomic<bool>* canceled)
    : partition_(std::move(partition)),
      partitioning_(out.partitioning()),
      key_indexes_(out.key_indexes().begin(), out.key_indexes().end()),
      num_subpartitions_(out.num_subpartitions()),
      max_parallelism_(max_parallelism),
      schema_(std::move(schema)),
      buffer_size_(config.buffer_size),
      buffer_timeout_ms_(config.buffer_timeout_ms),
      max_row_bytes_(config.max_message_size - kEnvelopeBytes),
      clock_(clock),
      canceled_(canceled) {
  // Serialized layout (batch_serde.h): 10 header bytes; per column 2 bytes (+4 for the first
  // string offset); per row and column at most 1 validity byte + the value (+ string bytes).
  empty_batch_bytes_ = 10;
  for (const types::Field& f : schema_->fields()) {
    empty_batch_bytes_ += 2;
    fixed_row_bytes_ += 1;
    if (f.type == types::TypeId::kBool) {
      fixed_row_bytes_ += 1;
    } else if (types::IsStringStored(f.type)) {
      empty_batch_bytes_ += 4;
      fixed_row_bytes_ += 4;
      has_strings_ = true;
    } else {
      fixed_row_bytes_ += 8;
    }
  }
  const int slots = partitioning_ == proto::BROADCAST ? 1 : num_subpartitions_;
  pending_.reserve(slots);
  for (int i = 0; i < slots; ++i) {
    pending_.emplace_back(schema_);
    pending_.back().bytes = empty_batch_bytes_;
  }
  if (partitioning_ == proto::HASH) selections_.resize(num_subpartitions_);
}

RecordWriter::~RecordWriter() {
  if (state_ == State::kOpen) {
    partition_->Fail(absl::CancelledError(absl::StrCat(
        "the producer of partition ", partition_->id(), " stopped before finishing")));
  }
}

void RecordWriter::MeasureBatch(const types::RecordBatch& batch) {
  row_bytes_.clear();
  batch_row_bytes_ = fixed_row_bytes_ * static_cast<int64_t>(batch.num_rows());
  if (!has_strings_) return;
  for (size_t c = 0; c < batch.num_columns(); ++c) {
    const types::Column& col = batch.column(c);
    if (!types::IsStringStored(col.type())) continue;
    batch_row_bytes_ += col.offsets()[batch.num_rows()] - col.offsets()[0];
  }
}

void RecordWriter::MeasureRows(const types::RecordBatch& batch) {
  if (!has_strings_ || !row_bytes_.empty()) return;
  row_bytes_.assign(batch.num_rows(), fixed_row_bytes_);
  for (size_t c = 0; c < batch.num_columns(); ++c) {
    const types::Column& col = batch.column(c);
    if (!types::IsStringStored(col.type())) continue;
    const std::vector<uint32_t>& off = col.offsets();
    for (size_t r = 0; r < batch.num_rows(); ++r) row_bytes_[r] += off[r + 1] - off[r];
  }
}

absl::Status RecordWriter::Emit(const types::RecordBatch& batch) {
  if (canceled_ != nullptr && canceled_->load(std::memory_order_relaxed)) {
    return absl::CancelledError("task canceled");
  }
  if (state_ != State::kOpen) {
    return absl::FailedPreconditionError(
        absl::StrCat("Emit on the finished or failed writer of partition ", partition_->id()));
  }
  const size_t rows = batch.num_rows();
  if (rows == 0) return absl::OkStatus();
  if (batch.num_columns() != schema_->size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "partition ", partition_->id(), ": a batch of ", batch.num_columns(),
        " columns does not match the edge schema (", schema_->ToString(), ")"));
  }
  MeasureBatch(batch);
  // A batch that fits a message has no row too large for one.
  if (has_strings_ && empty_batch_bytes_ + batch_row_bytes_ > max_row_bytes_) {
    MeasureRows(batch);
    const int64_t largest = *std::max_element(row_bytes_.begin(), row_bytes_.end());
    if (empty_batch_bytes_ + largest > max_row_bytes_) {
      return absl::InvalidArgumentError(absl::StrCat(
          "partition ", partition_->id(), ": a row of ", largest,
          " bytes does not fit in a network message; raise rpc.max_message_size"));
    }
  }

  switch (partitioning_) {
    case proto::HASH: {
      HashKeys(batch, key_indexes_, &hashes_);
      for (auto& s : selections_) s.clear();
      for (size_t r = 0; r < rows; ++r) {
        const int key_group = KeyGroupForKeyHash(hashes_[r], max_parallelism_);
        selections_[OperatorIndexForKeyGroup(max_parallelism_, num_subpartitions_, key_group)]
            .push_back(static_cast<uint32_t>(r));
      }
      for (int s = 0; s < num_subpartitions_; ++s) {
        if (!selections_[s].empty()) {
          RETURN_IF_ERROR(Append(s, batch, selections_[s].data(), selections_[s].size()));
        }
      }
      break;
    }
    case proto::REBALANCE: {
      const int target = next_rebalance_;
      next_rebalance_ = (next_rebalance_ + 1) % num_subpartitions_;
      RETURN_IF_ERROR(Append(target, batch, nullptr, rows));
      break;
    }
    default:  // FORWARD (one subpartition) and BROADCAST (one shared slot)
      RETURN_IF_ERROR(Append(0, batch, nullptr, rows));
      break;
  }
  records_out_.fetch_add(static_cast<int64_t>(rows), std::memory_order_relaxed);

  if (buffer_timeout_ms_ == 0) return Flush();
  if (pending_slots_ > 0 && flush_deadline_ms_ == std::numeric_limits<int64_t>::max() &&
      buffer_timeout_ms_ > 0) {
    flush_deadline_ms_ = clock_->NowMillis() + buffer_timeout_ms_;
  }
  return absl::OkStatus();
}

absl::Status RecordWriter::Append(int slot, const types::RecordBatch& batch, const uint32_t* rows,
                                  size_t count) {
  Pending& p = pending_[slot];
  // A whole batch that fills at least half a buffer is serialized as it is: no copy into
  // the pending batch.
  if (rows == nullptr && p.batch.num_rows() == 0 && count == batch.num_rows()) {
    const int64_t bytes = empty_batch_bytes_ + batch_row_bytes_;
    if (bytes <= buffer_size_ && 2 * bytes >= buffer_size_) return Ship(slot, batch);
  }
  MeasureRows(batch);
  size_t begin = 0;
  while (begin < count) {
    // Take rows while they fit in one buffer (a row larger than a buffer goes alone).
    size_t end = begin;
    int64_t bytes = p.bytes;
    while (end < count) {
      const int64_t row = RowBytes(rows != nullptr ? rows[end] : end);
      if (bytes + row > buffer_size_ && (p.batch.num_rows() > 0 || end > begin)) break;
      bytes += row;
      ++end;
    }
    if (end > begin) {
      if (p.batch.num_rows() == 0) ++pending_slots_;
      if (rows != nullptr) {
        AppendSelected(&p.batch, batch, rows + begin, end - begin);
      } else {
        AppendRange(&p.batch, batch, begin, end);
      }
      p.bytes = bytes;
    }
    // Full: the next row would not fit (or not even the smallest possible row would).
    if (end < count || buffer_size_ - p.bytes < fixed_row_bytes_) RETURN_IF_ERROR(FlushSlot(slot));
    begin = end;
  }
  return absl::OkStatus();
}

int64_t RecordWriter::backpressured_ns() const {
  // Read the wait in progress first: if it ends in between, the total counted it already
  // or counts it now; a wait is never counted twice by more than the race's nanoseconds.
  const int64_t since = blocked_since_ns_.load(std::memory_order_relaxed);
  const int64_t total = backpressured_ns_.load(std::memory_order_relaxed);
  if (since == 0) return total;
  return total + std::max<int64_t>(0, MonotonicNanos() - since);
}

absl::Status RecordWriter::FlushSlot(int slot) {
  Pending& p = pending_[slot];
  if (p.batch.num_rows() == 0) return absl::OkStatus();
  RETURN_IF_ERROR(Ship(slot, p.batch));
  p.batch.Clear();
  p.bytes = empty_batch_bytes_;
  if (--pending_slots_ == 0) flush_deadline_ms_ = std::numeric_limits<int64_t>::max();
  return absl::OkStatus();
}

absl::Status RecordWriter::Ship(int slot, const types::RecordBatch& batch) {
  BufferRef buffer = partition_->pool().TryRequest();
  if (buffer == nullptr) {  // no free buffer: backpressure (timed only when it happens)
    const int64_t start = MonotonicNanos();
    // Readers add the wait in progress: a wait of seconds shows while it lasts.
    blocked_since_ns_.store(start, std::memory_order_relaxed);
    absl::StatusOr<BufferRef> requested = partition_->pool().Request(canceled_);
    backpressured_ns_.fetch_add(MonotonicNanos() - start, std::memory_order_relaxed);
    blocked_since_ns_.store(0, std::memory_order_relaxed);
    if (!requested.ok()) return requested.status();
    buffer = *std::move(requested);
  }
  types::SerializeBatch(batch, &buffer->data);
  const int64_t size = static_cast<int64_t>(buffer->data.size());
  if (partitioning_ == proto::BROADCAST) {
    for (int s = 0; s < num_subpartitions_; ++s) partition_->subpartition(s).Add(buffer);
    bytes_out_.fetch_add(size * num_subpartitions_, std::memory_order_relaxed);
  } else {
    partition_->subpartition(slot).Add(std::move(buffer));
    bytes_out_.fetch_add(size, std::memory_order_relaxed);
  }
  return absl::OkStatus();
}

absl::Status RecordWriter::FlushIfDue(int64_t now_ms) {
  if (now_ms < flush_deadline_ms_) return absl::OkStatus();
  return Flush();
}

absl::Status RecordWriter::Flush() {
  if (state_ != State::kOpen) return absl::OkStatus();
  for (size_t s = 0; s < pending_.size(); ++s) RETURN_IF_ERROR(FlushSlot(static_cast<int>(s)));
  flush_deadline_ms_ = std::numeric_limits<int64_t>::max();
  return absl::OkStatus();
}

absl::Status RecordWriter::BroadcastBarrier(int64_t checkpoint_id,
                                            const std::string& savepoint_dir) {
  if (state_ != State::kOpen) {
    return absl::FailedPreconditionError(absl::StrCat(
        "checkpoint barrier on the finished or failed writer of partition ", partition_->id()));
  }
  RETURN_IF_ERROR(Flush());
  partition_->BroadcastBarrier(checkpoint_id, savepoint_dir);
  return absl::OkStatus();
}

absl::Status RecordWriter::BroadcastWatermark(int64_t watermark, bool idle) {
  if (state_ != State::kOpen) {
    return absl::FailedPreconditionError(
        absl::StrCat("watermark on the finished or failed writer of partition ", partition_->id()));
  }
  RETURN_IF_ERROR(Flush());
  partition_->BroadcastWatermark(watermark, idle);
  return absl::OkStatus();
}

absl::Status RecordWriter::Finish() {
  if (state_ != State::kOpen) {
    return absl::FailedPreconditionError(
        absl::StrCat("Finish on the finished or failed writer of partition ", partition_->id()));
  }
  RETURN_IF_ERROR(Flush());
  state_ = State::kFinished;
  partition_->Finish();
  return absl::OkStatus();
}

void RecordWriter::Fail(const absl::Status& cause) {
  if (state_ == State::kFailed) return;
  state_ = State::kFailed;
  partition_->Fail(cause.ok() ? absl::UnknownError("producer failed") : cause);
}

}  // namespace sluice::network
