#include "mamori/backup/pg_health.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "mamori/util/units.h"

namespace mamori::backup::pg {
namespace {

// Problems in the order they are found; the summary puts critical ones first.
struct Verdict {
  struct Problem {
    CheckStatus status;
    std::string text;
  };
  std::vector<Problem> problems;
  std::vector<std::string> facts;  // the healthy part of the summary
  std::vector<std::string> details;
  Observation obs;

  void Add(CheckStatus s, std::string text) {
    if (s != CheckStatus::kOk) problems.push_back({s, std::move(text)});
  }
};

CheckStatus Grade(double v, const Limit& l) {
  if (v >= l.critical) return CheckStatus::kCritical;
  if (v >= l.warning) return CheckStatus::kWarning;
  return CheckStatus::kOk;
}

std::string Bytes(double b) { return FormatBytes(static_cast<uint64_t>(std::max(0.0, b))); }
std::string Secs(double s) {
  return FormatDuration(std::chrono::milliseconds(static_cast<int64_t>(std::max(0.0, s) * 1000)));
}
// " (warning at 16.0 MiB)" for a graded value.
std::string Over(CheckStatus s, const Limit& l, std::string (*show)(double)) {
  if (s == CheckStatus::kCritical) return " (critical at " + show(l.critical) + ")";
  if (s == CheckStatus::kWarning) return " (warning at " + show(l.warning) + ")";
  return "";
}

void JudgeStandbys(const Facts& f, const Limits& l, Verdict& v) {
  for (const Standby& s : f.standbys) {
    const std::string who = s.name.empty() ? "(unnamed)" : s.name;
    const double bytes = s.replay_lag_bytes.value_or(0);
    // An idle, caught-up standby has NULL replay_lag: nothing to replay, no lag.
    const double secs = bytes <= 0 ? 0 : s.replay_lag_seconds.value_or(0);
    const CheckStatus bs = Grade(bytes, l.lag_bytes), ss = Grade(secs, l.lag_seconds);
    v.Add(bs, fmt::format("standby {} replay lag {}{}", who, Bytes(bytes),
                          Over(bs, l.lag_bytes, Bytes)));
    v.Add(ss, fmt::format("standby {} replay lag {}{}", who, Secs(secs),
                          Over(ss, l.lag_seconds, Secs)));
    // "startup" is every walsender's first moments (a standby or pg_basebackup
    // connecting); a standby stuck there shows as lag, so only later states warn.
    if (s.state != "streaming" && s.state != "startup")
      v.Add(CheckStatus::kWarning, fmt::format("standby {} is in state {}", who, s.state));
    v.obs.AddMetric("standby_sent_lag_bytes:" + who, s.sent_lag_bytes.value_or(0));
    v.obs.AddMetric("standby_write_lag_bytes:" + who, s.write_lag_bytes.value_or(0));
    v.obs.AddMetric("standby_flush_lag_bytes:" + who, s.flush_lag_bytes.value_or(0));
    v.obs.AddMetric("standby_replay_lag_bytes:" + who, bytes);
    v.obs.AddMetric("standby_replay_lag_seconds:" + who, secs);
    v.details.push_back(
        fmt::format("standby {} from {}: {}, lag sent {} write {} flush {} replay {} ({})", who,
                    s.client_addr.empty() ? "local socket" : s.client_addr, s.state,
                    Bytes(s.sent_lag_bytes.value_or(0)), Bytes(s.write_lag_bytes.value_or(0)),
                    Bytes(s.flush_lag_bytes.value_or(0)), Bytes(bytes), Secs(secs)));
  }
  v.obs.AddMetric("standbys", static_cast<double>(f.standbys.size()));
  if (!f.standbys.empty()) {
    std::string names;
    for (const Standby& s : f.standbys) names += (names.empty() ? "" : ", ") + s.name;
    v.facts.push_back(fmt::format("{} standby ({})", f.standbys.size(), names));
  }
}

void JudgeSlots(const Facts& f, const Limits& l, Verdict& v) {
  for (const Slot& s : f.slots) {
    const double kept = s.retained_bytes.value_or(0);
    const CheckStatus ks = Grade(kept, l.retained_wal);
    v.Add(ks, fmt::format("{}slot {} retains {} of WAL{}", s.active ? "" : "inactive ", s.name,
                          Bytes(kept), Over(ks, l.retained_wal, Bytes)));
    if (s.wal_status == "lost")
      v.Add(CheckStatus::kCritical,
            fmt::format("slot {} lost WAL its consumer still needed (wal_status lost): re-seed "
                        "the standby or drop the slot",
                        s.name));
    else if (s.wal_status == "unreserved")
      v.Add(CheckStatus::kWarning,
            fmt::format("slot {} is past max_slot_wal_keep_size (wal_status unreserved)", s.name));
    v.obs.AddMetric("slot_retained_bytes:" + s.name, kept);
    v.obs.AddMetric("slot_active:" + s.name, s.active ? 1 : 0);
    v.details.push_back(fmt::format("slot {} ({}, {}): retains {}{}", s.name, s.type,
                                    s.active ? "active" : "inactive", Bytes(kept),
                                    s.wal_status.empty() ? "" : ", wal_status " + s.wal_status));
  }
}

void JudgeSenders(const Facts& f, Verdict& v) {
  if (!f.wal_senders) return;
  v.obs.AddMetric("wal_senders", *f.wal_senders);
  v.obs.AddMetric("max_wal_senders", f.max_wal_senders);
  if (f.max_wal_senders > 0 && *f.wal_senders >= f.max_wal_senders)
    v.Add(CheckStatus::kCritical,
          fmt::format("all {} WAL senders in use (max_wal_senders): a standby or pg_basebackup "
                      "cannot connect; raise max_wal_senders (restart) or end unused ones",
                      f.max_wal_senders));
}

void JudgeConnections(const Facts& f, const Limits& l, Verdict& v) {
  const int usable = std::max(1, f.max_connections - f.reserved_connections);
  const double pct = 100.0 * f.connections / usable;
  const CheckStatus cs = Grade(pct, l.connections);
  v.obs.AddMetric("connections", f.connections);
  v.obs.AddMetric("max_connections", f.max_connections);
  v.obs.AddMetric("connections_percent", pct);
  const std::string text = fmt::format("{}/{} connections ({:.0f}%)", f.connections, usable, pct);
  if (cs == CheckStatus::kOk)
    v.facts.push_back(text);
  else
    v.Add(cs, text + Over(cs, l.connections, [](double p) { return fmt::format("{:g}%", p); }));
}

void JudgeSessions(const Facts& f, const Limits& l, Verdict& v) {
  double oldest = 0, lock_waits = 0;
  for (const Transaction& s : f.transactions) {
    oldest = std::max(oldest, s.xact_seconds);
    const CheckStatus ts = Grade(s.xact_seconds, l.long_transaction);
    v.Add(ts, fmt::format("pid {} {} {} for {}{}", s.pid, s.who,
                          s.state == "active" ? "in a transaction" : s.state, Secs(s.xact_seconds),
                          Over(ts, l.long_transaction, Secs)));
    if (!s.waiting_on_lock) continue;
    ++lock_waits;
    const CheckStatus ws = Grade(s.wait_seconds, l.lock_wait);
    v.Add(ws, fmt::format("pid {} {} waits on a lock for {}{}", s.pid, s.who, Secs(s.wait_seconds),
                          Over(ws, l.lock_wait, Secs)));
  }
  v.obs.AddMetric("oldest_transaction_seconds", oldest);
  v.obs.AddMetric("lock_waits", lock_waits);
  if (f.oldest_xid_age) {
    const CheckStatus xs = Grade(*f.oldest_xid_age, l.xid_age);
    v.obs.AddMetric("oldest_xid_age", *f.oldest_xid_age);
    v.Add(xs, fmt::format("database {} transaction ID age {:.0f} (wraparound near 2.1e9; "
                          "VACUUM FREEZE it)",
                          f.oldest_xid_database, *f.oldest_xid_age));
  }
}

void JudgeArchiver(const Facts& f, Verdict& v) {
  if (!f.archive_failed_count) return;
  v.obs.AddMetric("archive_failed_count", static_cast<double>(*f.archive_failed_count));
  if (f.archive_failing)
    v.Add(CheckStatus::kCritical,
          fmt::format("WAL archiving fails ({} failures, last {}): pg_wal grows until it is "
                      "fixed; see archive_command in the server log",
                      *f.archive_failed_count, f.archive_last_failed_wal));
}

void JudgeBaseBackups(const Facts& f, const Limits& l, Verdict& v) {
  for (const BaseBackup& b : f.base_backups) {
    v.details.push_back(fmt::format("base backup pid {} to {}: {} for {}, {} sent", b.pid, b.client,
                                    b.phase, Secs(b.seconds), Bytes(b.done_bytes)));
    if (b.phase != "waiting for checkpoint to finish") continue;
    v.obs.AddMetric(fmt::format("basebackup_checkpoint_wait_seconds:{}", b.pid), b.seconds);
    const CheckStatus s = Grade(b.seconds, l.basebackup_checkpoint_wait);
    v.Add(s, fmt::format("base backup to {} waiting for checkpoint to finish for {}{}: it waits "
                         "for a spread checkpoint and prints nothing; run CHECKPOINT on the "
                         "primary, or restart it with pg_basebackup --checkpoint=fast",
                         b.client, Secs(b.seconds), Over(s, l.basebackup_checkpoint_wait, Secs)));
  }
  v.obs.AddMetric("base_backups", static_cast<double>(f.base_backups.size()));
}

void JudgeStandbyRole(const Facts& f, const Limits& l, Verdict& v) {
  if (!f.receiver_status)
    v.Add(CheckStatus::kWarning, "no WAL receiver: not streaming from a primary");
  else if (*f.receiver_status != "streaming")
    v.Add(CheckStatus::kCritical,
          fmt::format("WAL receiver is {} (from {})", *f.receiver_status, f.upstream));
  else
    v.facts.push_back("streaming from " + f.upstream);
  const double bytes = f.receive_replay_bytes.value_or(0);
  // Timestamps alone cry wolf on an idle primary: no unreplayed WAL, no lag.
  const double secs = bytes > 0 ? f.replay_timestamp_age.value_or(0) : 0;
  const CheckStatus bs = Grade(bytes, l.lag_bytes), ss = Grade(secs, l.lag_seconds);
  v.Add(bs,
        fmt::format("received but not replayed {}{}", Bytes(bytes), Over(bs, l.lag_bytes, Bytes)));
  v.Add(ss, fmt::format("replay lag {}{}", Secs(secs), Over(ss, l.lag_seconds, Secs)));
  if (f.replay_paused)
    v.Add(CheckStatus::kWarning, "recovery is paused (SELECT pg_wal_replay_resume() resumes it)");
  v.obs.AddMetric("receive_replay_lag_bytes", bytes);
  v.obs.AddMetric("replay_lag_seconds", secs);
  v.obs.AddMetric("replay_paused", f.replay_paused ? 1 : 0);
  v.obs.AddMetric("wal_receiver_streaming", f.receiver_status == "streaming" ? 1 : 0);
}

std::string Summary(const Facts& f, Verdict& v) {
  std::stable_sort(v.problems.begin(), v.problems.end(),
                   [](const auto& a, const auto& b) { return b.status < a.status; });
  std::string s = f.in_recovery ? "standby" : "primary";
  if (!f.version.empty()) s += " " + f.version;
  for (const auto& p : v.problems) s += "; " + p.text;
  for (const auto& t : v.facts) s += "; " + t;
  if (!f.missing.empty()) {
    std::string m;
    for (const auto& x : f.missing) m += (m.empty() ? "" : ", ") + x;
    s += "; not available on this server: " + m;
  }
  return s;
}

}  // namespace

Observation Judge(const Facts& f, const Limits& l) {
  Verdict v;
  v.obs.AddMetric("in_recovery", f.in_recovery ? 1 : 0);
  if (f.in_recovery) {
    JudgeStandbyRole(f, l, v);
  } else {
    JudgeStandbys(f, l, v);
    JudgeSlots(f, l, v);
    JudgeSenders(f, v);
    JudgeArchiver(f, v);
    JudgeBaseBackups(f, l, v);
  }
  JudgeConnections(f, l, v);
  JudgeSessions(f, l, v);
  CheckStatus worst = CheckStatus::kOk;
  for (const auto& p : v.problems) worst = Worst(worst, p.status);
  Observation obs = std::move(v.obs);
  obs.status = worst;
  obs.summary = Summary(f, v);
  for (const auto& d : v.details) obs.details += d + "\n";
  return obs;
}

}  // namespace mamori::backup::pg
