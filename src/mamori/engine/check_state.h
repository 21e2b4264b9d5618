// CheckState: the per-check state machine that turns a stream of observations
// into hard states and events.
//
// Soft/hard: a non-OK result first makes the check SOFT-failing; only after
// `failures_before_alert` consecutive non-OK results does the HARD state change
// (and an event is raised). Recovery to a hard OK needs
// `successes_before_recovery` consecutive OK results. While hard-failing, a
// change between non-OK statuses (WARNING -> CRITICAL) is a hard change at once.
// A new check starts "pending" (no hard state yet): its first OK result makes it
// hard OK at once, a failure follows the normal soft->hard path.
//
// UNKNOWN counts as a failure for soft/hard purposes but is kept distinct from
// CRITICAL everywhere: "could not tell" is not "down".
//
// Flapping: the last 21 results are kept; the weighted share of state changes
// (recent changes weigh more, as in Nagios) above 50% starts flapping, below 25%
// stops it. Flap start/stop are events too.
//
// Pure logic driven by the observation times; no clock, no I/O. Not
// thread-safe: the engine owns one CheckState per check.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mamori/core/check_settings.h"
#include "mamori/core/event.h"
#include "mamori/core/status.h"
#include "mamori/util/clock.h"

namespace mamori {

class CheckState {
 public:
  CheckState(std::string name, std::string type, Thresholds thresholds);

  // Feeds one observation; returns the events it caused (usually none).
  std::vector<Event> Apply(const Observation& obs);

  void set_thresholds(Thresholds t) { thresholds_ = t; }
  // Restores from a persisted snapshot (daemon restart).
  void Restore(const CheckSnapshot& snap);
  const CheckSnapshot& snapshot() const { return snap_; }
  // Percent state change over the history window (0..100), for tests and display.
  double FlapPercent() const;

 private:
  Thresholds thresholds_;
  CheckSnapshot snap_;
  int failures_ = 0;
  int successes_ = 0;
  std::vector<CheckStatus> history_;  // last kFlapWindow results, oldest first
};

}  // namespace mamori
