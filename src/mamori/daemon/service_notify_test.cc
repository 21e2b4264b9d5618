#include "mamori/daemon/service_notify.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

#include <boost/asio/post.hpp>
#include <optional>
#include <thread>

#include "testing/cli.h"

namespace mamori {
namespace {

using namespace std::chrono_literals;

// A real notification socket (what systemd binds for a Type=notify service)
// and the environment systemd sets, restored when the test ends. systemd
// names a path; a service manager in a container may give an abstract name
// ("@..."), which is bound here without a file.
class NotifySocket {
 public:
  enum class Name { kPath, kAbstract };
  NotifySocket(const testing::TempDir& dir, const char* watchdog_usec, Name name = Name::kPath,
               const char* watchdog_pid = nullptr) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    socklen_t len = sizeof a;
    if (name == Name::kPath) {
      path_ = dir.path() + "/notify";
      std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path_.c_str());
    } else {
      path_ = "@mamori-notify-test-" + std::to_string(::getpid());
      std::memcpy(a.sun_path + 1, path_.data() + 1, path_.size() - 1);
      len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path_.size());
    }
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), len), 0) << std::strerror(errno);
    ::setenv("NOTIFY_SOCKET", path_.c_str(), 1);
    if (watchdog_usec) {
      ::setenv("WATCHDOG_USEC", watchdog_usec, 1);
      const std::string pid = watchdog_pid ? watchdog_pid : std::to_string(::getpid());
      ::setenv("WATCHDOG_PID", pid.c_str(), 1);
    }
  }
  ~NotifySocket() {
    ::unsetenv("NOTIFY_SOCKET");
    ::unsetenv("WATCHDOG_USEC");
    ::unsetenv("WATCHDOG_PID");
    ::close(fd_);
  }
  // The next datagram, or "" when none came within `wait`.
  std::string Next(std::chrono::milliseconds wait) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(wait.count())) != 1) return "";
    char buf[512];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  }

 private:
  std::string path_;
  int fd_ = -1;
};

TEST(ServiceNotify, SendsReadyReloadingAndStoppingToTheSocket) {
  testing::TempDir dir;
  NotifySocket sock(dir, nullptr);
  boost::asio::io_context io;
  ServiceNotify n(io);
  ASSERT_TRUE(n.active());
  EXPECT_EQ(n.watchdog_period(), 0us);
  n.Ready("running 3 checks");
  EXPECT_EQ(sock.Next(1s), "READY=1\nSTATUS=running 3 checks");
  n.Reloading();
  EXPECT_TRUE(
      sock.Next(1s).starts_with("RELOADING=1\nSTATUS=reloading the configuration\n"
                                "MONOTONIC_USEC="));
  n.Stopping();
  EXPECT_EQ(sock.Next(1s), "STOPPING=1\nSTATUS=stopping: saving check state");
}

TEST(ServiceNotify, AnAbstractSocketNameIsReached) {
  testing::TempDir dir;
  NotifySocket sock(dir, nullptr, NotifySocket::Name::kAbstract);
  boost::asio::io_context io;
  ServiceNotify n(io);
  ASSERT_TRUE(n.active());
  n.Ready("running 1 check");
  EXPECT_EQ(sock.Next(1s), "READY=1\nSTATUS=running 1 check");
}

// WATCHDOG_PID names the process systemd watches: a mamori started by that
// process (a helper, `mamori check` from a unit's script) inherits the
// variables and must not ping in its place.
TEST(ServiceNotify, AWatchdogMeantForAnotherProcessIsNotArmed) {
  testing::TempDir dir;
  const std::string other = std::to_string(::getpid() + 1);
  NotifySocket sock(dir, "200000", NotifySocket::Name::kPath, other.c_str());
  boost::asio::io_context io;
  ServiceNotify n(io);
  EXPECT_TRUE(n.active());
  EXPECT_EQ(n.watchdog_period(), 0us);
  EXPECT_EQ(io.run_for(300ms), 0u) << "a watchdog timer was armed";
  EXPECT_EQ(sock.Next(0ms), "");
}

// Nobody listens on the socket yet (the manager restarting): the message is
// lost, nothing throws, and a later one reaches the socket once it is there:
// one failure does not silence the daemon for good.
TEST(ServiceNotify, AFailedMessageDoesNotStopTheNextOnes) {
  testing::TempDir dir;
  boost::asio::io_context io;
  std::optional<ServiceNotify> n;
  {
    NotifySocket sock(dir, nullptr);
    ::unlink((dir.path() + "/notify").c_str());  // the name stays in NOTIFY_SOCKET
    n.emplace(io);
    ASSERT_TRUE(n->active());
    n->Ready("lost");
  }
  NotifySocket sock(dir, nullptr);  // bound again at the same path
  n->Status("back");
  EXPECT_EQ(sock.Next(1s), "STATUS=back");
}

// A manager that stops reading: its socket's queue fills (512 datagrams by
// default) and every further message must fail at once, not block the
// event loop the watchdog pings from.
TEST(ServiceNotify, AFullSocketQueueNeverBlocks) {
  testing::TempDir dir;
  NotifySocket sock(dir, nullptr);  // bound, never read here
  boost::asio::io_context io;
  ServiceNotify n(io);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 5000; ++i) n.Status("status " + std::to_string(i));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s) << "a send blocked";
  EXPECT_EQ(sock.Next(1s), "STATUS=status 0");  // the first ones did arrive
}

// A watchdog of "infinity" (UINT64_MAX) or zero is no watchdog.
TEST(ServiceNotify, AnInfiniteOrZeroWatchdogIsNotArmed) {
  for (const char* usec : {"18446744073709551615", "0", "12x"}) {
    testing::TempDir dir;
    NotifySocket sock(dir, usec);
    boost::asio::io_context io;
    ServiceNotify n(io);
    EXPECT_EQ(n.watchdog_period(), 0us) << usec;
  }
}

TEST(ServiceNotify, OutsideSystemdNothingIsSentAndNoTimerKeepsTheLoopAlive) {
  testing::TempDir dir;
  NotifySocket sock(dir, "100000");
  ::unsetenv("NOTIFY_SOCKET");
  boost::asio::io_context io;
  ServiceNotify n(io);
  EXPECT_FALSE(n.active());
  n.Ready("x");
  n.Status("y");
  EXPECT_EQ(sock.Next(200ms), "");
  // No watchdog timer: the loop has no work and returns at once.
  EXPECT_EQ(io.run_for(1s), 0u);
}

TEST(ServiceNotify, WatchdogPingsAtHalfThePeriodOnlyWhileTheLoopTurns) {
  testing::TempDir dir;
  NotifySocket sock(dir, "200000");  // WatchdogSec=200ms: a ping every 100 ms
  boost::asio::io_context io;
  ServiceNotify n(io);
  ASSERT_EQ(n.watchdog_period(), 100ms);
  std::atomic<bool> hang{false};
  std::thread loop([&] {
    while (!io.stopped()) io.run_for(20ms);
  });
  int pings = 0;
  for (int i = 0; i < 3; ++i) pings += sock.Next(1s) == "WATCHDOG=1";
  EXPECT_EQ(pings, 3);
  // A handler that never returns: no ping while it hangs.
  boost::asio::post(io, [&] {
    hang = true;
    while (hang) std::this_thread::sleep_for(5ms);
  });
  std::this_thread::sleep_for(150ms);  // a ping already in the socket is drained
  while (!sock.Next(0ms).empty()) {
  }
  EXPECT_EQ(sock.Next(500ms), "") << "pinged while the event loop was stuck";
  hang = false;
  EXPECT_EQ(sock.Next(1s), "WATCHDOG=1") << "no ping once the loop turned again";
  n.Stopping();
  io.stop();
  loop.join();
}

}  // namespace
}  // namespace mamori
