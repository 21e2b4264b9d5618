// Slow, idle and oversized clients against the real daemon's ping API, from
// other loopback addresses (127.0.0.2 and up), while the good client
// (127.0.0.1) pings: a slowloris trickling one header byte a second, heads
// over the 8 KiB limit, bodies over a route's limit. The good client is
// answered within 2 s throughout; each bad one gets exactly what
// docs/ARCHITECTURE.md "Limits" promises (web/http_server.cc): 431 or 413
// from the head, then the connection closed, and a trickled head is cut at
// the 10 s read timeout.
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <set>
#include <thread>

#include "mamori/store/store.h"
#include "mamori/util/clock.h"
#include "testing/cli.h"
#include "testing/loopback_client.h"
#include "testing/ports.h"

namespace mamori {
namespace {

using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;
using testing::DaemonProcess;
using testing::TempDir;

constexpr const char* kUuid = "3c9e1f2a-5b6d-4e7f-8a9b-0c1d2e3f4a5b";

class SlowClientFaults : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = testing::PickFreePort();
    config_ = dir_.Write("mamori.yaml", "data_dir: " + dir_.path() +
                                            "/data\nlisten: 127.0.0.1:" + std::to_string(port_) +
                                            "\n"
                                            "checks:\n"
                                            "  - {name: job, type: heartbeat, uuid: " +
                                            std::string(kUuid) + ", period: 1d, grace: 1h}\n");
    daemon_ = std::make_unique<DaemonProcess>(std::vector<std::string>{"-c", config_},
                                              dir_.path() + "/daemon.log");
    ASSERT_TRUE(daemon_->WaitForLog("ping API listening")) << daemon_->Log();
  }

  // Pings from 127.0.0.1 every 200 ms until `stop`; counts those not
  // answered 200 within 2 s and the slowest answer.
  void GoodClient(const std::atomic<bool>& stop) {
    for (int i = 0; !stop; ++i) {
      const auto start = Steady::now();
      const std::string body = "good " + std::to_string(i);
      const int status = testing::Request(port_, testing::PingRequest(kUuid, body), 2000ms);
      const auto took = Steady::now() - start;
      slowest_ = std::max(slowest_, took);
      if (status == 200)
        acknowledged_.push_back(body);
      else
        ++failed_;
      std::this_thread::sleep_for(200ms);
    }
  }

  void ExpectAcknowledgedStored() {
    daemon_->Signal(SIGTERM);
    ASSERT_EQ(daemon_->Wait(), 0) << daemon_->Log().substr(0, 4000);
    SystemClock clock;
    auto store = Store::Open(dir_.path() + "/data", clock, Store::OpenMode::kReadOnly);
    ASSERT_TRUE(store.ok());
    auto pings = (*store)->Pings("job", 1000);
    ASSERT_TRUE(pings.ok());
    std::set<std::string> stored;
    for (const auto& p : *pings) stored.insert(p.body);
    for (const auto& b : acknowledged_) EXPECT_TRUE(stored.count(b)) << b << " was lost";
  }

  TempDir dir_;
  std::string config_;
  int port_ = 0;
  std::unique_ptr<DaemonProcess> daemon_;
  Steady::duration slowest_{};
  int failed_ = 0;
  std::vector<std::string> acknowledged_;
};

TEST_F(SlowClientFaults, SlowlorisIsCutAtTheReadTimeoutAndOthersAreServed) {
  // 40 connections from 127.0.0.2, each sending its head one byte a second:
  // within the per-address limit (64), so the read timeout is what ends them.
  constexpr int kSlow = 40;
  std::vector<int> slow;
  for (int i = 0; i < kSlow; ++i) {
    int fd = testing::OpenFrom("127.0.0.2", port_);
    ASSERT_GE(fd, 0);
    slow.push_back(fd);
  }
  const std::string head = "POST /ping/" + std::string(kUuid) +
                           " HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + std::string(64, 'a');
  std::atomic<bool> stop{false};
  std::thread good([&] { GoodClient(stop); });
  const auto start = Steady::now();
  std::vector<Steady::duration> closed_after(kSlow, Steady::duration::zero());
  size_t open = kSlow;
  for (size_t byte = 0; open > 0 && Steady::now() - start < 15s; ++byte) {
    for (int i = 0; i < kSlow; ++i) {
      if (closed_after[i] != Steady::duration::zero()) continue;
      char c = head[byte % head.size()];
      char buf[512];
      ssize_t r = ::recv(slow[i], buf, sizeof buf, MSG_DONTWAIT);
      if (r == 0 || (r < 0 && errno != EAGAIN) ||
          (::send(slow[i], &c, 1, MSG_NOSIGNAL) < 0 && errno != EAGAIN)) {
        closed_after[i] = Steady::now() - start;
        --open;
      }
    }
    std::this_thread::sleep_for(1s);
  }
  stop = true;
  good.join();
  for (int fd : slow) ::close(fd);

  EXPECT_EQ(open, 0u) << "slow connections still open after 15 s";
  for (auto d : closed_after) {
    // Cut at the 10 s read timeout, noticed at the next 1 s tick.
    EXPECT_GE(d, 9s);
    EXPECT_LE(d, 12s);
  }
  std::cout << "slowest good ping: "
            << std::chrono::duration_cast<std::chrono::milliseconds>(slowest_).count() << " ms of "
            << acknowledged_.size() + failed_ << "\n";
  EXPECT_EQ(failed_, 0);
  EXPECT_GE(acknowledged_.size(), 30u);
  EXPECT_LT(slowest_, 2s);
  ExpectAcknowledgedStored();
}

TEST_F(SlowClientFaults, OversizedHeadsAndBodiesAreRefusedFromTheHead) {
  std::atomic<bool> stop{false};
  std::thread good([&] { GoodClient(stop); });
  const std::string ping = "POST /ping/" + std::string(kUuid) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";

  // A head over 8 KiB: 431, closed.
  for (int i = 0; i < 20; ++i) {
    int fd = testing::OpenFrom("127.0.0.3", port_);
    ASSERT_GE(fd, 0);
    auto x =
        testing::SendAndRead(fd, ping + "X-Fill: " + std::string(9000, 'h') + "\r\n\r\n", 3000ms);
    ::close(fd);
    EXPECT_EQ(x.status(), 431) << x.response;
    EXPECT_TRUE(x.closed);
    EXPECT_LT(x.took, 1s);
  }
  // A ping announcing more than its 1 MiB read limit (4 x api.max_body, at
  // least 1 MiB): 413 from the head, nothing of the body sent, closed.
  for (int i = 0; i < 20; ++i) {
    int fd = testing::OpenFrom("127.0.0.4", port_);
    ASSERT_GE(fd, 0);
    auto x = testing::SendAndRead(fd, ping + "Content-Length: 2000000\r\n\r\n", 3000ms);
    ::close(fd);
    EXPECT_EQ(x.status(), 413) << x.response;
    EXPECT_NE(x.response.find("limit 1048576 bytes"), std::string::npos) << x.response;
    EXPECT_TRUE(x.closed);
    EXPECT_LT(x.took, 1s);
  }
  // Any other route: 16 KiB.
  {
    int fd = testing::OpenFrom("127.0.0.4", port_);
    ASSERT_GE(fd, 0);
    auto x = testing::SendAndRead(
        fd, "POST /ip HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 20000\r\n\r\n", 3000ms);
    ::close(fd);
    EXPECT_EQ(x.status(), 413) << x.response;
    EXPECT_NE(x.response.find("limit 16384 bytes"), std::string::npos) << x.response;
    EXPECT_TRUE(x.closed);
  }
  // A body past api.max_body (100 KiB) but within the read limit is kept,
  // cut, not refused.
  {
    const std::string body(300 * 1024, 'b');
    EXPECT_EQ(testing::Request(port_, testing::PingRequest(kUuid, body), 3000ms), 200);
  }
  stop = true;
  good.join();
  EXPECT_EQ(failed_, 0);
  EXPECT_LT(slowest_, 2s);
  ExpectAcknowledgedStored();
  SystemClock clock;
  auto store = Store::Open(dir_.path() + "/data", clock, Store::OpenMode::kReadOnly);
  ASSERT_TRUE(store.ok());
  auto pings = (*store)->Pings("job", 1000);
  ASSERT_TRUE(pings.ok());
  bool truncated = false;
  for (const auto& p : *pings)
    if (p.body_truncated) truncated = p.body.size() == 100 * 1024;
  EXPECT_TRUE(truncated) << "the 300 KiB ping is not stored cut at 100 KiB";
}

}  // namespace
}  // namespace mamori
