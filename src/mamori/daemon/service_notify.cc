#include "mamori/daemon/service_notify.h"

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include <cstdlib>
#include <cstring>

namespace mamori {

ServiceNotify::ServiceNotify(boost::asio::io_context& io) : watchdog_(io) {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  active_ = socket && *socket;
  if (!active_) return;
  uint64_t usec = 0;
  // > 0 only when WATCHDOG_PID (if set) names this process: a child that
  // inherited the environment must not ping for its parent.
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    period_ = std::chrono::microseconds(usec / 2);
    ArmWatchdog();
  }
}

void ServiceNotify::ArmWatchdog() {
  watchdog_.expires_after(period_);
  watchdog_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    Send("WATCHDOG=1");
    ArmWatchdog();
  });
}

void ServiceNotify::Ready(std::string_view status) {
  Send("READY=1\nSTATUS=" + std::string(status));
}

void ServiceNotify::Reloading() {
  // MONOTONIC_USEC lets a newer systemd (Type=notify-reload) tell this
  // reload from an earlier one; older ones ignore the field.
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  const uint64_t usec = static_cast<uint64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
  Send("RELOADING=1\nSTATUS=reloading the configuration\nMONOTONIC_USEC=" + std::to_string(usec));
}

void ServiceNotify::Status(std::string_view status) { Send("STATUS=" + std::string(status)); }

void ServiceNotify::Stopping() {
  watchdog_.cancel();
  Send("STOPPING=1\nSTATUS=stopping: saving check state");
}

void ServiceNotify::Send(const std::string& message) {
  if (!active_) return;
  if (int r = sd_notify(0, message.c_str()); r < 0 && !send_failed_) {
    send_failed_ = true;  // the socket is gone for good: say it once
    spdlog::warn("cannot notify systemd ({}): {}", std::getenv("NOTIFY_SOCKET"), std::strerror(-r));
  }
}

}  // namespace mamori
