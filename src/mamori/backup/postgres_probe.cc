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
// timeout is cancelled and UNKNOWN. Stateless between runs; Run() is safe on
// any pool thread.
#include <fmt/format.h>

#include <fstream>

#include "mamori/backup/pg_session.h"
#include "mamori/backup/sql_client.h"
#include "mamori/check/registry.h"
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
};

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
    auto session = pg::Session::Open(std::move(*params), o_.target.Describe(), deadline, clock);
    if (!session.ok()) return Observation::Make(CheckStatus::kCritical, session.error().message());
    auto facts = pg::ReadFacts(**session);
    if (!facts.ok()) {
      Observation obs = Observation::Make(CheckStatus::kUnknown, facts.error().message());
      obs.AddMetric("queries", (*session)->queries_sent());
      return obs;
    }
    Observation obs = pg::Judge(*facts, o_.limits);
    obs.AddMetric("queries", (*session)->queries_sent());
    return obs;
  }

 private:
  Options o_;
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
