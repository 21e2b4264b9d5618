// AfterMaintenance: what happens when a maintenance window ends. Every check
// the window covered (and no other window still covers) runs at once; a run
// that was in flight at the end finishes first and runs again (its result
// predates the end). When every result is in, or after twice the longest
// timeout, ONE summary is built: still failing first, then fine. Until then
// the window still holds the notifications of its checks (Holding), so the
// summary is the only thing the channels hear about them.
//
// Ownership: the daemon owns it; it holds its checks by shared_ptr (a check
// retired by a reload is left out of the summary). Threading: event loop only;
// the hooks are called there. Failure: a check with no result in time is
// reported UNKNOWN "no result within ... after the maintenance".
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "mamori/daemon/check_runtime.h"
#include "mamori/engine/maintenance.h"
#include "mamori/notify/notification.h"
#include "mamori/notify/notify_config.h"
#include "mamori/util/clock.h"

namespace mamori {

class AfterMaintenance {
 public:
  struct Hooks {
    std::function<void(const std::shared_ptr<CheckRuntime>&)> run_now;  // schedule a run at once
    std::function<void(const notify::Notification&, const std::string& window)> summary;
  };
  AfterMaintenance(boost::asio::io_context& io, const Clock& clock, Hooks hooks);
  ~AfterMaintenance();

  // The window `occ` ended; `covered` are its checks that no other window
  // still covers.
  void Begin(const MaintenanceOccurrence& occ, std::vector<std::shared_ptr<CheckRuntime>> covered);
  // Every result of every check comes through here.
  void OnResult(const std::shared_ptr<CheckRuntime>& rt, const Observation& o);
  // The ended window whose summary (not yet out) will report this check.
  std::optional<std::string> Holding(const CheckRuntime& rt) const;
  bool empty() const { return pending_.empty(); }
  // Stops every wait (daemon stop); no summary is sent afterwards.
  void Cancel();

 private:
  struct Pending;
  void Finish(uint64_t id);

  boost::asio::io_context& io_;
  const Clock& clock_;
  Hooks hooks_;
  std::vector<std::unique_ptr<Pending>> pending_;
  uint64_t ids_ = 0;
};

// The summary of one ended window from its checks and their results (a
// missing result is UNKNOWN "no result within `waited`"): still failing first.
notify::Notification AfterMaintenanceSummary(
    const std::string& window, const std::vector<std::shared_ptr<CheckRuntime>>& checks,
    const std::vector<std::optional<Observation>>& results, Duration waited, WallTime now);

}  // namespace mamori
