// RestartPolicy: when a failing check's unit is restarted, and when mamori
// stops trying (Monit's "if 3 restarts within 5 cycles then unmonitor").
// One per check with `restart:`; the daemon feeds it every result.
//
// - A restart is due when the check is hard CRITICAL and has failed
//   `failures` times in a row since the last restart (the first restart
//   comes with the alert; each later one gives the restarted unit the same
//   grace as the first).
// - At most `limit` restarts within `within` (a sliding window). The next
//   due restart past the limit gives up instead: kGiveUp is returned once,
//   never again while given up.
// - Never in a maintenance window: nothing is restarted (nor counted
//   against the limit) then; a unit still failing when it ends is restarted
//   at the first failing result after it.
// - Recovery does not reset the count: a restart leaves the window only
//   when `within` has passed, so a unit that comes back for a minute and
//   crashes again still reaches the limit. Once given up, restarting is
//   re-armed when the check is OK and no restart is left in the window.
//
// Pure logic on an injected Clock (wall time: the window is about the
// world's time, as the store's events are). Not thread-safe: one owner
// (the daemon's event loop). Nothing here fails.
#pragma once

#include <deque>

#include "mamori/util/clock.h"

namespace mamori {

class RestartPolicy {
 public:
  struct Limits {
    int limit = 3;
    Duration within = std::chrono::minutes(10);
  };
  struct Result {
    bool failing = false;         // this result is not OK
    bool hard_critical = false;   // the check's hard state is CRITICAL
    bool in_maintenance = false;  // a maintenance window covers the check now
    int failures = 1;             // failures in a row that make a restart due
  };
  enum class Action { kNone, kRestart, kGiveUp };

  RestartPolicy(const Clock& clock, Limits limits) : clock_(clock), limits_(limits) {}
  void set_limits(Limits limits) { limits_ = limits; }

  // Judges one result; kRestart is counted as a restart at once.
  Action OnResult(const Result& r);

  // Restarts within the window now.
  int restarts_in_window();
  bool gave_up() const { return gave_up_; }

 private:
  void Prune();

  const Clock& clock_;
  Limits limits_;
  std::deque<WallTime> restarts_;  // at most limit, newest last
  int failures_since_restart_ = 0;
  bool gave_up_ = false;
};

}  // namespace mamori
