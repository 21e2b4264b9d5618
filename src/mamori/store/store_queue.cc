// The callers' side of the write queue: Record, RecordEvent, SaveSnapshot
// and RecordPing cap what they are given and enqueue it (bounded, see
// store.h); Flush and RunTask wait, with the writer thread, for their turn.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>
#include <utility>

#include "mamori/store/store.h"
#include "mamori/store/store_internal.h"

namespace mamori {
namespace {

// Truncates to at most `max` bytes on a UTF-8 boundary, marking the cut.
void CapText(std::string& s, size_t max) {
  if (s.size() <= max) return;
  size_t cut = max - 3;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
  s += "...";
}

void CapMetrics(std::vector<Metric>& metrics) {
  if (metrics.size() > Store::kMaxMetrics) metrics.resize(Store::kMaxMetrics);
  for (Metric& m : metrics) CapText(m.name, Store::kMaxMetricNameBytes);
}

}  // namespace

void Store::Record(const std::string& check, const std::string& type, const Observation& obs) {
  if (mode_ != OpenMode::kReadWrite) return;
  QueueItem item;
  item.obs.emplace();
  item.obs->check = check;
  item.obs->type = type;
  Observation& o = item.obs->obs;
  o.status = obs.status;
  o.summary = obs.summary;
  o.metrics = obs.metrics;
  o.time = obs.time == WallTime{} ? clock_.Now() : obs.time;
  o.duration = obs.duration;
  CapText(o.summary, kMaxSummaryBytes);
  CapMetrics(o.metrics);

  MutexLock lk(mu_);
  if (queue_.size() >= options_.queue_capacity) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    if (!drop_logged_.exchange(true))
      spdlog::warn(
          "store {}: write queue full ({} items), dropping observations until the disk keeps "
          "up (events are kept)",
          path_, options_.queue_capacity);
    return;
  }
  item.seq = ++next_seq_;
  queue_.push_back(std::move(item));
  if (queue_.size() == 1 || queue_.size() >= options_.batch_size) wake_.notify_one();
}

void Store::RecordEvent(const Event& event) {
  if (mode_ != OpenMode::kReadWrite) return;
  QueueItem item;
  item.event = event;
  if (item.event->time == WallTime{}) item.event->time = clock_.Now();
  CapText(item.event->summary, kMaxSummaryBytes);

  MutexLock lk(mu_);
  if (queue_.size() >= options_.queue_capacity) {
    // Waiting gives the writer a chance; past that the event goes in anyway:
    // a lost state change is a lost incident.
    space_.wait_for(lk, options_.event_block, [&]() REQUIRES(mu_) {
      return queue_.size() < options_.queue_capacity || writer_exited_;
    });
  }
  item.seq = ++next_seq_;
  queue_.push_back(std::move(item));
  wake_.notify_one();
}

void Store::SaveSnapshot(const CheckSnapshot& snapshot) {
  if (mode_ != OpenMode::kReadWrite) return;
  SnapshotItem item;
  item.snap = snapshot;
  CapText(item.snap.summary, kMaxSummaryBytes);
  CapMetrics(item.snap.metrics);

  MutexLock lk(mu_);
  bool was_empty = !HasPendingLocked();
  item.seq = ++next_seq_;
  snapshots_[snapshot.name] = std::move(item);
  if (was_empty) wake_.notify_one();
}

void Store::RecordPing(const heartbeat::Ping& ping, Committed committed) {
  if (mode_ != OpenMode::kReadWrite) {
    committed(Error(path_ + " is open read-only"));
    return;
  }
  auto item = std::make_shared<PingItem>();
  item->ping = ping;
  item->committed = std::move(committed);
  heartbeat::Ping& p = item->ping;
  if (p.time == WallTime{}) p.time = clock_.Now();
  if (p.body.size() > kMaxPingBodyBytes) {
    p.body.resize(kMaxPingBodyBytes);
    p.body_truncated = true;
  }
  CapText(p.user_agent, kMaxUserAgentBytes);

  MutexLock lk(mu_);
  if (writer_exited_) {
    lk.Unlock();
    item->committed(Error("writing " + path_ + ": the writer has stopped"));
    return;
  }
  if (failing_ && last_error_) {
    // The batch ahead keeps failing (disk full, I/O error): a ping queued now
    // would wait behind its retries while its client hangs. Tell the client
    // at once; it retries, and is stored once writing works again.
    Error e = last_error_->Wrap("writing " + path_);
    lk.Unlock();
    item->committed(std::move(e));
    return;
  }
  QueueItem q;
  q.ping = std::move(item);
  q.seq = ++next_seq_;
  queue_.push_back(std::move(q));
  ++queued_pings_;
  // While the writer gathers pings it needs waking only once enough are here.
  if (queued_pings_ == 1 || queued_pings_ >= gather_pings_) wake_.notify_one();
}

Status Store::Flush() {
  if (mode_ != OpenMode::kReadWrite) return Error(path_ + " is open read-only");
  MutexLock lk(mu_);
  const uint64_t target = next_seq_;
  if (committed_seq_ >= target) return Status::Ok();
  const uint64_t gen = error_gen_;
  ++flush_waiters_;
  wake_.notify_one();
  done_.wait(lk, [&]() REQUIRES(mu_) {
    return committed_seq_ >= target || error_gen_ != gen || writer_exited_;
  });
  --flush_waiters_;
  if (committed_seq_ >= target) return Status::Ok();
  if (last_error_) return last_error_->Wrap("writing " + path_);
  return Error("writing " + path_ + ": the writer has stopped");
}

Status Store::RunTask(Task task) {
  auto result = std::make_shared<std::optional<Status>>();
  MutexLock lk(mu_);
  if (writer_exited_) return Error("writing " + path_ + ": the writer has stopped");
  tasks_.emplace_back(std::move(task), result);
  wake_.notify_one();
  done_.wait(lk, [&]() REQUIRES(mu_) { return result->has_value() || writer_exited_; });
  if (!result->has_value()) return Error("writing " + path_ + ": the writer has stopped");
  return **result;
}

}  // namespace mamori
