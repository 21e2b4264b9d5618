// Tests for the embedded default: well-known Unix sockets found under a
// temporary root (real sockets bound there) become `socket` checks, and the
// generated YAML loads through the normal loader.
#include "mamori/daemon/default_config.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "mamori/daemon/config_file.h"
#include "mamori/host/unit_restart.h"
#include "testing/cli.h"

namespace mamori {
namespace {

namespace fs = std::filesystem;

// Binds a real listening socket at `path`; returns its descriptor.
int Listen(const std::string& path) {
  fs::create_directories(fs::path(path).parent_path());
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0) << path;
  EXPECT_EQ(::listen(fd, 4), 0);
  return fd;
}

// Loads `yaml` through the normal loader and counts its checks of `type`
// (-1 when it does not load).
int ChecksOfType(const std::string& yaml, const std::string& type) {
  auto load = LoadConfigText(yaml, "default.yaml");
  if (!load.config) return -1;
  int n = 0;
  for (const auto& c : load.config->checks) n += c.type == type;
  return n;
}

TEST(DefaultConfig, WellKnownSocketsBecomeSocketChecks) {
  testing::TempDir root;
  const int fpm = Listen(root.path() + "/run/php/php8.2-fpm.sock");
  const int my = Listen(root.path() + "/run/mysqld/mysqld.sock");
  const int pg = Listen(root.path() + "/run/postgresql/.s.PGSQL.5432");
  fs::create_directories(root.path() + "/run/php");
  std::ofstream(root.path() + "/run/php/leftover.sock") << "not a socket";

  EXPECT_EQ(WellKnownSockets(root.path()),
            (std::vector<std::string>{root.path() + "/run/mysqld/mysqld.sock",
                                      root.path() + "/run/php/php8.2-fpm.sock",
                                      root.path() + "/run/postgresql/.s.PGSQL.5432"}));
  const std::string yaml = DefaultConfigYaml("/tmp/d", "/proc", root.path());
  EXPECT_NE(yaml.find("{name: socket-php8.2-fpm, type: socket, path: "), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("{name: socket-mysqld, type: socket"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("{name: socket-postgresql-5432, type: socket"), std::string::npos) << yaml;
  EXPECT_EQ(yaml.find("leftover"), std::string::npos) << yaml;

  EXPECT_EQ(ChecksOfType(yaml, "socket"), 3) << yaml;
  for (int fd : {fpm, my, pg}) ::close(fd);
}

TEST(DefaultConfig, NoSocketsNoSocketChecks) {
  testing::TempDir root;
  EXPECT_TRUE(WellKnownSockets(root.path()).empty());
  EXPECT_EQ(DefaultConfigYaml("/tmp/d", "/proc", root.path()).find("type: socket"),
            std::string::npos);
}

TEST(DefaultConfig, SystemdUnitsOnlyWhereSystemdRuns) {
  testing::TempDir root;
  EXPECT_EQ(DefaultConfigYaml("/tmp/d", "/proc", root.path()).find("type: systemd"),
            std::string::npos);
  EXPECT_EQ(DefaultConfigYaml("/tmp/d", "/proc", root.path()).find("type: timedaemon"),
            std::string::npos);
  fs::create_directories(root.path() + "/run/systemd/system");
  const std::string yaml = DefaultConfigYaml("/tmp/d", "/proc", root.path());
  EXPECT_NE(yaml.find("  - {name: systemd-units, type: systemd}\n"), std::string::npos) << yaml;
  EXPECT_EQ(ChecksOfType(yaml, "systemd"), 1) << yaml;
  EXPECT_NE(yaml.find("  - {name: time-daemon, type: timedaemon}\n"), std::string::npos) << yaml;
}

// The enabled time daemon gets a restart plan: started again when stopped,
// at most twice an hour. Which one is read from the enabling links.
TEST(DefaultConfig, TheEnabledTimeDaemonIsRestartedWhenStopped) {
  testing::TempDir root;
  fs::create_directories(root.path() + "/run/systemd/system");
  fs::create_directories(root.path() + "/etc/systemd/system/sysinit.target.wants");
  fs::create_symlink("/lib/systemd/system/systemd-timesyncd.service",
                     root.path() +
                         "/etc/systemd/system/sysinit.target.wants/"
                         "systemd-timesyncd.service");
  std::string yaml = DefaultConfigYaml("/tmp/d", "/proc", root.path());
  EXPECT_NE(yaml.find("  - {name: time-daemon, type: timedaemon, restart: {unit: "
                      "systemd-timesyncd.service, limit: 2, within: 1h}}\n"),
            std::string::npos)
      << yaml;
  // It loads (a timedaemon check may restart), with that plan.
  auto load = LoadConfigText(yaml, "default.yaml");
  ASSERT_TRUE(load.config) << yaml;
  const CheckConfig* td = load.config->FindCheck("time-daemon");
  ASSERT_NE(td, nullptr);
  ASSERT_TRUE(td->restart);
  EXPECT_EQ(td->restart->unit, "systemd-timesyncd.service");
  EXPECT_EQ(td->restart->limit, 2);
  EXPECT_EQ(td->restart->within, std::chrono::hours(1));
}

TEST(DefaultConfig, NetworkWhereTheHostReachesOut) {
  testing::TempDir proc, root;
  fs::create_directories(proc.path() + "/net");
  fs::create_directories(root.path() + "/etc");
  auto write = [](const std::string& path, const std::string& text) {
    std::ofstream(path) << text;
  };
  write(proc.path() + "/net/route", "Iface\tDestination\tGateway\n");
  write(root.path() + "/etc/resolv.conf", "nameserver 127.0.0.53\n");
  EXPECT_EQ(ChecksOfType(DefaultConfigYaml("/tmp/d", proc.path(), root.path()), "network"), 0)
      << "an isolated host with a local resolver";
  write(root.path() + "/etc/resolv.conf", "nameserver 192.168.1.1\n");
  EXPECT_EQ(ChecksOfType(DefaultConfigYaml("/tmp/d", proc.path(), root.path()), "network"), 1)
      << "no route now, but a resolver out there: the network is expected";
  write(root.path() + "/etc/resolv.conf", "");
  write(proc.path() + "/net/route", "eth0\t00000000\t0101A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n");
  const std::string yaml = DefaultConfigYaml("/tmp/d", proc.path(), root.path());
  EXPECT_NE(yaml.find("  - {name: network, type: network}\n"), std::string::npos) << yaml;
}

TEST(DefaultConfig, StaleFilesWhereverThereIsARunDirectory) {
  testing::TempDir root;
  EXPECT_EQ(DefaultConfigYaml("/tmp/d", "/proc", root.path()).find("stale_files"),
            std::string::npos);
  fs::create_directories(root.path() + "/run");
  const std::string yaml = DefaultConfigYaml("/tmp/d", "/proc", root.path());
  EXPECT_NE(yaml.find("  - {name: stale-files, type: stale_files}\n"), std::string::npos) << yaml;
  EXPECT_EQ(ChecksOfType(yaml, "stale_files"), 1) << yaml;
}

TEST(DefaultConfig, HostChecksAfterAReboot) {
  testing::TempDir root;
  const std::string yaml = DefaultConfigYaml("/tmp/d", "/proc", root.path());
  EXPECT_NE(yaml.find("  - {name: mounts, type: mounts, inodes: false}\n"), std::string::npos)
      << yaml;
  EXPECT_EQ(ChecksOfType(yaml, "mounts"), 1) << yaml;
  EXPECT_EQ(ChecksOfType(yaml, "kernel"), 1) << yaml;
  EXPECT_EQ(ChecksOfType(yaml, "deleted_libs"), 1) << yaml;
  // The mount parsing moved to host/ and keeps its names here.
  const auto m = ParseMountInfo("26 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n");
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(RealFilesystems(m).size(), 1u);
}

TEST(DefaultConfig, BaselineEverywhere) {
  testing::TempDir root;
  const std::string yaml = DefaultConfigYaml("/tmp/d", "/proc", root.path());
  EXPECT_NE(yaml.find("  - {name: baseline, type: baseline}\n"), std::string::npos) << yaml;
  EXPECT_EQ(ChecksOfType(yaml, "baseline"), 1) << yaml;
}

}  // namespace
}  // namespace mamori
