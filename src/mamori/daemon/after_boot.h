// AfterBoot: the settle time after a new boot. Services are still starting
// for a few minutes after a boot, so a check failing then is not news yet:
// until `settle` is over, the checks run but their notifications are held
// (as in a maintenance window). When it is over the daemon runs every check
// at once and sends ONE "after boot" summary, what is back and what is not,
// by name (AfterMaintenance does the running and waiting; this class only
// times the hold and turns that summary into an after-boot one).
//
// Ownership: the daemon owns it. Threading: event loop only; `settled` is
// called there. Failure: none of its own; Cancel() (daemon stop) drops the
// pending summary.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "mamori/notify/notification.h"
#include "mamori/util/clock.h"

namespace mamori {

class AfterBoot {
 public:
  // The name an after-boot summary travels under through AfterMaintenance:
  // '@' is not allowed in a maintenance window's name, so it never collides.
  static constexpr const char* kWindow = "@boot";

  AfterBoot(boost::asio::io_context& io, const Clock& clock, std::function<void()> settled);

  // A new boot was noticed (`description`: the boot event's summary). The
  // hold lasts `settle` from now; zero: `settled` runs as soon as the loop does.
  void Start(std::string description, Duration settle);
  // Notifications of a result at `t` are held (the boot has not settled).
  bool Holding(WallTime t) const { return until_ && t < *until_; }
  // Called by the daemon when the hold is over and the checks run again.
  void Settled() { until_.reset(); }
  void Cancel();

  // An AfterMaintenance summary of kWindow as the after-boot summary.
  void Relabel(notify::Notification& n) const;

 private:
  boost::asio::io_context& io_;
  const Clock& clock_;
  std::function<void()> settled_;
  boost::asio::steady_timer timer_;
  std::optional<WallTime> until_;
  std::string description_;
};

}  // namespace mamori
