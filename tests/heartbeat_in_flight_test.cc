// A ping that arrives while its heartbeat check's run is in flight is judged
// again when that run returns: the run may have read the pings before it.
// The case from the field is a heartbeat with `dns_name:` whose lookup is
// slow. Here the real daemon (`mamori run`) resolves through a DNS server of
// the test's own on 127.0.0.77:53 (the daemon runs in a mount namespace of
// its own where /etc/resolv.conf names it), and the test holds the answer:
// the run stays in flight exactly as long as the test says, without sleeps.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "mamori/store/store.h"
#include "mamori/util/clock.h"
#include "testing/cli.h"
#include "testing/loopback_client.h"
#include "testing/ports.h"
#include "testing/spawn.h"

namespace mamori {
namespace {

using namespace std::chrono_literals;
using testing::DaemonProcess;
using testing::TempDir;

constexpr const char* kUuid = "3d5e7f90-1a2b-4c3d-8e4f-5a6b7c8d9e0f";
constexpr const char* kDnsAddress = "127.0.0.77";

// A DNS server on kDnsAddress:53/udp that answers every A query with
// 127.0.0.1 and every other type with no records, or, while held, keeps the
// queries until Release().
class HeldDns {
 public:
  HeldDns() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(53);
    ::inet_pton(AF_INET, kDnsAddress, &a.sin_addr);
    ok_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    if (ok_) thread_ = std::thread([this] { Loop(); });
  }
  ~HeldDns() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    ::close(fd_);
  }
  bool ok() const { return ok_; }
  int queries() const { return queries_; }
  int held() {
    std::lock_guard lock(mu_);
    return static_cast<int>(held_.size());
  }
  void Hold() { hold_ = true; }
  void Release() {
    std::lock_guard lock(mu_);
    hold_ = false;
    for (auto& [to, query] : held_) Answer(to, query);
    held_.clear();
  }

 private:
  void Loop() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      std::string query(512, '\0');
      sockaddr_in from{};
      socklen_t len = sizeof from;
      const ssize_t n =
          ::recvfrom(fd_, query.data(), query.size(), 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n < 12) continue;
      query.resize(static_cast<size_t>(n));
      ++queries_;
      std::lock_guard lock(mu_);
      if (hold_)
        held_.emplace_back(from, query);
      else
        Answer(from, query);
    }
  }

  // The header and question of `query`, then one A record (127.0.0.1, TTL 0)
  // when it asked for A.
  void Answer(const sockaddr_in& to, const std::string& query) {
    size_t end = 12;
    while (end < query.size() && query[end] != 0) end += 1 + static_cast<uint8_t>(query[end]);
    if (end + 5 > query.size()) return;
    const bool a = query[end + 1] == 0 && query[end + 2] == 1;
    std::string out = query.substr(0, end + 5);
    const char flags[] = {'\x81', '\x80', 0, 1, 0, static_cast<char>(a ? 1 : 0), 0, 0, 0, 0};
    out.replace(2, 10, flags, 10);
    if (a)
      out += std::string("\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x00\x00\x04\x7f\x00\x00\x01", 16);
    ::sendto(fd_, out.data(), out.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  }

  int fd_ = -1;
  bool ok_ = false;
  std::atomic<bool> stop_{false}, hold_{false};
  std::atomic<int> queries_{0};
  std::mutex mu_;
  std::vector<std::pair<sockaddr_in, std::string>> held_;
  std::thread thread_;
};

std::string FailRequest() {
  return std::string("POST /ping/") + kUuid +
         "/fail HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(HeartbeatInFlight, APingDuringASlowLookupIsJudgedWhenTheRunReturns) {
  if (::access("/usr/bin/unshare", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/unshare (util-linux)";
  HeldDns dns;
  ASSERT_TRUE(dns.ok()) << "cannot bind " << kDnsAddress << ":53/udp (this test needs root)";
  TempDir dir;
  const int port = testing::PickFreePort();
  const std::string resolv = dir.Write("resolv.conf", std::string("nameserver ") + kDnsAddress +
                                                          "\noptions timeout:30 attempts:1\n");
  // Runs only when a ping asks: every run in this test is one a ping caused.
  const std::string config =
      dir.Write("mamori.yaml", "data_dir: " + dir.path() +
                                   "/data\nlisten: 127.0.0.1:" + std::to_string(port) +
                                   "\ndefaults: {interval: 1h, timeout: 30s}\n"
                                   "checks:\n"
                                   "  - {name: job, type: heartbeat, uuid: " +
                                   kUuid + ", period: 1d, grace: 1h, dns_name: home.judge.test}\n");
  const std::string log = dir.path() + "/daemon.log";
  DaemonProcess daemon({"-c", config, "--log-level", "debug"}, log, {},
                       {"/usr/bin/unshare", "--mount", "--propagation", "private", "sh", "-c",
                        "mount --bind \"$0\" /etc/resolv.conf && exec \"$@\"", resolv});
  ASSERT_TRUE(daemon.WaitForLog("ping API listening")) << daemon.Log();
  SystemClock clock;
  auto latest = [&]() -> std::optional<CheckStatus> {
    auto store = Store::Open(dir.path() + "/data", clock, Store::OpenMode::kReadOnly);
    if (!store.ok()) return std::nullopt;
    auto obs = (*store)->Observations("job", WallTime{}, 1);
    if (!obs.ok() || obs->empty()) return std::nullopt;
    return obs->front().status;
  };

  // A ping; its run looks the name up (answered at once): OK.
  ASSERT_EQ(testing::Request(port, testing::PingRequest(kUuid, "1"), 2000ms), 200) << daemon.Log();
  ASSERT_TRUE(
      testing::Eventually([&] { return dns.queries() >= 1 && latest() == CheckStatus::kOk; }, 10s))
      << "no lookup through the test's DNS server, or no OK\n"
      << daemon.Log();

  // Another ping; its run reads the book (a success) and waits for the DNS.
  dns.Hold();
  ASSERT_EQ(testing::Request(port, testing::PingRequest(kUuid, "2"), 2000ms), 200) << daemon.Log();
  ASSERT_TRUE(testing::Eventually([&] { return dns.held() >= 1; }, 10s)) << daemon.Log();
  // The job fails while that run is in flight: its slot is skipped.
  const std::string skipped = "job: previous run still in flight, skipping this slot";
  const size_t skips = Count(daemon.Log(), skipped);
  ASSERT_EQ(testing::Request(port, FailRequest(), 2000ms), 200) << daemon.Log();
  ASSERT_TRUE(testing::Eventually([&] { return Count(daemon.Log(), skipped) > skips; }, 10s))
      << daemon.Log();

  // The run returns with what it read (OK); the failure must not wait for the
  // next interval, an hour away.
  dns.Release();
  EXPECT_TRUE(testing::Eventually([&] { return latest() == CheckStatus::kCritical; }, 10s))
      << "the /fail that came during the run was not judged when it returned\n"
      << daemon.Log();
  // CRITICAL for the /fail, not because the held lookup timed out (the
  // resolver waits 30 s, far past a slow machine's hold).
  {
    auto store = Store::Open(dir.path() + "/data", clock, Store::OpenMode::kReadOnly);
    ASSERT_TRUE(store.ok());
    auto obs = (*store)->Observations("job", WallTime{}, 1);
    ASSERT_TRUE(obs.ok() && !obs->empty());
    EXPECT_EQ(obs->front().summary.find("does not resolve"), std::string::npos)
        << obs->front().summary;
  }
  daemon.Signal(SIGTERM);
  EXPECT_EQ(daemon.Wait(), 0) << daemon.Log();
}

}  // namespace
}  // namespace mamori
