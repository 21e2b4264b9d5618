#include "mamori/daemon/checks_http_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <thread>

namespace mamori {
namespace {

using namespace std::chrono_literals;

std::vector<CheckConfig> Checks(int n, const std::string& type, Duration interval) {
  std::vector<CheckConfig> out(n);
  for (auto& c : out) {
    c.type = type;
    c.interval = interval;
  }
  return out;
}

TEST(ChecksHttpClient, CountsHttpChecksPerSecond) {
  auto checks = Checks(100, "http", 1s);
  auto slow = Checks(60, "http", 1min);
  auto tcp = Checks(500, "tcp", 1s);
  checks.insert(checks.end(), slow.begin(), slow.end());
  checks.insert(checks.end(), tcp.begin(), tcp.end());
  EXPECT_DOUBLE_EQ(HttpChecksPerSecond(checks), 101.0);
  EXPECT_DOUBLE_EQ(HttpChecksPerSecond({}), 0.0);
}

TEST(ChecksHttpClient, TheLoopUpToTheLimitItsOwnThreadAbove) {
  EXPECT_TRUE(HttpOnTheLoop({}));
  EXPECT_TRUE(HttpOnTheLoop(Checks(1000, "http", 1s)));
  EXPECT_TRUE(HttpOnTheLoop(Checks(20000, "http", 20s)));
  EXPECT_TRUE(HttpOnTheLoop(Checks(20000, "tcp", 1s)));
  EXPECT_FALSE(HttpOnTheLoop(Checks(1001, "http", 1s)));
  EXPECT_FALSE(HttpOnTheLoop(Checks(10000, "http", 1s)));
}

// What was chosen is what is made: on the loop, nothing answers until the
// loop runs, and then on its thread; with a thread of its own, the answer
// comes without the loop, from that thread. (Port 9 on 127.0.0.1: refused, or
// whatever answers; either way `done` runs once.)
TEST(ChecksHttpClient, MakesTheClientChosen) {
  for (const int n : {10, 2000}) {
    boost::asio::io_context io;
    auto checks = Checks(n, "http", 1s);
    auto client = MakeChecksHttpClient(io, checks, 8);
    std::atomic<int> calls{0};
    std::atomic<bool> on_this_thread{false};
    const auto me = std::this_thread::get_id();
    HttpRequest req;
    req.url = "http://127.0.0.1:9/";
    req.timeout = 2s;
    client->Fetch(req, [&](Result<HttpResponse>) {
      on_this_thread = std::this_thread::get_id() == me;
      ++calls;
    });
    // Long enough for an answer without the loop (a refused connect takes
    // well under a millisecond here).
    const auto end = std::chrono::steady_clock::now() + (HttpOnTheLoop(checks) ? 300ms : 3s);
    while (calls == 0 && std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(10ms);
    if (HttpOnTheLoop(checks)) {
      EXPECT_EQ(calls, 0) << n << " checks: answered without the loop";
      io.run_for(3s);
      EXPECT_EQ(calls, 1) << n;
      EXPECT_TRUE(on_this_thread) << n;
    } else {
      EXPECT_EQ(calls, 1) << n;
      EXPECT_FALSE(on_this_thread) << n;
    }
  }
}

}  // namespace
}  // namespace mamori
