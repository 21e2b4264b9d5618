// UnitRestarts: the daemon's side of `restart:` (host/unit_restart.h). After
// the state machine has judged a result, it asks the check's RestartPolicy
// (restart_policy.h) what to do and does it: a restart runs off the event
// loop through a UnitRestarter and is recorded as an event before and after
// ("restart 1/3 of nginx.service: ..."); giving up is an event and one
// CRITICAL alert "gave up after 3 restarts in 10m: nginx.service; last
// failure: ...", whose details list every restart in the window. After a
// restart the check is run again at once.
//
// The effects are hooks so the composition decides where they go (store,
// outbox, worker pool) and tests can run them inline with a fake restarter.
// Not thread-safe: everything, including `done` of the offload hook, on the
// daemon's event loop. State per check is bounded (limit lines of history).
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "mamori/check/check_config.h"
#include "mamori/core/event.h"
#include "mamori/daemon/restart_policy.h"
#include "mamori/host/unit_restart.h"
#include "mamori/notify/notification.h"

namespace mamori {

class UnitRestarts {
 public:
  struct GiveUp {
    std::string check, type, unit;
    std::string text;     // "gave up after 3 restarts in 10m: ...; last failure: ..."
    std::string details;  // one line per restart in the window
  };
  struct Hooks {
    std::function<void(const std::string& check, const std::string& summary)> record;
    std::function<void(const GiveUp&)> alert;
    // Runs `work` away from the loop, then `done` back on it.
    std::function<void(std::function<void()> work, std::function<void()> done)> offload;
    std::function<void(const std::string& check)> recheck;
  };

  UnitRestarts(const Clock& clock, host::UnitRestarter& restarter, Hooks hooks)
      : clock_(clock), restarter_(restarter), hooks_(std::move(hooks)) {}

  // One judged result of a check with c.restart set.
  void OnResult(const CheckConfig& c, const CheckSnapshot& s, const Observation& o,
                bool in_maintenance);
  // Forgets checks that are no longer configured (after a reload).
  void Retain(const std::vector<CheckConfig>& checks);

 private:
  struct Entry {
    explicit Entry(const Clock& clock, RestartPolicy::Limits l) : policy(clock, l) {}
    RestartPolicy policy;
    bool running = false;
    std::deque<std::string> history;  // the last `limit` restarts, oldest first
  };
  void Start(const CheckConfig& c, Entry& e, const std::string& last_failure);
  void GiveUpOn(const CheckConfig& c, Entry& e, const std::string& last_failure);

  const Clock& clock_;
  host::UnitRestarter& restarter_;
  Hooks hooks_;
  std::unordered_map<std::string, std::shared_ptr<Entry>> entries_;
};

// The alert for giving up: CRITICAL, the give-up text as its summary and
// every restart in the window as its details, labelled with the unit.
notify::Notification GiveUpNotification(const UnitRestarts::GiveUp& g, WallTime now);

}  // namespace mamori
