// Listeners whose backlog is full, watched by the real daemon: a TCP socket
// listening with backlog 0 that never accepts and already holds what the
// kernel will queue (new SYNs are dropped, so a connect waits for SYN
// retransmits: seconds, then minutes), and the Unix-socket counterpart
// (PHP-FPM with every worker busy; testing/full_backlog_socket.h). Every
// check against them must end within its timeout with a clear summary, and
// must not hold up the daemon's other checks.
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <thread>

#include "mamori/store/store.h"
#include "mamori/util/clock.h"
#include "mamori/util/units.h"
#include "testing/cli.h"
#include "testing/full_backlog_socket.h"
#include "testing/loopback_client.h"
#include "testing/stats_log.h"

namespace mamori {
namespace {

using namespace std::chrono_literals;
using testing::DaemonProcess;
using testing::TempDir;

// A TCP listener on 127.0.0.1 with backlog 0 that never accepts, filled
// until a further connect no longer completes. Owns every descriptor.
class FullBacklogTcp {
 public:
  FullBacklogTcp() {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(listener_, 0) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
      return;
    port_ = ntohs(a.sin_port);
    // Connect until one stays pending for 300 ms: the accept queue is full.
    for (int i = 0; i < 64; ++i) {
      int fd = testing::OpenFrom("127.0.0.1", port_);
      if (fd < 0) return;
      clients_.push_back(fd);
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, 300) == 0) {
        full_ = true;
        return;
      }
    }
  }
  ~FullBacklogTcp() {
    for (int fd : clients_) ::close(fd);
    if (listener_ >= 0) ::close(listener_);
  }
  bool full() const { return full_; }
  int port() const { return port_; }

 private:
  int listener_ = -1;
  int port_ = 0;
  bool full_ = false;
  std::vector<int> clients_;
};

TEST(BacklogFaults, ChecksOfFullListenersEndWithinTheirTimeout) {
  FullBacklogTcp tcp;
  ASSERT_TRUE(tcp.full()) << "the TCP accept queue never filled";
  TempDir dir;
  std::string error;
  auto unix_socket = testing::FullBacklogSocket::Start(dir.path() + "/fpm.sock", &error);
  ASSERT_TRUE(unix_socket) << error;

  const std::string address = "127.0.0.1:" + std::to_string(tcp.port());
  std::string yaml = "data_dir: " + dir.path() +
                     "/data\n"
                     "defaults: {interval: 2s, timeout: 1s}\n"
                     "checks:\n"
                     "  - {name: port, type: tcp, address: \"" +
                     address +
                     "\"}\n"
                     "  - {name: web, type: http, url: \"http://" +
                     address +
                     "/\"}\n"
                     "  - {name: fpm, type: socket, path: \"" +
                     dir.path() + "/fpm.sock\"}\n";
  for (int i = 0; i < 50; ++i)
    yaml += "  - {name: other-" + std::to_string(i) +
            ", type: load, interval: 200ms, timeout: 200ms}\n";
  const std::string config = dir.Write("mamori.yaml", yaml);
  DaemonProcess daemon({"-c", config, "--stats-interval", "1s"}, dir.path() + "/daemon.log");
  ASSERT_TRUE(daemon.WaitForLog("stats: ", 10s)) << daemon.Log();
  const size_t log_at = daemon.Log().size();

  // Three runs of each (2 s interval), then look at what they said. Polled:
  // results are committed in batches, and a loaded machine is slower.
  SystemClock clock;
  const WallTime since = clock.Now();
  auto three_runs_each = [&] {
    auto s = Store::Open(dir.path() + "/data", clock, Store::OpenMode::kReadOnly);
    if (!s.ok()) return false;
    for (const char* check : {"port", "web", "fpm"}) {
      auto runs = (*s)->Observations(check, since, 100);
      if (!runs.ok() || runs->size() < 3) return false;
    }
    return true;
  };
  std::this_thread::sleep_for(6s);
  EXPECT_TRUE(testing::Eventually(three_runs_each, 20s)) << daemon.Log();
  auto store = Store::Open(dir.path() + "/data", clock, Store::OpenMode::kReadOnly);
  ASSERT_TRUE(store.ok()) << store.error().message();
  struct Expected {
    const char* check;
    CheckStatus status;
    const char* says;
  };
  for (const Expected& e : {
           Expected{"port", CheckStatus::kCritical, "timed out after"},
           Expected{"web", CheckStatus::kCritical, "timed out after"},
           // Not CRITICAL: the service is there, just saturated.
           Expected{"fpm", CheckStatus::kWarning, "is overloaded"},
       }) {
    auto runs = (*store)->Observations(e.check, since, 100);
    ASSERT_TRUE(runs.ok());
    EXPECT_GE(runs->size(), 3u) << e.check;
    for (const auto& o : *runs) {
      std::cout << e.check << ": " << o.summary << " (" << FormatDuration(o.duration) << ")\n";
      EXPECT_EQ(o.status, e.status) << e.check << ": " << o.summary;
      EXPECT_NE(o.summary.find(e.says), std::string::npos) << e.check << ": " << o.summary;
      EXPECT_LT(o.duration, 1300ms) << e.check << ": " << o.summary;
    }
  }
  // Nothing was held up: full pace, not late, nothing skipped.
  const auto stats = testing::ParseStatsLines(daemon.Log().substr(log_at));
  ASSERT_GE(stats.size(), 5u);
  for (const auto& s : stats) {
    std::cout << s.text << "\n";
    EXPECT_GE(s.per_second, 0.7 * 50 * 5) << s.text;
    EXPECT_LT(s.p99_ms, 500) << s.text;
  }
  daemon.Signal(SIGTERM);
  EXPECT_EQ(daemon.Wait(), 0) << daemon.Log().substr(0, 4000);
}

}  // namespace
}  // namespace mamori
