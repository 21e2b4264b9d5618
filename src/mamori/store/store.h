// Store: mamori's history in one embedded SQLite file, <data_dir>/mamori.db, in
// WAL mode so the daemon (the one writer) and `mamori status` (a reader) work at
// the same time.
//
// What is kept: raw observations (status, duration, summary, metrics; not the
// multi-line details), an hourly rollup per check (counts per status, duration
// sum and max) updated in the same transaction as each observation, events
// (state changes, flapping) and the latest CheckSnapshot per check so a
// restarted daemon resumes where it stopped. Compact() applies the retention
// (raw 7 d, rollups and events 400 d by default) and returns the freed pages to
// the file system, which is how a year of a 60 s check stays within a few MB.
// Summaries are capped at kMaxSummaryBytes and metrics at kMaxMetrics per
// observation so no probe output can grow the file without bound.
//
// Writes are asynchronous and batched: Record/RecordEvent/SaveSnapshot only
// enqueue; a dedicated writer thread commits the queue in one transaction every
// Options::flush_interval or Options::batch_size items, whichever comes first.
// The queue is bounded: when it is full, Record drops the observation (counted,
// logged once per overflow: again after the queue drained below half the bound)
// rather than stall a probe; events are never dropped (RecordEvent
// waits up to Options::event_block before enqueueing beyond the bound, since
// events are rare and losing one loses an incident); snapshots are coalesced to
// the latest one per check and so never grow past the number of checks.
//
// Ownership: Open returns the sole owner. The Clock passed to Open must outlive
// the Store (it is only read: for Compact's cut-offs and to stamp observations
// and events that carry no time). Batching timers use real time, so a FakeClock
// never stalls the writer. The destructor commits everything still queued and joins the
// writer thread.
//
// Threading: every public method may be called from any thread. Reads run on a
// separate read-only connection (serialised by a mutex), so they see what has
// been committed, not what is still queued: call Flush() first when that
// matters. Compact() runs on the writer thread in short steps, between batches.
//
// Failure: Open returns a clear message naming the path (not a directory, not a
// mamori database, created by a newer mamori, no data yet...) and never deletes
// or rewrites a file it did not create. A failed commit (disk full, I/O error)
// is logged and retried with back-off, the batch kept; Flush() reports that
// error instead of blocking. While commits fail, RecordPing answers with the
// error at once (its client retries) instead of queueing behind the failing
// batch, and observations keep queueing up to the bound; the first successful
// retry ends the episode. Read methods return errors as values. Nothing a
// probe writes into a summary or metric can make a statement fail.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "mamori/core/check_settings.h"
#include "mamori/core/event.h"
#include "mamori/core/observation.h"
#include "mamori/core/ping.h"
#include "mamori/core/status.h"
#include "mamori/store/sqlite.h"
#include "mamori/util/clock.h"
#include "mamori/util/mutex.h"
#include "mamori/util/result.h"

namespace mamori {

// One raw observation as read back from the store.
struct StoredObservation {
  WallTime time{};
  CheckStatus status = CheckStatus::kUnknown;
  Duration duration{};
  std::string summary;
  std::vector<Metric> metrics;
};

// One hour of one check. `hour` is the start of the hour (UTC, unix-aligned).
struct Rollup {
  WallTime hour{};
  int64_t n_ok = 0;
  int64_t n_warning = 0;
  int64_t n_critical = 0;
  int64_t n_unknown = 0;
  Duration duration_sum{};
  Duration duration_max{};
  int64_t total() const { return n_ok + n_warning + n_critical + n_unknown; }
};

class Store {
 public:
  enum class OpenMode {
    kReadWrite,  // the daemon: creates data_dir (0700) and the schema, starts the writer
    kReadOnly,   // `mamori status` and friends: reads only, never creates anything
  };

  struct Options {
    Duration flush_interval = std::chrono::milliseconds(200);  // max latency of a queued write
    size_t batch_size = 2000;         // commit at once when this many items are queued
    size_t queue_capacity = 100'000;  // observations beyond this are dropped
    Duration event_block = std::chrono::seconds(1);   // RecordEvent's wait when the queue is full
    Duration busy_timeout = std::chrono::seconds(5);  // wait for another connection's lock
  };

  static constexpr int kSchemaVersion = 2;  // PRAGMA user_version (2 added pings)
  static constexpr size_t kMaxSummaryBytes = 1024;
  static constexpr size_t kMaxMetrics = 64;
  static constexpr size_t kMaxMetricNameBytes = 128;
  static constexpr size_t kMaxReadRows = 100'000;  // cap on any `limit` and on Rollups()
  static constexpr size_t kMaxPingBodyBytes = 10 << 20;
  static constexpr size_t kMaxUserAgentBytes = 256;
  static constexpr size_t kPingsKeptPerCheck = 1000;  // older ones go at Compact

  static Result<std::unique_ptr<Store>> Open(const std::string& data_dir, const Clock& clock,
                                             OpenMode mode, Options options);
  static Result<std::unique_ptr<Store>> Open(const std::string& data_dir, const Clock& clock,
                                             OpenMode mode) {
    return Open(data_dir, clock, mode, Options());
  }

  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  ~Store();

  // ---- writes (ReadWrite only; ignored on a ReadOnly store) ----

  // Queues one observation of `check` (of check type `type`). obs.details is
  // not stored. An observation without a time is stamped with clock.Now().
  // Drops the observation if the queue is full (see dropped_observations()).
  void Record(const std::string& check, const std::string& type, const Observation& obs);
  // Queues an event; never drops it (may block up to Options::event_block).
  void RecordEvent(const Event& event);
  // Queues the latest snapshot of a check; replaces a queued older one.
  void SaveSnapshot(const CheckSnapshot& snapshot);

  // Blocks until everything queued before the call is committed. Returns the
  // commit error if a commit fails meanwhile (the data stays queued and is
  // retried). Error on a ReadOnly store.
  Status Flush();

  // Queues a heartbeat ping and commits it at once (with whatever else is
  // queued: group commit; while the last commit held several pings, after
  // waiting up to 300 µs for as many). `committed` runs on the writer thread after the
  // commit, with OK, or with the error if the commit failed, in which case the
  // ping is not kept (the client is told to retry). A ping whose callback saw OK
  // survives a SIGKILL of the daemon. Capped like observations.
  using Committed = std::function<void(Status)>;
  void RecordPing(const heartbeat::Ping& ping, Committed committed);
  // Transactions committed since Open. Each holds everything queued when it
  // began: pings that wait at once share one (group commit).
  uint64_t commits() const { return commits_.load(std::memory_order_relaxed); }

  // Deletes raw observations older than retention.raw, rollups older than
  // retention.rollups and events older than retention.events (relative to
  // clock.Now()), gives the free pages back to the file system and truncates the
  // WAL. Flushes first. The daemon calls it hourly. Error on a ReadOnly store.
  // Old rows go in short transactions of a few thousand rows each, so writes
  // queued meanwhile (a ping waiting to be durable) wait for one of them, not
  // for the whole compaction. `deleted_rows` (optional) receives how many
  // observations and rollups were deleted.
  Status Compact(const RetentionConfig& retention, uint64_t* deleted_rows = nullptr);

  // ---- reads (any mode, any thread; committed data only) ----

  // The latest snapshot of every check, ordered by name.
  Result<std::vector<CheckSnapshot>> LoadSnapshots();
  // Events at or after `since` (of one check, or all), newest first, at most
  // `limit` (capped at kMaxReadRows).
  Result<std::vector<Event>> Events(std::optional<std::string> check, WallTime since, size_t limit);
  // Raw observations of one check at or after `since` (and at or before
  // `until`, if given), newest first.
  Result<std::vector<StoredObservation>> Observations(const std::string& check, WallTime since,
                                                      size_t limit,
                                                      std::optional<WallTime> until = std::nullopt);
  // Hourly rollups of one check whose hour starts at or after `since`, oldest first.
  Result<std::vector<Rollup>> Rollups(const std::string& check, WallTime since);
  // Per check, the sum of its rollups whose hour starts in [since, until)
  // (Rollup::hour is `since`), in one query: every check's uptime at once.
  Result<std::vector<std::pair<std::string, Rollup>>> RollupTotals(WallTime since, WallTime until);

  // Pings of one check, newest first, at most `limit` (capped at kMaxReadRows).
  Result<std::vector<heartbeat::Ping>> Pings(const std::string& check, size_t limit);
  // Pings stored in total (all checks).
  Result<int64_t> PingCount();

  // Observations dropped because the queue was full, since Open.
  uint64_t dropped_observations() const { return dropped_.load(std::memory_order_relaxed); }
  // <data_dir>/mamori.db
  const std::string& path() const { return path_; }

 private:
  struct ObsItem {
    std::string check;
    std::string type;
    Observation obs;  // details cleared, summary and metrics capped
  };
  struct PingItem {
    heartbeat::Ping ping;
    Committed committed;
  };
  struct QueueItem {
    uint64_t seq = 0;
    std::optional<ObsItem> obs;  // exactly one of obs / event / ping is set
    std::optional<Event> event;
    std::shared_ptr<PingItem> ping;
  };
  struct SnapshotItem {
    uint64_t seq = 0;
    CheckSnapshot snap;
  };
  struct Batch {
    std::vector<QueueItem> items;
    std::vector<SnapshotItem> snapshots;
    uint64_t last_seq = 0;  // every item with seq <= last_seq is in this batch or committed
    bool empty() const { return items.empty() && snapshots.empty(); }
    size_t size() const { return items.size() + snapshots.size(); }
  };
  struct Writer;  // the writer connection, its prepared statements and caches
  using Task = std::function<Status(Writer&)>;

  Store(std::string path, const Clock& clock, OpenMode mode, Options options);

  void WriterLoop();
  bool HasPendingLocked() const REQUIRES(mu_) { return !queue_.empty() || !snapshots_.empty(); }
  Batch TakeBatchLocked() REQUIRES(mu_);
  void NoteQueueDrainedLocked() REQUIRES(mu_);  // ends an overflow episode once the queue has room
  Status CommitBatch(Writer& w, const Batch& batch);
  Status RunTask(Task task);  // runs `task` on the writer thread, waits for its result
  // Runs `sql` (binding check id, cut-off, chunk size) one chunk per task
  // until a chunk deletes fewer rows than asked; adds the rows to `deleted`.
  // PRAGMA incremental_vacuum in steps of 2,000 pages, one task each.
  Status GiveBackFreePages();
  Status CompactChunks(const std::string& sql, int64_t check_id, int64_t cut, uint64_t* deleted);

  const std::string path_;
  const Clock& clock_;
  const OpenMode mode_;
  const Options options_;

  Mutex read_mu_;
  sqlite::Db reader_ GUARDED_BY(read_mu_);

  // Owned here; used only by writer_thread_ (Open fills it before starting
  // the thread, the destructor frees it after the join), so no lock.
  std::unique_ptr<Writer> writer_;

  // mu_ guards the queue and the writer's bookkeeping below; the atomics and
  // the thread after them need no lock.
  mutable Mutex mu_;
  CondVar wake_;                                 // writer: work, flush or stop
  CondVar done_;                                 // Flush/RunTask: progress or error
  CondVar space_;                                // RecordEvent: room in the queue
  std::deque<QueueItem> queue_ GUARDED_BY(mu_);  // observations and events, in order
  std::map<std::string, SnapshotItem> snapshots_ GUARDED_BY(mu_);  // latest per check
  uint64_t next_seq_ GUARDED_BY(mu_) = 0;       // seq of the latest enqueued item
  uint64_t committed_seq_ GUARDED_BY(mu_) = 0;  // every item with seq <= this is committed
  int flush_waiters_ GUARDED_BY(mu_) = 0;
  size_t queued_pings_ GUARDED_BY(mu_) = 0;  // pings make the queue urgent (their clients wait)
  uint64_t error_gen_ GUARDED_BY(mu_) = 0;   // bumped on every failed commit
  std::optional<Error> last_error_ GUARDED_BY(mu_);
  bool failing_ GUARDED_BY(mu_) = false;  // the last commit failed: pings are answered at once
  std::deque<std::pair<Task, std::shared_ptr<std::optional<Status>>>> tasks_ GUARDED_BY(mu_);
  bool stop_ GUARDED_BY(mu_) = false;
  bool writer_exited_ GUARDED_BY(mu_) = false;
  // Pings the last commit held: while it held several, the writer waits (up
  // to kPingGather) for as many before the next commit (WriterLoop).
  size_t gather_pings_ GUARDED_BY(mu_) = 0;

  // Lock-free: Record counts and logs drops while holding mu_, but
  // dropped_observations() reads without it.
  std::atomic<uint64_t> dropped_{0};
  std::atomic<bool> drop_logged_{false};  // this overflow was logged; reset once drained
  std::atomic<uint64_t> commits_{0};

  std::thread writer_thread_;  // last: started once everything above exists
};

}  // namespace mamori
