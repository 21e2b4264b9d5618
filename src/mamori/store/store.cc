// Opening and closing the store: the schema and its migrations, the data
// directory, the writer and reader connections, and what an operator is told
// when the file cannot be used. The rest of Store is in store_queue.cc,
// store_writer.cc, store_compact.cc and store_reads.cc (store_internal.h).
#include "mamori/store/store.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "mamori/store/store_internal.h"

namespace mamori {
namespace {

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

// What Open finds at data_dir and its mamori.db before opening anything: a
// reader needs both to exist; the writer creates the directory.
Status CheckPaths(const std::string& data_dir, const std::string& path, Store::OpenMode mode,
                  const std::string& no_data) {
  struct stat st {};
  if (mode == Store::OpenMode::kReadOnly) {
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
  return Status::Ok();
}

// Creation, then one step per schema version (OpenVersioned).
constexpr std::string_view kMigrations[] = {kSchemaV1, kSchemaV2};
static_assert(std::size(kMigrations) == Store::kSchemaVersion);

}  // namespace

Store::Store(std::string path, const Clock& clock, OpenMode mode, Options options)
    : path_(std::move(path)), clock_(clock), mode_(mode), options_(options) {}

Result<std::unique_ptr<Store>> Store::Open(const std::string& data_dir, const Clock& clock,
                                           OpenMode mode, Options options) {
  if (data_dir.empty()) return Error("data directory is empty; set data_dir to a directory");
  options.batch_size = std::max<size_t>(options.batch_size, 1);
  options.queue_capacity = std::max<size_t>(options.queue_capacity, 1);
  const std::string path = data_dir + "/mamori.db";
  const std::string no_data = "no data yet in " + data_dir + ": start `mamori run` first";

  if (Status s = CheckPaths(data_dir, path, mode, no_data); !s.ok()) return s.error();

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

}  // namespace mamori
