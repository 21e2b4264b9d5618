// `restart:` against a real systemd as PID 1 (testing/nspawn.h): a unit that
// exits 1 at once (Restart=no, so only mamori starts it again; each start
// appends a line to /out/starts), watched by a `systemd` check with
// restart: {limit: 2, within: 10m} in a real `mamori run`. The runner unit
// starts mamori once the unit has failed, waits (bounded) until mamori says
// it gave up and the alert has been delivered, lets it run a further second
// (several more cycles: nothing more may be restarted), stops it with
// SIGTERM and powers off.
//
// What it proves: the unit was started exactly 1 + limit times (its boot,
// then two restarts through sd-bus); each restart is two events in the store
// ("starting", then the job's result "done"), the give-up is one event and
// one alert, delivered to a command channel with the last failure named.
#include <gtest/gtest.h>

#include <sstream>

#include "mamori/store/store.h"
#include "testing/nspawn.h"

namespace mamori {
namespace {

using namespace std::chrono_literals;
using testing::Slurp;

constexpr const char* kConfig = R"(data_dir: /out/data
notify:
  - {name: alerts, type: command, command: "cat >> /out/alerts.jsonl; echo >> /out/alerts.jsonl", shell: true}
alerting: {group_wait: 0s}
checks:
  - name: crash
    type: systemd
    unit: crash
    interval: 300ms
    timeout: 5s
    failures_before_alert: 2
    successes_before_recovery: 2
    restart: {limit: 2, within: 10m, timeout: 10s}
)";

constexpr const char* kRunner = R"([Unit]
After=multi-user.target crash.service
[Service]
Type=oneshot
ExecStartPre=/bin/sh -c 'echo booted > /out/booted'
ExecStartPre=/bin/sh -c 'for i in $(seq 100); do systemctl is-failed -q crash.service && exit 0; sleep 0.1; done'
ExecStart=/bin/sh -c '/mamori-bin run -c /cfg.yaml > /out/run.log 2>&1 & pid=$!; for i in $(seq 300); do grep -q "gave up after" /out/run.log && break; sleep 0.1; done; for i in $(seq 50); do grep -q "gave up after" /out/alerts.jsonl && break; sleep 0.1; done; sleep 1; kill -TERM $pid; wait $pid; echo $? > /out/run_exit; systemctl poweroff --no-block'
)";

TEST(HostRestart, RestartsACrashingUnitExactlyLimitTimesThenGivesUp) {
  if (auto why = testing::NspawnUnavailable(); !why.empty()) GTEST_SKIP() << why;
  testing::TempDir dir;
  testing::NspawnBoot boot;
  boot.units.push_back({"crash.service",
                        "[Service]\nType=simple\nRestart=no\n"
                        "ExecStart=/bin/sh -c 'echo start >> /out/starts; exit 1'\n"});
  boot.runner = kRunner;
  boot.bind_ro.emplace_back(dir.Write("cfg.yaml", kConfig), "/cfg.yaml");
  boot.timeout = 55s;
  const auto started = std::chrono::steady_clock::now();
  auto out = testing::BootContainer(dir, boot);
  if (!out.skip.empty()) GTEST_SKIP() << out.skip;
  ASSERT_TRUE(out.booted);
  const auto took = std::chrono::steady_clock::now() - started;
  std::cout << "container boot, restarts and give-up: "
            << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms\n";
  EXPECT_FALSE(out.timed_out) << "the container did not power off in time";
  const std::string log = Slurp(out.out + "/run.log");
  EXPECT_EQ(Slurp(out.out + "/run_exit"), "0\n") << log;

  // 1 + limit starts: the boot's, then exactly two restarts by mamori.
  EXPECT_EQ(Slurp(out.out + "/starts"), "start\nstart\nstart\n") << log;
  EXPECT_NE(log.find("gave up after 2 restarts in 10m: crash.service; last failure: "
                     "failed: crash.service (exit-code)"),
            std::string::npos)
      << log;

  // The store: every restart before and after, and the give-up.
  SystemClock clock;
  auto store = Store::Open(out.out + "/data", clock, Store::OpenMode::kReadOnly);
  ASSERT_TRUE(store.ok()) << store.error().message();
  auto events = (*store)->Events("crash", WallTime{}, 100);
  ASSERT_TRUE(events.ok()) << events.error().message();
  int starting = 0, done = 0, gave_up = 0;
  std::string all;
  for (const auto& e : *events) {
    if (e.kind != EventKind::kRemedy) continue;
    all += e.summary + "\n";
    if (e.summary.find(" of crash.service: starting") != std::string::npos) ++starting;
    if (e.summary.find(" of crash.service: job done in ") != std::string::npos) ++done;
    if (e.summary.starts_with("gave up after 2 restarts in 10m: crash.service")) ++gave_up;
  }
  std::cout << "restart events, newest first:\n" << all;
  EXPECT_EQ(starting, 2) << all;
  EXPECT_EQ(done, 2) << all;
  EXPECT_EQ(gave_up, 1) << all;
  EXPECT_NE(all.find("restart 2/2 of crash.service: job done"), std::string::npos) << all;

  // The alert: once, critical, naming the unit, the last failure and each restart.
  const std::string alerts = Slurp(out.out + "/alerts.jsonl");
  // One notification per line (the JSON is one line).
  size_t give_up_alerts = 0;
  std::istringstream lines(alerts);
  for (std::string line; std::getline(lines, line);)
    give_up_alerts += line.find("gave up after") != std::string::npos;
  EXPECT_EQ(give_up_alerts, 1u) << alerts;
  EXPECT_NE(alerts.find("restart 1/2 of crash.service at "), std::string::npos) << alerts;
  EXPECT_NE(alerts.find("restart 2/2 of crash.service at "), std::string::npos) << alerts;
}

}  // namespace
}  // namespace mamori
