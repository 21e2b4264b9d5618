// SqlTarget and a few blocking SQL operations on PostgreSQL (libpq) and
// MariaDB (libmariadb), for backup checks: the live server's version (to spot
// pg_dump/server skew), one number from a query (restore assertions), and the
// statements that create and drop a scratch database.
//
// Every call opens its own connection, bounded by a connect timeout and a
// statement timeout derived from the caller's deadline, and closes it before
// returning. Stateless; thread-safe (libpq and libmariadb are thread-safe per
// connection; mysql_library_init runs once, guarded by a static).
//
// Failure: a refused connection, a bad query or a non-numeric answer is an
// Error whose message carries the server's own words.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mamori/config/node.h"
#include "mamori/util/clock.h"
#include "mamori/util/result.h"

namespace mamori::backup {

struct SqlTarget {
  enum class Kind { kPostgres, kMariadb };
  Kind kind = Kind::kPostgres;
  // PostgreSQL: a libpq connection string or URI; the fields below override
  // its parts when set.
  std::string dsn;
  std::string host;
  int port = 0;
  std::string user;
  std::string password;
  std::string socket;    // MariaDB unix socket
  std::string database;  // the database (PostgreSQL) or schema (MariaDB)

  // The database after the DSN and the overrides are applied ("" if none).
  std::string EffectiveDatabase() const;
  // "postgres 127.0.0.1:5432/shop", for messages (never the password).
  std::string Describe() const;
  // Same target, other database.
  SqlTarget WithDatabase(std::string db) const;
  // Command-line connection for the client tools: arguments and environment
  // (passwords go in the environment, never in argv where ps shows them).
  // PostgreSQL: {"-d", "<conninfo>"}; MariaDB: {--host, --port, --user, ...}
  // (the database name is not included for MariaDB).
  std::pair<std::vector<std::string>, std::vector<std::pair<std::string, std::string>>> ClientArgs()
      const;
};

// PostgreSQL: the DSN's parts (PQconninfoParse) with the target's overrides
// on top, as libpq keywords (for callers that open their own connection).
Result<std::map<std::string, std::string>> PostgresParams(const SqlTarget& t);

// Reads dsn/host/port/user/password/socket (and `database` when
// read_database) from `node`, the `server:` or `restore:` mapping; `type` is
// the caller's business. Returns nullopt after adding diagnostics.
std::optional<SqlTarget> ReadSqlTarget(config::ConfigNode& node, SqlTarget::Kind kind,
                                       bool read_database);

// SHOW server_version / SELECT VERSION().
Result<std::string> ServerVersion(const SqlTarget& t, MonoTime deadline, const Clock& clock);
// Runs `query`; the first column of the first row must be a number.
Result<double> QueryNumber(const SqlTarget& t, const std::string& query, MonoTime deadline,
                           const Clock& clock);
// Runs `sql` (statements, no result needed).
Status Execute(const SqlTarget& t, const std::string& sql, MonoTime deadline, const Clock& clock);
// One text value (first column, first row), or nullopt when there is no row.
Result<std::optional<std::string>> QueryText(const SqlTarget& t, const std::string& query,
                                             MonoTime deadline, const Clock& clock);

// "9.6" from "9.6.24", "15" from "15.18 (Debian ...)", "10.11" for MariaDB
// "10.11.19-MariaDB": the version part that must match.
std::string MajorVersion(const std::string& version, SqlTarget::Kind kind);

// Quotes an identifier for the given server.
std::string QuoteIdent(const std::string& name, SqlTarget::Kind kind);
// A single-quoted SQL literal (quotes doubled). For names already restricted
// to [A-Za-z0-9_] and mamori's own constants; not for arbitrary input.
std::string QuoteLiteral(const std::string& text);

}  // namespace mamori::backup
