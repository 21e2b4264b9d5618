// Check type "systemd": what an operator looks at first after a reboot or a
// maintenance, read from systemd itself through sd-bus (systemd_bus.h) and
// judged by systemd_units.h: failed units with their Result, enabled
// long-running services that are not running, and restart loops.
//
// Keys: `unit:` (one unit, a glob, or omitted for all), `ignore:` (globs),
// `restart_loop: {count: 3, within: 10m}` (count 0: off). On a host without
// systemd (no /run/systemd/system) the result is OK "no systemd on this
// host", never an error, so the embedded default can carry it everywhere.
//
// Ownership/threading: a BlockingProbe; Run() is never concurrent with itself,
// which is what lets it keep the previous NRestarts per unit (the restart
// tracker) without a lock. Failure: cannot reach systemd, or the deadline
// passes: UNKNOWN with the reason.
#pragma once

#include <string>

#include "mamori/check/probe.h"
#include "mamori/host/systemd_bus.h"

namespace mamori::probes::systemd {

class SystemdProbe final : public BlockingProbe {
 public:
  // `systemd_dir`: the directory whose presence means systemd is PID 1.
  explicit SystemdProbe(host::systemd::ReadOptions o,
                        std::string systemd_dir = "/run/systemd/system")
      : o_(std::move(o)), systemd_dir_(std::move(systemd_dir)) {}
  Observation Run(const Clock& clock, MonoTime deadline) override;

 private:
  host::systemd::ReadOptions o_;
  std::string systemd_dir_;
  host::systemd::RestartTracker tracker_;
};

}  // namespace mamori::probes::systemd
