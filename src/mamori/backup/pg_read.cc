// ReadFacts (pg_session.h): the queries behind the `postgres` check. One
// query per view, so a view this server lacks costs only its own part.
#include <fmt/format.h>

#include <cstdlib>

#include "mamori/backup/pg_session.h"

namespace mamori::backup::pg {
namespace {

// SQLSTATEs of "this server has no such view / column / function".
bool IsMissingFeature(const std::string& sqlstate) {
  return sqlstate == "42P01" || sqlstate == "42703" || sqlstate == "42883";
}

std::string Text(const Row& r, size_t i) { return i < r.size() && r[i] ? *r[i] : ""; }
std::optional<double> Number(const Row& r, size_t i) {
  if (i >= r.size() || !r[i]) return std::nullopt;
  return std::strtod(r[i]->c_str(), nullptr);
}
bool Bool(const Row& r, size_t i) { return Text(r, i) == "t"; }

// Runs a query that needs a view some versions lack: nullopt (and the feature
// named in `missing`) when the server does not know it.
Result<std::optional<std::vector<Row>>> Optional(Session& s, const std::string& sql,
                                                 const std::string& feature, Facts& f) {
  auto rows = s.Query(sql);
  if (rows.ok()) return std::optional<std::vector<Row>>(std::move(*rows));
  if (!IsMissingFeature(s.last_sqlstate())) return rows.error();
  f.missing.push_back(feature);
  return std::optional<std::vector<Row>>();
}

constexpr const char* kBase = R"(SELECT pg_is_in_recovery(), current_setting('server_version'),
  current_setting('max_connections')::int, current_setting('superuser_reserved_connections')::int,
  current_setting('max_wal_senders')::int,
  (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'),
  (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'walsender'),
  d.datname, age(d.datfrozenxid)
FROM (SELECT datname, datfrozenxid FROM pg_database ORDER BY age(datfrozenxid) DESC LIMIT 1) d)";

constexpr const char* kSessions = R"(SELECT pid, coalesce(usename, ''), coalesce(datname, ''),
  coalesce(application_name, ''), coalesce(state, ''), extract(epoch FROM now() - xact_start),
  wait_event_type = 'Lock', extract(epoch FROM now() - query_start)
FROM pg_stat_activity
WHERE xact_start IS NOT NULL AND backend_type = 'client backend' AND pid <> pg_backend_pid()
ORDER BY wait_event_type = 'Lock' DESC, xact_start LIMIT 20)";

constexpr const char* kStandbys = R"(SELECT coalesce(application_name, ''),
  coalesce(host(client_addr), ''), coalesce(state, ''),
  pg_wal_lsn_diff(pg_current_wal_lsn(), sent_lsn), pg_wal_lsn_diff(pg_current_wal_lsn(), write_lsn),
  pg_wal_lsn_diff(pg_current_wal_lsn(), flush_lsn), pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn),
  extract(epoch FROM replay_lag)
FROM pg_stat_replication WHERE state IS DISTINCT FROM 'backup'
ORDER BY application_name, pid LIMIT 100)";

constexpr const char* kSlots = R"(SELECT slot_name, slot_type, active,
  pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn), coalesce(wal_status, '')
FROM pg_replication_slots ORDER BY slot_name LIMIT 100)";
// Before 13 there is no wal_status.
constexpr const char* kSlotsOld = R"(SELECT slot_name, slot_type, active,
  pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn), ''
FROM pg_replication_slots ORDER BY slot_name LIMIT 100)";

constexpr const char* kArchiver = R"(SELECT failed_count, coalesce(last_failed_wal, ''),
  coalesce(last_failed_time > coalesce(last_archived_time, '-infinity'), false)
FROM pg_stat_archiver)";

constexpr const char* kBaseBackups = R"(SELECT p.pid,
  coalesce(host(a.client_addr), 'local') || ' (' || coalesce(a.application_name, '') || ')',
  p.phase, extract(epoch FROM now() - coalesce(a.query_start, a.backend_start)),
  p.backup_streamed, p.backup_total
FROM pg_stat_progress_basebackup p LEFT JOIN pg_stat_activity a USING (pid)
ORDER BY p.pid LIMIT 20)";

constexpr const char* kReceiver = R"(SELECT r.status,
  coalesce(r.sender_host, '') || ':' || coalesce(r.sender_port::text, ''),
  pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()),
  extract(epoch FROM now() - pg_last_xact_replay_timestamp()), pg_is_wal_replay_paused()
FROM (SELECT 1) one LEFT JOIN pg_stat_wal_receiver r ON true)";

Status ReadBase(Session& s, Facts& f) {
  auto rows = s.Query(kBase);
  if (!rows.ok()) return rows.error();
  if (rows->empty()) return Error("the server returned no settings");
  const Row& r = rows->front();
  f.in_recovery = Bool(r, 0);
  f.version = Text(r, 1).substr(0, Text(r, 1).find(' '));
  f.max_connections = static_cast<int>(Number(r, 2).value_or(0));
  f.reserved_connections = static_cast<int>(Number(r, 3).value_or(0));
  f.max_wal_senders = static_cast<int>(Number(r, 4).value_or(0));
  f.connections = static_cast<int>(Number(r, 5).value_or(0));
  if (!f.in_recovery) f.wal_senders = static_cast<int>(Number(r, 6).value_or(0));
  f.oldest_xid_database = Text(r, 7);
  f.oldest_xid_age = Number(r, 8);
  return Status::Ok();
}

Status ReadTransactions(Session& s, Facts& f) {
  auto rows = s.Query(kSessions);
  if (!rows.ok()) return rows.error();
  for (const Row& r : *rows) {
    Transaction t;
    t.pid = static_cast<int>(Number(r, 0).value_or(0));
    t.who = fmt::format("{}@{}", Text(r, 1), Text(r, 2));
    if (!Text(r, 3).empty()) t.who += " (" + Text(r, 3) + ")";
    t.state = Text(r, 4);
    t.xact_seconds = Number(r, 5).value_or(0);
    t.waiting_on_lock = Bool(r, 6);
    t.wait_seconds = Number(r, 7).value_or(0);
    f.transactions.push_back(std::move(t));
  }
  return Status::Ok();
}

Status ReadStandbys(Session& s, Facts& f) {
  auto rows = s.Query(kStandbys);
  if (!rows.ok()) return rows.error();
  for (const Row& r : *rows) {
    Standby x;
    x.name = Text(r, 0);
    x.client_addr = Text(r, 1);
    x.state = Text(r, 2);
    x.sent_lag_bytes = Number(r, 3);
    x.write_lag_bytes = Number(r, 4);
    x.flush_lag_bytes = Number(r, 5);
    x.replay_lag_bytes = Number(r, 6);
    x.replay_lag_seconds = Number(r, 7);
    f.standbys.push_back(std::move(x));
  }
  return Status::Ok();
}

Status ReadSlots(Session& s, Facts& f) {
  auto rows = Optional(s, kSlots, "pg_replication_slots.wal_status (13+)", f);
  if (!rows.ok()) return rows.error();
  if (!*rows) {
    rows = Optional(s, kSlotsOld, "pg_replication_slots", f);
    if (!rows.ok()) return rows.error();
    if (!*rows) return Status::Ok();
  }
  for (const Row& r : **rows) {
    Slot x;
    x.name = Text(r, 0);
    x.type = Text(r, 1);
    x.active = Bool(r, 2);
    x.retained_bytes = Number(r, 3);
    x.wal_status = Text(r, 4);
    f.slots.push_back(std::move(x));
  }
  return Status::Ok();
}

Status ReadArchiver(Session& s, Facts& f) {
  auto rows = Optional(s, kArchiver, "pg_stat_archiver (9.4+)", f);
  if (!rows.ok()) return rows.error();
  if (!*rows || (*rows)->empty()) return Status::Ok();
  const Row& r = (*rows)->front();
  f.archive_failed_count = static_cast<int64_t>(Number(r, 0).value_or(0));
  f.archive_last_failed_wal = Text(r, 1);
  f.archive_failing = Bool(r, 2);
  return Status::Ok();
}

Status ReadBaseBackups(Session& s, Facts& f) {
  auto rows = Optional(s, kBaseBackups, "pg_stat_progress_basebackup (13+)", f);
  if (!rows.ok()) return rows.error();
  if (!*rows) return Status::Ok();
  for (const Row& r : **rows) {
    BaseBackup b;
    b.pid = static_cast<int>(Number(r, 0).value_or(0));
    b.client = Text(r, 1);
    b.phase = Text(r, 2);
    b.seconds = Number(r, 3).value_or(0);
    b.done_bytes = Number(r, 4).value_or(0);
    b.total_bytes = Number(r, 5);
    f.base_backups.push_back(std::move(b));
  }
  return Status::Ok();
}

Status ReadReceiver(Session& s, Facts& f) {
  auto rows = Optional(s, kReceiver, "pg_stat_wal_receiver.sender_host (11+)", f);
  if (!rows.ok()) return rows.error();
  if (!*rows || (*rows)->empty()) return Status::Ok();
  const Row& r = (*rows)->front();
  if (r[0]) f.receiver_status = *r[0];
  f.upstream = Text(r, 1);
  f.receive_replay_bytes = Number(r, 2);
  if (f.receive_replay_bytes && *f.receive_replay_bytes < 0) f.receive_replay_bytes = 0;
  f.replay_timestamp_age = Number(r, 3);
  f.replay_paused = Bool(r, 4);
  return Status::Ok();
}

}  // namespace

Result<Facts> ReadFacts(Session& s) {
  Facts f;
  if (Status st = ReadBase(s, f); !st.ok()) return st.error();
  using Reader = Status (*)(Session&, Facts&);
  std::vector<Reader> readers = {ReadTransactions};
  if (f.in_recovery)
    readers.push_back(ReadReceiver);
  else
    readers.insert(readers.end(), {ReadStandbys, ReadSlots, ReadArchiver, ReadBaseBackups});
  for (Reader read : readers)
    if (Status st = read(s, f); !st.ok()) return st.error();
  return f;
}

}  // namespace mamori::backup::pg
