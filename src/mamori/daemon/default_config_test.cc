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
  fs::create_directories(root.path() + "/run/systemd/system");
  const std::string yaml = DefaultConfigYaml("/tmp/d", "/proc", root.path());
  EXPECT_NE(yaml.find("  - {name: systemd-units, type: systemd}\n"), std::string::npos) << yaml;
  EXPECT_EQ(ChecksOfType(yaml, "systemd"), 1) << yaml;
}

TEST(DefaultConfig, BaselineEverywhere) {
  testing::TempDir root;
  const std::string yaml = DefaultConfigYaml("/tmp/d", "/proc", root.path());
  EXPECT_NE(yaml.find("  - {name: baseline, type: baseline}\n"), std::string::npos) << yaml;
  EXPECT_EQ(ChecksOfType(yaml, "baseline"), 1) << yaml;
}

}  // namespace
}  // namespace mamori
