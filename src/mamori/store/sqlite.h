// A thin RAII layer over the sqlite3 C API: Db (one connection), Statement (one
// prepared statement) and Transaction (BEGIN ... COMMIT, rolled back unless
// committed). It exists so the store reads like C++ and every failure becomes a
// Status/Result whose message carries SQLite's own words and the SQL that failed
// ("database is locked (code 5) in: INSERT INTO ...").
//
// Ownership: a Db owns its sqlite3 handle and closes it in its destructor. A
// Statement and a Transaction borrow their Db, which must outlive them (the
// store keeps them side by side and destroys statements first).
//
// Threading: connections are opened with SQLITE_OPEN_NOMUTEX, so a Db and its
// statements must be used by one thread at a time; the caller serialises (the
// store gives the writer connection to its writer thread and guards the read
// connection with a mutex). Distinct Db objects on the same file may be used
// concurrently; a busy timeout (default 5 s) makes a connection wait for a lock
// instead of failing at once with SQLITE_BUSY.
//
// Failure: nothing here throws. Bind errors are remembered and reported by the
// next Step/Run, so call sites can chain binds without checking each one.
// last_error_code() gives the (primary) SQLite result code of the latest failure
// on the connection, for callers that must tell "not a database" from "locked".
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mamori/util/clock.h"
#include "mamori/util/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace mamori::sqlite {

class Statement;

class Db {
 public:
  enum class Mode {
    kReadWriteCreate,  // creates the file if missing
    kReadWrite,        // the file must exist
    kReadOnly,         // never writes the main file (may create -shm/-wal in WAL mode)
  };

  // Opens `path`. Opening is lazy in SQLite: a garbage file is only detected by
  // the first statement, so callers should run a query right away.
  static Result<Db> Open(const std::string& path, Mode mode,
                         Duration busy_timeout = std::chrono::seconds(5));

  Db() = default;
  Db(Db&& other) noexcept;
  Db& operator=(Db&& other) noexcept;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db();

  bool is_open() const { return db_ != nullptr; }
  const std::string& path() const { return path_; }
  sqlite3* handle() const { return db_; }

  // Runs one or more ';'-separated statements that return no rows the caller
  // needs (DDL, PRAGMA settings, BEGIN/COMMIT).
  Status Exec(std::string_view sql);
  Result<Statement> Prepare(std::string_view sql);

  // Primary result code of the latest failed call on this connection
  // (SQLITE_NOTADB, SQLITE_BUSY, ...); SQLITE_OK if none.
  int last_error_code() const { return last_error_code_; }
  int64_t last_insert_rowid() const;
  int changes() const;

 private:
  friend class Statement;
  Error MakeError(int rc, std::string_view sql);

  sqlite3* db_ = nullptr;
  std::string path_;
  int last_error_code_ = 0;
};

class Statement {
 public:
  Statement() = default;
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Parameters are 1-based, as in SQLite. Text is copied (SQLITE_TRANSIENT).
  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, int value) { return Bind(index, static_cast<int64_t>(value)); }
  Statement& Bind(int index, double value);
  Statement& Bind(int index, std::string_view value);
  Statement& Bind(int index, const char* value) { return Bind(index, std::string_view(value)); }
  Statement& Bind(int index, const std::string& value) {
    return Bind(index, std::string_view(value));
  }
  Statement& BindNull(int index);
  // Bytes, not text: no UTF-8 assumption (job output, request bodies).
  Statement& BindBlob(int index, std::string_view bytes);
  template <typename T>
  Statement& Bind(int index, const std::optional<T>& value) {
    return value ? Bind(index, *value) : BindNull(index);
  }

  // Advances: true when a row is available, false when the statement is done.
  Result<bool> Step();
  // Steps to completion, ignoring rows; then resets (bindings are kept).
  Status Run();
  // Makes the statement runnable again and clears bindings and any bind error.
  void Reset();

  // Column accessors for the current row (0-based). NULL reads as 0 / "".
  bool IsNull(int col) const;
  int64_t ColumnInt(int col) const;
  double ColumnDouble(int col) const;
  std::string ColumnText(int col) const;
  std::string ColumnBlob(int col) const;
  std::optional<int64_t> ColumnOptionalInt(int col) const;

  std::string sql() const;

 private:
  friend class Db;
  Statement(Db* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  void NoteBind(int rc, int index);

  Db* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  std::optional<Error> bind_error_;
};

// BEGIN [IMMEDIATE] on construction via Begin(); ROLLBACK in the destructor
// unless Commit() succeeded. IMMEDIATE takes the write lock at once (waiting up
// to the busy timeout), which avoids a deferred transaction failing later with
// SQLITE_BUSY when it tries to upgrade to a writer.
class Transaction {
 public:
  enum class Kind { kDeferred, kImmediate };
  static Result<Transaction> Begin(Db& db, Kind kind = Kind::kImmediate);

  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  Status Commit();

 private:
  explicit Transaction(Db* db) : db_(db) {}
  Db* db_ = nullptr;  // null once committed, rolled back or moved from
};

// ---- Versioned schemas ----
//
// Every mamori database file records its schema version in PRAGMA
// user_version. OpenVersioned opens such a file and brings it to the version
// the code knows, so each store only lists its schema steps.

struct VersionedOptions {
  // kReadOnly never writes: no settings, no migration; the file may be older
  // than the code (the caller checks UserVersion where that matters).
  Db::Mode mode = Db::Mode::kReadWriteCreate;
  Duration busy_timeout = std::chrono::seconds(5);
  // Writable opens only. Run once on a file without any table, before the
  // first step: settings only an empty database takes (auto_vacuum).
  std::string on_create;
  // Writable opens only. The journal is switched to WAL first (an error if it
  // does not stick); then these run on every open (synchronous, limits).
  std::string settings;
  // Tables that mamori created before this file carried a user_version. A
  // version-0 file holding only these is ours and gets step 0, which must
  // therefore be idempotent (IF NOT EXISTS). Any other table at version 0
  // means the file belongs to someone else: it is refused and left alone.
  std::vector<std::string> unversioned_tables;
  // Appended to the "is not a mamori database" messages, e.g.
  // "; move it aside or set another data_dir".
  std::string hint;
  // Turns the first failure to read the file (garbage, damage, permissions)
  // into the caller's message. Default: NOTADB says "PATH is not a mamori
  // database (file is not a database)" + hint; anything else is wrapped in
  // "opening PATH".
  std::function<Error(const Db&, const Error&)> describe_unreadable;
};

// Opens `path` and applies, in one IMMEDIATE transaction, the steps from the
// file's user_version to migrations.size(): step i brings the schema from
// version i to i + 1, and user_version is set to the last one. Refuses, with a
// message naming the path, a file whose user_version is newer than
// migrations.size() and a file that is not a mamori database; neither is
// written. A failed step rolls back every step of this open.
// Threading: the returned Db is like any other; two processes opening the
// same file concurrently are serialised by the transaction.
Result<Db> OpenVersioned(const std::string& path, std::span<const std::string_view> migrations,
                         const VersionedOptions& options = {});

// PRAGMA user_version of an open database (0 for a new or unversioned file).
Result<int> UserVersion(Db& db);

}  // namespace mamori::sqlite
