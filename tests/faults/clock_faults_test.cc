// The wall clock jumps under the real daemon: 2 h forward, then 2 h back (an
// NTP step, a VM restored from a snapshot, a battery-less board that boots in
// 1970 and then syncs). libfaketime is preloaded into `mamori run` with its
// offset in a file the test rewrites while the daemon runs
// (FAKETIME_TIMESTAMP_FILE, re-read on every call with FAKETIME_NO_CACHE);
// the monotonic clock is left real (FAKETIME_DONT_FAKE_MONOTONIC), as a real
// step leaves it. The scheduler must keep its pace through both jumps (no
// burst of "missed" slots after the forward one, no stall after the back
// one), and a heartbeat pinged before the jumps must neither be judged late
// nor refuse the pings that come after, stamped earlier than the last one.
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <optional>
#include <set>
#include <thread>

#include "mamori/store/store.h"
#include "mamori/util/clock.h"
#include "testing/cli.h"
#include "testing/loopback_client.h"
#include "testing/ports.h"
#include "testing/spawn.h"
#include "testing/stats_log.h"

namespace mamori {
namespace {

using namespace std::chrono_literals;
using testing::DaemonProcess;
using testing::TempDir;

constexpr const char* kUuid = "0e4f6a8b-1c2d-4e3f-9a0b-5c6d7e8f9a0b";
constexpr int kChecks = 20;  // at 200 ms: 100 runs a second

// The wall time a log line was written at (its spdlog prefix,
// "2026-12-06T23:18:39.123+0000"), in seconds; nullopt if it has none.
std::optional<int64_t> LineTime(const std::string& line) {
  std::tm tm{};
  if (line.size() < 19 || !::strptime(line.substr(0, 19).c_str(), "%Y-%m-%dT%H:%M:%S", &tm))
    return std::nullopt;
  return static_cast<int64_t>(::timegm(&tm));
}

// The wall time of the last stats line in `log`, as the daemon saw it.
std::optional<int64_t> LastStatsTime(const std::string& log) {
  const auto at = log.rfind(" stats: ");
  if (at == std::string::npos) return std::nullopt;
  return LineTime(log.substr(log.rfind('\n', at) + 1));
}

class ClockFaults : public ::testing::Test {
 protected:
  void TearDown() override {
    const pid_t pid = daemon_ ? daemon_->pid() : -1;
    daemon_.reset();
    if (pid > 0) testing::RemoveFaketimeFiles(pid);
  }
  void SetOffset(const std::string& offset) {
    // Written whole and renamed, so the daemon never reads half a file.
    std::ofstream(rc_ + ".new") << offset << "\n";
    std::rename((rc_ + ".new").c_str(), rc_.c_str());
  }
  // Waits until the daemon's stats lines are stamped `expected` seconds away
  // from the real clock (libfaketime took the new offset); false if never.
  bool WaitForOffset(int64_t expected) {
    return testing::Eventually(
        [&] {
          auto t = LastStatsTime(daemon_->Log());
          return t && std::abs(*t - std::time(nullptr) - expected) < 5;
        },
        15s);  // a loaded machine: libfaketime re-reads its file lazily
  }
  // The stats lines written over the next `seconds`, each checked for pace.
  void ExpectPaceFor(std::chrono::seconds seconds, const std::string& phase) {
    const size_t at = daemon_->Log().size();
    std::this_thread::sleep_for(seconds);
    const auto stats = testing::ParseStatsLines(daemon_->Log().substr(at));
    EXPECT_GE(stats.size(), static_cast<size_t>(seconds.count()) - 1) << phase;
    for (const auto& s : stats) {
      std::cout << phase << ": " << s.text << "\n";
      const double rate = s.per_second;
      EXPECT_GE(rate, 0.7 * kChecks * 5) << phase << ": stalled: " << s.text;
      EXPECT_LE(rate, 1.3 * kChecks * 5) << phase << ": burst: " << s.text;
      EXPECT_LT(s.p99_ms, 500) << phase << ": " << s.text;
    }
  }
  int Ping(const std::string& body) {
    return testing::Request(port_, testing::PingRequest(kUuid, body), 2000ms);
  }

  TempDir dir_;
  std::string rc_;
  int port_ = 0;
  std::unique_ptr<DaemonProcess> daemon_;
};

TEST_F(ClockFaults, SchedulingAndHeartbeatsSurviveJumpsForwardAndBack) {
  const std::string lib = testing::FaketimeLibrary();
  if (lib.empty()) GTEST_SKIP() << "libfaketime is not installed (Debian package faketime)";
  rc_ = dir_.path() + "/faketime.rc";
  SetOffset("+0");
  port_ = testing::PickFreePort();
  std::string yaml = "data_dir: " + dir_.path() +
                     "/data\nlisten: 127.0.0.1:" + std::to_string(port_) +
                     "\n"
                     "checks:\n"
                     "  - {name: job, type: heartbeat, uuid: " +
                     std::string(kUuid) + ", period: 1d, grace: 1h, interval: 1s}\n";
  for (int i = 0; i < kChecks; ++i)
    yaml +=
        "  - {name: load-" + std::to_string(i) + ", type: load, interval: 200ms, timeout: 200ms}\n";
  const std::string config = dir_.Write("mamori.yaml", yaml);
  daemon_ = std::make_unique<DaemonProcess>(
      std::vector<std::string>{"-c", config, "--stats-interval", "1s"}, dir_.path() + "/daemon.log",
      std::vector<std::string>{"LD_PRELOAD=" + lib, "FAKETIME_TIMESTAMP_FILE=" + rc_,
                               "FAKETIME_NO_CACHE=1", "FAKETIME_DONT_FAKE_MONOTONIC=1"});
  ASSERT_TRUE(daemon_->WaitForLog("stats: ", 10s)) << daemon_->Log();
  ASSERT_EQ(Ping("before the jumps"), 200) << daemon_->Log();
  ExpectPaceFor(3s, "before");

  SetOffset("+2h");
  if (!WaitForOffset(2 * 3600))
    GTEST_SKIP() << "libfaketime did not move the running daemon's clock; log:\n"
                 << daemon_->Log().substr(0, 3000);
  ExpectPaceFor(4s, "after +2h");
  ASSERT_EQ(Ping("2 h later"), 200) << daemon_->Log();

  SetOffset("+0");
  ASSERT_TRUE(WaitForOffset(0)) << "the jump back was not seen";
  ExpectPaceFor(4s, "after -2h");
  // Stamped 2 h before the previous ping: still taken, nothing refused.
  ASSERT_EQ(Ping("back in time"), 200) << daemon_->Log();

  // Everything acknowledged is stored, and the heartbeat was never judged
  // late: its runs through both jumps were all OK.
  const pid_t pid = daemon_->pid();
  daemon_->Signal(SIGTERM);
  ASSERT_EQ(daemon_->Wait(), 0) << daemon_->Log().substr(0, 4000);
  testing::RemoveFaketimeFiles(pid);
  SystemClock clock;
  auto store = Store::Open(dir_.path() + "/data", clock, Store::OpenMode::kReadOnly);
  ASSERT_TRUE(store.ok()) << store.error().message();
  auto pings = (*store)->Pings("job", 100);
  ASSERT_TRUE(pings.ok());
  std::set<std::string> bodies;
  for (const auto& p : *pings) bodies.insert(p.body);
  EXPECT_EQ(bodies, (std::set<std::string>{"before the jumps", "2 h later", "back in time"}));
  auto runs = (*store)->Observations("job", WallTime{}, 1000);
  ASSERT_TRUE(runs.ok());
  EXPECT_GE(runs->size(), 8u);
  for (const auto& o : *runs) EXPECT_EQ(o.status, CheckStatus::kOk) << o.summary;
}

}  // namespace
}  // namespace mamori
