// DaemonHealth: the daemon's answer to HostHealth (check/host_health.h):
// every current check has reported and none is WARNING or CRITICAL. UNKNOWN
// does not count as failing (a check that cannot tell, such as a clock check
// in a container, must not keep the baseline from ever learning).
//
// Threading: Update() runs on the daemon's loop (it reads the check states,
// which live there); AllOk() may be called from any worker thread and reads
// one atomic. Never blocks, never fails.
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include "mamori/check/host_health.h"
#include "mamori/daemon/check_runtime.h"

namespace mamori {

class DaemonHealth final : public HostHealth {
 public:
  bool AllOk() const override { return ok_.load(std::memory_order_relaxed); }
  // O(checks): the daemon calls it once a second, not per result.
  void Update(const std::vector<std::shared_ptr<CheckRuntime>>& checks) {
    bool ok = !checks.empty();
    for (const auto& c : checks) {
      const CheckSnapshot& s = c->state.snapshot();
      if (s.last_time == WallTime{} || s.last == CheckStatus::kWarning ||
          s.last == CheckStatus::kCritical) {
        ok = false;
        break;
      }
    }
    ok_.store(ok, std::memory_order_relaxed);
  }

 private:
  std::atomic<bool> ok_{false};
};

}  // namespace mamori
