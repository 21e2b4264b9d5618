// The libpq edge of the `postgres` check type: a connection that serves one
// run or, kept by the check (keep_connection), the next runs too; every wait
// bounded by the current run's deadline, and the queries that fill pg::Facts
// (pg_health.h judges them).
//
// Session::Open connects without blocking past the deadline (PQconnectPoll +
// poll) and asks the server for a statement_timeout a little shorter than the
// time left, so a query stuck on a lock is cancelled by the server with its
// own message; Query() also cancels on the client side (PQcancel) if the
// answer does not come by the deadline (a stopped server). The password is
// handed to libpq only; messages name the target without it.
//
// Ownership: a Session owns its PGconn and closes it on destruction. Not
// thread-safe (one run at a time uses a session; a kept one is handed from
// run to run, never shared). Failure: an Error with libpq's or
// the server's own words; last_sqlstate() tells "this view does not exist on
// this version" (ReadFacts lists such features in Facts::missing instead of
// failing the check).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mamori/backup/pg_health.h"
#include "mamori/util/clock.h"
#include "mamori/util/result.h"

struct pg_conn;

namespace mamori::backup::pg {

using Row = std::vector<std::optional<std::string>>;

class Session {
 public:
  // `params` are libpq keywords (host, port, user, password, dbname, ...);
  // `describe` names the target in messages ("postgres 127.0.0.1:5432/x").
  static Result<std::unique_ptr<Session>> Open(std::map<std::string, std::string> params,
                                               std::string describe, MonoTime deadline,
                                               const Clock& clock);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Runs one statement and returns its rows (at most `max_rows`).
  Result<std::vector<Row>> Query(const std::string& sql, size_t max_rows = 1000);
  // SQLSTATE of the last failed query ("" if none or not from the server).
  const std::string& last_sqlstate() const { return sqlstate_; }
  int queries_sent() const { return queries_; }

  // Makes a kept session ready for another run: the new deadline and clock,
  // the query count from zero, and the server's statement_timeout to match
  // (one SET). An Error if the connection is gone (a restarted server): the
  // caller then opens a new one.
  [[nodiscard]] Status Rearm(MonoTime deadline, const Clock& clock);
  // False once libpq has seen the connection break.
  bool connected() const;

 private:
  Session(pg_conn* conn, std::string describe, MonoTime deadline, const Clock& clock);
  // Waits until the socket is ready for `events` or the deadline passes.
  bool WaitSocket(short events);
  // Reads until a result is complete, cancelling the query at the deadline.
  Status AwaitResult();

  pg_conn* conn_;
  std::string describe_;
  MonoTime deadline_;
  const Clock* clock_;
  std::string sqlstate_;
  int queries_ = 0;
};

// Role, settings and every view the judgment needs, on an open session.
// Views missing on this version are named in Facts::missing; any other
// failure (a cancelled query, a lost connection) is an Error.
Result<Facts> ReadFacts(Session& session);

}  // namespace mamori::backup::pg
