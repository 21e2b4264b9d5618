// Check type "memory": RAM and swap use from <proc_root>/meminfo.
//
// RAM used percent is (MemTotal - MemAvailable) / MemTotal: MemAvailable is
// the kernel's own estimate of what can be allocated without swapping (page
// cache and reclaimable slab included), which is what "running out of memory"
// means; MemFree alone would alarm on every healthy cache-filled machine. On
// kernels older than 3.14 (no MemAvailable) it falls back to MemFree +
// Buffers + Cached. Swap thresholds are skipped on hosts without swap.
// Thresholds trigger at or above the configured value.
//
// proc_root is "/proc" in production; tests pass a directory holding a
// crafted meminfo for edges a live system never shows. Stateless; thread-safe.
#pragma once

#include <string>

#include "mamori/check/probe.h"

namespace mamori::probes::memory {

struct Options {
  double warning = 90, critical = 95;            // percent of RAM used
  double swap_warning = 50, swap_critical = 80;  // percent of swap used
};

class MemoryProbe final : public BlockingProbe {
 public:
  explicit MemoryProbe(Options o, std::string proc_root = "/proc")
      : o_(o), proc_root_(std::move(proc_root)) {}
  Observation Run(const Clock& clock, MonoTime deadline) override;

 private:
  Options o_;
  std::string proc_root_;
};

}  // namespace mamori::probes::memory
