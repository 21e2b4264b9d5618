// The shipped unit (packaging/mamori.service) run by a real systemd as PID 1
// (testing/nspawn.h), unchanged but for the binary's path and WatchdogSec=2s
// (30 s in the shipped file): the whole sandbox, the dynamic user and the
// capabilities are the ones users get.
//
// The runner (a shell script, results to /out) starts the unit with
// `systemctl start`, which for Type=notify returns only once mamori sent
// READY=1; freezes the daemon with SIGSTOP and waits (bounded) for systemd's
// watchdog to restart it; then writes a broken configuration and runs
// `systemctl reload`.
//
// What it proves: the daemon sends READY=1 and STATUS= from inside the
// sandbox (the start succeeds, the status line is mamori's), it pings the
// watchdog while it runs (still the same process after three WatchdogSec
// periods) and a frozen one is restarted (NRestarts 1, a new MainPID,
// active again); a reload with errors leaves the same process active and
// logs the refusal.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "mamori_source_dir.h"
#include "testing/nspawn.h"

namespace mamori {
namespace {

using namespace std::chrono_literals;
using testing::OutLine;
using testing::Slurp;

constexpr const char* kConfig = R"(checks:
  - {name: root, type: disk, path: /, interval: 1s, warning: 98%, critical: 99%}
)";

// Every wait is a bounded poll; `ms` is the time since the script began.
constexpr const char* kScript = R"sh(set -u
echo booted > /out/booted
ms() { echo $(( $(date +%s%N) / 1000000 )); }
show() { systemctl show -p "$1" --value mamori; }
step() { echo "$(ms) $1" >> /out/trace; }
step booted
mkdir -p /etc/mamori && cp /cfg.yaml /etc/mamori/mamori.yaml
t=$(ms); systemctl start mamori; echo $? > /out/start_rc; echo $(( $(ms) - t )) > /out/start_ms
systemctl is-active mamori > /out/active1
show StatusText > /out/status1
show MainPID > /out/pid1
# Three watchdog periods of a healthy daemon: the pings keep it alive.
sleep 6
show MainPID > /out/pid1b
show NRestarts > /out/restarts1
step stop; t=$(ms); systemctl kill -s SIGSTOP mamori
for i in $(seq 300); do
  [ "$(show NRestarts)" = 1 ] && [ "$(systemctl is-active mamori)" = active ] && break
  sleep 0.1
done
echo $(( $(ms) - t )) > /out/restart_ms
show NRestarts > /out/restarts2
show MainPID > /out/pid2
systemctl is-active mamori > /out/active2
step reload
printf 'checks: [\n' > /etc/mamori/mamori.yaml
timeout 10 systemctl reload mamori; echo $? > /out/reload_rc
step reloaded
for i in $(seq 50); do
  case "$(show StatusText)" in *refused*) break;; esac
  sleep 0.1
done
systemctl is-active mamori > /out/active3
show MainPID > /out/pid3
show StatusText > /out/status3
systemctl status --no-pager mamori > /out/status
journalctl -u mamori --no-pager -o cat > /out/journal
step done
systemctl poweroff --no-block
)sh";

// The shipped unit with `from` replaced by `to` (each must occur), without
// its [Install] section (the helper adds one).
std::string ShippedUnit(const std::vector<std::pair<std::string, std::string>>& edits) {
  std::ifstream in(std::string(MAMORI_SOURCE_DIR) + "/packaging/mamori.service");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  EXPECT_FALSE(text.empty()) << "packaging/mamori.service is missing";
  for (const auto& [from, to] : edits) {
    auto at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from << " is not in packaging/mamori.service";
    if (at != std::string::npos) text.replace(at, from.size(), to);
  }
  return text.substr(0, text.find("[Install]"));
}

TEST(SystemdUnit, NotifyReadyWatchdogRestartAndRefusedReloadInTheShippedSandbox) {
  if (auto why = testing::NspawnUnavailable(); !why.empty()) GTEST_SKIP() << why;
  testing::TempDir dir;
  testing::NspawnBoot boot;
  boot.units.push_back({"mamori.service",
                        ShippedUnit({{"ExecStart=/usr/bin/mamori ", "ExecStart=/mamori-bin "},
                                     {"WatchdogSec=30s", "WatchdogSec=2s"}}),
                        false});
  boot.runner = testing::kShellScriptRunner;
  boot.bind_ro.emplace_back(dir.Write("cfg.yaml", kConfig), "/cfg.yaml");
  boot.bind_ro.emplace_back(dir.Write("runner.sh", kScript), "/runner.sh");
  boot.timeout = 55s;
  auto out = testing::BootContainer(dir, boot);
  if (!out.skip.empty()) GTEST_SKIP() << out.skip;
  ASSERT_TRUE(out.booted);
  EXPECT_FALSE(out.timed_out) << "the container did not power off in time";
  const std::string journal =
      Slurp(out.out + "/trace") + Slurp(out.out + "/status") + Slurp(out.out + "/journal");
  std::cout << "systemctl start (until READY=1): " << OutLine(out, "start_ms")
            << " ms; SIGSTOP to active again after the watchdog restart: "
            << OutLine(out, "restart_ms") << " ms\n";

  EXPECT_EQ(OutLine(out, "start_rc"), "0") << journal;
  EXPECT_EQ(OutLine(out, "active1"), "active") << journal;
  EXPECT_EQ(OutLine(out, "status1"), "running 1 check") << journal;
  const std::string pid1 = OutLine(out, "pid1");
  ASSERT_NE(pid1, "");
  ASSERT_NE(pid1, "0");
  EXPECT_EQ(OutLine(out, "pid1b"), pid1) << "restarted while healthy: " << journal;
  EXPECT_EQ(OutLine(out, "restarts1"), "0") << journal;

  EXPECT_EQ(OutLine(out, "restarts2"), "1") << journal;
  EXPECT_EQ(OutLine(out, "active2"), "active") << journal;
  const std::string pid2 = OutLine(out, "pid2");
  EXPECT_NE(pid2, pid1) << journal;
  EXPECT_NE(pid2, "0") << journal;
  EXPECT_NE(journal.find("Watchdog timeout"), std::string::npos) << journal;

  EXPECT_EQ(OutLine(out, "reload_rc"), "0") << journal;
  EXPECT_EQ(OutLine(out, "active3"), "active") << journal;
  EXPECT_EQ(OutLine(out, "pid3"), pid2) << journal;
  EXPECT_NE(journal.find("reload rejected: "), std::string::npos) << journal;
  EXPECT_NE(journal.find("the previous configuration keeps running"), std::string::npos) << journal;
  EXPECT_EQ(OutLine(out, "status3"), "running 1 check; the last reload was refused (see the log)")
      << journal;
}

}  // namespace
}  // namespace mamori
