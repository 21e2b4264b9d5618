// Replay of incident 3 with no check written for it: the server comes back
// after a power cut, and the zero-config `mamori doctor` (what `mamori run`
// with no configuration watches) must name what did not come back.
//
// A real systemd as PID 1 in a container (this machine's /usr, volatile root)
// with the incident's units planted:
// - ddns-update.service, the dynamic-DNS updater whose script had been broken
//   by an edit a month earlier: enabled, it fails at boot;
// - apache2.service, which refuses to start while a mutex file from before the
//   power cut is in its runtime directory ("Failed to create global mutex",
//   "Configuration Failed"), with that mutex file in /run/apache2 (put there
//   before Apache starts, as the unclean shutdown left it; dated ten minutes
//   back, older than the stale-file check's grace).
// Expected: the `systemd-units` row names both units as failed, and the
// `stale-files` row names the mutex with its unit (apache2.service, not
// running): the operator's two repairs, found without configuration.
//
// Needs root and systemd-nspawn; it skips, with nspawn's words, only where the
// container cannot start.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "testing/cli.h"
#include "testing/nspawn.h"

namespace mamori {
namespace {

const char* kDdns =
    "[Unit]\nDescription=dynamic DNS update\n[Service]\nType=simple\n"
    "ExecStart=/bin/sh -c 'echo \"ddns: update failed: unexpected token in ddns.conf\" >&2; "
    "exit 1'\n";

// The mutex as the unclean shutdown left it, before Apache starts.
const char* kLeftover =
    "[Unit]\nBefore=apache2.service\n[Service]\nType=oneshot\n"
    "ExecStart=/bin/sh -c 'mkdir -p /run/apache2 && touch -d \"-10 min\" "
    "/run/apache2/mpm-accept.mutex'\n";

const char* kApache =
    "[Unit]\nDescription=Apache HTTP Server\n[Service]\nType=simple\n"
    "RuntimeDirectory=apache2\nRuntimeDirectoryPreserve=yes\n"
    "ExecStartPre=/bin/sh -c 'if [ -e /run/apache2/mpm-accept.mutex ]; then echo \"Failed to "
    "create global mutex (/run/apache2/mpm-accept.mutex). Configuration Failed\" >&2; exit 1; "
    "fi'\nExecStart=/bin/sleep infinity\n";

// Waits (bounded) until both units have failed, then the zero-config doctor.
const char* kRunner = R"([Unit]
After=multi-user.target ddns-update.service apache2.service
[Service]
Type=oneshot
ExecStartPre=/bin/sh -c 'echo booted > /out/booted'
ExecStartPre=/bin/sh -c 'for i in $(seq 100); do systemctl is-failed -q ddns-update.service && systemctl is-failed -q apache2.service && exit 0; sleep 0.1; done; echo not settled > /out/settle'
ExecStart=/bin/sh -c '/mamori-bin doctor --json > /out/doctor.json 2> /out/stderr.txt; systemctl poweroff --no-block'
)";

TEST(ScenarioPowerCutZeroConfig, DoctorNamesTheUpdaterApacheAndItsStaleMutex) {
  if (auto why = testing::NspawnUnavailable(); !why.empty()) GTEST_SKIP() << why;
  testing::TempDir dir;
  testing::NspawnBoot spec;
  spec.units = {{"ddns-update.service", kDdns},
                {"leftover-mutex.service", kLeftover},
                {"apache2.service", kApache}};
  spec.runner = kRunner;
  auto boot = testing::BootContainer(dir, spec);
  if (!boot.skip.empty()) GTEST_SKIP() << boot.skip;
  ASSERT_TRUE(boot.booted) << boot.err;
  EXPECT_FALSE(boot.timed_out) << "the container did not power off in time";
  EXPECT_EQ(testing::Slurp(boot.out + "/settle"), "") << "the planted units did not fail";

  auto rows = nlohmann::json::parse(testing::Slurp(boot.out + "/doctor.json"), nullptr, false);
  ASSERT_TRUE(rows.is_array()) << testing::Slurp(boot.out + "/stderr.txt");
  std::string units, stale;
  for (const auto& row : rows) {
    if (row.value("name", "") == "systemd-units") units = row.dump();
    if (row.value("name", "") == "stale-files") stale = row.dump();
  }
  ASSERT_FALSE(units.empty()) << rows.dump(2);
  ASSERT_FALSE(stale.empty()) << rows.dump(2);
  EXPECT_NE(units.find("\"status\":\"critical\""), std::string::npos) << units;
  EXPECT_NE(units.find("ddns-update.service"), std::string::npos) << units;
  EXPECT_NE(units.find("apache2.service"), std::string::npos) << units;
  EXPECT_NE(stale.find("/run/apache2/mpm-accept.mutex"), std::string::npos) << stale;
  EXPECT_NE(stale.find("apache2.service"), std::string::npos) << stale;
  // Nothing healthy is named: the leftover oneshot did its job.
  EXPECT_EQ(units.find("leftover-mutex.service"), std::string::npos) << units;
}

}  // namespace
}  // namespace mamori
