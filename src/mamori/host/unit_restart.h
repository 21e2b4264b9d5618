// Restarting a unit when its check fails, Monit's "if 3 restarts within 5
// cycles then unmonitor": the `restart:` key of a check and the seam that
// performs a restart.
//
// RestartPlan is the key as configured (an immutable value, shared by the
// check's config). ReadRestartPlan reads it from a check's mapping; errors
// are added to the node's diagnostics with FILE:LINE:COL and a hint.
//
// UnitRestarter is what the daemon calls to restart a unit. The real one,
// SystemdRestarter, asks systemd over sd-bus (systemd_bus.h: RestartUnit,
// then waits for the job); tests of the policy and of the daemon's wiring
// give a fake. Restart() blocks until the job ends or the deadline passes:
// call it from a worker thread. SystemdRestarter holds no state and is
// thread-safe. Failures (no systemd, no such unit, a job that failed or
// did not end in time) are returned as values, never thrown.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "mamori/config/node.h"
#include "mamori/util/clock.h"
#include "mamori/util/result.h"

namespace mamori::host {

struct RestartPlan {
  std::string unit;                             // "php8.2-fpm.service"
  int limit = 3;                                // restarts at most this many times ...
  Duration within = std::chrono::minutes(10);   // ... within this long, then gives up
  Duration timeout = std::chrono::seconds(90);  // one restart job's deadline
};

// The check types a restart makes sense for.
bool RestartAllowedFor(std::string_view type);

// Reads the optional `restart:` mapping of a check of type `type` (null when
// absent or invalid). For a `systemd` check naming one unit (no glob) that
// unit is the default; every other type needs `restart.unit`.
std::shared_ptr<const RestartPlan> ReadRestartPlan(config::ConfigNode& check,
                                                   std::string_view type);

class UnitRestarter {
 public:
  virtual ~UnitRestarter() = default;
  // Restarts `unit` and waits for its job. Returns the job's result ("done",
  // "failed", ...) or why it could not be asked or did not end by `deadline`.
  virtual Result<std::string> Restart(const std::string& unit, MonoTime deadline) = 0;
};

class SystemdRestarter final : public UnitRestarter {
 public:
  // `address`: a D-Bus address to use instead of systemd's own (tests).
  explicit SystemdRestarter(const Clock& clock, std::string address = "")
      : clock_(clock), address_(std::move(address)) {}
  Result<std::string> Restart(const std::string& unit, MonoTime deadline) override;

 private:
  const Clock& clock_;
  std::string address_;
};

}  // namespace mamori::host
