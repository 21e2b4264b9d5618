#include "mamori/store/sqlite.h"

#include <sqlite3.h>

#include <algorithm>
#include <utility>

namespace mamori::sqlite {
namespace {

// SQL in error messages is for the operator and the developer; a statement is
// never huge here, but the cap keeps a message one screen long regardless.
constexpr size_t kMaxSqlInMessage = 300;

std::string ShortSql(std::string_view sql) {
  std::string s(sql.substr(0, kMaxSqlInMessage));
  for (char& c : s)
    if (c == '\n' || c == '\t') c = ' ';
  if (sql.size() > kMaxSqlInMessage) s += "...";
  return s;
}

// Reads a one-row one-column answer as text (journal_mode answers "wal").
Result<std::string> QueryText(Db& db, std::string_view sql) {
  auto st = db.Prepare(sql);
  if (!st.ok()) return st.error();
  auto r = st->Step();
  if (!r.ok()) return r.error();
  return *r ? st->ColumnText(0) : std::string();
}

struct Inspection {
  int version = 0;
  std::vector<std::string> tables;  // non-internal tables
};

Result<Inspection> Inspect(Db& db) {
  Inspection in;
  auto v = UserVersion(db);
  if (!v.ok()) return v.error();
  in.version = *v;
  auto t = db.Prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'");
  if (!t.ok()) return t.error();
  for (;;) {
    auto r = t->Step();
    if (!r.ok()) return r.error();
    if (!*r) break;
    in.tables.push_back(t->ColumnText(0));
  }
  return in;
}

Error DefaultUnreadable(const Db& db, const Error& e, const VersionedOptions& o) {
  if (db.last_error_code() == SQLITE_NOTADB)
    return Error(db.path() + " is not a mamori database (file is not a database)" + o.hint);
  return e.Wrap("opening " + db.path());
}

// Refuses what this code must not write to (or read as its own).
Status Admit(const Db& db, const Inspection& in, size_t known, const VersionedOptions& o) {
  if (in.version > static_cast<int64_t>(known))
    return Error(db.path() + " was written by a newer mamori (schema " +
                 std::to_string(in.version) + ", this build knows up to " + std::to_string(known) +
                 "); upgrade mamori");
  if (in.version < 0)
    return Error(db.path() + " is not a mamori database (user_version " +
                 std::to_string(in.version) + ")" + o.hint);
  const auto& ours = o.unversioned_tables;
  const bool foreign = std::any_of(in.tables.begin(), in.tables.end(), [&](const std::string& t) {
    return std::find(ours.begin(), ours.end(), t) == ours.end();
  });
  if (in.version == 0 && foreign)
    return Error(db.path() + " is not a mamori database (it holds other tables)" + o.hint);
  return Status::Ok();
}

// Applies the steps from the version found inside the transaction (another
// process may have migrated since the first look) to the last.
Status Migrate(Db& db, std::span<const std::string_view> migrations, const VersionedOptions& o) {
  auto tx = Transaction::Begin(db);
  if (!tx.ok()) return tx.error().Wrap("upgrading " + db.path());
  auto in = Inspect(db);
  if (!in.ok()) return in.error().Wrap("upgrading " + db.path());
  if (Status s = Admit(db, *in, migrations.size(), o); !s.ok()) return s;
  if (static_cast<size_t>(in->version) == migrations.size()) return Status::Ok();
  const std::string what = (in->version == 0 ? "creating " : "upgrading ") + db.path();
  for (size_t i = static_cast<size_t>(in->version); i < migrations.size(); ++i)
    if (Status s = db.Exec(migrations[i]); !s.ok()) return s.error().Wrap(what);
  if (Status s = db.Exec("PRAGMA user_version = " + std::to_string(migrations.size())); !s.ok())
    return s.error().Wrap(what);
  if (Status s = tx->Commit(); !s.ok()) return s.error().Wrap(what);
  return Status::Ok();
}

}  // namespace

// ---- Versioned schemas ----

Result<int> UserVersion(Db& db) {
  auto st = db.Prepare("PRAGMA user_version");
  if (!st.ok()) return st.error();
  auto r = st->Step();
  if (!r.ok()) return r.error();
  return *r ? static_cast<int>(st->ColumnInt(0)) : 0;
}

Result<Db> OpenVersioned(const std::string& path, std::span<const std::string_view> migrations,
                         const VersionedOptions& options) {
  auto opened = Db::Open(path, options.mode, options.busy_timeout);
  if (!opened.ok()) return opened.error();
  Db db = std::move(opened).value();
  auto describe = [&](const Error& e) {
    return options.describe_unreadable ? options.describe_unreadable(db, e)
                                       : DefaultUnreadable(db, e, options);
  };
  // Opening is lazy: this first read is what finds a garbage file, before
  // anything (a WAL file, a table) is written next to or into it.
  auto in = Inspect(db);
  if (!in.ok()) return describe(in.error());
  if (Status s = Admit(db, *in, migrations.size(), options); !s.ok()) return s.error();
  if (options.mode == Db::Mode::kReadOnly) return db;

  if (in->tables.empty() && !options.on_create.empty())
    if (Status s = db.Exec(options.on_create); !s.ok()) return s.error().Wrap("creating " + path);
  auto jm = QueryText(db, "PRAGMA journal_mode = WAL");
  if (!jm.ok()) return describe(jm.error());
  if (*jm != "wal")
    return Error("cannot switch " + path + " to WAL mode (journal mode stays '" + *jm +
                 "'); the file system may not support it");
  if (!options.settings.empty())
    if (Status s = db.Exec(options.settings); !s.ok()) return s.error().Wrap("configuring " + path);
  if (static_cast<size_t>(in->version) < migrations.size())
    if (Status s = Migrate(db, migrations, options); !s.ok()) return s.error();
  return db;
}

// ---- Db ----

Result<Db> Db::Open(const std::string& path, Mode mode, Duration busy_timeout) {
  int flags = SQLITE_OPEN_NOMUTEX;
  switch (mode) {
    case Mode::kReadWriteCreate:
      flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
      break;
    case Mode::kReadWrite:
      flags |= SQLITE_OPEN_READWRITE;
      break;
    case Mode::kReadOnly:
      flags |= SQLITE_OPEN_READONLY;
      break;
  }
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    sqlite3_close(raw);  // a handle is returned even on failure
    return Error("cannot open " + path + ": " + msg);
  }
  Db db;
  db.db_ = raw;
  db.path_ = path;
  sqlite3_extended_result_codes(raw, 0);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(busy_timeout).count();
  sqlite3_busy_timeout(raw, static_cast<int>(std::min<int64_t>(ms, INT32_MAX)));
  return db;
}

Db::Db(Db&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)),
      path_(std::move(other.path_)),
      last_error_code_(other.last_error_code_) {}

Db& Db::operator=(Db&& other) noexcept {
  if (this != &other) {
    if (db_) sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
    path_ = std::move(other.path_);
    last_error_code_ = other.last_error_code_;
  }
  return *this;
}

Db::~Db() {
  // close_v2 defers the close until any statement still alive is finalized,
  // so a destruction order slip cannot leak or crash.
  if (db_) sqlite3_close_v2(db_);
}

Error Db::MakeError(int rc, std::string_view sql) {
  last_error_code_ = rc & 0xff;
  std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
  // errmsg can be stale ("not an error") when the code came from elsewhere.
  if (db_ && sqlite3_errcode(db_) == SQLITE_OK) msg = sqlite3_errstr(rc);
  return Error(msg + " (code " + std::to_string(rc) + ") in: " + ShortSql(sql));
}

Status Db::Exec(std::string_view sql) {
  std::string s(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return Status::Ok();
  last_error_code_ = rc & 0xff;
  std::string msg = err ? err : sqlite3_errstr(rc);
  sqlite3_free(err);
  return Error(msg + " (code " + std::to_string(rc) + ") in: " + ShortSql(sql));
}

Result<Statement> Db::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return MakeError(rc, sql);
  }
  return Statement(this, stmt);
}

int64_t Db::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }
int Db::changes() const { return sqlite3_changes(db_); }

// ---- Statement ----

Statement::Statement(Statement&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)),
      stmt_(std::exchange(other.stmt_, nullptr)),
      bind_error_(std::move(other.bind_error_)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    db_ = std::exchange(other.db_, nullptr);
    stmt_ = std::exchange(other.stmt_, nullptr);
    bind_error_ = std::move(other.bind_error_);
  }
  return *this;
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

std::string Statement::sql() const {
  const char* s = stmt_ ? sqlite3_sql(stmt_) : nullptr;
  return s ? s : "";
}

void Statement::NoteBind(int rc, int index) {
  if (rc == SQLITE_OK || bind_error_) return;
  bind_error_ = db_->MakeError(rc, sql()).Wrap("binding parameter " + std::to_string(index));
}

Statement& Statement::Bind(int index, int64_t value) {
  NoteBind(sqlite3_bind_int64(stmt_, index, value), index);
  return *this;
}

Statement& Statement::Bind(int index, double value) {
  NoteBind(sqlite3_bind_double(stmt_, index, value), index);
  return *this;
}

Statement& Statement::Bind(int index, std::string_view value) {
  NoteBind(
      sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8),
      index);
  return *this;
}

Statement& Statement::BindBlob(int index, std::string_view bytes) {
  // A zero-length blob is bound with a non-null pointer so it reads back as
  // an empty blob, not NULL.
  static const char kEmpty = 0;
  NoteBind(sqlite3_bind_blob64(stmt_, index, bytes.empty() ? &kEmpty : bytes.data(), bytes.size(), SQLITE_TRANSIENT),
           index);
  return *this;
}

Statement& Statement::BindNull(int index) {
  NoteBind(sqlite3_bind_null(stmt_, index), index);
  return *this;
}

Result<bool> Statement::Step() {
  if (bind_error_) return *bind_error_;
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Error e = db_->MakeError(rc, sql());
  sqlite3_reset(stmt_);  // leaves the statement reusable after a failure
  return e;
}

Status Statement::Run() {
  for (;;) {
    auto r = Step();
    if (!r.ok()) return r.error();
    if (!*r) break;
  }
  sqlite3_reset(stmt_);
  return Status::Ok();
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_error_.reset();
}

bool Statement::IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
int64_t Statement::ColumnInt(int col) const { return sqlite3_column_int64(stmt_, col); }
double Statement::ColumnDouble(int col) const { return sqlite3_column_double(stmt_, col); }

std::string Statement::ColumnText(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  int n = sqlite3_column_bytes(stmt_, col);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
}

std::string Statement::ColumnBlob(int col) const {
  const void* p = sqlite3_column_blob(stmt_, col);
  int n = sqlite3_column_bytes(stmt_, col);
  return p ? std::string(static_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
}

std::optional<int64_t> Statement::ColumnOptionalInt(int col) const {
  if (IsNull(col)) return std::nullopt;
  return ColumnInt(col);
}

// ---- Transaction ----

Result<Transaction> Transaction::Begin(Db& db, Kind kind) {
  Status s = db.Exec(kind == Kind::kImmediate ? "BEGIN IMMEDIATE" : "BEGIN");
  if (!s.ok()) return s.error();
  return Transaction(&db);
}

Transaction::Transaction(Transaction&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}

Transaction::~Transaction() {
  if (db_ && !sqlite3_get_autocommit(db_->handle())) {
    // Failure here means the connection is already out of the transaction
    // (SQLite rolls back on some errors by itself); nothing more to undo.
    (void)db_->Exec("ROLLBACK");
  }
}

Status Transaction::Commit() {
  if (!db_) return Error("transaction already finished");
  Status s = db_->Exec("COMMIT");
  if (s.ok()) db_ = nullptr;
  return s;
}

}  // namespace mamori::sqlite
