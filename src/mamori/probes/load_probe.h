// Check type "load": the 1, 5 and 15 minute load averages from
// <proc_root>/loadavg.
//
// Thresholds are triplets (1m, 5m, 15m) or one number for all three. With
// per_cpu (the default) they are multiplied by the number of online CPUs, so
// one configuration fits a 1-vCPU VPS and a 32-core box alike. Defaults, per
// CPU: warning 2, 1.5, 1.2 and critical 4, 3, 2: a one-minute burst to twice
// the CPU count is normal (a build, a cron job), while a 15-minute average
// above the CPU count means work is queuing for good. A threshold triggers
// when the load is at or above it.
//
// proc_root is "/proc" in production; tests pass a directory holding a
// crafted loadavg. `cpus` overrides the online CPU count (0: ask the system)
// so such tests do not depend on the machine. Stateless; thread-safe.
#pragma once

#include <array>
#include <string>

#include "mamori/check/probe.h"

namespace mamori::probes::load {

struct Options {
  std::array<double, 3> warning{2, 1.5, 1.2};
  std::array<double, 3> critical{4, 3, 2};
  bool per_cpu = true;
};

class LoadProbe final : public BlockingProbe {
 public:
  explicit LoadProbe(Options o, std::string proc_root = "/proc", int cpus = 0)
      : o_(o), proc_root_(std::move(proc_root)), cpus_(cpus) {}
  Observation Run(const Clock& clock, MonoTime deadline) override;

 private:
  Options o_;
  std::string proc_root_;
  int cpus_;
};

}  // namespace mamori::probes::load
