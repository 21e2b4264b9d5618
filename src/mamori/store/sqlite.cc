#include "mamori/store/sqlite.h"

#include <sqlite3.h>

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

}  // namespace

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
