// GET /metrics of a real running daemon: promtool finds it clean, a real
// Prometheus scrapes it and answers a query for mamori_check_status, and
// `mamori status` says when nothing updates its results any more. One daemon
// (and one Prometheus) for the suite; every process dies with the test.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "mamori/notify/http_post.h"
#include "testing/cli.h"
#include "testing/notify_servers.h"
#include "testing/ports.h"

namespace mamori {
namespace {

using namespace std::chrono_literals;
using testing::DaemonProcess;
using testing::Eventually;
using testing::RunMamori;
using testing::TempDir;

std::string Get(const std::string& url, int* status = nullptr, std::string bearer = "") {
  notify::PostRequest get;
  get.method = "GET";
  get.url = url;
  get.timeout = std::chrono::seconds(5);
  if (!bearer.empty()) get.headers.emplace_back("Authorization", "Bearer " + bearer);
  auto r = notify::HttpPost(get);
  if (status) *status = r.ok() ? r->status : -1;
  return r.ok() ? r->body : "";
}

// The daemon's config: a file that exists (OK), one that does not
// (CRITICAL) and the disk.
std::string Config(int port, const std::string& token_file = "") {
  std::string y = "data_dir: ./data\nlisten: 127.0.0.1:" + std::to_string(port) +
                  "\n"
                  "defaults: {interval: 300ms, timeout: 250ms, failures_before_alert: 1}\n"
                  "checks:\n"
                  "  - {name: present, type: file, path: /etc/hostname}\n"
                  "  - {name: missing-file, type: file, path: /nonexistent/x}\n"
                  "  - {name: root-disk, type: disk, path: /, warning: 99.9%, critical: 100%}\n";
  if (!token_file.empty()) y += "metrics: {token_file: " + token_file + "}\n";
  return y;
}

class MetricsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    port_ = testing::PickFreePort();
    const std::string cfg = dir_->Write("mamori.yaml", Config(port_));
    daemon_ = new DaemonProcess({"-c", cfg}, dir_->path() + "/daemon.log");
  }
  static void TearDownTestSuite() {
    delete daemon_;
    delete dir_;
  }
  static std::string Url() { return "http://127.0.0.1:" + std::to_string(port_) + "/metrics"; }
  // Waits until every check has a result in /metrics.
  static std::string Scrape() {
    std::string body;
    Eventually(
        [&] {
          body = Get(Url());
          return body.find("mamori_check_status{check=\"root-disk\"") != std::string::npos &&
                 body.find("mamori_check_status{check=\"present\"") != std::string::npos &&
                 body.find("mamori_check_status{check=\"missing") != std::string::npos;
        },
        20s);
    return body;
  }
  static inline TempDir* dir_ = nullptr;
  static inline DaemonProcess* daemon_ = nullptr;
  static inline int port_ = 0;
};

TEST_F(MetricsTest, PromtoolFindsTheLiveExpositionClean) {
  if (::access("/usr/bin/promtool", X_OK) != 0) GTEST_SKIP() << "promtool is not installed";
  const std::string body = Scrape();
  ASSERT_NE(body.find("mamori_check_status{check=\"missing-file\",type=\"file\"} 2\n"),
            std::string::npos)
      << body << daemon_->Log();
  EXPECT_NE(body.find("mamori_check_status{check=\"present\",type=\"file\"} 0\n"),
            std::string::npos);
  EXPECT_NE(body.find("mamori_probe_used_percent{check=\"root-disk\",type=\"disk\"}"),
            std::string::npos);
  EXPECT_NE(body.find("\nprocess_open_fds "), std::string::npos);
  EXPECT_NE(body.find("\nmamori_last_observation_timestamp_seconds "), std::string::npos);
  const std::string file = dir_->Write("scrape.txt", body);
  const std::string out = dir_->path() + "/promtool.out";
  const int rc = std::system(("promtool check metrics < " + file + " > " + out + " 2>&1").c_str());
  EXPECT_EQ(rc, 0) << testing::ReadFile(out);
  EXPECT_EQ(testing::ReadFile(out), "") << "promtool's findings";
}

TEST_F(MetricsTest, ARealPrometheusScrapesTheChecks) {
  if (::access("/usr/bin/prometheus", X_OK) != 0) GTEST_SKIP() << "prometheus is not installed";
  Scrape();
  TempDir pdir;
  const std::string conf =
      pdir.Write("prometheus.yml",
                 "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
                 "scrape_configs:\n"
                 "  - job_name: mamori\n"
                 "    static_configs: [{targets: ['127.0.0.1:" +
                     std::to_string(port_) + "'], labels: {location: here}}]\n");
  const int port = testing::PickFreePort();
  testing::ServerProcess prom({"/usr/bin/prometheus", "--config.file=" + conf,
                               "--web.listen-address=127.0.0.1:" + std::to_string(port),
                               "--storage.tsdb.path=" + pdir.path() + "/tsdb"},
                              port, pdir.path() + "/prometheus.log");
  std::string error;
  ASSERT_TRUE(prom.Start(&error)) << error;
  const auto started = std::chrono::steady_clock::now();
  const std::string query = "http://127.0.0.1:" + std::to_string(port) +
                            "/api/v1/query?query=mamori_check_status%7Bcheck%3D%22present%22%7D";
  nlohmann::json answer;
  ASSERT_TRUE(Eventually(
      [&] {
        answer = nlohmann::json::parse(Get(query), nullptr, false);
        return answer.is_object() && answer.value("status", "") == "success" &&
               !answer["data"]["result"].empty();
      },
      30s))
      << answer.dump() << testing::ReadFile(pdir.path() + "/prometheus.log");
  const auto& series = answer["data"]["result"][0];
  EXPECT_EQ(series["metric"]["location"], "here");
  EXPECT_EQ(series["metric"]["type"], "file");
  EXPECT_EQ(series["value"][1], "0");
  std::cout << "prometheus answered after "
            << std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - started)
                   .count()
            << " ms\n";
}

TEST(MetricsToken, WithATokenFileOnlyTheBearerGetsIn) {
  TempDir dir;
  const std::string token = "c0ffee0123456789c0ffee0123456789";
  const std::string token_file = dir.Write("metrics.token", token + "\n");
  const int port = testing::PickFreePort();
  const std::string cfg = dir.Write("mamori.yaml", Config(port, token_file));
  DaemonProcess d({"-c", cfg}, dir.path() + "/daemon.log");
  ASSERT_TRUE(d.WaitForLog("ping API listening")) << d.Log();
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/metrics";
  int status = 0;
  Get(url, &status);
  EXPECT_EQ(status, 401);
  Get(url, &status, token + "x");
  EXPECT_EQ(status, 401);
  const std::string body = Get(url, &status, token);
  EXPECT_EQ(status, 200);
  EXPECT_NE(body.find("mamori_checks 3\n"), std::string::npos) << body;
}

// Tried as a new user would: after the daemon stops, `status` must say that
// nothing updates the results.
TEST(MetricsStatus, StatusSaysWhetherTheDaemonRunsAndWhenResultsGoStale) {
  TempDir dir;
  const int port = testing::PickFreePort();
  const std::string cfg = dir.Write("mamori.yaml", Config(port));
  DaemonProcess d({"-c", cfg}, dir.path() + "/daemon.log");
  ASSERT_TRUE(d.WaitForLog("ping API listening")) << d.Log();
  testing::CliResult r;
  ASSERT_TRUE(Eventually(
      [&] {
        r = RunMamori({"status", "-c", cfg});
        return r.out.find("not checked yet") == std::string::npos;
      },
      20s))
      << r.out;
  EXPECT_NE(r.out.find("daemon: running (pid " + std::to_string(d.pid()) + "); newest observation"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("[stale]"), std::string::npos) << r.out;
  // An acknowledged problem says so (read from what the daemon saved).
  auto ack = RunMamori({"ack", "missing-file", "-c", cfg, "--by", "kenji"});
  ASSERT_EQ(ack.exit_code, 0) << ack.out << ack.err;
  ASSERT_TRUE(Eventually(
      [&] {
        r = RunMamori({"status", "-c", cfg});
        return r.out.find("[acknowledged by kenji]") != std::string::npos;
      },
      10s))
      << r.out;
  d.Signal(SIGTERM);
  ASSERT_EQ(d.Wait(), 0) << d.Log();
  r = RunMamori({"status", "-c", cfg});
  EXPECT_NE(r.out.find("daemon: NOT RUNNING"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("these results are stale"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[stale]"), std::string::npos) << r.out;
  auto j = nlohmann::json::parse(RunMamori({"status", "-c", cfg, "--json"}).out, nullptr, false);
  ASSERT_TRUE(j.is_array() && !j.empty()) << j.dump();
  EXPECT_EQ(j[0]["stale"], true);
  EXPECT_EQ(j[0]["daemon_running"], false);
}

}  // namespace
}  // namespace mamori
