#include "mamori/store/store.h"

#include <spdlog/spdlog.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <unordered_map>

namespace mamori {
namespace {

using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::milliseconds;

constexpr int64_t kHourMs = 3'600'000;

// The whole schema, version 1. Indexes exist only for the read paths (per
// check by time, events by time) and Compact's per-check deletes. rollups is
// WITHOUT ROWID: its primary key is the only way it is read or written.
// REFERENCES documents the links; foreign keys are not enforced (no cascades
// are needed and enforcement would cost every insert).
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE checks(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL DEFAULT ''
);
CREATE TABLE observations(
  id INTEGER PRIMARY KEY,
  check_id INTEGER NOT NULL REFERENCES checks(id),
  ts_ms INTEGER NOT NULL,
  status INTEGER NOT NULL,
  duration_us INTEGER NOT NULL,
  summary TEXT NOT NULL,
  metrics TEXT
);
CREATE INDEX observations_by_check_time ON observations(check_id, ts_ms);
CREATE TABLE rollups(
  check_id INTEGER NOT NULL REFERENCES checks(id),
  hour_ts INTEGER NOT NULL,
  n_ok INTEGER NOT NULL,
  n_warning INTEGER NOT NULL,
  n_critical INTEGER NOT NULL,
  n_unknown INTEGER NOT NULL,
  duration_sum_us INTEGER NOT NULL,
  duration_max_us INTEGER NOT NULL,
  PRIMARY KEY(check_id, hour_ts)
) WITHOUT ROWID;
CREATE TABLE snapshots(
  check_id INTEGER PRIMARY KEY REFERENCES checks(id),
  hard INTEGER,
  last INTEGER NOT NULL,
  soft_failing INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  flapping INTEGER NOT NULL,
  last_ms INTEGER NOT NULL,
  hard_since_ms INTEGER NOT NULL,
  summary TEXT NOT NULL,
  duration_us INTEGER NOT NULL,
  metrics TEXT
);
CREATE TABLE events(
  id INTEGER PRIMARY KEY,
  ts_ms INTEGER NOT NULL,
  check_id INTEGER NOT NULL REFERENCES checks(id),
  kind TEXT NOT NULL,
  from_status INTEGER,
  to_status INTEGER NOT NULL,
  summary TEXT NOT NULL
);
CREATE INDEX events_by_time ON events(ts_ms);
CREATE INDEX events_by_check_time ON events(check_id, ts_ms);
)sql";

// Version 2: heartbeat pings. Bodies are kept as BLOBs (job output need not be
// UTF-8).
constexpr const char* kSchemaV2 = R"sql(
CREATE TABLE pings(
  id INTEGER PRIMARY KEY,
  check_id INTEGER NOT NULL REFERENCES checks(id),
  ts_ms INTEGER NOT NULL,
  kind TEXT NOT NULL,
  exit_code INTEGER,
  rid TEXT NOT NULL,
  source TEXT NOT NULL,
  user_agent TEXT NOT NULL,
  body BLOB NOT NULL,
  body_truncated INTEGER NOT NULL,
  duration_us INTEGER
);
CREATE INDEX pings_by_check ON pings(check_id, id);
)sql";

// Stored as text (EventKindName's spelling) so the rows stay readable with the
// sqlite3 shell and survive a reordering of the enum.
std::string_view KindText(EventKind k) { return EventKindName(k); }

std::optional<EventKind> KindFromText(std::string_view s) {
  for (EventKind k : {EventKind::kStateChange, EventKind::kFlappingStarted,
                      EventKind::kFlappingStopped, EventKind::kAddressChanged, EventKind::kRemedy})
    if (EventKindName(k) == s) return k;
  return std::nullopt;
}

// Statuses are stored as their Nagios codes; anything else (a row written by
// hand) reads as UNKNOWN rather than failing the whole read.
CheckStatus StatusFromCode(int64_t code) {
  if (code >= 0 && code <= 3) return static_cast<CheckStatus>(code);
  return CheckStatus::kUnknown;
}

int64_t Us(Duration d) { return duration_cast<microseconds>(d).count(); }
int64_t Ms(Duration d) { return duration_cast<milliseconds>(d).count(); }

int64_t HourStart(int64_t ts_ms) {
  int64_t h = ts_ms / kHourMs;
  if (ts_ms % kHourMs < 0) --h;  // floor for times before 1970
  return h * kHourMs;
}

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

// Metrics as a compact JSON object ({"total_ms":12.5}) so they stay queryable
// with json_extract() from the sqlite3 shell. NaN/inf become null. Empty -> NULL.
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

std::vector<Metric> MetricsFromText(const std::string& text) {
  std::vector<Metric> out;
  if (text.empty()) return out;
  auto j = nlohmann::ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return out;  // unreadable cell: metrics are best effort
  for (auto it = j.begin(); it != j.end(); ++it) {
    double v = it.value().is_number() ? it.value().get<double>()
                                      : std::numeric_limits<double>::quiet_NaN();
    out.push_back({it.key(), v});
  }
  return out;
}

std::string ErrnoText(int err) { return std::strerror(err); }

// Creates data_dir (mode 0700: history can reveal hosts and failures) and its
// parents if missing. An existing directory is used as it is.
Status EnsureDataDir(const std::string& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode))
      return Error("data directory " + dir +
                   " exists but is not a directory; point data_dir at a directory");
    return Status::Ok();
  }
  if (errno != ENOENT) return Error("cannot use data directory " + dir + ": " + ErrnoText(errno));
  std::filesystem::path p(dir);
  std::error_code ec;
  if (p.has_parent_path() && !p.parent_path().empty()) {
    std::filesystem::create_directories(p.parent_path(), ec);
    if (ec)
      return Error("cannot create data directory " + dir + ": " + p.parent_path().string() + ": " +
                   ec.message());
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    return Error("cannot create data directory " + dir + ": " + ErrnoText(errno));
  return Status::Ok();
}

// Turns SQLite's first complaint about a file into a message for the operator.
Error DescribeOpenError(const sqlite::Db& db, const std::string& path, const Error& e) {
  switch (db.last_error_code()) {
    case SQLITE_NOTADB:
      return Error(path +
                   " is not a mamori database (file is not a database); move it aside "
                   "or set another data_dir");
    case SQLITE_CORRUPT:
      return Error(path +
                   " is damaged (database disk image is malformed); move it aside to "
                   "start a fresh history, or repair it with the sqlite3 shell's .recover");
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
      return Error("cannot open " + path + " (" + e.message() +
                   "); check that its directory is writable by this user");
    default:
      return e.Wrap("opening " + path);
  }
}

// Creation, then one step per schema version (OpenVersioned).
constexpr std::string_view kMigrations[] = {kSchemaV1, kSchemaV2};
static_assert(std::size(kMigrations) == Store::kSchemaVersion);

}  // namespace

// The writer connection and everything bound to it. Used only on the writer
// thread (and during Open, before that thread starts).
struct Store::Writer {
  sqlite::Db db;  // first: destroyed after the statements below
  sqlite::Statement upsert_check, select_check, insert_obs, upsert_rollup, insert_event,
      upsert_snapshot, insert_ping;
  // name -> (id, type). Cleared when a transaction fails: it may hold ids of
  // rows that were rolled back.
  std::unordered_map<std::string, std::pair<int64_t, std::string>> checks;

  Status Prepare() {
    struct {
      sqlite::Statement* st;
      const char* sql;
    } all[] = {
        {&upsert_check,
         "INSERT INTO checks(name, type) VALUES(?1, ?2) ON CONFLICT(name) DO UPDATE SET "
         "type = excluded.type WHERE excluded.type <> '' AND checks.type <> excluded.type"},
        {&select_check, "SELECT id, type FROM checks WHERE name = ?1"},
        {&insert_obs,
         "INSERT INTO observations(check_id, ts_ms, status, duration_us, summary, metrics) "
         "VALUES(?1, ?2, ?3, ?4, ?5, ?6)"},
        {&upsert_rollup,
         "INSERT INTO rollups(check_id, hour_ts, n_ok, n_warning, n_critical, n_unknown, "
         "duration_sum_us, duration_max_us) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
         "ON CONFLICT(check_id, hour_ts) DO UPDATE SET n_ok = n_ok + excluded.n_ok, "
         "n_warning = n_warning + excluded.n_warning, "
         "n_critical = n_critical + excluded.n_critical, "
         "n_unknown = n_unknown + excluded.n_unknown, "
         "duration_sum_us = duration_sum_us + excluded.duration_sum_us, "
         "duration_max_us = max(duration_max_us, excluded.duration_max_us)"},
        {&insert_event,
         "INSERT INTO events(ts_ms, check_id, kind, from_status, to_status, summary) "
         "VALUES(?1, ?2, ?3, ?4, ?5, ?6)"},
        {&insert_ping,
         "INSERT INTO pings(check_id, ts_ms, kind, exit_code, rid, source, user_agent, body, "
         "body_truncated, duration_us) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"},
        {&upsert_snapshot,
         "INSERT OR REPLACE INTO snapshots(check_id, hard, last, soft_failing, attempts, "
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

  // `type` empty means "unknown here" (events carry no type): never overwrites.
  Result<int64_t> CheckId(const std::string& name, const std::string& type) {
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
};

Store::Store(std::string path, const Clock& clock, OpenMode mode, Options options)
    : path_(std::move(path)), clock_(clock), mode_(mode), options_(options) {}

Result<std::unique_ptr<Store>> Store::Open(const std::string& data_dir, const Clock& clock,
                                           OpenMode mode, Options options) {
  if (data_dir.empty()) return Error("data directory is empty; set data_dir to a directory");
  options.batch_size = std::max<size_t>(options.batch_size, 1);
  options.queue_capacity = std::max<size_t>(options.queue_capacity, 1);
  const std::string path = data_dir + "/mamori.db";
  const std::string no_data = "no data yet in " + data_dir + ": start `mamori run` first";

  struct stat st {};
  if (mode == OpenMode::kReadOnly) {
    if (::stat(data_dir.c_str(), &st) != 0) {
      if (errno == ENOENT) return Error(no_data);
      return Error("cannot use data directory " + data_dir + ": " + ErrnoText(errno));
    }
    if (!S_ISDIR(st.st_mode))
      return Error("data directory " + data_dir +
                   " exists but is not a directory; point data_dir at a directory");
    if (::stat(path.c_str(), &st) != 0) {
      if (errno == ENOENT) return Error(no_data);
      return Error("cannot read " + path + ": " + ErrnoText(errno));
    }
  } else {
    if (Status s = EnsureDataDir(data_dir); !s.ok()) return s.error();
    if (::stat(path.c_str(), &st) != 0 && errno != ENOENT)
      return Error("cannot use " + path + ": " + ErrnoText(errno));
  }
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
    return Error(path + " is not a regular file; move it aside or set another data_dir");

  std::unique_ptr<Store> store(new Store(path, clock, mode, options));

  if (mode == OpenMode::kReadWrite) {
    auto w = std::make_unique<Writer>();
    sqlite::VersionedOptions o;
    o.busy_timeout = options.busy_timeout;
    // auto_vacuum must be chosen before the first table exists; it lets
    // Compact hand freed pages back to the file system.
    o.on_create = "PRAGMA auto_vacuum = INCREMENTAL";
    // NORMAL is durable across application crashes in WAL mode; only an OS
    // crash may lose the last commits, which is fine for monitoring history.
    // journal_size_limit keeps the WAL file from staying at its high-water mark.
    o.settings = "PRAGMA synchronous = NORMAL; PRAGMA journal_size_limit = 4194304";
    o.hint = "; move it aside or set another data_dir";
    o.describe_unreadable = [&path](const sqlite::Db& db, const Error& e) {
      return DescribeOpenError(db, path, e);
    };
    auto db = sqlite::OpenVersioned(path, kMigrations, o);
    if (!db.ok()) return db.error();
    w->db = std::move(db).value();
    if (Status s = w->Prepare(); !s.ok()) return s.error().Wrap("preparing " + path);
    store->writer_ = std::move(w);
  }

  // Nothing else can reach the store yet; the lock is for the analysis.
  MutexLock read_lock(store->read_mu_);
  if (mode == OpenMode::kReadOnly) {
    sqlite::VersionedOptions o;
    o.mode = sqlite::Db::Mode::kReadOnly;
    o.busy_timeout = options.busy_timeout;
    o.describe_unreadable = [&path](const sqlite::Db& db, const Error& e) {
      return DescribeOpenError(db, path, e);
    };
    auto rdb = sqlite::OpenVersioned(path, kMigrations, o);
    if (!rdb.ok()) return rdb.error();
    store->reader_ = std::move(rdb).value();
    auto version = sqlite::UserVersion(store->reader_);
    if (!version.ok()) return DescribeOpenError(store->reader_, path, version.error());
    if (*version == 0) return Error(no_data);
  } else {
    auto rdb = sqlite::Db::Open(path, sqlite::Db::Mode::kReadOnly, options.busy_timeout);
    if (!rdb.ok()) return rdb.error();
    store->reader_ = std::move(rdb).value();
    store->writer_thread_ = std::thread([s = store.get()] { s->WriterLoop(); });
  }
  return store;
}

Store::~Store() {
  {
    MutexLock lk(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (writer_thread_.joinable()) writer_thread_.join();
  // The writer closes last so that, as the last connection, it checkpoints
  // and removes the WAL file.
  {
    MutexLock lk(read_mu_);
    reader_ = sqlite::Db();
  }
  writer_.reset();
}

// ---- writes ----

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
    spdlog::info("store {}: write queue has room again ({} observations dropped since start)",
                 path_, dropped_.load(std::memory_order_relaxed));
}

Status Store::CommitBatch(Writer& w, const Batch& batch) {
  struct Agg {
    int64_t n[4] = {0, 0, 0, 0};
    int64_t sum_us = 0;
    int64_t max_us = 0;
  };
  auto body = [&]() -> Status {
    auto tx = sqlite::Transaction::Begin(w.db);
    if (!tx.ok()) return tx.error();
    // Rollups are summed in memory first: one upsert per check and hour per
    // batch instead of one per observation.
    std::map<std::pair<int64_t, int64_t>, Agg> rollups;
    for (const QueueItem& item : batch.items) {
      if (item.obs) {
        const ObsItem& oi = *item.obs;
        auto id = w.CheckId(oi.check, oi.type);
        if (!id.ok()) return id.error();
        const int64_t ts = ToUnixMillis(oi.obs.time);
        const int64_t dur = std::max<int64_t>(Us(oi.obs.duration), 0);
        auto metrics = MetricsToText(oi.obs.metrics);
        w.insert_obs.Reset();
        w.insert_obs.Bind(1, *id)
            .Bind(2, ts)
            .Bind(3, static_cast<int>(oi.obs.status))
            .Bind(4, dur)
            .Bind(5, oi.obs.summary)
            .Bind(6, metrics);
        if (Status s = w.insert_obs.Run(); !s.ok()) return s;
        Agg& a = rollups[{*id, HourStart(ts)}];
        a.n[static_cast<int>(StatusFromCode(static_cast<int>(oi.obs.status)))]++;
        a.sum_us += dur;
        a.max_us = std::max(a.max_us, dur);
      } else if (item.event) {
        const Event& e = *item.event;
        auto id = w.CheckId(e.check, "");
        if (!id.ok()) return id.error();
        std::optional<int64_t> from;
        if (e.from) from = static_cast<int64_t>(*e.from);
        w.insert_event.Reset();
        w.insert_event.Bind(1, ToUnixMillis(e.time))
            .Bind(2, *id)
            .Bind(3, KindText(e.kind))
            .Bind(4, from)
            .Bind(5, static_cast<int>(e.to))
            .Bind(6, e.summary);
        if (Status s = w.insert_event.Run(); !s.ok()) return s;
      } else if (item.ping) {
        const heartbeat::Ping& p = item.ping->ping;
        auto id = w.CheckId(p.check, "heartbeat");
        if (!id.ok()) return id.error();
        std::optional<int64_t> exit_code, duration;
        if (p.exit_code >= 0) exit_code = p.exit_code;
        if (p.duration) duration = Us(*p.duration);
        w.insert_ping.Reset();
        w.insert_ping.Bind(1, *id)
            .Bind(2, ToUnixMillis(p.time))
            .Bind(3, heartbeat::PingKindName(p.kind))
            .Bind(4, exit_code)
            .Bind(5, p.rid)
            .Bind(6, p.source)
            .Bind(7, p.user_agent)
            .BindBlob(8, p.body)
            .Bind(9, p.body_truncated ? 1 : 0)
            .Bind(10, duration);
        if (Status s = w.insert_ping.Run(); !s.ok()) return s;
      }
    }
    for (const auto& [key, a] : rollups) {
      w.upsert_rollup.Reset();
      w.upsert_rollup.Bind(1, key.first)
          .Bind(2, key.second)
          .Bind(3, a.n[0])
          .Bind(4, a.n[1])
          .Bind(5, a.n[2])
          .Bind(6, a.n[3])
          .Bind(7, a.sum_us)
          .Bind(8, a.max_us);
      if (Status s = w.upsert_rollup.Run(); !s.ok()) return s;
    }
    for (const SnapshotItem& si : batch.snapshots) {
      const CheckSnapshot& s = si.snap;
      auto id = w.CheckId(s.name, s.type);
      if (!id.ok()) return id.error();
      std::optional<int64_t> hard;
      if (s.hard) hard = static_cast<int64_t>(*s.hard);
      w.upsert_snapshot.Reset();
      w.upsert_snapshot.Bind(1, *id)
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
      if (Status st = w.upsert_snapshot.Run(); !st.ok()) return st;
    }
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

namespace {

// Rows deleted per writer task: a compaction of millions of old rows is many
// short transactions, so pings and observations queued meanwhile are
// committed between two of them (tens of milliseconds), not after all of them.
constexpr int64_t kCompactChunkRows = 20'000;

}  // namespace

Status Store::CompactChunks(const std::string& sql, int64_t check_id, int64_t cut,
                            uint64_t* deleted) {
  for (;;) {
    int changes = 0;
    Status s = RunTask([&](Writer& w) -> Status {
      auto del = w.db.Prepare(sql);
      if (!del.ok()) return del.error();
      del->Bind(1, check_id).Bind(2, cut).Bind(3, kCompactChunkRows);
      if (Status r = del->Run(); !r.ok()) return r;
      changes = w.db.changes();
      return Status::Ok();
    });
    if (!s.ok()) return s;
    *deleted += static_cast<uint64_t>(changes);
    if (changes < kCompactChunkRows) return Status::Ok();
  }
}

Status Store::Compact(const RetentionConfig& retention, uint64_t* deleted_rows) {
  if (mode_ != OpenMode::kReadWrite) return Error(path_ + " is open read-only");
  if (Status s = Flush(); !s.ok()) return s;
  const int64_t now = ToUnixMillis(clock_.Now());
  // A zero or negative retention keeps everything: deleting history is never
  // the fallback for a strange setting.
  auto cutoff = [&](Duration keep) -> std::optional<int64_t> {
    if (keep <= Duration::zero()) return std::nullopt;
    return now - Ms(keep);
  };
  const auto raw_cut = cutoff(retention.raw);
  const auto rollup_cut = cutoff(retention.rollups);
  const auto event_cut = cutoff(retention.events);
  uint64_t deleted = 0;
  auto wrap = [&](Status s) -> Status {
    if (deleted_rows) *deleted_rows = deleted;
    return s.ok() ? s : s.error().Wrap("compacting " + path_);
  };

  std::vector<int64_t> ids;
  Status listed = RunTask([&](Writer& w) -> Status {
    auto st = w.db.Prepare("SELECT id FROM checks");
    if (!st.ok()) return st.error();
    for (;;) {
      auto r = st->Step();
      if (!r.ok()) return r.error();
      if (!*r) return Status::Ok();
      ids.push_back(st->ColumnInt(0));
    }
  });
  if (!listed.ok()) return wrap(listed);
  // Per check, so each delete walks an index range instead of the table.
  for (int64_t id : ids) {
    if (raw_cut) {
      Status s = CompactChunks(
          "DELETE FROM observations WHERE id IN (SELECT id FROM observations WHERE check_id = ?1 "
          "AND ts_ms < ?2 LIMIT ?3)",
          id, *raw_cut, &deleted);
      if (!s.ok()) return wrap(s);
    }
    if (rollup_cut) {
      Status s = CompactChunks(
          "DELETE FROM rollups WHERE check_id = ?1 AND hour_ts IN (SELECT hour_ts FROM rollups "
          "WHERE check_id = ?1 AND hour_ts < ?2 LIMIT ?3)",
          id, *rollup_cut, &deleted);
      if (!s.ok()) return wrap(s);
    }
  }
  Status pruned = RunTask([=](Writer& w) -> Status {
    auto body = [&]() -> Status {
      auto tx = sqlite::Transaction::Begin(w.db);
      if (!tx.ok()) return tx.error();
      // Pings: the newest kPingsKeptPerCheck per check, and always the last
      // of each kind (a monthly job's last success must outlive raw retention).
      if (raw_cut) {
        auto del_pings = w.db.Prepare(
            "DELETE FROM pings WHERE ts_ms < ?1 AND id NOT IN (SELECT max(id) FROM pings GROUP BY "
            "check_id, kind)");
        if (!del_pings.ok()) return del_pings.error();
        del_pings->Bind(1, *raw_cut);
        if (Status s = del_pings->Run(); !s.ok()) return s;
      }
      {
        auto trim = w.db.Prepare(
            "DELETE FROM pings WHERE check_id = ?1 AND id < (SELECT id FROM pings WHERE check_id = "
            "?1 "
            "ORDER BY id DESC LIMIT 1 OFFSET ?2) AND id NOT IN (SELECT max(id) FROM pings GROUP BY "
            "check_id, kind)");
        if (!trim.ok()) return trim.error();
        for (int64_t id : ids) {
          trim->Reset();
          trim->Bind(1, id).Bind(2, static_cast<int64_t>(kPingsKeptPerCheck - 1));
          if (Status s = trim->Run(); !s.ok()) return s;
        }
      }
      if (event_cut) {
        auto del_ev = w.db.Prepare("DELETE FROM events WHERE ts_ms < ?1");
        if (!del_ev.ok()) return del_ev.error();
        del_ev->Bind(1, *event_cut);
        if (Status s = del_ev->Run(); !s.ok()) return s;
      }
      return tx->Commit();
    };
    Status s = body();
    if (!s.ok()) w.checks.clear();
    return s;
  });
  if (!pruned.ok()) return wrap(pruned);
  if (Status s = GiveBackFreePages(); !s.ok()) return wrap(s);
  return wrap(RunTask([](Writer& w) -> Status {
    // TRUNCATE leaves a zero-length WAL; if a reader holds an old snapshot it
    // reports "busy" in its row instead of failing, and the WAL shrinks later.
    auto cp = w.db.Prepare("PRAGMA wal_checkpoint(TRUNCATE)");
    if (!cp.ok()) return cp.error();
    return cp->Run();
  }));
}

Status Store::GiveBackFreePages() {
  // The free pages go back to the file system a few thousand at a time, for
  // the same reason as the deletes: a queued write waits for one step only.
  for (;;) {
    int64_t left = 0;
    Status s = RunTask([&](Writer& w) -> Status {
      if (Status r = w.db.Exec("PRAGMA incremental_vacuum(2000)"); !r.ok()) return r;
      auto count = w.db.Prepare("PRAGMA freelist_count");
      if (!count.ok()) return count.error();
      auto row = count->Step();
      if (!row.ok()) return row.error();
      left = *row ? count->ColumnInt(0) : 0;
      return Status::Ok();
    });
    if (!s.ok() || left == 0) return s;
  }
}

// ---- reads ----

Result<std::vector<CheckSnapshot>> Store::LoadSnapshots() {
  MutexLock lk(read_mu_);
  auto st = reader_.Prepare(
      "SELECT c.name, c.type, s.hard, s.last, s.soft_failing, s.attempts, s.flapping, "
      "s.last_ms, s.hard_since_ms, s.summary, s.duration_us, s.metrics "
      "FROM snapshots s JOIN checks c ON c.id = s.check_id ORDER BY c.name LIMIT ?1");
  if (!st.ok()) return st.error().Wrap("reading " + path_);
  st->Bind(1, static_cast<int64_t>(kMaxReadRows));
  std::vector<CheckSnapshot> out;
  for (;;) {
    auto r = st->Step();
    if (!r.ok()) return r.error().Wrap("reading " + path_);
    if (!*r) break;
    CheckSnapshot s;
    s.name = st->ColumnText(0);
    s.type = st->ColumnText(1);
    if (auto h = st->ColumnOptionalInt(2)) s.hard = StatusFromCode(*h);
    s.last = StatusFromCode(st->ColumnInt(3));
    s.soft_failing = st->ColumnInt(4) != 0;
    s.attempts = static_cast<int>(st->ColumnInt(5));
    s.flapping = st->ColumnInt(6) != 0;
    s.last_time = FromUnixMillis(st->ColumnInt(7));
    s.hard_since = FromUnixMillis(st->ColumnInt(8));
    s.summary = st->ColumnText(9);
    s.duration = microseconds(st->ColumnInt(10));
    s.metrics = MetricsFromText(st->ColumnText(11));
    out.push_back(std::move(s));
  }
  return out;
}

Result<std::vector<Event>> Store::Events(std::optional<std::string> check, WallTime since,
                                         size_t limit) {
  limit = std::min(limit, kMaxReadRows);
  MutexLock lk(read_mu_);
  std::string sql =
      "SELECT e.ts_ms, c.name, e.kind, e.from_status, e.to_status, e.summary "
      "FROM events e JOIN checks c ON c.id = e.check_id WHERE e.ts_ms >= ?1 ";
  if (check) sql += "AND e.check_id = (SELECT id FROM checks WHERE name = ?3) ";
  sql += "ORDER BY e.ts_ms DESC, e.id DESC LIMIT ?2";
  auto st = reader_.Prepare(sql);
  if (!st.ok()) return st.error().Wrap("reading " + path_);
  st->Bind(1, ToUnixMillis(since)).Bind(2, static_cast<int64_t>(limit));
  if (check) st->Bind(3, *check);
  std::vector<Event> out;
  for (;;) {
    auto r = st->Step();
    if (!r.ok()) return r.error().Wrap("reading " + path_);
    if (!*r) break;
    auto kind = KindFromText(st->ColumnText(2));
    if (!kind) continue;  // written by a newer mamori; not ours to interpret
    Event e;
    e.time = FromUnixMillis(st->ColumnInt(0));
    e.check = st->ColumnText(1);
    e.kind = *kind;
    if (auto f = st->ColumnOptionalInt(3)) e.from = StatusFromCode(*f);
    e.to = StatusFromCode(st->ColumnInt(4));
    e.summary = st->ColumnText(5);
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::vector<StoredObservation>> Store::Observations(const std::string& check, WallTime since,
                                                           size_t limit,
                                                           std::optional<WallTime> until) {
  limit = std::min(limit, kMaxReadRows);
  MutexLock lk(read_mu_);
  auto st = reader_.Prepare(
      "SELECT ts_ms, status, duration_us, summary, metrics FROM observations "
      "WHERE check_id = (SELECT id FROM checks WHERE name = ?1) AND ts_ms >= ?2 AND ts_ms <= ?4 "
      "ORDER BY ts_ms DESC, id DESC LIMIT ?3");
  if (!st.ok()) return st.error().Wrap("reading " + path_);
  st->Bind(1, check)
      .Bind(2, ToUnixMillis(since))
      .Bind(3, static_cast<int64_t>(limit))
      .Bind(4, until ? ToUnixMillis(*until) : std::numeric_limits<int64_t>::max());
  std::vector<StoredObservation> out;
  for (;;) {
    auto r = st->Step();
    if (!r.ok()) return r.error().Wrap("reading " + path_);
    if (!*r) break;
    StoredObservation o;
    o.time = FromUnixMillis(st->ColumnInt(0));
    o.status = StatusFromCode(st->ColumnInt(1));
    o.duration = microseconds(st->ColumnInt(2));
    o.summary = st->ColumnText(3);
    o.metrics = MetricsFromText(st->ColumnText(4));
    out.push_back(std::move(o));
  }
  return out;
}

namespace {

// A rollups row whose columns 1-6 are n_ok, n_warning, n_critical,
// n_unknown, duration_sum_us and duration_max_us (column 0 is the caller's).
Rollup RollupFromRow(sqlite::Statement& st, WallTime hour) {
  Rollup ru;
  ru.hour = hour;
  ru.n_ok = st.ColumnInt(1);
  ru.n_warning = st.ColumnInt(2);
  ru.n_critical = st.ColumnInt(3);
  ru.n_unknown = st.ColumnInt(4);
  ru.duration_sum = microseconds(st.ColumnInt(5));
  ru.duration_max = microseconds(st.ColumnInt(6));
  return ru;
}

}  // namespace

Result<std::vector<Rollup>> Store::Rollups(const std::string& check, WallTime since) {
  MutexLock lk(read_mu_);
  auto st = reader_.Prepare(
      "SELECT hour_ts, n_ok, n_warning, n_critical, n_unknown, duration_sum_us, "
      "duration_max_us FROM rollups "
      "WHERE check_id = (SELECT id FROM checks WHERE name = ?1) AND hour_ts >= ?2 "
      "ORDER BY hour_ts LIMIT ?3");
  if (!st.ok()) return st.error().Wrap("reading " + path_);
  st->Bind(1, check).Bind(2, ToUnixMillis(since)).Bind(3, static_cast<int64_t>(kMaxReadRows));
  std::vector<Rollup> out;
  for (;;) {
    auto r = st->Step();
    if (!r.ok()) return r.error().Wrap("reading " + path_);
    if (!*r) break;
    out.push_back(RollupFromRow(*st, FromUnixMillis(st->ColumnInt(0))));
  }
  return out;
}

Result<std::vector<std::pair<std::string, Rollup>>> Store::RollupTotals(WallTime since,
                                                                        WallTime until) {
  MutexLock lk(read_mu_);
  // CROSS JOIN keeps checks the outer loop, so each check's hours are one
  // seek on the rollups' primary key (check_id, hour_ts) instead of a scan
  // of every rollup for a two-hour window.
  auto st = reader_.Prepare(
      "SELECT c.name, sum(r.n_ok), sum(r.n_warning), sum(r.n_critical), sum(r.n_unknown), "
      "sum(r.duration_sum_us), max(r.duration_max_us) FROM checks c CROSS JOIN rollups r "
      "ON r.check_id = c.id WHERE r.hour_ts >= ?1 AND r.hour_ts < ?2 GROUP BY c.id");
  if (!st.ok()) return st.error().Wrap("reading " + path_);
  st->Bind(1, ToUnixMillis(since)).Bind(2, ToUnixMillis(until));
  std::vector<std::pair<std::string, Rollup>> out;
  for (;;) {
    auto r = st->Step();
    if (!r.ok()) return r.error().Wrap("reading " + path_);
    if (!*r) break;
    out.emplace_back(st->ColumnText(0), RollupFromRow(*st, since));
  }
  return out;
}

}  // namespace mamori

namespace mamori {

Result<std::vector<heartbeat::Ping>> Store::Pings(const std::string& check, size_t limit) {
  limit = std::min(limit, kMaxReadRows);
  MutexLock lk(read_mu_);
  auto st = reader_.Prepare(
      "SELECT ts_ms, kind, exit_code, rid, source, user_agent, body, body_truncated, duration_us "
      "FROM pings WHERE check_id = (SELECT id FROM checks WHERE name = ?1) ORDER BY id DESC LIMIT "
      "?2");
  if (!st.ok()) return st.error().Wrap("reading " + path_);
  st->Bind(1, check).Bind(2, static_cast<int64_t>(limit));
  std::vector<heartbeat::Ping> out;
  for (;;) {
    auto r = st->Step();
    if (!r.ok()) return r.error().Wrap("reading " + path_);
    if (!*r) break;
    heartbeat::Ping p;
    p.check = check;
    p.time = FromUnixMillis(st->ColumnInt(0));
    p.kind = heartbeat::PingKindFromName(st->ColumnText(1)).value_or(heartbeat::PingKind::kLog);
    p.exit_code = static_cast<int>(st->ColumnOptionalInt(2).value_or(-1));
    p.rid = st->ColumnText(3);
    p.source = st->ColumnText(4);
    p.user_agent = st->ColumnText(5);
    p.body = st->ColumnBlob(6);
    p.body_truncated = st->ColumnInt(7) != 0;
    if (auto d = st->ColumnOptionalInt(8)) p.duration = std::chrono::microseconds(*d);
    out.push_back(std::move(p));
  }
  return out;
}

Result<int64_t> Store::PingCount() {
  MutexLock lk(read_mu_);
  auto st = reader_.Prepare("SELECT count(*) FROM pings");
  if (!st.ok()) return st.error().Wrap("reading " + path_);
  auto r = st->Step();
  if (!r.ok()) return r.error().Wrap("reading " + path_);
  return *r ? st->ColumnInt(0) : 0;
}

}  // namespace mamori
