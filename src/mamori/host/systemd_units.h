// The judgment of the `systemd` check type over plain unit records: which
// units failed, which enabled long-running services did not come back, which
// keep restarting. Kept apart from the D-Bus reading (systemd_bus.h) so every
// rule can be tested with recorded property sets, and the live reader only
// fills records.
//
// Right by default, not noisy (Netdata ships its "unit failed" alert off
// because on ordinary hosts it raised hundreds of warnings): a unit counts as
// "enabled but not running" only when it is a service of a long-running Type
// (simple, exec, forking, notify, notify-reload, dbus), its unit file is
// enabled, it is inactive, an active target wants or requires it, and it is
// not a oneshot, not RemainAfterExit, not skipped by a failed Condition, not
// transient and not a template without an instance.
//
// Plain values and functions; RestartTracker is not thread-safe (the probe
// that owns it never runs concurrently with itself).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "mamori/core/observation.h"
#include "mamori/util/clock.h"

namespace mamori::host::systemd {

// What the check knows of one loaded unit. Fields that the reader did not
// need to fetch keep their defaults, which never flag anything.
struct UnitRecord {
  std::string name;             // "nginx.service"
  std::string load_state;       // loaded, not-found, masked, error, ...
  std::string active_state;     // active, inactive, failed, activating, deactivating, ...
  std::string sub_state;        // running, dead, exited, failed, auto-restart, ...
  std::string result;           // the unit type's Result: success, exit-code, signal, timeout, ...
  std::string unit_file_state;  // enabled, disabled, static, masked, ...
  std::string type;             // Service Type: simple, exec, forking, oneshot, notify, dbus, ...
  bool remain_after_exit = false;
  // ConditionResult=false after a Condition was actually checked (its
  // timestamp is set): the unit was skipped on purpose.
  bool condition_failed = false;
  bool transient = false;
  // WantedBy= and RequiredBy= of the loaded unit (what pulls it in).
  std::vector<std::string> wanted_by;
  int64_t n_restarts = -1;  // Service NRestarts; -1: unknown / not a service
};

struct Options {
  // Empty: every unit. Without glob characters and without a suffix,
  // ".service" is implied ("nginx" -> "nginx.service").
  std::string unit;
  std::vector<std::string> ignore;  // globs (fnmatch), matched against the unit name
  // Restart loop: NRestarts grew by more than `restart_count` within
  // `restart_within`. restart_count 0 turns the rule off.
  int64_t restart_count = 3;
  Duration restart_within = std::chrono::minutes(10);
};

// "nginx" -> "nginx.service"; globs and names with a suffix are kept.
std::string NormalizeUnitPattern(const std::string& pattern);
bool HasGlob(const std::string& pattern);
// True when `name` is selected by o.unit and not matched by o.ignore.
bool Selected(const std::string& name, const Options& o);

// Types whose main process is meant to keep running.
bool IsLongRunningType(const std::string& type);
// "foo@.service": a template, never started itself.
bool IsTemplateWithoutInstance(const std::string& name);

// The rule above, given the active state of every loaded unit (name ->
// ActiveState), to see whether what wants a unit is an active target.
bool EnabledButNotRunning(const UnitRecord& u, const std::map<std::string, std::string>& active);

// Remembers NRestarts per unit over the window, to tell a restart loop from
// a unit that restarted once last week.
class RestartTracker {
 public:
  // Records `n` for `unit` at `now` and returns how much NRestarts grew within
  // the window (0 on the first sighting; a counter that went down, as when
  // the unit is started by hand, starts over).
  int64_t Observe(const std::string& unit, int64_t n, MonoTime now, Duration within);
  // Forgets units not observed in the last call round (removed units).
  void Retain(const std::vector<std::string>& seen);

 private:
  struct Sample {
    MonoTime time;
    int64_t n;
  };
  std::map<std::string, std::deque<Sample>> samples_;
};

struct Findings {
  std::vector<const UnitRecord*> failed;
  std::vector<const UnitRecord*> not_running;
  std::vector<std::pair<const UnitRecord*, int64_t>> restart_loops;  // unit, growth
  // A unit named in o.unit (no glob) that systemd does not know.
  std::vector<std::string> missing;
};

// Sorts `units` by what they are. A unit named in o.unit (no glob) was asked
// for by name: it must exist, and a long-running service must be active
// whether or not it is enabled. Records outside `o` are skipped; the tracker
// is fed every selected service's NRestarts. Pointers refer into `units`.
Findings Judge(const std::vector<UnitRecord>& units, const Options& o, RestartTracker& tracker,
               MonoTime now);

// The observation: CRITICAL for failed and not-running units, WARNING for
// restart loops, OK otherwise; every unit is named in the summary and as a
// metric ("failed:NAME", "not_running:NAME", "restarts:NAME") beside the
// counts failed_units, not_running_units, restart_loops and units.
Observation Report(const std::vector<UnitRecord>& units, const Findings& f, const Options& o);

}  // namespace mamori::host::systemd
