// The `kernel` check: dpkg's version order, kernel flavours, installed
// kernels under a temporary root, OOM kills counted from the kernel's own
// lines (as /dev/kmsg records and as journal text), /run/reboot-required, and
// for real: /dev/kmsg read to its end without blocking.
#include "mamori/host/kernel_probe.h"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <random>

#include "mamori/host/kernel_facts.h"
#include "testing/cli.h"
#include "testing/probe_harness.h"

namespace mamori::host::kernel {
namespace {

using namespace std::chrono_literals;

TEST(KernelFacts, VersionCompareIsDpkgs) {
  // Cases of dpkg's own test suite (lib/dpkg/t/t-version.c) and kernel releases.
  EXPECT_EQ(VersionCompare("1.0", "1.0"), 0);
  EXPECT_EQ(VersionCompare("01", "1"), 0);
  EXPECT_LT(VersionCompare("1.0", "1.0.1"), 0);
  EXPECT_LT(VersionCompare("1.0~rc1", "1.0"), 0);
  EXPECT_LT(VersionCompare("~~", "~"), 0);
  EXPECT_LT(VersionCompare("~", ""), 0);
  EXPECT_GT(VersionCompare("1.0a", "1.0"), 0);
  EXPECT_GT(VersionCompare("1.0+b1", "1.0"), 0);
  EXPECT_LT(VersionCompare("1.0a", "1.0+"), 0);         // letters before other characters
  EXPECT_LT(VersionCompare("6.1.0-9", "6.1.0-10"), 0);  // numbers, not text
  EXPECT_LT(VersionCompare("6.1.0-25", "6.1.0-28"), 0);
  EXPECT_LT(VersionCompare("6.1.0-0.deb11.21", "6.1.0-28"), 0);
  EXPECT_GT(VersionCompare("6.10.1", "6.9.12"), 0);
}

TEST(KernelFacts, ReleaseFlavours) {
  EXPECT_EQ(SplitRelease("6.1.0-25-amd64").version, "6.1.0-25");
  EXPECT_EQ(SplitRelease("6.1.0-25-amd64").flavour, "amd64");
  EXPECT_EQ(SplitRelease("6.1.0-28-cloud-amd64").flavour, "cloud-amd64");
  EXPECT_EQ(SplitRelease("5.15.0-1050-azure").version, "5.15.0-1050");
  EXPECT_EQ(SplitRelease("6.6.1-arch1-1").flavour, "");
  EXPECT_EQ(SplitRelease("6.18.44-fc-v1272").version, "6.18.44");

  const std::vector<std::string> installed = {"6.1.0-25-amd64", "6.1.0-28-amd64",
                                              "6.1.0-30-cloud-amd64", "6.1.0-9-amd64"};
  EXPECT_EQ(NewerInstalled("6.1.0-25-amd64", installed), "6.1.0-28-amd64");
  EXPECT_EQ(NewerInstalled("6.1.0-28-amd64", installed), "");
  EXPECT_EQ(NewerInstalled("6.1.0-30-cloud-amd64", installed), "");
  EXPECT_EQ(NewerInstalled("6.18.44-fc-v1272", {}), "");
}

TEST(KernelFacts, InstalledKernelsFromBootAndModules) {
  testing::TempDir root;
  root.Write("boot/vmlinuz-6.1.0-28-amd64", "");
  root.Write("boot/config-6.1.0-29-amd64", "");
  root.Write("boot/vmlinuz-6.1.0-25-amd64", "");
  root.Write("lib/modules/6.1.0-30-amd64/modules.dep", "");
  // What a purged kernel leaves behind: no modules.dep.
  root.Write("lib/modules/6.1.0-31-amd64/updates/dkms/x.ko", "");
  EXPECT_EQ(InstalledKernels(root.path()),
            (std::vector<std::string>{"6.1.0-25-amd64", "6.1.0-28-amd64", "6.1.0-30-amd64"}));
}

// As /dev/kmsg gives them ("PRI,SEQ,USEC,FLAGS;text", then " KEY=value"
// lines), from a Debian 12 host: a global OOM kill of MariaDB (both lines), a
// memory-cgroup kill of a PHP-FPM worker, a second MariaDB kill whose summary
// line was lost, and an old kernel's "Kill process" + "Killed process".
constexpr const char* kKmsg =
    "6,1041,4519342101,-;mariadbd invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|"
    "__GFP_COMP), order=0, oom_score_adj=0\n"
    "4,1042,4519342118,-;CPU: 1 PID: 812 Comm: mariadbd Not tainted 6.1.0-25-amd64 #1  Debian "
    "6.1.106-3\n"
    " SUBSYSTEM=cpu\n"
    "6,1078,4519342901,-;oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,"
    "mems_allowed=0,global_oom,task_memcg=/system.slice/mariadb.service,task=mariadbd,pid=812,"
    "uid=106\n"
    "3,1079,4519342925,-;Out of memory: Killed process 812 (mariadbd) total-vm:2817508kB, "
    "anon-rss:1534340kB, file-rss:0kB, shmem-rss:0kB, UID:106 pgtables:3540kB oom_score_adj:0\n"
    "6,1201,5120000101,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,"
    "mems_allowed=0,oom_memcg=/system.slice/php8.2-fpm.service,task_memcg=/system.slice/"
    "php8.2-fpm.service,task=php-fpm8.2,pid=4711,uid=33\n"
    "3,1202,5120000120,-;Memory cgroup out of memory: Killed process 4711 (php-fpm8.2) "
    "total-vm:412340kB, anon-rss:262144kB, file-rss:10240kB, shmem-rss:2048kB, UID:33 "
    "pgtables:720kB oom_score_adj:0\n"
    "3,1300,6100000000,-;Out of memory: Killed process 2290 (mariadbd) total-vm:2817508kB, "
    "anon-rss:1534340kB, file-rss:0kB, shmem-rss:0kB, UID:106 pgtables:3540kB oom_score_adj:0\n"
    "3,1400,7100000000,-;Out of memory: Kill process 999 (java) score 901 or sacrifice child\n"
    "3,1401,7100000001,-;Killed process 999 (java) total-vm:4817508kB, anon-rss:3534340kB, "
    "file-rss:0kB, shmem-rss:0kB\n"
    "6,1500,8100000000,-;EXT4-fs (vda1): mounted filesystem with ordered data mode.\n";

// The same kill as `journalctl -k` prints it.
constexpr const char* kJournal =
    "Dec 07 01:02:03 vps kernel: oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,"
    "mems_allowed=0,global_oom,task_memcg=/system.slice/nginx.service,task=nginx,pid=901,"
    "uid=33\n"
    "Dec 07 01:02:03 vps kernel: Out of memory: Killed process 901 (nginx) total-vm:91204kB, "
    "anon-rss:80000kB, file-rss:0kB, shmem-rss:0kB, UID:33 pgtables:200kB oom_score_adj:0\n";

std::vector<std::string> ReadAll(const std::string& path) {
  bool truncated = false;
  auto lines = ReadKernelLog(path, 1000, std::chrono::steady_clock::now() + 5s, &truncated);
  EXPECT_TRUE(lines.ok()) << (lines.ok() ? "" : lines.error().message());
  EXPECT_FALSE(truncated);
  return lines.ok() ? *lines : std::vector<std::string>{};
}

TEST(KernelFacts, OomKillsCountedOncePerKill) {
  testing::TempDir dir;
  const auto lines = ReadAll(dir.Write("kmsg", kKmsg));
  ASSERT_EQ(lines.size(), 10u);  // the " SUBSYSTEM=" continuation dropped
  EXPECT_EQ(lines[0].rfind("mariadbd invoked oom-killer", 0), 0u) << lines[0];
  EXPECT_EQ(OomKills(lines),
            (std::map<std::string, int>{{"java", 1}, {"mariadbd", 2}, {"php-fpm8.2", 1}}));
  EXPECT_EQ(OomKills(ReadAll(dir.Write("journal", kJournal))),
            (std::map<std::string, int>{{"nginx", 1}}));
  bool truncated = false;
  auto few =
      ReadKernelLog(dir.path() + "/kmsg", 3, std::chrono::steady_clock::now() + 5s, &truncated);
  ASSERT_TRUE(few.ok());
  EXPECT_TRUE(truncated);
  EXPECT_LE(few->size(), 3u + 10u);  // stops at the bound (one read's lines at most past it)
  EXPECT_FALSE(
      ReadKernelLog(dir.path() + "/none", 3, std::chrono::steady_clock::now() + 5s, &truncated)
          .ok());
}

// The real /dev/kmsg: a marker written to it is read back, and reading stops
// at the end at once (O_NONBLOCK), however long the deadline.
TEST(KernelFacts, RealKmsgIsReadToItsEndWithoutBlocking) {
  const int fd = ::open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
  if (fd < 0) GTEST_SKIP() << "cannot write /dev/kmsg here (needs root)";
  const std::string marker =
      "mamori kernel-log test marker " + std::to_string(std::random_device{}());
  const std::string record = "<6>" + marker + "\n";
  ASSERT_EQ(::write(fd, record.data(), record.size()), static_cast<ssize_t>(record.size()));
  ::close(fd);
  const auto start = std::chrono::steady_clock::now();
  bool truncated = false;
  auto lines = ReadKernelLog("/dev/kmsg", 1000000, start + 30s, &truncated);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(lines.ok()) << lines.error().message();
  EXPECT_FALSE(truncated);
  EXPECT_LT(took, 5s);
  EXPECT_NE(std::find(lines->begin(), lines->end(), marker), lines->end())
      << lines->size() << " lines, last: " << (lines->empty() ? "" : lines->back());
}

}  // namespace
}  // namespace mamori::host::kernel

namespace mamori::probes::kernel {
namespace {

Observation RunOn(const Options& o) {
  KernelProbe probe(o);
  SystemClock clock;
  return probe.Run(clock, clock.Monotonic() + std::chrono::seconds(5));
}

TEST(KernelProbe, NamesOomKillsPendingRebootAndNewerKernel) {
  testing::TempDir root;
  Options o;
  o.fs_root = root.path();
  o.kmsg = root.Write("kmsg", host::kernel::kKmsg);
  o.journal_dir = root.path() + "/boot";  // no journal: this test is about /dev/kmsg
  o.running_release = "6.1.0-25-amd64";
  root.Write("run/reboot-required", "*** System restart required ***\n");
  root.Write("run/reboot-required.pkgs", "linux-image-6.1.0-28-amd64\nlibc6\nlibc6\n");
  root.Write("boot/vmlinuz-6.1.0-25-amd64", "");
  root.Write("boot/vmlinuz-6.1.0-28-amd64", "");
  auto obs = RunOn(o);
  EXPECT_EQ(obs.status, CheckStatus::kWarning);
  EXPECT_EQ(obs.summary,
            "running 6.1.0-25, installed 6.1.0-28: reboot to use it; "
            "reboot required (linux-image-6.1.0-28-amd64, libc6); "
            "OOM killer killed java, mariadbd (2 times), php-fpm8.2 since boot");

  o.ignore_oom = {"java", "php-*"};
  o.newer_kernel = false;
  o.reboot_required = false;
  obs = RunOn(o);
  EXPECT_EQ(obs.summary, "OOM killer killed mariadbd (2 times) since boot");
}

TEST(KernelProbe, HealthyHostIsOk) {
  testing::TempDir root;
  Options o;
  o.fs_root = root.path();
  o.kmsg = root.Write("kmsg", "6,1,1,-;Linux version 6.1.0-28-amd64\n");
  o.journal_dir = root.path() + "/boot";  // no journal there
  o.running_release = "6.1.0-28-amd64";
  root.Write("boot/vmlinuz-6.1.0-25-amd64", "");
  root.Write("boot/vmlinuz-6.1.0-28-amd64", "");
  auto obs = RunOn(o);
  EXPECT_EQ(obs.status, CheckStatus::kOk);
  EXPECT_EQ(obs.summary, "running 6.1.0-28-amd64; no OOM kills since boot");
  // A kernel log it may not read is said, and is no failure.
  o.kmsg = root.path() + "/missing";
  obs = RunOn(o);
  EXPECT_EQ(obs.status, CheckStatus::kOk);
  EXPECT_NE(obs.summary.find("kernel log not readable"), std::string::npos) << obs.summary;
}

TEST(KernelProbe, Config) {
  testing::ProbeHarness h;
  std::string errors;
  EXPECT_TRUE(
      h.Build("{name: k, type: kernel, oom: false, reboot_required: true, "
              "newer_kernel: false, ignore_oom: [stress-ng*]}",
              &errors))
      << errors;
  EXPECT_FALSE(h.Build("{name: k, type: kernel, oom: maybe}", &errors));
}

}  // namespace
}  // namespace mamori::probes::kernel
