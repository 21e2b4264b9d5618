#include "mamori/backup/pg_session.h"

#include <libpq-fe.h>
#include <poll.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "mamori/util/lazy_libraries.h"

namespace mamori::backup::pg {
namespace {

std::string Clip(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  for (char& c : s)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  if (s.size() > 1000) s.resize(1000);
  return s;
}

int64_t MillisLeft(MonoTime deadline, const Clock& clock) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock.Monotonic())
      .count();
}

// The server cancels a statement a little before the run's deadline, so its
// own "canceling statement due to statement timeout" arrives in time.
int64_t StatementTimeoutMs(int64_t left_ms) {
  return std::max<int64_t>(100, left_ms - std::max<int64_t>(200, left_ms / 10));
}

bool PollFd(int fd, short events, MonoTime deadline, const Clock& clock) {
  while (true) {
    const int64_t left = MillisLeft(deadline, clock);
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    const int rc = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 1000)));
    if (rc > 0) return true;
    if (rc < 0 && errno != EINTR) return false;
  }
}

}  // namespace

Result<std::unique_ptr<Session>> Session::Open(std::map<std::string, std::string> params,
                                               std::string describe, MonoTime deadline,
                                               const Clock& clock) {
  const int64_t left = MillisLeft(deadline, clock);
  if (left <= 0) return Error("no time left to connect to " + describe);
  std::string& options = params["options"];
  options += fmt::format("{}-c statement_timeout={}", options.empty() ? "" : " ",
                         StatementTimeoutMs(left));
  if (!params.count("application_name")) params["application_name"] = "mamori";
  // libpq's own bound, in whole seconds; the poll loop below keeps the exact one.
  params["connect_timeout"] = std::to_string(std::max<int64_t>(2, (left + 999) / 1000));
  std::vector<const char*> keys, values;
  for (const auto& [k, v] : params) {
    keys.push_back(k.c_str());
    values.push_back(v.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  PGconn* c = PQconnectStartParams(keys.data(), values.data(), 0);
  if (!c) return Error(util::Unavailable(util::LazyLibPq(), "out of memory"));
  std::unique_ptr<Session> s(new Session(c, std::move(describe), deadline, clock));
  PostgresPollingStatusType st = PGRES_POLLING_WRITING;
  while (PQstatus(c) != CONNECTION_BAD && st != PGRES_POLLING_OK && st != PGRES_POLLING_FAILED) {
    if (!s->WaitSocket(st == PGRES_POLLING_READING ? POLLIN : POLLOUT))
      return Error(fmt::format("cannot connect to {}: no answer within {}ms", s->describe_, left));
    st = PQconnectPoll(c);
  }
  if (PQstatus(c) != CONNECTION_OK)
    return Error(fmt::format("cannot connect to {}: {}", s->describe_, Clip(PQerrorMessage(c))));
  return s;
}

Session::Session(pg_conn* conn, std::string describe, MonoTime deadline, const Clock& clock)
    : conn_(conn), describe_(std::move(describe)), deadline_(deadline), clock_(&clock) {}

Session::~Session() { PQfinish(conn_); }

bool Session::connected() const { return PQstatus(conn_) == CONNECTION_OK; }

Status Session::Rearm(MonoTime deadline, const Clock& clock) {
  deadline_ = deadline;
  clock_ = &clock;
  queries_ = 0;
  if (!connected()) return Error(describe_ + ": the kept connection is gone");
  const int64_t left = MillisLeft(deadline, clock);
  if (left <= 0) return Error("no time left to query " + describe_);
  // A connection a NAT or firewall dropped while idle never answers: the SET
  // gets a quarter of the run, so a new connection still fits in the rest.
  deadline_ = std::min(
      deadline, clock.Monotonic() + std::chrono::milliseconds(std::max<int64_t>(100, left / 4)));
  auto set = Query(fmt::format("SET statement_timeout = {}", StatementTimeoutMs(left)));
  deadline_ = deadline;
  if (!set.ok()) return set.error();
  return Status::Ok();
}

Status Session::AwaitResult() {
  while (PQisBusy(conn_)) {
    if (!WaitSocket(POLLIN)) {
      // The server did not answer in time (stopped, or the network is gone).
      if (PGcancel* cancel = PQgetCancel(conn_)) {
        char err[256];
        PQcancel(cancel, err, sizeof err);
        PQfreeCancel(cancel);
      }
      return Error(
          fmt::format("{}: no answer before the check's deadline; query cancelled", describe_));
    }
    if (!PQconsumeInput(conn_))
      return Error(fmt::format("{}: {}", describe_, Clip(PQerrorMessage(conn_))));
  }
  return Status::Ok();
}

bool Session::WaitSocket(short events) {
  const int fd = PQsocket(conn_);
  return fd >= 0 && PollFd(fd, events, deadline_, *clock_);
}

Result<std::vector<Row>> Session::Query(const std::string& sql, size_t max_rows) {
  sqlstate_.clear();
  ++queries_;
  if (!PQsendQuery(conn_, sql.c_str()))
    return Error(fmt::format("{}: {}", describe_, Clip(PQerrorMessage(conn_))));
  std::vector<Row> rows;
  std::string error;
  while (true) {
    if (auto waited = AwaitResult(); !waited.ok()) return waited.error();
    PGresult* r = PQgetResult(conn_);
    if (!r) break;
    const auto status = PQresultStatus(r);
    if (status == PGRES_TUPLES_OK) {
      for (int i = 0; i < PQntuples(r) && rows.size() < max_rows; ++i) {
        Row row;
        for (int j = 0; j < PQnfields(r); ++j)
          row.push_back(PQgetisnull(r, i, j) ? std::nullopt
                                             : std::optional<std::string>(PQgetvalue(r, i, j)));
        rows.push_back(std::move(row));
      }
    } else if (status != PGRES_COMMAND_OK && error.empty()) {
      const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
      sqlstate_ = state ? state : "";
      error = Clip(PQresultErrorMessage(r));
    }
    PQclear(r);
  }
  if (!error.empty()) return Error(fmt::format("{}: {}", describe_, error));
  return rows;
}

}  // namespace mamori::backup::pg
