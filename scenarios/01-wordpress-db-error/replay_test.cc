// Replay of incident 1 (INCIDENTS.md, "The WordPress that would not
// come back"): what mamori must catch and say, against real servers.
//   - the site answers HTTP 200 with "Error establishing a database
//     connection": CRITICAL, not OK;
//   - later it answers 503 with Bitnami's "temporarily unable to service
//     your request" page: CRITICAL with the status;
//   - the PHP-FPM socket file outlived its process: "stale socket", with the
//     instruction to remove it before the restart.
// Each step runs `mamori check --json` (the real binary) on one config.
#include <signal.h>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "testing/cli.h"
#include "testing/nginx.h"

namespace mamori {
namespace {

using testing::RunMamori;

nlohmann::json CheckJson(const std::string& config, const std::string& only) {
  auto r = RunMamori({"check", "-c", config, "--json", "--only", only});
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  if (!j.is_array() || j.empty()) return nlohmann::json{{"status", "no result"}, {"out", r.out}};
  return j[0];
}

TEST(ScenarioWordpress, DatabaseErrorPageMaintenancePageAndStaleSocket) {
  testing::TempDir dir;
  const std::string sock = dir.path() + "/php-fpm.sock";
  testing::NginxServer::Options opts;
  // The blog's front page as Bitnami served it once MariaDB was down, the 503
  // page seen after the stale socket was removed, and the PHP-FPM socket
  // (nginx stands in for PHP-FPM as the process owning the socket).
  opts.extra_config =
      "listen unix:" + sock +
      ";\n"
      "location = /blog/ { default_type text/html; return 200 '<html><body><h1>Error "
      "establishing a database connection</h1></body></html>'; }\n"
      "location = /blog/maint { default_type text/html; return 503 '<html><body>The server is "
      "temporarily unable to service your request due to maintenance downtime or capacity "
      "problems. Please try again later.</body></html>'; }\n";
  std::string error;
  auto nginx = testing::NginxServer::Start(opts, &error);
  ASSERT_TRUE(nginx) << error;

  const std::string config = dir.Write("mamori.yaml",
                                       "checks:\n"
                                       "  - {name: blog, type: http, url: \"" +
                                           nginx->Url("/blog/") +
                                           "\"}\n"
                                           "  - {name: blog-after-restart, type: http, url: \"" +
                                           nginx->Url("/blog/maint") +
                                           "\"}\n"
                                           "  - {name: php-fpm-socket, type: socket, path: \"" +
                                           sock + "\"}\n");

  // 1. A 200 page that carries WordPress's fatal error is an outage.
  auto blog = CheckJson(config, "blog");
  EXPECT_EQ(blog["status"], "critical") << blog.dump();
  EXPECT_NE(blog["summary"].get<std::string>().find("Error establishing a database connection"),
            std::string::npos)
      << blog.dump();

  // 2. The 503 maintenance page names its status.
  auto maint = CheckJson(config, "blog-after-restart");
  EXPECT_EQ(maint["status"], "critical") << maint.dump();
  EXPECT_NE(maint["summary"].get<std::string>().find("503"), std::string::npos) << maint.dump();

  // 3. While the socket's owner lives, the socket is fine; once it dies
  // without cleaning up, mamori says the file is stale and what to do.
  EXPECT_EQ(CheckJson(config, "php-fpm-socket")["status"], "ok");
  nginx->Crash();
  ASSERT_TRUE(testing::Eventually(
      [&] { return CheckJson(config, "php-fpm-socket")["status"] == "critical"; },
      std::chrono::seconds(5)));
  auto fpm = CheckJson(config, "php-fpm-socket");
  EXPECT_NE(fpm["summary"].get<std::string>().find("stale socket " + sock), std::string::npos)
      << fpm.dump();
  EXPECT_NE(fpm["summary"].get<std::string>().find("remove the file, then start the service"),
            std::string::npos)
      << fpm.dump();
}

// The repair: the daemon sees the socket go stale, removes it (only because
// connecting is refused) and starts the service again, which would fail with
// the stale file in place ("bind() ... Address already in use"); then it
// re-checks at once and the socket is live again.
TEST(ScenarioWordpress, DaemonRemovesTheStaleSocketAndStartsTheService) {
  testing::TempDir dir;
  const std::string sock = dir.path() + "/php-fpm.sock";
  std::string error;
  auto nginx = testing::NginxServer::StartWithUnixSocket(sock, &error);
  ASSERT_TRUE(nginx) << error;
  const std::string prefix = nginx->dir() + "/";
  // "Start the service": nginx without `daemon off`, so it forks into the
  // background like an init script would start PHP-FPM.
  const std::string q = "\"";
  const std::string config =
      dir.Write("mamori.yaml",
                "data_dir: ./data\n"
                "defaults: {interval: 200ms, timeout: 150ms, failures_before_alert: 1, "
                "successes_before_recovery: 1}\n"
                "checks:\n"
                "  - name: php-fpm-socket\n"
                "    type: socket\n"
                "    path: " +
                    q + sock + q +
                    "\n"
                    "    remedy:\n"
                    "      steps:\n"
                    "        - remove_stale_socket: " +
                    q + sock + q +
                    "\n"
                    "        - command: [/usr/sbin/nginx, -p, " +
                    q + prefix + q + ", -c, " + q + prefix + "nginx.conf" + q + ", -e, " + q +
                    prefix + "logs/restart.log" + q + "]\n");
  testing::DaemonProcess daemon({"-c", config}, dir.path() + "/daemon.log");
  ASSERT_TRUE(daemon.WaitForLog("php-fpm-socket: PENDING -> OK")) << daemon.Log();

  nginx->Crash();
  ASSERT_TRUE(daemon.WaitForLog("php-fpm-socket: OK -> CRITICAL")) << daemon.Log();
  ASSERT_TRUE(daemon.WaitForLog("remedy ok: remove_stale_socket " + sock +
                                ": stale (connection refused): removed; /usr/sbin/nginx"))
      << daemon.Log();
  ASSERT_TRUE(daemon.WaitForLog("php-fpm-socket: CRITICAL -> OK")) << daemon.Log();
  daemon.Signal(SIGTERM);
  EXPECT_EQ(daemon.Wait(), 0) << daemon.Log();
  // The restarted server is not the fixture's child: stop it by its pid file.
  const std::string pid = testing::ReadFile(nginx->dir() + "/nginx.pid");
  ASSERT_FALSE(pid.empty());
  ::kill(std::stoi(pid), SIGQUIT);
}

}  // namespace
}  // namespace mamori
