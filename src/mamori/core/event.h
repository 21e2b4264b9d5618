// Event and CheckSnapshot: what the engine makes of observations. An Event is
// a change worth recording (a hard state change, flapping, an address change,
// a repair); a CheckSnapshot is what `mamori status` shows for one check and
// what a restarted daemon resumes from. Plain values; thread-compatible.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mamori/core/observation.h"
#include "mamori/core/status.h"
#include "mamori/util/clock.h"

namespace mamori {

// kAddressChanged: a heartbeat's pings now come from another address (the
// home server's dynamic IP changed); `to` is the check's current status.
enum class EventKind {
  kStateChange,
  kFlappingStarted,
  kFlappingStopped,
  kAddressChanged,
  kRemedy,  // a repair about to run, or its outcome (see remedy/remedy.h)
};
// "state", "flapping_started", "flapping_stopped", "address_changed", "remedy"
std::string_view EventKindName(EventKind k);

struct Event {
  WallTime time{};
  std::string check;
  EventKind kind = EventKind::kStateChange;
  std::optional<CheckStatus> from;     // nullopt: was pending
  std::optional<WallTime> from_since;  // when `from` began, where known
  CheckStatus to = CheckStatus::kUnknown;
  std::string summary;
};

// What `mamori status` shows for one check; persisted by the store.
struct CheckSnapshot {
  std::string name;
  std::string type;
  std::optional<CheckStatus> hard;  // nullopt while pending
  CheckStatus last = CheckStatus::kUnknown;
  bool soft_failing = false;  // last result non-OK but not (yet) hard
  int attempts = 0;           // consecutive results of the current streak
  bool flapping = false;
  WallTime last_time{};
  WallTime hard_since{};
  std::string summary;
  Duration duration{};
  std::vector<Metric> metrics;
};

}  // namespace mamori
