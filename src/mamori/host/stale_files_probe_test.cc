// The stale_files check on this host, for real: a listening UNIX socket
// (bind + listen here) beside a socket file whose listener closed (bind, then
// close: the file stays), a pid file of this process beside one whose
// process was reaped; and the check's configuration, as a user writes it.
// The rules on crafted trees are stale_files_test.cc; the check against a
// real systemd with units owning the files is tests/host_stale_files_test.cc.
#include "mamori/host/stale_files_probe.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cstring>
#include <filesystem>

#include "testing/cli.h"
#include "testing/probe_harness.h"

namespace mamori::probes::stale_files {
namespace {

using namespace std::chrono_literals;

// A bound UNIX stream socket at `path`; listening when `listen` is true.
int Bound(const std::string& path, bool listen) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      (listen && ::listen(fd, 8) != 0))
    return -1;
  return fd;
}

// The pid of a child that has exited and been reaped: no such process now.
pid_t ReapedPid() {
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);
  return child;
}

TEST(StaleFilesProbe, FindsTheDeadOnThisHostAndLeavesTheLiveAlone) {
  mamori::testing::TempDir dir;
  const std::string live = dir.path() + "/live.sock", dead = dir.path() + "/dead.sock";
  int live_fd = Bound(live, true);
  ASSERT_GE(live_fd, 0) << std::strerror(errno);
  int dead_fd = Bound(dead, false);
  ASSERT_GE(dead_fd, 0) << std::strerror(errno);
  ::close(dead_fd);
  ASSERT_TRUE(std::filesystem::exists(dead)) << "the file outlives its socket";
  const pid_t gone = ReapedPid();
  dir.Write("gone.pid", std::to_string(gone) + "\n");
  dir.Write("self.pid", std::to_string(::getpid()) + "\n");

  Options o;
  o.scan.dirs = {dir.path()};
  o.judge.grace = 0s;
  o.systemd_dir = dir.path() + "/no-systemd";  // judged without units
  StaleFilesProbe probe(o);
  mamori::testing::ProbeHarness h;
  auto obs = h.Run(probe);
  ::close(live_fd);

  EXPECT_EQ(obs.status, CheckStatus::kWarning) << obs.summary;
  EXPECT_NE(obs.summary.find("socket " + dead + ": nobody listening"), std::string::npos)
      << obs.summary;
  EXPECT_NE(obs.summary.find(
                fmt::format("stale pid file {}/gone.pid (pid {} not running)", dir.path(), gone)),
            std::string::npos)
      << obs.summary;
  EXPECT_EQ(obs.summary.find("live.sock"), std::string::npos) << obs.summary;
  EXPECT_EQ(obs.summary.find("self.pid"), std::string::npos) << obs.summary;
  bool counted = false;
  for (const auto& m : obs.metrics)
    if (m.name == "stale_files") counted = m.value == 2;
  EXPECT_TRUE(counted) << obs.details;
}

TEST(StaleFilesProbe, TheHostsOwnRuntimeDirectoriesAreScannedQuickly) {
  // Whatever this host has: the default check runs, within its deadline, and
  // says what it scanned.
  mamori::testing::ProbeHarness h;
  auto start = std::chrono::steady_clock::now();
  auto obs = h.RunYaml("{name: s, type: stale_files}", 10s);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_NE(obs.status, CheckStatus::kUnknown) << obs.summary;
  EXPECT_NE(obs.summary.find("/run"), std::string::npos) << obs.summary;
  EXPECT_LT(took, 5s);
}

TEST(StaleFilesProbe, Config) {
  mamori::testing::ProbeHarness h;
  std::string errors;
  EXPECT_NE(h.Build("{name: s, type: stale_files}", &errors), nullptr) << errors;
  EXPECT_NE(h.Build("{name: s, type: stale_files, paths: [/srv/app/run/], ignore: ['*.lock'], "
                    "max_depth: 2, max_entries: 500, grace: 0s}",
                    &errors),
            nullptr)
      << errors;
  EXPECT_EQ(h.Build("{name: s, type: stale_files, paths: [relative/dir]}", &errors), nullptr);
  EXPECT_NE(errors.find("'relative/dir' is not an absolute path"), std::string::npos) << errors;
  errors.clear();
  EXPECT_EQ(h.Build("{name: s, type: stale_files, max_depth: 0}", &errors), nullptr);
  EXPECT_NE(errors.find("0 is out of range"), std::string::npos) << errors;
  errors.clear();
  EXPECT_EQ(h.Build("{name: s, type: stale_files, grace: -5m}", &errors), nullptr);
  EXPECT_FALSE(errors.empty());
  errors.clear();
  EXPECT_EQ(h.Build("{name: s, type: stale_files, path: /srv}", &errors), nullptr);
  EXPECT_NE(errors.find("path"), std::string::npos) << errors;
}

}  // namespace
}  // namespace mamori::probes::stale_files
