#include "mamori/db/mariadb_state.h"

#include <fmt/format.h>

#include <charconv>

namespace mamori::db {
namespace {

std::optional<double> Number(const MariadbRow& row, const std::string& key) {
  auto it = row.find(key);
  if (it == row.end() || it->second.empty()) return std::nullopt;
  double v = 0;
  const char* end = it->second.data() + it->second.size();
  if (std::from_chars(it->second.data(), end, v).ptr != end) return std::nullopt;
  return v;
}

std::string Text(const MariadbRow& row, const std::string& key) {
  auto it = row.find(key);
  return it == row.end() ? "" : it->second;
}

// Collects findings; the worst status wins, problems lead the summary.
struct Verdict {
  CheckStatus status = CheckStatus::kOk;
  std::vector<std::string> problems, facts;
  void Add(CheckStatus s, std::string text) {
    status = Worst(status, s);
    (s == CheckStatus::kOk ? facts : problems).push_back(std::move(text));
  }
  // Judges `v` against warning/critical: OK, WARNING or CRITICAL with `text`.
  void Judge(double v, double warning, double critical, std::string text) {
    if (v >= critical)
      Add(CheckStatus::kCritical, text + fmt::format(" (critical at {:g})", critical));
    else if (v >= warning)
      Add(CheckStatus::kWarning, text + fmt::format(" (warning at {:g})", warning));
    else
      Add(CheckStatus::kOk, std::move(text));
  }
};

void Connections(const MariadbFacts& f, const MariadbLimits& l, Verdict& v, Observation& obs) {
  const auto used = Number(f.status, "Threads_connected");
  const auto max = Number(f.variables, "max_connections");
  const auto high = Number(f.status, "Max_used_connections");
  if (high) obs.AddMetric("max_used_connections", *high);
  if (!used || !max || *max <= 0) return;
  const double pct = *used * 100.0 / *max;
  obs.AddMetric("connections", *used);
  obs.AddMetric("max_connections", *max);
  obs.AddMetric("connections_percent", pct);
  std::string text = fmt::format("{:g}/{:g} connections ({:.0f}%", *used, *max, pct);
  text += high ? fmt::format(", peak {:g})", *high) : ")";
  v.Judge(pct, l.connections_warning, l.connections_critical, text);
}

// A counter's growth since the previous run; nothing on the first run or
// after a restart (the counter went down).
std::optional<double> Growth(std::optional<double> now, std::optional<double>& previous) {
  std::optional<double> d;
  if (now && previous && *now >= *previous) d = *now - *previous;
  previous = now;
  return d;
}

void Counters(const MariadbFacts& f, const MariadbLimits& l, MariadbCounters& c, Verdict& v,
              Observation& obs) {
  const auto aborted = Number(f.status, "Aborted_connects");
  const auto deadlocks = Number(f.status, "Innodb_deadlocks");
  if (aborted) obs.AddMetric("aborted_connects", *aborted);
  if (deadlocks) obs.AddMetric("innodb_deadlocks", *deadlocks);
  if (auto d = Growth(aborted, c.aborted_connects)) {
    obs.AddMetric("aborted_connects_new", *d);
    if (*d > 0)
      v.Judge(*d, l.aborted_warning, l.aborted_critical,
              fmt::format("{:g} aborted connects since the last run", *d));
  }
  if (auto d = Growth(deadlocks, c.deadlocks)) {
    obs.AddMetric("innodb_deadlocks_new", *d);
    if (*d > 0)
      v.Judge(*d, l.deadlocks_warning, l.deadlocks_critical,
              fmt::format("{:g} InnoDB deadlocks since the last run", *d));
  }
}

void Replica(const MariadbRow& r, const MariadbLimits& l, Verdict& v, Observation& obs) {
  const std::string name = Text(r, "Connection_name");
  const std::string who = "replica" + (name.empty() ? "" : " '" + name + "'") + " of " +
                          Text(r, "Master_Host") + ":" + Text(r, "Master_Port");
  const bool io = Text(r, "Slave_IO_Running") == "Yes";
  const bool sql = Text(r, "Slave_SQL_Running") == "Yes";
  const std::string suffix = name.empty() ? "" : "_" + name;
  obs.AddMetric("replica_io_running" + suffix, io ? 1 : 0);
  obs.AddMetric("replica_sql_running" + suffix, sql ? 1 : 0);
  if (!sql) {
    const std::string err = Text(r, "Last_SQL_Error");
    v.Add(CheckStatus::kCritical,
          fmt::format("{}: SQL thread stopped{}", who, err.empty() ? "" : ": " + err));
  }
  if (!io) {
    const std::string err = Text(r, "Last_IO_Error");
    v.Add(CheckStatus::kCritical,
          fmt::format("{}: IO thread {}{}", who,
                      Text(r, "Slave_IO_Running") == "Connecting" ? "still connecting" : "stopped",
                      err.empty() ? "" : ": " + err));
  }
  if (auto lag = Number(r, "Seconds_Behind_Master")) {
    obs.AddMetric("seconds_behind_master" + suffix, *lag);
    v.Judge(*lag, l.lag_warning, l.lag_critical, fmt::format("{} {:g}s behind", who, *lag));
  }
}

void Server(const MariadbFacts& f, const MariadbLimits& l, Verdict& v, Observation& obs) {
  const double force = Number(f.variables, "innodb_force_recovery").value_or(0);
  obs.AddMetric("innodb_force_recovery", force);
  if (force > 0)
    v.Add(
        CheckStatus::kCritical,
        fmt::format("innodb_force_recovery={:g}: InnoDB runs in rescue mode (writes refused or "
                    "unsafe); remove it from the configuration once the data is saved and restart",
                    force));
  if (auto h = Number(f.status, "Innodb_history_list_length")) {
    obs.AddMetric("history_list_length", *h);
    v.Judge(*h, l.history_warning, l.history_critical, fmt::format("InnoDB history list {:g}", *h));
  }
  const std::string ro = Text(f.variables, "read_only");
  const bool read_only = ro == "ON" || ro == "1";
  if (!ro.empty()) obs.AddMetric("read_only", read_only ? 1 : 0);
  if (l.read_only && !ro.empty() && *l.read_only != read_only)
    v.Add(CheckStatus::kWarning,
          fmt::format("read_only is {} (expected {})", read_only ? "ON" : "OFF",
                      *l.read_only ? "ON" : "OFF"));
  else if (read_only)
    v.Add(CheckStatus::kOk, "read-only");
}

}  // namespace

Observation JudgeMariadb(const MariadbFacts& f, const MariadbLimits& l, MariadbCounters& c) {
  Observation obs;
  Verdict v;
  Connections(f, l, v, obs);
  Server(f, l, v, obs);
  Counters(f, l, c, v, obs);
  obs.AddMetric("replicas", static_cast<double>(f.replicas.size()));
  for (const auto& r : f.replicas) Replica(r, l, v, obs);
  if (l.replica && f.replicas.empty())
    v.Add(CheckStatus::kCritical, "not a replica (no SHOW ALL SLAVES STATUS row); replica: true");
  std::string summary;
  for (const auto* list : {&v.problems, &v.facts})
    for (const auto& s : *list) summary += (summary.empty() ? "" : "; ") + s;
  obs.status = v.status;
  obs.summary = summary.empty() ? "MariaDB answers" : summary;
  return obs;
}

}  // namespace mamori::db
