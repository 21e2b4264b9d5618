// Check type "mariadb": a live MariaDB (or MySQL) server as a DBA looks at
// it: connections against max_connections, aborted connects, replica
// threads and lag, innodb_force_recovery left on, deadlocks, the InnoDB
// history list and read_only. One connection per run (mariadb_session.h),
// judged by the pure rules of mariadb_state.h.
//
// The password comes from `password:` or, read at every run so a rotated one
// is picked up, `password_file:`; it never appears in a summary. The counters
// (aborted connects, deadlocks) are the probe's only state, behind a mutex.
#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "mamori/check/registry.h"
#include "mamori/db/mariadb_session.h"
#include "mamori/util/mutex.h"
#include "mamori/util/secret_file.h"
#include "mamori/util/units.h"

namespace mamori::probes::mariadb {
namespace {

struct Options {
  db::MariadbTarget target;
  std::string password_file;
  db::MariadbLimits limits;
};

class MariadbProbe final : public BlockingProbe {
 public:
  explicit MariadbProbe(Options o) : o_(std::move(o)) {}

  Observation Run(const Clock& clock, MonoTime deadline) override {
    db::MariadbTarget t = o_.target;
    if (!o_.password_file.empty()) {
      auto pw = ReadSecretFile(o_.password_file, "password_file");
      if (!pw.ok()) return Observation::Make(CheckStatus::kUnknown, pw.error().message());
      t.password = *pw;
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::seconds>(deadline - clock.Monotonic());
    auto read = db::ReadMariadb(t, std::max(left, std::chrono::seconds(1)));
    if (!read.ok()) return Observation::Make(CheckStatus::kCritical, read.error().message());
    Observation obs;
    {
      MutexLock lock(mu_);
      obs = db::JudgeMariadb(read->facts, o_.limits, counters_);
    }
    if (!read->note.empty()) obs.summary += "; " + read->note;
    return obs;
  }

 private:
  const Options o_;
  Mutex mu_;
  db::MariadbCounters counters_ GUARDED_BY(mu_);
};

std::string Pct(double v) { return fmt::format("{:g}%", v); }
std::string Num(double v) { return fmt::format("{:g}", v); }
std::string Secs(Duration d) { return FormatDuration(d); }

bool ReadLimits(config::ConfigNode& node, db::MariadbLimits& l) {
  bool ok = node.GetThresholds("connections_warning", "connections_critical", l.connections_warning,
                               l.connections_critical, &config::ConfigNode::GetPercent, Pct);
  Duration lag_w = std::chrono::seconds(static_cast<int64_t>(l.lag_warning));
  Duration lag_c = std::chrono::seconds(static_cast<int64_t>(l.lag_critical));
  ok &= node.GetThresholds("lag_warning", "lag_critical", lag_w, lag_c,
                           &config::ConfigNode::GetDuration, Secs);
  l.lag_warning = std::chrono::duration<double>(lag_w).count();
  l.lag_critical = std::chrono::duration<double>(lag_c).count();
  ok &= node.GetThresholds("history_warning", "history_critical", l.history_warning,
                           l.history_critical, &config::ConfigNode::GetNumber, Num);
  ok &=
      node.GetThresholds("aborted_connects_warning", "aborted_connects_critical", l.aborted_warning,
                         l.aborted_critical, &config::ConfigNode::GetNumber, Num);
  ok &= node.GetThresholds("deadlocks_warning", "deadlocks_critical", l.deadlocks_warning,
                           l.deadlocks_critical, &config::ConfigNode::GetNumber, Num);
  l.read_only = node.GetBool("read_only");
  l.replica = node.GetBool("replica").value_or(false);
  return ok;
}

std::unique_ptr<Probe> Build(config::ConfigNode& node) {
  Options o;
  o.target.host = node.GetString("host").value_or("");
  o.target.socket = node.GetString("socket").value_or("");
  if (auto p = node.GetInt("port", 1, 65535)) o.target.port = static_cast<int>(*p);
  o.target.user = node.GetString("user").value_or("");
  o.target.password = node.GetString("password").value_or("");
  o.password_file = node.GetString("password_file").value_or("");
  bool ok = ReadLimits(node, o.limits);
  if (o.target.host.empty() && o.target.socket.empty()) o.target.host = "127.0.0.1";
  if (!o.target.password.empty() && !o.password_file.empty()) {
    node.ErrorAt("password_file", "both password and password_file are set",
                 "keep one; password_file keeps the secret out of the configuration");
    ok = false;
  }
  if (!ok) return nullptr;
  return std::make_unique<MariadbProbe>(std::move(o));
}

}  // namespace

void Register(ProbeRegistry& r) {
  r.Add("mariadb",
        "a live MariaDB/MySQL server: connections, replica threads and lag, "
        "innodb_force_recovery, deadlocks, history list, read_only",
        Build);
}

}  // namespace mamori::probes::mariadb
