// The writer thread: it takes batches off the queue (gathering pings that
// come together into one commit), commits each in one transaction with its
// rollups, retries a failed batch with back-off and answers the pings'
// clients. Its prepared statements are in Store::Writer (store_internal.h).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>

#include "mamori/store/store.h"
#include "mamori/store/store_internal.h"

namespace mamori {
namespace {

using std::chrono::duration_cast;
using std::chrono::microseconds;
using store_internal::StatusFromCode;

constexpr int64_t kHourMs = 3'600'000;

// Stored as text (EventKindName's spelling) so the rows stay readable with the
// sqlite3 shell and survive a reordering of the enum.
std::string_view KindText(EventKind k) { return EventKindName(k); }

int64_t Us(Duration d) { return duration_cast<microseconds>(d).count(); }

int64_t HourStart(int64_t ts_ms) {
  int64_t h = ts_ms / kHourMs;
  if (ts_ms % kHourMs < 0) --h;  // floor for times before 1970
  return h * kHourMs;
}

// Metrics as a compact JSON object ({"total_ms":12.5}) so they stay queryable
// with json_extract() from the sqlite3 shell. NaN/inf become null. Empty ->
// NULL.
std::optional<std::string> MetricsToText(const std::vector<Metric>& metrics) {
  if (metrics.empty()) return std::nullopt;
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const Metric& m : metrics) {
    if (std::isfinite(m.value))
      j[m.name] = m.value;
    else
      j[m.name] = nullptr;
  }
  // Replace invalid UTF-8 in names rather than throw.
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace

Status Store::Writer::Prepare() {
  struct {
    sqlite::Statement* st;
    const char* sql;
  } all[] = {
      {&upsert_check,
       "INSERT INTO checks(name, type) VALUES(?1, ?2) ON "
       "CONFLICT(name) DO UPDATE SET "
       "type = excluded.type WHERE excluded.type <> '' AND "
       "checks.type <> excluded.type"},
      {&select_check, "SELECT id, type FROM checks WHERE name = ?1"},
      {&insert_obs,
       "INSERT INTO observations(check_id, ts_ms, status, "
       "duration_us, summary, metrics) "
       "VALUES(?1, ?2, ?3, ?4, ?5, ?6)"},
      {&upsert_rollup,
       "INSERT INTO rollups(check_id, hour_ts, n_ok, n_warning, n_critical, "
       "n_unknown, "
       "duration_sum_us, duration_max_us) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, "
       "?8) "
       "ON CONFLICT(check_id, hour_ts) DO UPDATE SET n_ok = n_ok + "
       "excluded.n_ok, "
       "n_warning = n_warning + excluded.n_warning, "
       "n_critical = n_critical + excluded.n_critical, "
       "n_unknown = n_unknown + excluded.n_unknown, "
       "duration_sum_us = duration_sum_us + excluded.duration_sum_us, "
       "duration_max_us = max(duration_max_us, excluded.duration_max_us)"},
      {&insert_event,
       "INSERT INTO events(ts_ms, check_id, kind, from_status, "
       "to_status, summary) "
       "VALUES(?1, ?2, ?3, ?4, ?5, ?6)"},
      {&insert_ping,
       "INSERT INTO pings(check_id, ts_ms, kind, exit_code, rid, "
       "source, user_agent, body, "
       "body_truncated, duration_us) VALUES(?1, ?2, ?3, ?4, ?5, "
       "?6, ?7, ?8, ?9, ?10)"},
      {&upsert_snapshot,
       "INSERT OR REPLACE INTO snapshots(check_id, hard, last, soft_failing, "
       "attempts, "
       "flapping, last_ms, hard_since_ms, summary, duration_us, metrics) "
       "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"},
  };
  for (auto& [st, sql] : all) {
    auto r = db.Prepare(sql);
    if (!r.ok()) return r.error();
    *st = std::move(r).value();
  }
  return Status::Ok();
}

Result<int64_t> Store::Writer::CheckId(const std::string& name, const std::string& type) {
  auto it = checks.find(name);
  if (it != checks.end() && (type.empty() || it->second.second == type)) return it->second.first;
  upsert_check.Reset();
  upsert_check.Bind(1, name).Bind(2, type);
  if (Status s = upsert_check.Run(); !s.ok()) return s.error();
  select_check.Reset();
  select_check.Bind(1, name);
  auto r = select_check.Step();
  if (!r.ok()) return r.error();
  if (!*r) return Error("check '" + name + "' vanished right after being inserted");
  int64_t id = select_check.ColumnInt(0);
  checks[name] = {id, select_check.ColumnText(1)};
  select_check.Reset();
  return id;
}

Store::Batch Store::TakeBatchLocked() {
  Batch b;
  size_t n = std::min(queue_.size(), options_.batch_size);
  b.items.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (queue_.front().ping) --queued_pings_;
    b.items.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  b.snapshots.reserve(snapshots_.size());
  for (auto& [name, item] : snapshots_) b.snapshots.push_back(std::move(item));
  snapshots_.clear();
  // Snapshots are all taken, so the only items not in this batch are the
  // queue's remainder, which is ordered.
  b.last_seq = queue_.empty() ? next_seq_ : queue_.front().seq - 1;
  NoteQueueDrainedLocked();
  return b;
}

void Store::NoteQueueDrainedLocked() {
  // Half the bound, not the bound itself, so a queue hovering at the bound
  // logs once rather than on every flip.
  if (queue_.size() < options_.queue_capacity / 2 && drop_logged_.exchange(false))
    spdlog::info(
        "store {}: write queue has room again ({} observations "
        "dropped since start)",
        path_, dropped_.load(std::memory_order_relaxed));
}

Status Store::Writer::InsertObservation(const ObsItem& oi, Rollups& rollups) {
  auto id = CheckId(oi.check, oi.type);
  if (!id.ok()) return id.error();
  const int64_t ts = ToUnixMillis(oi.obs.time);
  const int64_t dur = std::max<int64_t>(Us(oi.obs.duration), 0);
  auto metrics = MetricsToText(oi.obs.metrics);
  insert_obs.Reset();
  insert_obs.Bind(1, *id)
      .Bind(2, ts)
      .Bind(3, static_cast<int>(oi.obs.status))
      .Bind(4, dur)
      .Bind(5, oi.obs.summary)
      .Bind(6, metrics);
  if (Status s = insert_obs.Run(); !s.ok()) return s;
  Agg& a = rollups[{*id, HourStart(ts)}];
  a.n[static_cast<int>(StatusFromCode(static_cast<int>(oi.obs.status)))]++;
  a.sum_us += dur;
  a.max_us = std::max(a.max_us, dur);
  return Status::Ok();
}

Status Store::Writer::InsertEvent(const Event& e) {
  auto id = CheckId(e.check, "");
  if (!id.ok()) return id.error();
  std::optional<int64_t> from;
  if (e.from) from = static_cast<int64_t>(*e.from);
  insert_event.Reset();
  insert_event.Bind(1, ToUnixMillis(e.time))
      .Bind(2, *id)
      .Bind(3, KindText(e.kind))
      .Bind(4, from)
      .Bind(5, static_cast<int>(e.to))
      .Bind(6, e.summary);
  return insert_event.Run();
}

Status Store::Writer::InsertPing(const heartbeat::Ping& p) {
  auto id = CheckId(p.check, "heartbeat");
  if (!id.ok()) return id.error();
  std::optional<int64_t> exit_code, duration;
  if (p.exit_code >= 0) exit_code = p.exit_code;
  if (p.duration) duration = Us(*p.duration);
  insert_ping.Reset();
  insert_ping.Bind(1, *id)
      .Bind(2, ToUnixMillis(p.time))
      .Bind(3, heartbeat::PingKindName(p.kind))
      .Bind(4, exit_code)
      .Bind(5, p.rid)
      .Bind(6, p.source)
      .Bind(7, p.user_agent)
      .BindBlob(8, p.body)
      .Bind(9, p.body_truncated ? 1 : 0)
      .Bind(10, duration);
  return insert_ping.Run();
}

Status Store::Writer::UpsertRollups(const Rollups& rollups) {
  for (const auto& [key, a] : rollups) {
    upsert_rollup.Reset();
    upsert_rollup.Bind(1, key.first)
        .Bind(2, key.second)
        .Bind(3, a.n[0])
        .Bind(4, a.n[1])
        .Bind(5, a.n[2])
        .Bind(6, a.n[3])
        .Bind(7, a.sum_us)
        .Bind(8, a.max_us);
    if (Status s = upsert_rollup.Run(); !s.ok()) return s;
  }
  return Status::Ok();
}

Status Store::Writer::UpsertSnapshot(const CheckSnapshot& s) {
  auto id = CheckId(s.name, s.type);
  if (!id.ok()) return id.error();
  std::optional<int64_t> hard;
  if (s.hard) hard = static_cast<int64_t>(*s.hard);
  upsert_snapshot.Reset();
  upsert_snapshot.Bind(1, *id)
      .Bind(2, hard)
      .Bind(3, static_cast<int>(s.last))
      .Bind(4, s.soft_failing ? 1 : 0)
      .Bind(5, s.attempts)
      .Bind(6, s.flapping ? 1 : 0)
      .Bind(7, ToUnixMillis(s.last_time))
      .Bind(8, ToUnixMillis(s.hard_since))
      .Bind(9, s.summary)
      .Bind(10, std::max<int64_t>(Us(s.duration), 0))
      .Bind(11, MetricsToText(s.metrics));
  return upsert_snapshot.Run();
}

Status Store::CommitBatch(Writer& w, const Batch& batch) {
  auto body = [&]() -> Status {
    auto tx = sqlite::Transaction::Begin(w.db);
    if (!tx.ok()) return tx.error();
    // Rollups are summed in memory first: one upsert per check and hour per
    // batch instead of one per observation.
    Writer::Rollups rollups;
    for (const QueueItem& item : batch.items) {
      Status s = item.obs     ? w.InsertObservation(*item.obs, rollups)
                 : item.event ? w.InsertEvent(*item.event)
                 : item.ping  ? w.InsertPing(item.ping->ping)
                              : Status::Ok();
      if (!s.ok()) return s;
    }
    if (Status s = w.UpsertRollups(rollups); !s.ok()) return s;
    for (const SnapshotItem& si : batch.snapshots)
      if (Status s = w.UpsertSnapshot(si.snap); !s.ok()) return s;
    return tx->Commit();
  };
  Status s = body();
  if (!s.ok()) w.checks.clear();
  return s;
}

void Store::WriterLoop() {
  using namespace std::chrono_literals;
  constexpr Duration kMinBackoff = 100ms, kMaxBackoff = 5s;
  std::optional<Batch> failed;  // a batch whose commit failed; retried before anything else
  Duration backoff = kMinBackoff;
  std::string logged_error;
  auto urgent = [&]() REQUIRES(mu_) {
    return stop_ || flush_waiters_ > 0 || !tasks_.empty() || queued_pings_ > 0 ||
           queue_.size() >= options_.batch_size;
  };
  // Pings that come together share a commit. While the last commit held
  // several, about as many are on their way (each client sends its next ping
  // when answered), so the writer waits briefly for them: a commit writes
  // every WAL page it touched, and fewer, fuller commits cost less per ping.
  // A lone ping (the last commit held one) is committed at once.
  constexpr Duration kPingGather = 300us;
  auto gathered = [&]() REQUIRES(mu_) {
    return stop_ || flush_waiters_ > 0 || !tasks_.empty() || queued_pings_ >= gather_pings_ ||
           queue_.size() >= options_.batch_size;
  };
  auto note_pings = [&](const Batch& b) REQUIRES(mu_) {
    gather_pings_ = static_cast<size_t>(
        std::count_if(b.items.begin(), b.items.end(),
                      [](const QueueItem& item) { return item.ping != nullptr; }));
  };
  // Tells the clients of the batch's pings how their commit went. A failed
  // batch keeps its other items for the retry but not its pings: their
  // clients are answered with an error and will send them again.
  auto answer_pings = [](Batch& b, const Status& s) {
    for (auto& item : b.items)
      if (item.ping) item.ping->committed(s);
    if (!s.ok()) std::erase_if(b.items, [](const QueueItem& item) { return item.ping != nullptr; });
  };

  MutexLock lk(mu_);
  for (;;) {
    if (!failed && !HasPendingLocked() && tasks_.empty()) {
      if (stop_) break;
      wake_.wait(lk,
                 [&]() REQUIRES(mu_) { return stop_ || HasPendingLocked() || !tasks_.empty(); });
      continue;
    }
    // Let a batch build up for flush_interval unless someone needs it now.
    if (!failed && !urgent()) wake_.wait_for(lk, options_.flush_interval, urgent);

    while (failed || HasPendingLocked()) {
      if (!failed && queued_pings_ > 0 && !gathered()) wake_.wait_for(lk, kPingGather, gathered);
      Batch b = failed ? std::move(*failed) : TakeBatchLocked();
      if (!failed) note_pings(b);
      failed.reset();
      space_.notify_all();
      lk.Unlock();
      Status s = CommitBatch(*writer_, b);
      if (s.ok()) commits_.fetch_add(1, std::memory_order_relaxed);
      lk.Lock();
      // Marked failing before any client hears of it: a client answered 503
      // retries at once, and its next ping must be refused at once too, not
      // queued behind the failed batch's retries (which may last until the
      // disk has room again). Pings queued meanwhile are refused with it.
      failing_ = !s.ok();
      if (!s.ok()) {
        last_error_ = s.error();
        // (Later batches' last_seq still covers the seqs taken out here.)
        for (auto it = queue_.begin(); it != queue_.end();) {
          if (!it->ping) {
            ++it;
            continue;
          }
          b.items.push_back(std::move(*it));
          --queued_pings_;
          it = queue_.erase(it);
        }
      }
      lk.Unlock();
      answer_pings(b, s);
      lk.Lock();
      if (s.ok()) {
        committed_seq_ = std::max(committed_seq_, b.last_seq);
        if (!logged_error.empty()) {
          spdlog::info("store {}: writing again after an error", path_);
          logged_error.clear();
        }
        backoff = kMinBackoff;
        done_.notify_all();
        if (!urgent()) break;  // the rest can wait for the next interval
        continue;
      }
      ++error_gen_;
      last_error_ = s.error();
      done_.notify_all();
      if (s.error().message() != logged_error) {
        spdlog::error("store {}: commit failed, will retry: {}", path_, s.error().message());
        logged_error = s.error().message();
      }
      if (stop_) {
        size_t lost = b.size() + queue_.size() + snapshots_.size();
        spdlog::error("store {}: shutting down with {} unsaved items: {}", path_, lost,
                      s.error().message());
        queue_.clear();
        snapshots_.clear();
        writer_exited_ = true;
        done_.notify_all();
        space_.notify_all();
        return;
      }
      failed = std::move(b);
      break;
    }

    while (!tasks_.empty()) {
      auto [task, result] = std::move(tasks_.front());
      tasks_.pop_front();
      lk.Unlock();
      Status s = task(*writer_);
      lk.Lock();
      *result = std::move(s);
      done_.notify_all();
    }

    if (failed) {
      wake_.wait_for(lk, backoff, [&]() REQUIRES(mu_) { return stop_ || !tasks_.empty(); });
      backoff = std::min(backoff * 2, kMaxBackoff);
    }
  }
  writer_exited_ = true;
  done_.notify_all();
  space_.notify_all();
}

}  // namespace mamori
