// The read side: the queries behind status, history and the API, on the
// read-only connection (serialised by read_mu_). They see what is committed,
// never the queue, and return at most kMaxReadRows rows.
#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>

#include "mamori/store/store.h"
#include "mamori/store/store_internal.h"

namespace mamori {
namespace {

using std::chrono::microseconds;
using store_internal::StatusFromCode;

// The kind as KindText (store_writer.cc) stored it; a name this build does not
// know reads as none.
std::optional<EventKind> KindFromText(std::string_view s) {
  for (EventKind k : {EventKind::kStateChange, EventKind::kFlappingStarted,
                      EventKind::kFlappingStopped, EventKind::kAddressChanged, EventKind::kRemedy})
    if (EventKindName(k) == s) return k;
  return std::nullopt;
}

std::vector<Metric> MetricsFromText(const std::string& text) {
  std::vector<Metric> out;
  if (text.empty()) return out;
  auto j = nlohmann::ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return out;  // unreadable cell: metrics are best effort
  for (auto it = j.begin(); it != j.end(); ++it) {
    double v = it.value().is_number() ? it.value().get<double>()
                                      : std::numeric_limits<double>::quiet_NaN();
    out.push_back({it.key(), v});
  }
  return out;
}

// A rollups row whose columns 1-6 are n_ok, n_warning, n_critical,
// n_unknown, duration_sum_us and duration_max_us (column 0 is the caller's).
Rollup RollupFromRow(sqlite::Statement& st, WallTime hour) {
  Rollup ru;
  ru.hour = hour;
  ru.n_ok = st.ColumnInt(1);
  ru.n_warning = st.ColumnInt(2);
  ru.n_critical = st.ColumnInt(3);
  ru.n_unknown = st.ColumnInt(4);
  ru.duration_sum = microseconds(st.ColumnInt(5));
  ru.duration_max = microseconds(st.ColumnInt(6));
  return ru;
}

}  // namespace

Result<std::vector<CheckSnapshot>> Store::LoadSnapshots() {
  MutexLock lk(read_mu_);
  auto st = reader_.Prepare(
      "SELECT c.name, c.type, s.hard, s.last, s.soft_failing, s.attempts, s.flapping, "
      "s.last_ms, s.hard_since_ms, s.summary, s.duration_us, s.metrics "
      "FROM snapshots s JOIN checks c ON c.id = s.check_id ORDER BY c.name LIMIT ?1");
  if (!st.ok()) return st.error().Wrap("reading " + path_);
  st->Bind(1, static_cast<int64_t>(kMaxReadRows));
  std::vector<CheckSnapshot> out;
  for (;;) {
    auto r = st->Step();
    if (!r.ok()) return r.error().Wrap("reading " + path_);
    if (!*r) break;
    CheckSnapshot s;
    s.name = st->ColumnText(0);
    s.type = st->ColumnText(1);
    if (auto h = st->ColumnOptionalInt(2)) s.hard = StatusFromCode(*h);
    s.last = StatusFromCode(st->ColumnInt(3));
    s.soft_failing = st->ColumnInt(4) != 0;
    s.attempts = static_cast<int>(st->ColumnInt(5));
    s.flapping = st->ColumnInt(6) != 0;
    s.last_time = FromUnixMillis(st->ColumnInt(7));
    s.hard_since = FromUnixMillis(st->ColumnInt(8));
    s.summary = st->ColumnText(9);
    s.duration = microseconds(st->ColumnInt(10));
    s.metrics = MetricsFromText(st->ColumnText(11));
    out.push_back(std::move(s));
  }
  return out;
}

Result<std::vector<Event>> Store::Events(std::optional<std::string> check, WallTime since,
                                         size_t limit) {
  limit = std::min(limit, kMaxReadRows);
  MutexLock lk(read_mu_);
  std::string sql =
      "SELECT e.ts_ms, c.name, e.kind, e.from_status, e.to_status, e.summary "
      "FROM events e JOIN checks c ON c.id = e.check_id WHERE e.ts_ms >= ?1 ";
  if (check) sql += "AND e.check_id = (SELECT id FROM checks WHERE name = ?3) ";
  sql += "ORDER BY e.ts_ms DESC, e.id DESC LIMIT ?2";
  auto st = reader_.Prepare(sql);
  if (!st.ok()) return st.error().Wrap("reading " + path_);
  st->Bind(1, ToUnixMillis(since)).Bind(2, static_cast<int64_t>(limit));
  if (check) st->Bind(3, *check);
  std::vector<Event> out;
  for (;;) {
    auto r = st->Step();
    if (!r.ok()) return r.error().Wrap("reading " + path_);
    if (!*r) break;
    auto kind = KindFromText(st->ColumnText(2));
    if (!kind) continue;  // written by a newer mamori; not ours to interpret
    Event e;
    e.time = FromUnixMillis(st->ColumnInt(0));
    e.check = st->ColumnText(1);
    e.kind = *kind;
    if (auto f = st->ColumnOptionalInt(3)) e.from = StatusFromCode(*f);
    e.to = StatusFromCode(st->ColumnInt(4));
    e.summary = st->ColumnText(5);
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::vector<StoredObservation>> Store::Observations(const std::string& check, WallTime since,
                                                           size_t limit,
                                                           std::optional<WallTime> until) {
  limit = std::min(limit, kMaxReadRows);
  MutexLock lk(read_mu_);
  auto st = reader_.Prepare(
      "SELECT ts_ms, status, duration_us, summary, metrics FROM observations "
      "WHERE check_id = (SELECT id FROM checks WHERE name = ?1) AND ts_ms >= ?2 AND ts_ms <= ?4 "
      "ORDER BY ts_ms DESC, id DESC LIMIT ?3");
  if (!st.ok()) return st.error().Wrap("reading " + path_);
  st->Bind(1, check)
      .Bind(2, ToUnixMillis(since))
      .Bind(3, static_cast<int64_t>(limit))
      .Bind(4, until ? ToUnixMillis(*until) : std::numeric_limits<int64_t>::max());
  std::vector<StoredObservation> out;
  for (;;) {
    auto r = st->Step();
    if (!r.ok()) return r.error().Wrap("reading " + path_);
    if (!*r) break;
    StoredObservation o;
    o.time = FromUnixMillis(st->ColumnInt(0));
    o.status = StatusFromCode(st->ColumnInt(1));
    o.duration = microseconds(st->ColumnInt(2));
    o.summary = st->ColumnText(3);
    o.metrics = MetricsFromText(st->ColumnText(4));
    out.push_back(std::move(o));
  }
  return out;
}

Result<std::vector<Rollup>> Store::Rollups(const std::string& check, WallTime since) {
  MutexLock lk(read_mu_);
  auto st = reader_.Prepare(
      "SELECT hour_ts, n_ok, n_warning, n_critical, n_unknown, duration_sum_us, "
      "duration_max_us FROM rollups "
      "WHERE check_id = (SELECT id FROM checks WHERE name = ?1) AND hour_ts >= ?2 "
      "ORDER BY hour_ts LIMIT ?3");
  if (!st.ok()) return st.error().Wrap("reading " + path_);
  st->Bind(1, check).Bind(2, ToUnixMillis(since)).Bind(3, static_cast<int64_t>(kMaxReadRows));
  std::vector<Rollup> out;
  for (;;) {
    auto r = st->Step();
    if (!r.ok()) return r.error().Wrap("reading " + path_);
    if (!*r) break;
    out.push_back(RollupFromRow(*st, FromUnixMillis(st->ColumnInt(0))));
  }
  return out;
}

Result<std::vector<std::pair<std::string, Rollup>>> Store::RollupTotals(WallTime since,
                                                                        WallTime until) {
  MutexLock lk(read_mu_);
  // CROSS JOIN keeps checks the outer loop, so each check's hours are one
  // seek on the rollups' primary key (check_id, hour_ts) instead of a scan
  // of every rollup for a two-hour window.
  auto st = reader_.Prepare(
      "SELECT c.name, sum(r.n_ok), sum(r.n_warning), sum(r.n_critical), sum(r.n_unknown), "
      "sum(r.duration_sum_us), max(r.duration_max_us) FROM checks c CROSS JOIN rollups r "
      "ON r.check_id = c.id WHERE r.hour_ts >= ?1 AND r.hour_ts < ?2 GROUP BY c.id");
  if (!st.ok()) return st.error().Wrap("reading " + path_);
  st->Bind(1, ToUnixMillis(since)).Bind(2, ToUnixMillis(until));
  std::vector<std::pair<std::string, Rollup>> out;
  for (;;) {
    auto r = st->Step();
    if (!r.ok()) return r.error().Wrap("reading " + path_);
    if (!*r) break;
    out.emplace_back(st->ColumnText(0), RollupFromRow(*st, since));
  }
  return out;
}

Result<std::vector<heartbeat::Ping>> Store::Pings(const std::string& check, size_t limit) {
  limit = std::min(limit, kMaxReadRows);
  MutexLock lk(read_mu_);
  auto st = reader_.Prepare(
      "SELECT ts_ms, kind, exit_code, rid, source, user_agent, body, body_truncated, duration_us "
      "FROM pings WHERE check_id = (SELECT id FROM checks WHERE name = ?1) ORDER BY id DESC LIMIT "
      "?2");
  if (!st.ok()) return st.error().Wrap("reading " + path_);
  st->Bind(1, check).Bind(2, static_cast<int64_t>(limit));
  std::vector<heartbeat::Ping> out;
  for (;;) {
    auto r = st->Step();
    if (!r.ok()) return r.error().Wrap("reading " + path_);
    if (!*r) break;
    heartbeat::Ping p;
    p.check = check;
    p.time = FromUnixMillis(st->ColumnInt(0));
    p.kind = heartbeat::PingKindFromName(st->ColumnText(1)).value_or(heartbeat::PingKind::kLog);
    p.exit_code = static_cast<int>(st->ColumnOptionalInt(2).value_or(-1));
    p.rid = st->ColumnText(3);
    p.source = st->ColumnText(4);
    p.user_agent = st->ColumnText(5);
    p.body = st->ColumnBlob(6);
    p.body_truncated = st->ColumnInt(7) != 0;
    if (auto d = st->ColumnOptionalInt(8)) p.duration = std::chrono::microseconds(*d);
    out.push_back(std::move(p));
  }
  return out;
}

Result<int64_t> Store::PingCount() {
  MutexLock lk(read_mu_);
  auto st = reader_.Prepare("SELECT count(*) FROM pings");
  if (!st.ok()) return st.error().Wrap("reading " + path_);
  auto r = st->Step();
  if (!r.ok()) return r.error().Wrap("reading " + path_);
  return *r ? st->ColumnInt(0) : 0;
}

}  // namespace mamori
