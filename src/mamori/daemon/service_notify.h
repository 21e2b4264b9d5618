// ServiceNotify: what `mamori run` tells systemd about itself (sd_notify(3))
// when it runs as a Type=notify service: READY=1 once the first check round
// is scheduled, STATUS= lines, RELOADING=1 ... READY=1 around a SIGHUP
// reload, STOPPING=1 at stop, and WATCHDOG=1 at half of WatchdogSec=.
//
// The watchdog ping is a timer on the daemon's event loop, so a loop that is
// stuck (a handler that never returns, SIGSTOP) pings nothing and systemd
// restarts the service; a ping from another thread would hide exactly that.
//
// Outside systemd (NOTIFY_SOCKET unset) every call is a no-op and no timer is
// armed. Owned by the daemon; not thread-safe: call it on the event loop's
// thread. A message systemd does not receive is logged once, never fatal.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <string>
#include <string_view>

namespace mamori {

class ServiceNotify {
 public:
  // Reads NOTIFY_SOCKET and WATCHDOG_USEC/WATCHDOG_PID once; arms the
  // watchdog timer (it fires once `io` runs).
  explicit ServiceNotify(boost::asio::io_context& io);

  bool active() const { return active_; }
  // Half of WatchdogSec= (zero: no watchdog for this process).
  std::chrono::microseconds watchdog_period() const { return period_; }

  void Ready(std::string_view status);
  void Reloading();
  void Status(std::string_view status);
  // Also stops the watchdog pings: systemd stops watching a stopping service.
  void Stopping();

 private:
  void Send(const std::string& message);
  void ArmWatchdog();

  std::string socket_;  // $NOTIFY_SOCKET, read once
  bool active_ = false;
  bool send_failed_ = false;
  std::chrono::microseconds period_{0};
  boost::asio::steady_timer watchdog_;
};

}  // namespace mamori
