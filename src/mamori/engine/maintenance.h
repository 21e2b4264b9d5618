// Maintenance windows: planned times when failures of some checks are
// expected (the hosting company's maintenance, a weekly reboot) and people
// should not be paged for them. Inside a window results and events are
// recorded as usual, but notifications for the covered checks are held; when
// the window ends the daemon runs every covered check at once and sends one
// "after maintenance" summary (what is fine, what is still failing).
//
// Two kinds of window (config key `maintenance:`, see docs/notify.md):
//   one-off    start/end, RFC 3339 with a UTC offset; covers [start, end)
//   recurring  a cron expression (util/cron.h) in a time zone (`tz:`) plus a
//              `duration:` of real time; each firing covers [fire, fire+duration)
//              (a 3h window starting 01:00 on a spring-forward night still
//              lasts 3 real hours). Occurrences of one window that overlap or
//              touch merge into one.
// Scope: `checks:` (names) and/or `tags:`; a check is covered when its name is
// listed OR it has one of the tags. Neither given: every check.
//
// MaintenanceWindow and MaintenanceCalendar are immutable values: copy them
// freely; every const method is pure and thread-safe. Nothing here fails at
// run time: all user errors are found by ReadMaintenance at load time, each
// as a FILE:LINE:COL diagnostic with a hint. Work is bounded: a recurring
// window merges at most kMaxMerge occurrences and EndedBetween reports at most
// kMaxEnds ends per window.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mamori/config/diagnostics.h"
#include "mamori/util/clock.h"
#include "mamori/util/cron.h"
#include "mamori/util/result.h"

namespace mamori {

struct CheckConfig;
namespace config {
class ConfigNode;
}

// Strict RFC 3339 date-time: "2026-12-01T02:00:00+09:00", "...T17:00:00Z",
// optional fraction ("...:00.250Z"). Requires the 'T' and an offset (a time
// without one is ambiguous); checks calendar ranges (no February 30th).
Result<WallTime> ParseRfc3339Offset(std::string_view s);

struct MaintenanceWindow {
  std::string name;
  std::string description;
  // One-off: both set. Recurring: cron set, duration > 0.
  std::optional<WallTime> start, end;
  std::optional<CronSchedule> cron;
  Duration duration{};
  std::vector<std::string> checks;  // scope by name
  std::vector<std::string> tags;    // scope by tag
  config::Location where;

  bool recurring() const { return cron.has_value(); }
  // Whether the scope includes this check (ignores time).
  bool Applies(std::string_view check, const std::vector<std::string>& check_tags) const;
};

// One (merged) occurrence of a window.
struct MaintenanceOccurrence {
  size_t window = 0;  // index into MaintenanceCalendar::windows()
  std::string name;
  WallTime start{}, end{};  // covers [start, end)
};

class MaintenanceCalendar {
 public:
  static constexpr size_t kMaxMerge = 1000;
  static constexpr size_t kMaxEnds = 100;

  MaintenanceCalendar() = default;
  explicit MaintenanceCalendar(std::vector<MaintenanceWindow> windows);

  const std::vector<MaintenanceWindow>& windows() const { return windows_; }
  bool empty() const { return windows_.empty(); }

  // The first window (in config order) covering the check at `t`, with its
  // occurrence; nullopt when the check is not in maintenance.
  std::optional<MaintenanceOccurrence> Covering(std::string_view check,
                                                const std::vector<std::string>& tags,
                                                WallTime t) const;
  bool Covers(std::string_view check, const std::vector<std::string>& tags, WallTime t) const {
    return Covering(check, tags, t).has_value();
  }
  // Every window active at `t`, in config order.
  std::vector<MaintenanceOccurrence> Active(WallTime t) const;
  // The occurrences whose end lies in (t0, t1], by end time (ties in config
  // order). An occurrence that merges into a later one has not ended.
  std::vector<MaintenanceOccurrence> EndedBetween(WallTime t0, WallTime t1) const;
  // The earliest instant after `t` at which some window may start or end
  // (for the daemon's timer; waking when nothing changes is harmless).
  std::optional<WallTime> NextTransition(WallTime t) const;

  // The occurrence of window `i` containing `t`, if any.
  std::optional<MaintenanceOccurrence> OccurrenceAt(size_t i, WallTime t) const;

 private:
  // Merged bounds of the recurring window `w` around a firing `fire`.
  WallTime MergedStart(const MaintenanceWindow& w, WallTime fire) const;
  WallTime MergedEnd(const MaintenanceWindow& w, WallTime fire) const;

  std::vector<MaintenanceWindow> windows_;
};

// Reads the top-level `maintenance:` list of a config file into `out`,
// reporting every problem in top's diagnostics (FILE:LINE:COL, with a hint).
// `checks` are the configured checks, for validating `checks:` and `tags:`.
void ReadMaintenance(config::ConfigNode& top, const std::vector<CheckConfig>& checks,
                     MaintenanceCalendar& out);

}  // namespace mamori
