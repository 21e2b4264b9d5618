// A probed service frozen with SIGSTOP (a process stuck in D state, a paused
// container, a debugger): a real nginx, master and workers stopped, watched
// by the real daemon. The kernel still completes TCP handshakes into the
// listen backlog, so the service looks up to a bare connect and answers
// nothing. The checks that talk to it must end within their timeout with a
// clear summary, the daemon's other checks must keep their schedule, and
// after SIGCONT everything recovers.
#include <signal.h>

#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <thread>

#include "mamori/store/store.h"
#include "mamori/util/clock.h"
#include "testing/cli.h"
#include "testing/nginx.h"
#include "testing/ports.h"
#include "testing/stats_log.h"

namespace mamori {
namespace {

using namespace std::chrono_literals;
using testing::DaemonProcess;
using testing::TempDir;

constexpr int kOtherChecks = 50;

// SIGSTOP to nginx's process group (master and workers); SIGCONT again on
// destruction, so a failed test leaves nothing frozen for the fixture's
// SIGTERM.
class Frozen {
 public:
  explicit Frozen(pid_t group) : group_(group) { ::kill(-group_, SIGSTOP); }
  ~Frozen() { Thaw(); }
  void Thaw() {
    if (group_ > 0) ::kill(-group_, SIGCONT);
    group_ = -1;
  }

 private:
  pid_t group_;
};

WallTime Now() { return SystemClock().Now(); }

TEST(StoppedServiceFaults, ChecksEndOnTimeAndOthersKeepTheirPace) {
  std::string error;
  auto nginx = testing::NginxServer::Start({}, &error);
  ASSERT_TRUE(nginx) << error;
  const pid_t nginx_pid = std::stoi(testing::ReadFile(nginx->dir() + "/nginx.pid"));
  ASSERT_GT(nginx_pid, 1);

  TempDir dir;
  const std::string port = std::to_string(nginx->port());
  std::string yaml = "data_dir: " + dir.path() +
                     "/data\n"
                     "defaults: {interval: 2s, timeout: 1s, failures_before_alert: 1}\n"
                     "checks:\n"
                     "  - {name: web, type: http, url: \"" +
                     nginx->Url("/") +
                     "\"}\n"
                     "  - name: web-banner\n"
                     "    type: tcp\n"
                     "    address: \"127.0.0.1:" +
                     port +
                     "\"\n"
                     "    send: \"HEAD / HTTP/1.0\\r\\n\\r\\n\"\n"
                     "    expect: \"HTTP/1.1 200\"\n"
                     "  - {name: web-port, type: tcp, address: \"127.0.0.1:" +
                     port + "\"}\n";
  // Checks on the worker pool with nothing to do with nginx, 250 runs a second.
  for (int i = 0; i < kOtherChecks; ++i)
    yaml += "  - {name: other-" + std::to_string(i) +
            ", type: load, interval: 200ms, timeout: 200ms}\n";
  const std::string config = dir.Write("mamori.yaml", yaml);
  DaemonProcess daemon({"-c", config, "--stats-interval", "1s"}, dir.path() + "/daemon.log");
  ASSERT_TRUE(daemon.WaitForLog("stats: ", 10s)) << daemon.Log();

  SystemClock clock;
  auto observations = [&](const std::string& check, WallTime since) {
    auto store = Store::Open(dir.path() + "/data", clock, Store::OpenMode::kReadOnly);
    if (!store.ok()) return std::vector<StoredObservation>{};
    auto o = (*store)->Observations(check, since, 1000);
    return o.ok() ? *o : std::vector<StoredObservation>{};
  };
  auto latest = [&](const std::string& check, WallTime since) {
    auto o = observations(check, since);
    return o.empty() ? StoredObservation{} : o.front();
  };
  // Healthy first.
  const WallTime started = Now();
  ASSERT_TRUE(testing::Eventually(
      [&] {
        return latest("web", started).status == CheckStatus::kOk &&
               latest("web-banner", started).status == CheckStatus::kOk;
      },
      10s))
      << latest("web", started).summary << " / " << latest("web-banner", started).summary;

  // Freeze nginx for 8 s: four runs of each nginx check.
  Frozen frozen(nginx_pid);
  const WallTime stopped = Now();
  const size_t log_at = daemon.Log().size();
  std::this_thread::sleep_for(8s);
  const WallTime thawed = Now();
  const std::string log_while_frozen = daemon.Log().substr(log_at);
  frozen.Thaw();

  auto runs_between = [&](const std::string& check, WallTime from, WallTime to) {
    std::vector<StoredObservation> out;
    for (auto& o : observations(check, from))
      if (o.time < to) out.push_back(o);
    return out;
  };
  // Each nginx check ran on its schedule and every run while frozen ended
  // within its 1 s timeout (plus scheduling slack), CRITICAL, saying why.
  for (const char* check : {"web", "web-banner"}) {
    // Runs that started within the first 100 ms may have caught nginx awake.
    auto runs = runs_between(check, stopped + 100ms, thawed - 1s);
    EXPECT_GE(runs.size(), 3u) << check;
    for (const auto& o : runs) {
      EXPECT_EQ(o.status, CheckStatus::kCritical) << check << ": " << o.summary;
      EXPECT_LT(o.duration, 1300ms) << check << ": " << o.summary;
      EXPECT_NE(o.summary.find("timed out after"), std::string::npos) << check << ": " << o.summary;
      std::cout << check << ": " << o.summary << "\n";
    }
  }
  // A bare connect still succeeds: the kernel, not nginx, completes it. This
  // is why a `tcp` check of a service that can freeze should send and expect.
  for (const auto& o : runs_between("web-port", stopped, thawed))
    EXPECT_EQ(o.status, CheckStatus::kOk) << o.summary;

  // The other checks kept their pace: ~5 runs a second each, not late.
  const auto other = runs_between("other-0", stopped + 1s, thawed - 1s);
  EXPECT_GE(other.size(), 25u);  // 6 s at 200 ms: 30
  EXPECT_LE(other.size(), 31u);
  const auto stats = testing::ParseStatsLines(log_while_frozen);
  ASSERT_GE(stats.size(), 6u) << log_while_frozen;
  for (const auto& s : stats) {
    std::cout << s.text << "\n";
    EXPECT_GE(s.per_second, 0.7 * kOtherChecks * 5) << s.text;
    EXPECT_LT(s.p99_ms, 500) << s.text;
  }

  // Thawed: nginx answers again and both checks recover at their next run.
  EXPECT_TRUE(testing::Eventually(
      [&] {
        return latest("web", thawed + 100ms).status == CheckStatus::kOk &&
               latest("web-banner", thawed + 100ms).status == CheckStatus::kOk;
      },
      6s))
      << latest("web", thawed).summary << " / " << latest("web-banner", thawed).summary;
  daemon.Signal(SIGTERM);
  EXPECT_EQ(daemon.Wait(), 0) << daemon.Log().substr(0, 4000);
}

}  // namespace
}  // namespace mamori
