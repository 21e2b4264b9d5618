// The timedaemon check against a real systemd as PID 1 (this machine's /usr
// booted with systemd-nspawn --volatile=yes, as tests/host_systemd_test.cc
// does): incident 2 after a maintenance. A chrony-like time daemon unit
// (chronyd.service, RHEL's name, so that Debian's own chrony.service does not
// conflict with it) is enabled and running; the runner stops it, as the
// maintenance did, and then runs the real `mamori check --json` and `mamori
// doctor --json` inside.
//
// What it proves: the stopped, enabled time daemon is CRITICAL "chronyd.service
// is enabled and stopped: clock not disciplined", read through sd-bus; an
// enabled time daemon skipped by its Condition (ntpd.service here; chrony in
// any container) is not named; and the zero-config `mamori doctor` carries the
// check with the same finding.
//
// Needs root and systemd-nspawn; skips only where the container cannot start.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "mamori/store/store.h"
#include "testing/cli.h"
#include "testing/nspawn.h"

namespace mamori {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr const char* kChronyLike = "[Service]\nExecStart=/bin/sleep infinity\n";
constexpr const char* kSkipped =
    "[Unit]\nConditionPathExists=/nonexistent-mamori-test\n[Service]\nExecStart=/bin/sleep "
    "infinity\n";

// Waits (bounded) for the time daemon to run, stops it ("the maintenance"),
// runs mamori and powers off whatever happened.
constexpr const char* kRunner = R"([Unit]
After=multi-user.target chronyd.service
[Service]
Type=oneshot
ExecStartPre=/bin/sh -c 'echo booted > /out/booted'
ExecStartPre=/bin/sh -c 'for i in $(seq 100); do systemctl is-active -q chronyd.service && exit 0; sleep 0.1; done'
ExecStartPre=/bin/systemctl stop chronyd.service
ExecStart=/bin/sh -c '/mamori-bin check -c /cfg.yaml --json > /out/result.json 2> /out/stderr.txt; /mamori-bin doctor --json > /out/doctor.json 2>> /out/stderr.txt; systemctl poweroff --no-block'
)";

TEST(HostTimedaemon, EnabledTimeDaemonStoppedAfterAMaintenanceIsCritical) {
  if (auto why = testing::NspawnUnavailable(); !why.empty()) GTEST_SKIP() << why;
  testing::TempDir dir;
  testing::NspawnBoot spec;
  spec.units = {{"chronyd.service", std::string(kChronyLike)},
                {"ntpd.service", std::string(kSkipped)}};
  spec.runner = kRunner;
  spec.bind_ro = {
      {dir.Write("cfg.yaml",
                 "data_dir: /tmp/mamori-data\nchecks:\n  - {name: td, type: timedaemon}\n"),
       "/cfg.yaml"}};
  auto boot = testing::BootContainer(dir, spec);
  if (!boot.skip.empty()) GTEST_SKIP() << boot.skip;
  ASSERT_TRUE(boot.booted) << boot.err;
  EXPECT_FALSE(boot.timed_out) << "the container did not power off within 60 s";
  const std::string outdir = boot.out;

  auto rows = nlohmann::json::parse(testing::Slurp(outdir + "/result.json"), nullptr, false);
  ASSERT_TRUE(rows.is_array() && rows.size() == 1u)
      << testing::Slurp(outdir + "/result.json")
      << "\nstderr: " << testing::Slurp(outdir + "/stderr.txt");
  EXPECT_EQ(rows[0]["status"], "critical") << rows.dump(2);
  const std::string summary = rows[0]["summary"];
  EXPECT_EQ(summary,
            "chronyd.service is enabled and stopped: clock not disciplined (safe remedy: "
            "systemctl restart chronyd.service)")
      << rows.dump(2);
  EXPECT_EQ(rows[0]["metrics"]["stopped_units"], 1) << rows.dump(2);

  auto doctor = nlohmann::json::parse(testing::Slurp(outdir + "/doctor.json"), nullptr, false);
  ASSERT_TRUE(doctor.is_array()) << testing::Slurp(outdir + "/stderr.txt");
  const nlohmann::json* td = nullptr;
  for (const auto& row : doctor)
    if (row["type"] == "timedaemon") td = &row;
  ASSERT_NE(td, nullptr) << doctor.dump(2);
  EXPECT_EQ((*td)["summary"], summary);
}

// systemd-timesyncd's place taken by a stand-in (Debian's chrony conflicts
// with the systemd-timesyncd package, so the real daemon is not installed
// here): its unit runs, mamori asks timedate1 (the real systemd-timedated,
// bus-activated on the container's real dbus-daemon) and timesync1 (which
// nobody provides: said, not fatal); then it is stopped, and it is named
// with the safe remedy.
constexpr const char* kTimesyncdRunner = R"([Unit]
After=multi-user.target systemd-timesyncd.service dbus.socket
[Service]
Type=oneshot
ExecStartPre=/bin/sh -c 'echo booted > /out/booted'
ExecStartPre=/bin/sh -c 'for i in $(seq 100); do systemctl is-active -q systemd-timesyncd.service && exit 0; sleep 0.1; done'
ExecStart=/bin/sh -c '/mamori-bin check -c /cfg.yaml --json > /out/running.json 2> /out/stderr.txt; systemctl stop systemd-timesyncd.service; /mamori-bin check -c /cfg.yaml --json > /out/stopped.json 2>> /out/stderr.txt; systemctl poweroff --no-block'
)";

TEST(HostTimedaemon, TimesyncdReadThroughTimedate1AndNamedWithItsRemedyWhenStopped) {
  if (auto why = testing::NspawnUnavailable(); !why.empty()) GTEST_SKIP() << why;
  testing::TempDir dir;
  testing::NspawnBoot spec;
  spec.units = {{"systemd-timesyncd.service", std::string(kChronyLike)}};
  spec.runner = kTimesyncdRunner;
  // timedated's NTP property follows the units listed in ntp-units.d.
  dir.Write("ntp-units.d/80-systemd-timesync.list", "systemd-timesyncd.service\n");
  spec.bind_ro = {
      {dir.Write("cfg.yaml",
                 "data_dir: /tmp/mamori-data\nchecks:\n  - {name: td, type: timedaemon}\n"),
       "/cfg.yaml"},
      {dir.path() + "/ntp-units.d", "/etc/systemd/ntp-units.d"}};
  spec.private_network = true;
  auto boot = testing::BootContainer(dir, spec);
  if (!boot.skip.empty()) GTEST_SKIP() << boot.skip;
  ASSERT_TRUE(boot.booted) << boot.err;
  EXPECT_FALSE(boot.timed_out) << "the container did not power off within 60 s";
  const std::string stderr_text = testing::Slurp(boot.out + "/stderr.txt");

  auto running = nlohmann::json::parse(testing::Slurp(boot.out + "/running.json"), nullptr, false);
  ASSERT_TRUE(running.is_array() && running.size() == 1u)
      << testing::Slurp(boot.out + "/running.json") << "\nstderr: " << stderr_text;
  const std::string s = running[0]["summary"];
  EXPECT_NE(s.find("systemd-timesyncd.service is running"), std::string::npos) << s;
  // timedate1 answered for real: NTP is on (the listed unit is enabled) and
  // the kernel's synchronised flag was read either way.
  EXPECT_EQ(running[0]["metrics"]["ntp_enabled"], 1) << running.dump(2);
  EXPECT_TRUE(running[0]["metrics"].contains("timesyncd_synchronised")) << running.dump(2);
  EXPECT_EQ(s.find("timedate1 not read"), std::string::npos) << s;

  auto stopped = nlohmann::json::parse(testing::Slurp(boot.out + "/stopped.json"), nullptr, false);
  ASSERT_TRUE(stopped.is_array() && stopped.size() == 1u) << stderr_text;
  EXPECT_EQ(stopped[0]["status"], "critical") << stopped.dump(2);
  EXPECT_EQ(stopped[0]["summary"],
            "systemd-timesyncd.service is enabled and stopped: clock not disciplined (safe "
            "remedy: systemctl restart systemd-timesyncd.service)")
      << stopped.dump(2);
}

// The zero-config daemon (the configuration `mamori doctor --print-config`
// generates in the container, only its pace quickened: checks every 300 ms,
// alert on the first failure, and its data in /out) after incident 2's
// maintenance: the enabled time daemon is stopped. mamori starts it again
// through systemd, once (the plan it generated: at most twice an hour), and
// records the restart in its store; with the daemon back, nothing more.
constexpr const char* kZeroConfigRunner = R"([Unit]
After=multi-user.target chronyd.service
[Service]
Type=oneshot
ExecStartPre=/bin/sh -c 'echo booted > /out/booted'
ExecStartPre=/bin/sh -c 'for i in $(seq 100); do systemctl is-active -q chronyd.service && exit 0; sleep 0.1; done'
ExecStartPre=/bin/systemctl stop chronyd.service
ExecStart=/bin/sh -c '/mamori-bin doctor --print-config > /out/zero.yaml 2> /out/stderr.txt; sed -e "s/interval: 60s/interval: 300ms/; s/failures_before_alert: 3/failures_before_alert: 1/; s|^data_dir: .*|data_dir: /out/data|" /out/zero.yaml > /tmp/run.yaml; /mamori-bin run -c /tmp/run.yaml > /out/run.log 2>&1 & pid=$!; for i in $(seq 100); do grep -q "restart 1/2 of chronyd.service: job done" /out/run.log && break; sleep 0.1; done; sleep 1; kill -TERM $pid; wait $pid; echo $? > /out/run_exit; systemctl poweroff --no-block'
)";

TEST(HostTimedaemon, ZeroConfigDaemonStartsAStoppedTimeDaemonOnce) {
  if (auto why = testing::NspawnUnavailable(); !why.empty()) GTEST_SKIP() << why;
  testing::TempDir dir;
  testing::NspawnBoot spec;
  spec.units = {{"chronyd.service",
                 "[Service]\nExecStart=/bin/sh -c 'echo start >> /out/starts; exec sleep "
                 "infinity'\n"}};
  spec.runner = kZeroConfigRunner;
  spec.private_network = true;
  spec.timeout = 40s;
  const auto started = std::chrono::steady_clock::now();
  auto boot = testing::BootContainer(dir, spec);
  if (!boot.skip.empty()) GTEST_SKIP() << boot.skip;
  ASSERT_TRUE(boot.booted) << boot.err;
  std::cout << "boot, zero-config run and restart: "
            << std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - started)
                   .count()
            << " ms\n";
  EXPECT_FALSE(boot.timed_out);
  const std::string log = testing::Slurp(boot.out + "/run.log");
  const std::string zero = testing::Slurp(boot.out + "/zero.yaml");
  EXPECT_NE(zero.find("  - {name: time-daemon, type: timedaemon, restart: {unit: chronyd.service, "
                      "limit: 2, within: 1h}}\n"),
            std::string::npos)
      << zero << testing::Slurp(boot.out + "/stderr.txt");
  EXPECT_EQ(testing::Slurp(boot.out + "/run_exit"), "0\n") << log;
  // Its boot's start, then exactly one start by mamori.
  EXPECT_EQ(testing::Slurp(boot.out + "/starts"), "start\nstart\n") << log;

  SystemClock clock;
  auto store = Store::Open(boot.out + "/data", clock, Store::OpenMode::kReadOnly);
  ASSERT_TRUE(store.ok()) << store.error().message();
  auto events = (*store)->Events("time-daemon", WallTime{}, 100);
  ASSERT_TRUE(events.ok()) << events.error().message();
  std::string remedies;
  for (const auto& e : *events)
    if (e.kind == EventKind::kRemedy) remedies += e.summary + "\n";
  EXPECT_NE(remedies.find("restart 1/2 of chronyd.service: starting"), std::string::npos)
      << remedies << log;
  EXPECT_NE(remedies.find("restart 1/2 of chronyd.service: job done"), std::string::npos)
      << remedies;
  EXPECT_EQ(remedies.find("restart 2/2"), std::string::npos) << remedies;
  EXPECT_EQ(remedies.find("gave up"), std::string::npos) << remedies;
}

}  // namespace
}  // namespace mamori
