#include "mamori/daemon/service_notify.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace mamori {
namespace {

// The notification protocol, written by hand rather than through
// libsystemd's sd_notify(): systemd documents it as a stable interface to
// implement directly (sd_notify(3), NOTES): one datagram of "KEY=value"
// lines on the AF_UNIX socket named by $NOTIFY_SOCKET, a path or, with a
// leading '@', an abstract name. Linking libsystemd for it would map that
// library and the five it needs (0.7 MiB resident) in every daemon systemd
// starts. Never blocks: the watchdog ping runs on the event loop, and a
// manager that stopped reading (its queue full) must not stall the loop;
// that message is then lost (EAGAIN). Returns 0 or -errno.
int SendNotification(const char* socket_name, const std::string& message) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const size_t len = std::strlen(socket_name);
  if ((socket_name[0] != '/' && socket_name[0] != '@') || len < 2 || len > sizeof(addr.sun_path))
    return -EAFNOSUPPORT;
  std::memcpy(addr.sun_path, socket_name, len);
  if (socket_name[0] == '@') addr.sun_path[0] = '\0';  // the abstract namespace
  // A path needs its terminating NUL inside the length only when it fits.
  const socklen_t addr_len =
      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len +
                             (socket_name[0] == '/' && len < sizeof(addr.sun_path)));
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  const ssize_t sent = ::sendto(fd, message.data(), message.size(), MSG_NOSIGNAL | MSG_DONTWAIT,
                                reinterpret_cast<const sockaddr*>(&addr), addr_len);
  const int err = sent < 0 ? errno : 0;
  ::close(fd);
  if (err != 0) return -err;
  return sent == static_cast<ssize_t>(message.size()) ? 0 : -EMSGSIZE;
}

// WATCHDOG_USEC, when systemd set it for this very process (WATCHDOG_PID
// absent or naming it: a child that inherited the environment must not
// ping for its parent); 0 otherwise. What sd_watchdog_enabled() reads, with
// its bounds: 0 and "infinity" (UINT64_MAX) are not a watchdog, and a value
// that does not fit the timer (over 2^62 us, 146,000 years) is refused too.
uint64_t WatchdogUsec() {
  auto number = [](const char* text) -> uint64_t {
    uint64_t v = 0;
    if (text == nullptr) return 0;
    const char* end = text + std::strlen(text);
    auto [ptr, ec] = std::from_chars(text, end, v);
    return ec == std::errc() && ptr == end ? v : 0;
  };
  if (const char* pid = std::getenv("WATCHDOG_PID");
      pid != nullptr && number(pid) != static_cast<uint64_t>(::getpid()))
    return 0;
  const uint64_t usec = number(std::getenv("WATCHDOG_USEC"));
  return usec < (uint64_t{1} << 62) ? usec : 0;
}

}  // namespace

ServiceNotify::ServiceNotify(boost::asio::io_context& io) : watchdog_(io) {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  active_ = socket && *socket;
  if (!active_) return;
  socket_ = socket;
  if (const uint64_t usec = WatchdogUsec(); usec > 0) {
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
  if (int r = SendNotification(socket_.c_str(), message); r < 0 && !send_failed_) {
    send_failed_ = true;  // the socket is gone for good: say it once
    spdlog::warn("cannot notify systemd ({}): {}", socket_, std::strerror(-r));
  }
}

}  // namespace mamori
