// Tests for the "socket" check type against a real nginx listening on a Unix
// socket: live, then killed with SIGKILL so its socket file stays behind
// (the stale PHP-FPM socket of incident 1), a socket whose listen backlog is
// full (PHP-FPM with every worker busy), plus the plain-file cases.
#include <signal.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "testing/cli.h"
#include "testing/full_backlog_socket.h"
#include "testing/nginx.h"
#include "testing/probe_harness.h"

namespace mamori {
namespace {

using testing::ProbeHarness;

std::string Check(const std::string& path) {
  return "{name: fpm, type: socket, path: \"" + path + "\"}";
}

TEST(SocketProbe, LiveThenStaleAfterTheServerIsKilled) {
  testing::TempDir dir;
  const std::string sock = dir.path() + "/fpm.sock";
  std::string error;
  auto nginx = testing::NginxServer::StartWithUnixSocket(sock, &error);
  ASSERT_TRUE(nginx) << error;

  ProbeHarness h;
  auto o = h.RunYaml(Check(sock));
  EXPECT_EQ(o.status, CheckStatus::kOk) << o.summary;
  EXPECT_EQ(o.summary.rfind("socket " + sock + " accepts connections (", 0), 0u) << o.summary;

  // SIGKILL to the whole group (master and worker): nginx gets no chance to
  // unlink its socket.
  nginx->Crash();
  ASSERT_TRUE(
      testing::Eventually([&] { return h.RunYaml(Check(sock)).status == CheckStatus::kCritical; },
                          std::chrono::seconds(5)));
  ASSERT_TRUE(std::filesystem::exists(sock));
  o = h.RunYaml(Check(sock));
  EXPECT_EQ(o.summary, "stale socket " + sock +
                           ": the file exists but nothing accepts on it (connection refused); "
                           "the process that created it is gone: remove the file, then start "
                           "the service");
}

// A full backlog once made connect() sleep with no timeout: the probe never
// answered and its worker thread was gone for good. Now the answer is
// "overloaded", well within the check's timeout.
TEST(SocketProbe, FullBacklogIsOverloadedWithinTheTimeout) {
  testing::TempDir dir;
  const std::string sock = dir.path() + "/fpm.sock";
  ProbeHarness h;  // declared first: destroyed last, after the socket wakes any stuck connect
  std::string error;
  auto busy = testing::FullBacklogSocket::Start(sock, &error);
  ASSERT_TRUE(busy) << error;

  const auto start = std::chrono::steady_clock::now();
  auto o = h.RunYaml(Check(sock), std::chrono::seconds(2));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(o.status, CheckStatus::kWarning) << o.summary;
  EXPECT_EQ(o.summary, "socket " + sock + " is overloaded: its listen backlog is full");
  EXPECT_LT(took, std::chrono::milliseconds(2500));
}

// The same through the real binary: `mamori check` returns in bounded time
// with WARNING (exit 1) instead of hanging on the socket.
TEST(SocketProbe, CheckCommandReturnsOnAFullBacklog) {
  testing::TempDir dir;
  const std::string sock = dir.path() + "/fpm.sock";
  std::string error;
  auto busy = testing::FullBacklogSocket::Start(sock, &error);
  ASSERT_TRUE(busy) << error;
  const std::string cfg =
      dir.Write("mamori.yaml",
                "checks:\n  - {name: fpm, type: socket, timeout: 2s, path: \"" + sock + "\"}\n");

  const auto start = std::chrono::steady_clock::now();
  auto r = testing::RunMamori({"check", "-c", cfg});
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("is overloaded: its listen backlog is full"), std::string::npos)
      << r.out << r.err;
  EXPECT_LT(took, std::chrono::seconds(2) + std::chrono::seconds(3));
}

TEST(SocketProbe, MissingAndNotASocket) {
  testing::TempDir dir;
  ProbeHarness h;
  auto o = h.RunYaml(Check(dir.path() + "/none.sock"));
  EXPECT_EQ(o.status, CheckStatus::kCritical);
  EXPECT_EQ(o.summary, "socket " + dir.path() +
                           "/none.sock does not exist: the service is not running (or listens "
                           "elsewhere)");
  const std::string file = dir.Write("plain", "x");
  o = h.RunYaml(Check(file));
  EXPECT_EQ(o.status, CheckStatus::kCritical);
  EXPECT_EQ(o.summary, file + " is not a socket but a regular file");
}

TEST(SocketProbeConfig, Errors) {
  ProbeHarness h;
  std::string errors;
  EXPECT_EQ(h.Build("{name: s, type: socket}", &errors), nullptr);
  EXPECT_NE(errors.find("check 's': missing 'path'"), std::string::npos) << errors;
  EXPECT_EQ(h.Build("{name: s, type: socket, path: run/x.sock}", &errors), nullptr);
  EXPECT_NE(errors.find("'run/x.sock' is not an absolute path"), std::string::npos) << errors;
  EXPECT_EQ(h.Build("{name: s, type: socket, path: /" + std::string(120, 'a') + "}", &errors),
            nullptr);
  EXPECT_NE(errors.find("a Unix socket path has at most 107"), std::string::npos) << errors;
}

}  // namespace
}  // namespace mamori
