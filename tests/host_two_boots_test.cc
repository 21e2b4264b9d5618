// The zero-config `mamori run` across two real boots of the same container
// (testing/nspawn.h; /out, holding mamori's data directory, is kept between
// them): incident 3's dynamic-DNS updater runs in the first boot and does
// not come back in the second. The configuration is what `mamori doctor
// --print-config` generates inside, only quickened (checks every 300 ms,
// settle 1 s) and given a command channel writing to /out.
//
// What it proves: the first run leaves the boot record with the "stopped"
// mark when stopped with SIGTERM; the second records a boot event that
// says so; exactly one after-boot notification goes out, naming the unit
// that did not come back, with no check written for it.
//
// Needs root and systemd-nspawn; skips only where the container cannot start.
#include <gtest/gtest.h>

#include <sstream>

#include "mamori/store/store.h"
#include "testing/nspawn.h"

namespace mamori {
namespace {

using namespace std::chrono_literals;
using testing::Slurp;

constexpr const char* kDdns =
    "[Service]\nExecStart=/bin/sh -c 'test -e /out/ddns-broken && exit 1; exec sleep "
    "infinity'\n";

// Generates the zero-config, quickened, with a channel; runs mamori until
// WAIT_FOR shows in its log (bounded), stops it and powers off.
std::string Runner(const std::string& wait_unit, const std::string& wait_for,
                   const std::string& after) {
  return R"([Unit]
After=multi-user.target ddns.service
[Service]
Type=oneshot
ExecStartPre=/bin/sh -c 'echo booted > /out/booted'
ExecStartPre=/bin/sh -c 'for i in $(seq 100); do systemctl )" +
         wait_unit + R"( -q ddns.service && exit 0; sleep 0.1; done'
ExecStart=/bin/sh -c '/mamori-bin doctor --print-config > /out/zero.yaml 2>> /out/stderr.txt; sed -e "s/interval: 60s/interval: 300ms/; s/failures_before_alert: 3/failures_before_alert: 1/; s|^data_dir: .*|data_dir: /out/data|" /out/zero.yaml > /tmp/run.yaml; cat /cfg-tail.yaml >> /tmp/run.yaml; /mamori-bin run -c /tmp/run.yaml >> /out/run.log 2>&1 & pid=$!; for i in $(seq 150); do grep -q ")" +
         wait_for + R"(" )" + (wait_for == "after-boot" ? "/out/alerts.jsonl" : "/out/run.log") +
         R"( 2>/dev/null && break; sleep 0.1; done; sleep 0.5; kill -TERM $pid; wait $pid; echo $? >> /out/run_exit; )" +
         after + R"( systemctl poweroff --no-block'
)";
}

constexpr const char* kTail = R"(after_boot: {settle: 1s}
alerting: {group_wait: 0s}
notify:
  - {name: log, type: command, command: "cat >> /out/alerts.jsonl; echo >> /out/alerts.jsonl", shell: true}
)";

TEST(HostTwoBoots, ZeroConfigRunSaysWhatDidNotComeBackAfterTheSecondBoot) {
  if (auto why = testing::NspawnUnavailable(); !why.empty()) GTEST_SKIP() << why;
  testing::TempDir dir;
  testing::NspawnBoot spec;
  spec.units = {{"ddns.service", kDdns}};
  spec.private_network = true;
  spec.timeout = 40s;
  spec.bind_ro = {{dir.Write("cfg-tail.yaml", kTail), "/cfg-tail.yaml"}};
  spec.units_dir = "units1";
  spec.runner = Runner("is-active", "systemd-units: PENDING -> OK",
                       "cp /out/data/boot /out/boot1-record; touch /out/ddns-broken;");
  const auto started = std::chrono::steady_clock::now();
  auto first = testing::BootContainer(dir, spec);
  if (!first.skip.empty()) GTEST_SKIP() << first.skip;
  ASSERT_TRUE(first.booted) << first.err;
  EXPECT_FALSE(first.timed_out);
  spec.units_dir = "units2";
  spec.runner = Runner("is-failed", "after-boot", "");
  auto second = testing::BootContainer(dir, spec);
  ASSERT_TRUE(second.booted) << second.err;
  EXPECT_FALSE(second.timed_out);
  std::cout << "two boots with the zero-config daemon: "
            << std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - started)
                   .count()
            << " ms\n";
  const std::string out = dir.path() + "/out";
  const std::string log = Slurp(out + "/run.log");
  EXPECT_EQ(Slurp(out + "/run_exit"), "0\n0\n") << log;
  // Stopped with SIGTERM: the record of the first boot carries the mark.
  const std::string record = Slurp(out + "/boot1-record");
  EXPECT_TRUE(record.ends_with("\nstopped\n")) << record << log;

  SystemClock clock;
  auto store = Store::Open(out + "/data", clock, Store::OpenMode::kReadOnly);
  ASSERT_TRUE(store.ok()) << store.error().message();
  auto events = (*store)->Events("@host", WallTime{}, 10);
  ASSERT_TRUE(events.ok()) << events.error().message();
  int boots = 0;
  for (const auto& e : *events) {
    if (!e.summary.starts_with("booted (boot ")) continue;
    ++boots;
    EXPECT_NE(e.summary.find("mamori was stopped before it ended"), std::string::npos) << e.summary;
  }
  EXPECT_EQ(boots, 1) << log;

  // One after-boot notification, one JSON document a line, naming the unit.
  std::istringstream lines(Slurp(out + "/alerts.jsonl"));
  int after_boot = 0;
  std::string summary;
  for (std::string line; std::getline(lines, line);) {
    if (line.find("\"after-boot\"") == std::string::npos) continue;
    ++after_boot;
    summary = line;
  }
  EXPECT_EQ(after_boot, 1) << Slurp(out + "/alerts.jsonl") << log;
  EXPECT_NE(summary.find("ddns.service"), std::string::npos) << summary;
}

}  // namespace
}  // namespace mamori
