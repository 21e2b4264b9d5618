// Tests for the "socket" check type against a real nginx listening on a Unix
// socket: live, then killed with SIGKILL so its socket file stays behind
// (the stale PHP-FPM socket of incident 1), plus the plain-file cases.
#include <signal.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "testing/cli.h"
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
