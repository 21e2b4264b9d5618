// `mamori diagnose --since previous-boot` against a real persistent journal:
// the same container (one machine id, one /var/log/journal kept in the
// test's directory) is booted twice with a real systemd and journald. The
// first boot logs what incident 1's MariaDB logged (a corrupted InnoDB
// page) and powers off cleanly; the second logs incident 3's Apache mutex
// line and runs the real mamori inside.
//
// What it proves: --since previous-boot reads the first boot's lines and
// not the second's (the previous boot is found in the journal, also in a
// container, where /proc/stat's btime is the host's boot and not this
// one's), and --since boot the second boot's lines only.
//
// Needs root and systemd-nspawn; skips only where the container cannot start.
#include <gtest/gtest.h>

#include <filesystem>

#include "mamori_source_dir.h"
#include "testing/nspawn.h"

namespace mamori {
namespace {

using namespace std::chrono_literals;
using testing::Slurp;

constexpr const char* kFirstBoot = R"([Unit]
After=multi-user.target systemd-journal-flush.service
[Service]
Type=oneshot
ExecStartPre=/bin/sh -c 'echo booted > /out/booted'
ExecStart=/bin/sh -c 'logger -t mariadbd "[ERROR] InnoDB: Failed to read page 27258 from file ./wp/wp_statpress.ibd: Page read from tablespace is corrupted."; journalctl --sync; cat /proc/sys/kernel/random/boot_id > /out/boot1; systemctl poweroff --no-block'
)";

constexpr const char* kSecondBoot = R"([Unit]
After=multi-user.target systemd-journal-flush.service
[Service]
Type=oneshot
ExecStartPre=/bin/sh -c 'echo booted > /out/booted'
ExecStart=/bin/sh -c 'logger -t httpd "[error] (17)File exists: modpython: Failed to create global mutex 0 of 8 (/tmp/mpmtx7120)."; journalctl --sync; cat /proc/sys/kernel/random/boot_id > /out/boot2; /mamori-bin diagnose --json --rules /rules --since previous-boot > /out/previous.json 2> /out/stderr.txt; /mamori-bin diagnose --json --rules /rules --since boot > /out/boot.json 2>> /out/stderr.txt; systemctl poweroff --no-block'
)";

TEST(HostJournalBoots, DiagnoseSincePreviousBootReadsTheFirstBootsLines) {
  if (auto why = testing::NspawnUnavailable(); !why.empty()) GTEST_SKIP() << why;
  testing::TempDir dir;
  std::filesystem::create_directories(dir.path() + "/journal");
  testing::NspawnBoot spec;
  spec.private_network = true;
  spec.bind = {{dir.path() + "/journal", "/var/log/journal"}};
  spec.bind_ro = {{std::string(MAMORI_SOURCE_DIR) + "/rules", "/rules"}};
  // One machine: journald keeps the files under /var/log/journal/MACHINE-ID.
  spec.extra_args = {"--uuid=5f1a2b3c4d5e6f708192a3b4c5d6e7f8"};
  spec.timeout = 30s;
  spec.runner = kFirstBoot;
  spec.units_dir = "units1";
  auto first = testing::BootContainer(dir, spec);
  if (!first.skip.empty()) GTEST_SKIP() << first.skip;
  ASSERT_TRUE(first.booted) << first.err;
  EXPECT_FALSE(first.timed_out);
  spec.runner = kSecondBoot;
  spec.units_dir = "units2";
  auto second = testing::BootContainer(dir, spec);
  ASSERT_TRUE(second.booted) << second.err;
  EXPECT_FALSE(second.timed_out);
  const std::string boot1 = Slurp(dir.path() + "/out/boot1");
  const std::string boot2 = Slurp(dir.path() + "/out/boot2");
  ASSERT_FALSE(boot1.empty());
  ASSERT_NE(boot1, boot2) << "two boots, two boot ids";

  const std::string stderr_text = Slurp(dir.path() + "/out/stderr.txt");
  const std::string previous = Slurp(dir.path() + "/out/previous.json");
  EXPECT_NE(previous.find("mariadb.innodb-page-corrupted"), std::string::npos)
      << previous << "\nstderr: " << stderr_text;
  EXPECT_EQ(previous.find("apache.mutex-create-failed"), std::string::npos) << previous;
  const std::string boot = Slurp(dir.path() + "/out/boot.json");
  EXPECT_NE(boot.find("apache.mutex-create-failed"), std::string::npos)
      << boot << "\nstderr: " << stderr_text;
  EXPECT_EQ(boot.find("mariadb.innodb-page-corrupted"), std::string::npos) << boot;
}

}  // namespace
}  // namespace mamori
