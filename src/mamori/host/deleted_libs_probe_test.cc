// The `deleted_libs` check: maps lines as the kernel prints them, the unit
// from /proc/PID/cgroup (v1 and v2), a scan of a fake proc tree with its
// bounds, the summary; then for real: a copy of sleep(1) started from a
// temporary directory and deleted under it.
#include "mamori/host/deleted_libs_probe.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "testing/cli.h"
#include "testing/ports.h"
#include "testing/probe_harness.h"
#include "testing/spawn.h"

namespace mamori::host::deleted_libs {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// nginx after `apt upgrade` replaced libssl and nginx itself.
constexpr const char* kMaps =
    "55d0c1a00000-55d0c1a2e000 r--p 00000000 fe:01 1311031                    /usr/sbin/nginx "
    "(deleted)\n"
    "55d0c1a2e000-55d0c1b1f000 r-xp 0002e000 fe:01 1311031                    /usr/sbin/nginx "
    "(deleted)\n"
    "55d0c3c5e000-55d0c3d3e000 rw-p 00000000 00:00 0                          [heap]\n"
    "7f3a1c000000-7f3a1c021000 rw-p 00000000 00:00 0 \n"
    "7f3a1d400000-7f3a1d4a0000 r--p 00000000 fe:01 1315542                    "
    "/usr/lib/x86_64-linux-gnu/libssl.so.3 (deleted)\n"
    "7f3a1d4a0000-7f3a1d5b0000 r-xp 000a0000 fe:01 1315542                    "
    "/usr/lib/x86_64-linux-gnu/libssl.so.3 (deleted)\n"
    "7f3a1d600000-7f3a1d628000 r-xp 00028000 fe:01 1315001                    "
    "/usr/lib/x86_64-linux-gnu/libc.so.6\n"
    "7f3a1e000000-7f3a1f000000 r--p 00000000 fe:01 1300001                    "
    "/usr/lib/locale/locale-archive (deleted)\n"
    "7f3a1f100000-7f3a1f101000 r-xp 00000000 00:01 2051                       /memfd:jit "
    "(deleted)\n"
    "7f3a1f200000-7f3a1f201000 r-xp 00000000 00:19 77                         /dev/shm/x "
    "(deleted)\n"
    "7f3a1f300000-7f3a1f301000 rw-s 00000000 00:01 32768                      /SYSV00000000 "
    "(deleted)\n"
    "7f3a1f400000-7f3a1f401000 r-xp 00000000 fe:01 5012                       /tmp/plugin.so "
    "(deleted)\n"
    "7f3a1f500000-7f3a1f501000 r-xp 00000000 fe:01 5013                       /usr/lib/my "
    "plugin.so (deleted)\n"
    "7ffd4b9f1000-7ffd4b9f3000 r-xp 00000000 00:00 0                          [vdso]\n";

TEST(DeletedLibs, ExecutableMappingsOfDeletedCodeOnly) {
  EXPECT_EQ(DeletedCode(kMaps, DefaultPaths()),
            (std::vector<std::string>{"/usr/sbin/nginx", "/usr/lib/x86_64-linux-gnu/libssl.so.3",
                                      "/usr/lib/my plugin.so"}));
  EXPECT_EQ(DeletedCode(kMaps, {"/tmp/"}), (std::vector<std::string>{"/tmp/plugin.so"}));
  EXPECT_TRUE(DeletedCode(kMaps, {"/usr/lib/x86"}).empty());  // a directory, not a prefix
  EXPECT_TRUE(DeletedCode("", DefaultPaths()).empty());
}

TEST(DeletedLibs, UnitFromCgroup) {
  EXPECT_EQ(UnitFromCgroup("0::/system.slice/nginx.service\n"), "nginx.service");
  EXPECT_EQ(UnitFromCgroup("12:pids:/system.slice/php8.2-fpm.service\n"
                           "1:name=systemd:/system.slice/php8.2-fpm.service\n"),
            "php8.2-fpm.service");
  EXPECT_EQ(UnitFromCgroup("0::/user.slice/user-1000.slice/user@1000.service/app.slice/"
                           "syncthing.service\n"),
            "syncthing.service");
  EXPECT_EQ(UnitFromCgroup("0::/user.slice/user-1000.slice/session-3.scope\n"), "");
  EXPECT_EQ(UnitFromCgroup("0::/\n"), "");
}

void FakeProcess(const testing::TempDir& proc, int pid, const std::string& comm,
                 const std::string& maps, const std::string& cgroup) {
  const std::string d = std::to_string(pid);
  proc.Write(d + "/comm", comm + "\n");
  proc.Write(d + "/maps", maps);
  proc.Write(d + "/cgroup", cgroup);
}

TEST(DeletedLibs, ScanAndSummary) {
  testing::TempDir proc;
  FakeProcess(proc, 812, "nginx", kMaps, "0::/system.slice/nginx.service\n");
  FakeProcess(proc, 813, "nginx", kMaps, "0::/system.slice/nginx.service\n");
  FakeProcess(proc, 2, "kthreadd", "", "0::/\n");
  FakeProcess(proc, 4711, "php-fpm8.2",
              "7f00-7f01 r-xp 00000000 fe:01 99 /usr/lib/php/20220829/opcache.so (deleted)\n",
              "0::/system.slice/php8.2-fpm.service\n");
  FakeProcess(proc, 900, "bash", "7f00-7f01 r-xp 00000000 fe:01 99 /usr/bin/bash\n", "0::/\n");
  proc.Write("self/maps", kMaps);  // not a pid
  ScanOptions so;
  so.proc_root = proc.path();
  auto r = ScanProcesses(so, std::chrono::steady_clock::now() + 5s);
  EXPECT_EQ(r.scanned, 5u);
  EXPECT_FALSE(r.cut_short);
  ASSERT_EQ(r.found.size(), 3u);
  EXPECT_EQ(r.found[0].pid, 812);
  EXPECT_EQ(r.found[2].unit, "php8.2-fpm.service");

  probes::deleted_libs::Options o;
  auto obs = probes::deleted_libs::Judge(o, r);
  EXPECT_EQ(obs.status, CheckStatus::kWarning);
  EXPECT_EQ(obs.summary,
            "nginx (nginx.service), php-fpm8.2 (php8.2-fpm.service) run on deleted libraries: "
            "restart them");
  EXPECT_NE(obs.details.find("812 nginx nginx.service: /usr/sbin/nginx"), std::string::npos)
      << obs.details;
  o.ignore = {"nginx.service"};
  EXPECT_EQ(probes::deleted_libs::Judge(o, r).summary,
            "php-fpm8.2 (php8.2-fpm.service) runs on deleted libraries: restart it");

  so.max_processes = 2;
  r = ScanProcesses(so, std::chrono::steady_clock::now() + 5s);
  EXPECT_TRUE(r.cut_short);
  EXPECT_EQ(r.scanned, 2u);
  so.max_processes = 100;
  so.max_maps_bytes = 100;  // the deleted lines of nginx lie past the first 100 bytes...
  r = ScanProcesses(so, std::chrono::steady_clock::now() + 5s);
  for (const auto& p : r.found) EXPECT_NE(p.name, "nginx") << "read past max_maps_bytes";
  so.max_maps_bytes = 4 << 20;
  r = ScanProcesses(so, std::chrono::steady_clock::now() - 1s);  // deadline passed
  EXPECT_TRUE(r.cut_short);
  EXPECT_EQ(r.scanned, 0u);
}

TEST(DeletedLibs, Config) {
  testing::ProbeHarness h;
  std::string errors;
  EXPECT_TRUE(
      h.Build("{name: d, type: deleted_libs, paths: [/usr/lib, /opt/app/lib], "
              "ignore: [\"user@*\"], max_processes: 500, max_maps_bytes: 1MiB}",
              &errors))
      << errors;
  EXPECT_FALSE(h.Build("{name: d, type: deleted_libs, paths: [usr/lib]}", &errors));
  EXPECT_NE(errors.find("not an absolute path"), std::string::npos) << errors;
}

// A real process running from a file that is then deleted: the check names it
// when its directory is among `paths`, and not with the default code
// directories (a temporary directory holds no installed code).
TEST(DeletedLibs, RealProcessOnADeletedExecutable) {
  testing::TempDir dir;
  const std::string exe = dir.path() + "/facts-sleeper";
  fs::copy_file("/bin/sleep", exe);
  fs::permissions(exe, fs::perms::owner_all);
  testing::SpawnSpec spec;
  spec.argv = {exe, "60"};
  const pid_t pid = testing::SpawnServer(spec);
  ASSERT_GT(pid, 0);
  probes::deleted_libs::Options o;
  o.scan.paths = {dir.path()};
  probes::deleted_libs::DeletedLibsProbe probe(o);
  SystemClock clock;
  // Before the delete: running from an existing file is fine.
  auto obs = probe.Run(clock, clock.Monotonic() + 10s);
  EXPECT_EQ(obs.summary.find("facts-sleeper"), std::string::npos) << obs.summary;
  // Wait until the exec has happened (its maps show the copy), then delete it.
  for (int i = 0; i < 500; ++i) {
    if (testing::ReadFile("/proc/" + std::to_string(pid) + "/maps").find(exe) != std::string::npos)
      break;
    std::this_thread::sleep_for(10ms);
  }
  fs::remove(exe);
  obs = probe.Run(clock, clock.Monotonic() + 10s);
  EXPECT_EQ(obs.status, CheckStatus::kWarning) << obs.summary;
  EXPECT_NE(obs.summary.find("facts-sleeper"), std::string::npos) << obs.summary;
  EXPECT_NE(obs.details.find(std::to_string(pid) + " facts-sleeper"), std::string::npos)
      << obs.details;

  probes::deleted_libs::DeletedLibsProbe defaults({});
  obs = defaults.Run(clock, clock.Monotonic() + 10s);
  EXPECT_EQ(obs.summary.find("facts-sleeper"), std::string::npos) << obs.summary;
  pid_t p = pid;
  testing::StopProcess(p);
}

}  // namespace
}  // namespace mamori::host::deleted_libs
