// Check type "postgres": a live PostgreSQL server as a DBA looks at it. The
// role is detected (pg_is_in_recovery()); a primary is judged on its standbys,
// slots, WAL senders, archiving and base backups in flight, a standby on its
// WAL receiver and replay; both on connections, long transactions, lock
// waits and transaction ID age (the rules: pg_health.h; the queries and the
// deadline-bound connection: pg_session.h).
//
// The password comes from `password_file` (read at every run, so a rotated
// one is picked up), `password`, or libpq's own PGPASSFILE / ~/.pgpass; it is
// never part of a message. An unreachable server or a refused login is
// CRITICAL with libpq's reason; a query that could not finish by the check's
// timeout is cancelled and UNKNOWN.
//
// The connection is kept between runs (keep_connection, on by default): a
// run on a kept one costs a SET and the reads instead of a TCP, TLS and SCRAM
// handshake. A kept connection is dropped after any failed run, when the
// connection parameters (a rotated password) change, and at least every
// kReconnectAfter, so the login itself is proven regularly; a kept one found
// broken (a restarted server) is replaced by a new one within the same run, so
// a restart alone is never an alarm. Run() is safe on any pool thread: the
// kept session is taken out under a mutex and put back after a good run.
#include <fmt/format.h>

#include <fstream>

#include "mamori/backup/pg_session.h"
#include "mamori/backup/sql_client.h"
#include "mamori/check/registry.h"
#include "mamori/util/mutex.h"
#include "mamori/util/secret_file.h"
#include "mamori/util/units.h"

namespace mamori::probes::postgres {
namespace {

using mamori::backup::SqlTarget;
namespace pg = mamori::backup::pg;

struct Options {
  SqlTarget target;
  std::string password_file;
  pg::Limits limits;
  bool keep_connection = true;
};

// A kept connection is made anew at least this often, so a broken login
// (an expired password, a pg_hba.conf change) shows within minutes.
constexpr Duration kReconnectAfter = std::chrono::minutes(10);

using Params = std::map<std::string, std::string>;

class PostgresProbe final : public BlockingProbe {
 public:
  explicit PostgresProbe(Options o) : o_(std::move(o)) {}

  Observation Run(const Clock& clock, MonoTime deadline) override {
    auto params = mamori::backup::PostgresParams(o_.target);
    if (!params.ok()) return Observation::Make(CheckStatus::kUnknown, params.error().message());
    if (!o_.password_file.empty()) {
      auto pw = ReadSecretFile(o_.password_file, "password_file");
      if (!pw.ok()) return Observation::Make(CheckStatus::kUnknown, pw.error().message());
      (*params)["password"] = *pw;
    }
    // An idle kept connection is probed by TCP keepalives well before a
    // NAT's idle timeout (often 4-6 minutes) can silently drop it.
    if (o_.keep_connection && !params->count("keepalives_idle")) {
      (*params)["keepalives_idle"] = "60";
      (*params)["keepalives_interval"] = "10";
      (*params)["keepalives_count"] = "3";
    }
    std::unique_ptr<pg::Session> kept = TakeKept(*params, clock);
    const bool tried_kept = kept != nullptr;
    if (kept && kept->Rearm(deadline, clock).ok()) {
      auto facts = pg::ReadFacts(*kept);
      // Only a broken connection earns a second try; any other failure is
      // this run's answer.
      if (facts.ok() || kept->connected())
        return Finish(std::move(kept), std::move(facts), *params, clock, true);
    }
    if (tried_kept && clock.Monotonic() >= deadline)
      return Observation::Make(CheckStatus::kUnknown,
                               o_.target.Describe() +
                                   ": the kept connection did not answer and no time was left "
                                   "for a new one");
    auto session = pg::Session::Open(*params, o_.target.Describe(), deadline, clock);
    if (!session.ok()) return Observation::Make(CheckStatus::kCritical, session.error().message());
    auto facts = pg::ReadFacts(**session);
    return Finish(std::move(*session), std::move(facts), *params, clock, false);
  }

 private:
  // The kept session if it was made with these parameters and is young
  // enough; else nothing (and the old one is closed).
  std::unique_ptr<pg::Session> TakeKept(const Params& params, const Clock& clock) {
    std::unique_ptr<pg::Session> kept;
    MutexLock lock(mu_);
    kept = std::move(kept_);
    if (kept && (kept_params_ != params || clock.Monotonic() - kept_since_ > kReconnectAfter))
      kept.reset();
    return kept;
  }

  Observation Finish(std::unique_ptr<pg::Session> session, Result<pg::Facts> facts,
                     const Params& params, const Clock& clock, bool reused) {
    Observation obs = facts.ok()
                          ? pg::Judge(*facts, o_.limits)
                          : Observation::Make(CheckStatus::kUnknown, facts.error().message());
    obs.AddMetric("queries", session->queries_sent());
    obs.AddMetric("connection_reused", reused ? 1 : 0);
    if (facts.ok() && o_.keep_connection) {
      MutexLock lock(mu_);
      if (!reused) {
        kept_params_ = params;
        kept_since_ = clock.Monotonic();
      }
      kept_ = std::move(session);
    }
    return obs;
  }

  Options o_;
  Mutex mu_;
  std::unique_ptr<pg::Session> kept_ GUARDED_BY(mu_);
  Params kept_params_ GUARDED_BY(mu_);
  MonoTime kept_since_ GUARDED_BY(mu_){};
};

std::optional<double> GetSeconds(config::ConfigNode& n, std::string_view key) {
  auto d = n.GetDuration(key);
  if (!d) return std::nullopt;
  return std::chrono::duration<double>(*d).count();
}
std::optional<double> GetBytes(config::ConfigNode& n, std::string_view key) {
  auto b = n.GetSize(key);
  if (!b) return std::nullopt;
  return static_cast<double>(*b);
}
std::string ShowSeconds(double s) {
  return FormatDuration(std::chrono::milliseconds(static_cast<int64_t>(s * 1000)));
}
std::string ShowBytes(double b) { return FormatBytes(static_cast<uint64_t>(b)); }
std::string ShowPercent(double p) { return fmt::format("{:g}%", p); }
std::string ShowNumber(double n) { return fmt::format("{:g}", n); }

// `key: {warning: W, critical: C}`; either may be left at its default.
template <typename Get, typename Show>
bool ReadLimit(config::ConfigNode& node, std::string_view key, pg::Limit& limit, Get get,
               Show show) {
  auto m = node.GetMap(key);
  if (!m) return true;
  bool ok = m->GetThresholds("warning", "critical", limit.warning, limit.critical, get, show);
  if (ok && limit.critical < limit.warning) {
    m->Error(
        fmt::format("warning {} is above critical {}", show(limit.warning), show(limit.critical)),
        "set both, warning lower than or equal to critical");
    ok = false;
  }
  return ok;
}

bool ReadLimits(config::ConfigNode& node, pg::Limits& l) {
  bool ok = ReadLimit(node, "lag_bytes", l.lag_bytes, GetBytes, ShowBytes);
  ok &= ReadLimit(node, "lag_seconds", l.lag_seconds, GetSeconds, ShowSeconds);
  ok &= ReadLimit(node, "retained_wal", l.retained_wal, GetBytes, ShowBytes);
  ok &= ReadLimit(node, "connections", l.connections, &config::ConfigNode::GetPercent, ShowPercent);
  ok &= ReadLimit(node, "long_transaction", l.long_transaction, GetSeconds, ShowSeconds);
  ok &= ReadLimit(node, "lock_wait", l.lock_wait, GetSeconds, ShowSeconds);
  ok &= ReadLimit(node, "basebackup_checkpoint_wait", l.basebackup_checkpoint_wait, GetSeconds,
                  ShowSeconds);
  ok &= ReadLimit(node, "xid_age", l.xid_age, &config::ConfigNode::GetNumber, ShowNumber);
  return ok;
}

std::unique_ptr<Probe> Build(config::ConfigNode& node) {
  Options o;
  auto target = mamori::backup::ReadSqlTarget(node, SqlTarget::Kind::kPostgres, false);
  bool ok = target.has_value();
  if (target) o.target = std::move(*target);
  if (auto db = node.GetString("dbname")) o.target.database = *db;
  o.password_file = node.GetString("password_file").value_or("");
  o.keep_connection = node.GetBool("keep_connection").value_or(true);
  if (!o.password_file.empty() && !o.target.password.empty()) {
    node.ErrorAt("password_file", "both password and password_file are set",
                 "keep the password in the file only");
    ok = false;
  }
  if (ok && o.target.dsn.empty() && o.target.host.empty()) {
    node.Error("missing 'dsn' or 'host'",
               "e.g. dsn: \"host=127.0.0.1 port=5432 user=mamori dbname=postgres\", or "
               "host: /var/run/postgresql");
    ok = false;
  }
  ok &= ReadLimits(node, o.limits);
  if (!ok) return nullptr;
  return std::make_unique<PostgresProbe>(std::move(o));
}

}  // namespace

void Register(ProbeRegistry& r) {
  r.Add("postgres",
        "a live PostgreSQL server: role, standbys and lag, slots, WAL senders, connections, "
        "archiving, long transactions, base backups in flight",
        Build);
}

}  // namespace mamori::probes::postgres
