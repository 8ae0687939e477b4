#include "taskmanager/network/result_partition.h"

#include "absl/strings/str_cat.h"

namespace sluice::network {

void ResultSubpartition::Add(BufferRef buffer) { Enqueue(Entry{std::move(buffer)}); }

void ResultSubpartition::AddBarrier(int64_t checkpoint_id, const std::string& savepoint_dir) {
  Enqueue(Entry{nullptr, checkpoint_id, savepoint_dir});
}

void ResultSubpartition::AddWatermark(int64_t watermark, bool idle) {
  {
    absl::MutexLock lock(&mu_);
    // A newer watermark replaces one the reader has not taken yet (nothing after it).
    if (!queue_.empty() && queue_.back().buffer == nullptr && queue_.back().checkpoint_id == 0) {
      queue_.back().watermark = watermark;
      queue_.back().idle = idle;
      return;
    }
  }
  Enqueue(Entry{nullptr, 0, {}, watermark, idle});
}

void ResultSubpartition::Enqueue(Entry entry) {
  Listener listener;
  {
    absl::MutexLock lock(&mu_);
    if (!error_.ok() || finished_) return;  // failed or released: nobody will read it
    // Only an empty queue needs a wake-up: a reader that polls an item learns from
    // more_available whether to come back.
    if (queue_.empty()) listener = listener_;
    if (entry.buffer != nullptr) ++data_buffers_;
    queue_.push_back(std::move(entry));
  }
  if (listener) (*listener)();
}

void ResultSubpartition::Finish() {
  Listener listener;
  {
    absl::MutexLock lock(&mu_);
    if (!error_.ok() || finished_) return;
    finished_ = true;
    listener = listener_;
  }
  if (listener) (*listener)();
}

void ResultSubpartition::Fail(const absl::Status& cause) {
  Listener listener;
  std::deque<Entry> dropped;
  {
    absl::MutexLock lock(&mu_);
    if (end_delivered_ || !error_.ok()) return;
    error_ = cause;
    dropped.swap(queue_);
    data_buffers_ = 0;
    listener = listener_;
  }
  dropped.clear();  // back to the pool, outside our lock
  if (listener) (*listener)();
}

absl::Status ResultSubpartition::AttachReader(std::function<void()> listener) {
  absl::MutexLock lock(&mu_);
  if (has_reader_) {
    return absl::FailedPreconditionError(absl::StrCat(
        "subpartition ", index_, " of partition ", parent_->id(), " is already being consumed"));
  }
  has_reader_ = true;
  listener_ = std::make_shared<const std::function<void()>>(std::move(listener));
  return absl::OkStatus();
}

void ResultSubpartition::DetachReader() {
  absl::MutexLock lock(&mu_);
  listener_.reset();
}

std::optional<SubpartitionItem> ResultSubpartition::Poll(bool allow_data) {
  SubpartitionItem item;
  {
    absl::MutexLock lock(&mu_);
    if (!error_.ok()) {
      item.kind = SubpartitionItem::Kind::kError;
      item.error = error_;
      return item;
    }
    if (!queue_.empty()) {
      Entry& front = queue_.front();
      if (front.buffer != nullptr) {
        if (!allow_data) return std::nullopt;
        item.kind = SubpartitionItem::Kind::kData;
        item.buffer = std::move(front.buffer);
        --data_buffers_;
      } else if (front.checkpoint_id > 0) {
        item.kind = SubpartitionItem::Kind::kBarrier;
        item.checkpoint_id = front.checkpoint_id;
        item.savepoint_dir = std::move(front.savepoint_dir);
      } else {
        item.kind = SubpartitionItem::Kind::kWatermark;
        item.watermark = front.watermark;
        item.idle = front.idle;
      }
      queue_.pop_front();
      item.backlog = data_buffers_;
      item.more_available = !queue_.empty() || finished_;
      item.next_is_event = queue_.empty() ? finished_ : queue_.front().buffer == nullptr;
      return item;
    }
    if (!finished_ || end_delivered_) return std::nullopt;
    end_delivered_ = true;
    item.kind = SubpartitionItem::Kind::kEndOfPartition;
  }
  parent_->OnSubpartitionConsumed();
  return item;
}

int ResultSubpartition::backlog() const {
  absl::MutexLock lock(&mu_);
  return data_buffers_;
}

SubpartitionView::~SubpartitionView() { partition_->subpartition(subpartition_).DetachReader(); }

std::optional<SubpartitionItem> SubpartitionView::Poll(bool allow_data) {
  return partition_->subpartition(subpartition_).Poll(allow_data);
}

ResultPartition::ResultPartition(std::string id, std::string job_id, int attempt,
                                 int num_subpartitions, std::shared_ptr<LocalBufferPool> pool)
    : id_(std::move(id)), job_id_(std::move(job_id)), attempt_(attempt), pool_(std::move(pool)) {
  subpartitions_.reserve(num_subpartitions);
  for (int i = 0; i < num_subpartitions; ++i) {
    subpartitions_.push_back(std::make_unique<ResultSubpartition>(this, i));
  }
}

absl::StatusOr<std::unique_ptr<SubpartitionView>> ResultPartition::CreateView(
    int index, std::function<void()> listener) {
  if (index < 0 || index >= num_subpartitions()) {
    return absl::InvalidArgumentError(absl::StrCat("partition ", id_, " has ", num_subpartitions(),
                                                   " subpartitions, subpartition ", index,
                                                   " was requested"));
  }
  absl::Status attached = subpartitions_[index]->AttachReader(std::move(listener));
  if (!attached.ok()) return attached;
  return std::make_unique<SubpartitionView>(shared_from_this(), index);
}

void ResultPartition::BroadcastBarrier(int64_t checkpoint_id, const std::string& savepoint_dir) {
  for (auto& sub : subpartitions_) sub->AddBarrier(checkpoint_id, savepoint_dir);
}

void ResultPartition::BroadcastWatermark(int64_t watermark, bool idle) {
  for (auto& sub : subpartitions_) sub->AddWatermark(watermark, idle);
}

void ResultPartition::Finish() {
  for (auto& sub : subpartitions_) sub->Finish();
}

void ResultPartition::Fail(const absl::Status& cause) {
  pool_->Release(cause);
  for (auto& sub : subpartitions_) sub->Fail(cause);
}

void ResultPartition::OnSubpartitionConsumed() {
  bool all = false;
  {
    absl::MutexLock lock(&mu_);
    all = ++consumed_ == num_subpartitions();
  }
  if (all && on_consumed_) on_consumed_();
}

}  // namespace sluice::network
