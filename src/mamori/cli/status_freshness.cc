#include "mamori/cli/status_freshness.h"

#include <fmt/format.h>

#include <algorithm>

#include "mamori/notify/notification.h"
#include "mamori/util/units.h"

namespace mamori::cli {

Freshness JudgeFreshness(const std::vector<ResultRow>& rows, const std::vector<CheckConfig>& checks,
                         std::optional<long> daemon_pid, WallTime now) {
  Freshness f;
  f.daemon_pid = daemon_pid;
  f.stale.assign(rows.size(), false);
  for (size_t i = 0; i < rows.size() && i < checks.size(); ++i) {
    if (!rows[i].snapshot || rows[i].snapshot->last_time == WallTime{}) continue;
    const WallTime t = rows[i].snapshot->last_time;
    if (!f.newest || t > *f.newest) f.newest = t;
    const Duration allowed =
        std::max<Duration>(3 * checks[i].interval + checks[i].timeout, std::chrono::seconds(30));
    f.stale[i] = !daemon_pid || now - t > allowed;
  }
  return f;
}

std::string FreshnessLine(const Freshness& f, const std::string& data_dir, WallTime now) {
  std::string newest = "none yet";
  if (f.newest)
    newest = fmt::format("{} ({} ago)", notify::FormatWhen(*f.newest),
                         FormatDuration(std::max<Duration>(now - *f.newest, Duration{})));
  const size_t stale = std::count(f.stale.begin(), f.stale.end(), true);
  if (!f.daemon_pid)
    return fmt::format(
        "daemon: NOT RUNNING (no process holds {}/mamori.pid): these results are stale, nothing "
        "updates them; newest observation {}\n",
        data_dir, newest);
  return fmt::format(
      "daemon: running (pid {}); newest observation {}{}\n", *f.daemon_pid, newest,
      stale ? fmt::format("; {} check(s) stale (no result for 3 intervals)", stale) : "");
}

}  // namespace mamori::cli
