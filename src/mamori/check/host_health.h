// HostHealth: whether the host, as the composition sees it, is healthy right
// now: no check is failing. Offered to check types through ProbeServices
// (env.services.Get<HostHealth>()) by the daemon, which alone knows every
// check's latest result; the baseline check learns only while it says so.
// Where no composition offers it (a one-shot `mamori check`), a check must
// take "unknown", never "healthy".
//
// Thread-safety: AllOk() is called from worker threads while the daemon's
// loop updates the answer, so implementations make it safe to call from any
// thread (an atomic). It never blocks and never fails.
#pragma once

namespace mamori {

class HostHealth {
 public:
  virtual ~HostHealth() = default;
  // True when every check has reported and none is WARNING or CRITICAL.
  virtual bool AllOk() const = 0;
};

}  // namespace mamori
