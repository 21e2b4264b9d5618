// End-to-end tests of heartbeats: the real daemon with its ping API on a
// loopback port, pinged over real HTTP (libcurl), judged by `mamori status`,
// and killed with SIGKILL to prove acknowledged pings are on disk.
#include <signal.h>

#include <gtest/gtest.h>

#include <condition_variable>
#include <fstream>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "mamori/net/http_client.h"
#include "mamori/store/store.h"
#include "testing/cli.h"
#include "testing/nginx.h"

namespace mamori {
namespace {

using namespace std::chrono_literals;
using testing::DaemonProcess;
using testing::Eventually;
using testing::RunMamori;
using testing::TempDir;

constexpr const char* kUuid = "1b4e28ba-2fa1-41d2-883f-0016d3cca427";

struct Fetched {
  int status = 0;  // 0 = transport error
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// Many requests at once through the real libcurl client; waits for all.
std::vector<Fetched> FetchAll(HttpClient& http, const std::vector<HttpRequest>& requests) {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Fetched> out(requests.size());
  size_t done = 0;
  for (size_t i = 0; i < requests.size(); ++i) {
    http.Fetch(requests[i], [&, i](Result<HttpResponse> r) {
      std::lock_guard lock(mu);
      if (r.ok()) out[i] = {r->status, r->body, r->headers};
      ++done;
      cv.notify_all();
    });
  }
  std::unique_lock lock(mu);
  cv.wait_for(lock, 60s, [&] { return done == requests.size(); });
  return out;
}

Fetched Fetch(HttpClient& http, const std::string& url, const std::string& method = "GET",
              const std::string& body = "") {
  HttpRequest r;
  r.url = url;
  r.method = method;
  r.body = body;
  return FetchAll(http, {r})[0];
}

nlohmann::json StatusOf(const std::string& config, const std::string& name) {
  auto r = RunMamori({"status", "-c", config, "--json"});
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  if (!j.is_array()) return nullptr;
  for (auto& c : j)
    if (c["name"] == name) return c;
  return nullptr;
}

class HeartbeatDaemon : public ::testing::Test {
 protected:
  void Start(const std::string& extra_check = "", const std::string& api = "") {
    port_ = testing::PickFreePort();
    config_ = dir_.Write("mamori.yaml",
                         "data_dir: ./data\n"
                         "listen: 127.0.0.1:" +
                             std::to_string(port_) + "\n" + api +
                             "defaults: {interval: 200ms, timeout: 100ms}\n"
                             "checks:\n"
                             "  - {name: nightly-backup, type: heartbeat, uuid: " +
                             kUuid + ", period: 1d, grace: 2h, max_runtime: 1h}\n" + extra_check);
    Launch();
  }
  void Launch() {
    // A fresh log per start, so the readiness line is this process's own.
    daemon_ = std::make_unique<DaemonProcess>(
        std::vector<std::string>{"-c", config_},
        dir_.path() + "/daemon." + std::to_string(++launches_) + ".log");
    ASSERT_TRUE(daemon_->WaitForLog("ping API listening")) << daemon_->Log();
  }
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::string Ping(const std::string& suffix = "") const {
    return Url(std::string("/ping/") + kUuid + suffix);
  }

  TempDir dir_;
  std::string config_;
  int port_ = 0;
  int launches_ = 0;
  std::unique_ptr<DaemonProcess> daemon_;
  std::unique_ptr<HttpClient> http_ = MakeHttpClient();
};

TEST_F(HeartbeatDaemon, AnswersLikeHealthchecksAndJudgesPings) {
  Start();
  Fetched ok = Fetch(*http_, Ping("/start"));
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "OK");
  bool limit_header = false;
  for (auto& [k, v] : ok.headers) limit_header |= (k == "Ping-Body-Limit" && v == "102400");
  EXPECT_TRUE(limit_header);
  EXPECT_EQ(Fetch(*http_, Url("/ping/00000000-0000-4000-8000-000000000000")).status, 404);
  EXPECT_EQ(Fetch(*http_, Url("/ping/not-a-uuid")).status, 400);
  EXPECT_EQ(Fetch(*http_, Url("/somewhere")).status, 404);
  EXPECT_EQ(Fetch(*http_, Ping(), "DELETE").status, 405);
  Fetched ip = Fetch(*http_, Url("/ip"));
  EXPECT_EQ(ip.body, "127.0.0.1\n");

  // The job reports a failure: CRITICAL at once (not at the next interval,
  // and without waiting for three failures).
  EXPECT_EQ(Fetch(*http_, Ping("/23"), "POST", "rsync: connection unexpectedly closed\n").status,
            200);
  ASSERT_TRUE(Eventually(
      [&] {
        auto s = StatusOf(config_, "nightly-backup");
        return s.is_object() && s["status"] == "critical";
      },
      5000ms))
      << StatusOf(config_, "nightly-backup").dump();
  auto s = StatusOf(config_, "nightly-backup");
  EXPECT_NE(s["summary"].get<std::string>().find("exited with code 23"), std::string::npos)
      << s.dump();
  EXPECT_NE(s["summary"].get<std::string>().find("rsync: connection unexpectedly closed"),
            std::string::npos);

  EXPECT_EQ(Fetch(*http_, Ping()).status, 200);
  ASSERT_TRUE(Eventually(
      [&] {
        auto st = StatusOf(config_, "nightly-backup");
        return st.is_object() && st["status"] == "ok";
      },
      5000ms));

  // The store has every ping with its source and body.
  daemon_->Signal(SIGTERM);
  EXPECT_EQ(daemon_->Wait(), 0);
  SystemClock clock;
  auto store = Store::Open(dir_.path() + "/data", clock, Store::OpenMode::kReadOnly);
  ASSERT_TRUE(store.ok()) << store.error().message();
  auto pings = (*store)->Pings("nightly-backup", 10);
  ASSERT_TRUE(pings.ok());
  ASSERT_EQ(pings->size(), 3u);  // start, exit 23, success (404/400/405 wrote nothing)
  EXPECT_EQ((*pings)[1].exit_code, 23);
  EXPECT_EQ((*pings)[1].body, "rsync: connection unexpectedly closed\n");
  EXPECT_EQ((*pings)[1].source, "127.0.0.1");
  ASSERT_TRUE((*pings)[1].duration);  // paired with the start
}

TEST_F(HeartbeatDaemon, LateHeartbeatBecomesCritical) {
  Start("  - {name: every-second, type: heartbeat, slug: every-second, period: 1s, grace: 500ms}\n",
        "api: {ping_key: test-key-123}\n");
  EXPECT_EQ(Fetch(*http_, Url("/ping/test-key-123/every-second")).status, 200);
  EXPECT_EQ(Fetch(*http_, Url("/ping/wrong-key-123/every-second")).status, 404);
  ASSERT_TRUE(Eventually(
      [&] {
        auto s = StatusOf(config_, "every-second");
        return s.is_object() && s["status"] == "ok";
      },
      3000ms));
  ASSERT_TRUE(Eventually(
      [&] {
        auto s = StatusOf(config_, "every-second");
        return s.is_object() && s["status"] == "critical";
      },
      5000ms));
  EXPECT_NE(
      StatusOf(config_, "every-second")["summary"].get<std::string>().find("late: last success"),
      std::string::npos);
  EXPECT_TRUE(daemon_->WaitForLog("every-second: OK -> CRITICAL")) << daemon_->Log();
}

// Lateness is judged at the deadline, not at the check's next run: with
// interval 60s, period 3s and grace 2s, the check turns CRITICAL within a
// second of period + grace after the last success.
TEST_F(HeartbeatDaemon, LateIsJudgedAtTheDeadlineWhateverTheInterval) {
  Start(
      "  - {name: slow-check, type: heartbeat, slug: slow-check, period: 3s, grace: 2s, "
      "interval: 60s}\n",
      "api: {ping_key: test-key-123}\n");
  // The daemon stamps the ping when it arrives, between `sent` and `pinged`
  // (the answer waits for the commit): the deadline is 5 s after that.
  const auto sent = std::chrono::steady_clock::now();
  ASSERT_EQ(Fetch(*http_, Url("/ping/test-key-123/slow-check")).status, 200);
  const auto pinged = std::chrono::steady_clock::now();
  ASSERT_TRUE(Eventually(
      [&] {
        auto s = StatusOf(config_, "slow-check");
        return s.is_object() && s["status"] == "ok";
      },
      3000ms));
  ASSERT_TRUE(daemon_->WaitForLog("slow-check: OK -> CRITICAL", 15s)) << daemon_->Log();
  const auto seen = std::chrono::steady_clock::now();
  const auto took = seen - pinged;
  EXPECT_LT(took, 6500ms) << "turned critical "
                          << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                          << " ms after the ping (deadline 5000 ms)";
  EXPECT_GE(seen - sent, 5000ms);
}

// `mamori status` computes times when it prints: a heartbeat judged right
// after its ping ("last success 0.8ms ago", interval 60s) reads seconds ago
// when status runs seconds later.
TEST_F(HeartbeatDaemon, StatusTimesAreComputedWhenPrinted) {
  Start(
      "  - {name: slow-check, type: heartbeat, slug: slow-check, period: 1h, "
      "interval: 60s}\n",
      "api: {ping_key: test-key-123}\n");
  ASSERT_EQ(Fetch(*http_, Url("/ping/test-key-123/slow-check")).status, 200);
  ASSERT_TRUE(Eventually(
      [&] {
        auto s = StatusOf(config_, "slow-check");
        return s.is_object() && s["status"] == "ok";
      },
      3000ms));
  std::this_thread::sleep_for(2500ms);  // the time that has to show
  const std::string summary = StatusOf(config_, "slow-check")["summary"].get<std::string>();
  EXPECT_EQ(summary.find("ms ago"), std::string::npos) << summary;
  EXPECT_NE(summary.find("s ago"), std::string::npos) << summary;
}

TEST_F(HeartbeatDaemon, BodiesAreCutAtTheLimitAndRateLimitApplies) {
  Start("", "api: {max_body: 1KB, rate_limit: 5}\n");
  EXPECT_EQ(Fetch(*http_, Ping("/log"), "POST", std::string(5000, 'x')).status, 200);
  // Burst of 10 (twice the rate) passes; the rest of 40 at once is refused.
  std::vector<HttpRequest> burst(40);
  for (auto& r : burst) r.url = Ping("/log");
  int ok = 0, limited = 0;
  for (const auto& f : FetchAll(*http_, burst)) {
    ok += f.status == 200;
    limited += f.status == 429;
  }
  EXPECT_GE(limited, 25);
  EXPECT_LE(ok, 15);
  daemon_->Signal(SIGTERM);
  EXPECT_EQ(daemon_->Wait(), 0);
  SystemClock clock;
  auto store = Store::Open(dir_.path() + "/data", clock, Store::OpenMode::kReadOnly);
  ASSERT_TRUE(store.ok());
  auto pings = (*store)->Pings("nightly-backup", 1000);
  ASSERT_TRUE(pings.ok());
  ASSERT_EQ(pings->size(), static_cast<size_t>(ok + 1));
  EXPECT_EQ(pings->back().body.size(), 1000u);
  EXPECT_TRUE(pings->back().body_truncated);
}

// An acknowledged ping is on disk: kill -9 in the middle of a burst, three
// times, and count the pings back from the store. Every acknowledged ping must
// be there (some unacknowledged ones may be too: committed, then killed before
// the answer left).
TEST_F(HeartbeatDaemon, AcknowledgedPingsSurviveSigkill) {
  // One client, thousands of connections at once: lift the per-address share
  // to the total cap, as before there was one.
  Start("", "api: {rate_limit: 0, max_connections_per_address: 1024}\n");
  size_t acknowledged = 0, sent = 0;
  for (int round = 0; round < 3; ++round) {
    std::mutex mu;
    std::condition_variable cv;
    size_t done = 0, acked = 0;
    bool killed = false;
    constexpr size_t kBurst = 4000;
    for (size_t i = 0; i < kBurst; ++i) {
      HttpRequest r;
      r.url = Ping();
      r.timeout = 10s;
      http_->Fetch(r, [&](Result<HttpResponse> res) {
        std::lock_guard lock(mu);
        ++done;
        if (res.ok() && res->status == 200) ++acked;
        if (acked == kBurst / 4 && !killed) {
          killed = true;
          daemon_->Signal(SIGKILL);  // mid-burst: most requests are still in flight
        }
        cv.notify_all();
      });
    }
    {
      std::unique_lock lock(mu);
      ASSERT_TRUE(cv.wait_for(lock, 60s, [&] { return done == kBurst; }));
      EXPECT_TRUE(killed);
      EXPECT_LT(acked, kBurst) << "the kill came too late to test anything";
      acknowledged += acked;
      sent += kBurst;
    }
    daemon_->Wait();
    Launch();
  }
  daemon_->Signal(SIGTERM);
  EXPECT_EQ(daemon_->Wait(), 0);
  SystemClock clock;
  auto store = Store::Open(dir_.path() + "/data", clock, Store::OpenMode::kReadOnly);
  ASSERT_TRUE(store.ok());
  auto n = (*store)->PingCount();
  ASSERT_TRUE(n.ok());
  EXPECT_GE(static_cast<size_t>(*n), acknowledged);
  EXPECT_LE(static_cast<size_t>(*n), sent);
  std::cout << "acknowledged " << acknowledged << " of " << sent << ", stored " << *n << "\n";
}

TEST_F(HeartbeatDaemon, PingsAreRememberedAcrossRestarts) {
  Start();
  EXPECT_EQ(Fetch(*http_, Ping("/fail"), "POST", "disk full\n").status, 200);
  daemon_->Signal(SIGTERM);
  EXPECT_EQ(daemon_->Wait(), 0);
  Launch();
  ASSERT_TRUE(Eventually(
      [&] {
        auto s = StatusOf(config_, "nightly-backup");
        return s.is_object() && s["status"] == "critical" &&
               s["summary"].get<std::string>().find("reported failure") != std::string::npos;
      },
      5000ms))
      << StatusOf(config_, "nightly-backup").dump();
  // One-shot `check` reads the same pings from the store.
  auto r = RunMamori({"check", "-c", config_, "--json"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.out.find("disk full"), std::string::npos) << r.out;
}

// A heartbeat that never pinged must not have its deadline pushed back by a
// restart: "watching since" survives it.
TEST_F(HeartbeatDaemon, WatchingSinceSurvivesRestartsOfANeverPingedHeartbeat) {
  Start();
  auto since = [&] {
    auto j = nlohmann::json::parse(Fetch(*http_, Url("/api/v1/heartbeats")).body, nullptr, false);
    if (!j.is_array() || j.empty() || !j[0].contains("watching_since")) return std::string();
    return j[0]["watching_since"].get<std::string>();
  };
  ASSERT_TRUE(Eventually([&] { return !since().empty(); }, 5000ms));
  const std::string first = since();
  ASSERT_TRUE(Eventually([&] { return StatusOf(config_, "nightly-backup")["hard_status"] == "ok"; },
                         5000ms));
  std::this_thread::sleep_for(1100ms);  // watching_since has whole seconds
  daemon_->Signal(SIGTERM);
  EXPECT_EQ(daemon_->Wait(), 0);
  Launch();
  ASSERT_TRUE(Eventually([&] { return !since().empty(); }, 5000ms));
  EXPECT_EQ(since(), first);
}

TEST_F(HeartbeatDaemon, ExecReportsStartExitCodeAndOutput) {
  Start();
  auto r = RunMamori({"exec", "--url", Ping(), "--", "sh", "-c",
                      "echo building; echo oops >&2; sleep 0.1; exit 3"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_EQ(r.out, "building\n");  // passed through
  EXPECT_EQ(r.err, "oops\n");
  auto by_check = RunMamori({"exec", "-c", config_, "--check", "nightly-backup", "--", "true"});
  EXPECT_EQ(by_check.exit_code, 0) << by_check.err;
  const auto before = std::chrono::steady_clock::now();
  auto hung = RunMamori(
      {"exec", "--url", Ping(), "--timeout", "300ms", "--", "sh", "-c", "sleep 30 & sleep 30"});
  EXPECT_EQ(hung.exit_code, 124) << hung.err;
  EXPECT_LT(std::chrono::steady_clock::now() - before, 5s);
  auto missing = RunMamori({"exec", "--url", Ping(), "--", "/nonexistent/job"});
  EXPECT_EQ(missing.exit_code, 127);
  EXPECT_NE(missing.err.find("cannot run /nonexistent/job"), std::string::npos) << missing.err;
  daemon_->Signal(SIGTERM);
  EXPECT_EQ(daemon_->Wait(), 0);
  SystemClock clock;
  auto store = Store::Open(dir_.path() + "/data", clock, Store::OpenMode::kReadOnly);
  ASSERT_TRUE(store.ok());
  auto pings = (*store)->Pings("nightly-backup", 10);
  ASSERT_TRUE(pings.ok());
  // Four runs of two pings each, newest first: fail + start (cannot run),
  // 124 + start (timed out), 0 + start (`true`), 3 + start (the script).
  ASSERT_EQ(pings->size(), 8u);
  const auto& first_end = (*pings)[6];
  const auto& first_start = (*pings)[7];
  EXPECT_EQ((*pings)[2].exit_code, 124);
  EXPECT_NE((*pings)[2].body.find("timed out after"), std::string::npos) << (*pings)[2].body;
  EXPECT_EQ(first_start.kind, heartbeat::PingKind::kStart);
  EXPECT_EQ(first_end.kind, heartbeat::PingKind::kExitCode);
  EXPECT_EQ(first_end.exit_code, 3);
  EXPECT_EQ(first_end.rid, first_start.rid);
  EXPECT_FALSE(first_end.rid.empty());
  ASSERT_TRUE(first_end.duration);
  EXPECT_GE(*first_end.duration, Duration(100ms));
  EXPECT_NE(first_end.body.find("building"), std::string::npos);
  EXPECT_NE(first_end.body.find("oops"), std::string::npos);
  EXPECT_NE(first_end.user_agent.find("mamori-exec/"), std::string::npos);
  EXPECT_EQ((*pings)[0].kind, heartbeat::PingKind::kFail);
  EXPECT_NE((*pings)[0].body.find("cannot run /nonexistent/job"), std::string::npos);
}

// The ping server is down when the job starts and comes up while it runs:
// the start ping is retried until it gets through.
TEST_F(HeartbeatDaemon, ExecRetriesPingsUntilTheServerIsBack) {
  Start();
  daemon_->Signal(SIGTERM);
  ASSERT_EQ(daemon_->Wait(), 0);
  std::thread later([&] {
    std::this_thread::sleep_for(700ms);
    Launch();
  });
  auto r = RunMamori({"exec", "--url", Ping(), "--", "sh", "-c", "sleep 1.5; echo done"});
  later.join();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  daemon_->Signal(SIGTERM);
  EXPECT_EQ(daemon_->Wait(), 0);
  SystemClock clock;
  auto store = Store::Open(dir_.path() + "/data", clock, Store::OpenMode::kReadOnly);
  ASSERT_TRUE(store.ok());
  auto pings = (*store)->Pings("nightly-backup", 10);
  ASSERT_TRUE(pings.ok());
  ASSERT_EQ(pings->size(), 2u);
  EXPECT_EQ((*pings)[1].kind, heartbeat::PingKind::kStart);
  EXPECT_EQ((*pings)[0].kind, heartbeat::PingKind::kSuccess);
}

// Incident 3: the home server's address changed and its dynamic DNS name
// kept pointing at the old one. Addresses come through a trusted proxy here
// (X-Forwarded-For), the only way to ping from "another" address on loopback.
TEST_F(HeartbeatDaemon, AddressChangesAreEventsAndStaleDnsIsCritical) {
  port_ = testing::PickFreePort();
  config_ =
      dir_.Write("mamori.yaml",
                 "data_dir: ./data\nlisten: 127.0.0.1:" + std::to_string(port_) +
                     "\napi: {trusted_proxies: [127.0.0.1]}\n"
                     "defaults: {interval: 200ms, timeout: 150ms}\nchecks:\n"
                     "  - {name: home-server, type: heartbeat, uuid: " +
                     kUuid + ", period: 10m, grace: 5m, track_ip: true, dns_name: localhost}\n");
  Launch();
  auto ping_from = [&](const std::string& ip) {
    HttpRequest r;
    r.url = Ping();
    if (!ip.empty()) r.headers.emplace_back("X-Forwarded-For", ip);
    return FetchAll(*http_, {r})[0].status;
  };
  HttpRequest ip_req;
  ip_req.url = Url("/ip");
  ip_req.headers.emplace_back("X-Forwarded-For", "203.0.113.7");
  EXPECT_EQ(FetchAll(*http_, {ip_req})[0].body, "203.0.113.7\n");

  EXPECT_EQ(ping_from("203.0.113.7"), 200);
  EXPECT_EQ(ping_from("198.51.100.2"), 200);
  EXPECT_TRUE(daemon_->WaitForLog("home-server now at 198.51.100.2, was 203.0.113.7"))
      << daemon_->Log();
  ASSERT_TRUE(Eventually(
      [&] {
        auto s = StatusOf(config_, "home-server");
        return s.is_object() && s["status"] == "critical";
      },
      5000ms))
      << StatusOf(config_, "home-server").dump();
  EXPECT_NE(StatusOf(config_, "home-server")["summary"].get<std::string>().find(
                "but the host last pinged from 198.51.100.2: dynamic DNS is stale"),
            std::string::npos)
      << StatusOf(config_, "home-server").dump();
  // Back at the address the name resolves to: fine again.
  EXPECT_EQ(ping_from(""), 200);
  ASSERT_TRUE(Eventually(
      [&] {
        auto s = StatusOf(config_, "home-server");
        return s.is_object() && s["status"] == "ok";
      },
      5000ms))
      << StatusOf(config_, "home-server").dump();
  daemon_->Signal(SIGTERM);
  EXPECT_EQ(daemon_->Wait(), 0);
  SystemClock clock;
  auto store = Store::Open(dir_.path() + "/data", clock, Store::OpenMode::kReadOnly);
  ASSERT_TRUE(store.ok());
  auto events = (*store)->Events("home-server", WallTime{}, 100);
  ASSERT_TRUE(events.ok());
  int changes = 0;
  for (const auto& e : *events) changes += e.kind == EventKind::kAddressChanged;
  EXPECT_EQ(changes, 2);  // 203.0.113.7 -> 198.51.100.2 -> 127.0.0.1
}

// Incident 2: the machine was in maintenance when the backup should have
// run. A catch_up command runs once for the missed run and reports its result.
TEST_F(HeartbeatDaemon, MissedRunTriggersOneCatchUp) {
  Start(
      "  - {name: quick-job, type: heartbeat, uuid: 3d6e28ba-2fa1-41d2-883f-0016d3cca427, period: "
      "1s, grace: 500ms,\n"
      "     catch_up: [sh, -c, 'echo caught up; echo x >> " +
      dir_.path() +
      "/ran-ok']}\n"
      "  - {name: broken-job, type: heartbeat, uuid: 4e7e28ba-2fa1-41d2-883f-0016d3cca427, period: "
      "1s, grace: 500ms,\n"
      "     catch_up: [sh, -c, 'echo x >> " +
      dir_.path() + "/ran-broken; echo disk full; exit 3']}\n");
  EXPECT_TRUE(daemon_->WaitForLog("quick-job: a scheduled run was missed; running the catch-up"))
      << daemon_->Log();
  ASSERT_TRUE(Eventually(
      [&] {
        auto s = StatusOf(config_, "quick-job");
        return s.is_object() && s["status"] == "ok" &&
               s["summary"].get<std::string>().find("last success") != std::string::npos;
      },
      5000ms))
      << StatusOf(config_, "quick-job").dump();
  ASSERT_TRUE(Eventually(
      [&] {
        auto s = StatusOf(config_, "broken-job");
        return s.is_object() && s["status"] == "critical" &&
               s["summary"].get<std::string>().find("exited with code 3") != std::string::npos;
      },
      5000ms))
      << StatusOf(config_, "broken-job").dump();
  EXPECT_NE(StatusOf(config_, "broken-job")["summary"].get<std::string>().find("disk full"),
            std::string::npos);
  // The broken job's missed run is the same one: no second attempt.
  std::this_thread::sleep_for(1500ms);
  std::ifstream broken(dir_.path() + "/ran-broken");
  std::string all((std::istreambuf_iterator<char>(broken)), std::istreambuf_iterator<char>());
  EXPECT_EQ(all, "x\n");
}

// Two monitors watch each other: A pings B every second (peers:); when A
// dies, B's heartbeat check for it goes CRITICAL.
TEST(HeartbeatPeers, AMonitorLearnsThatItsPeerDied) {
  TempDir a_dir, b_dir;
  const int a_port = testing::PickFreePort(), b_port = testing::PickFreePort();
  const std::string b_uuid = "2c5e28ba-2fa1-41d2-883f-0016d3cca427";
  const std::string b_cfg =
      b_dir.Write("b.yaml", "data_dir: ./data\nlisten: 127.0.0.1:" + std::to_string(b_port) +
                                "\ndefaults: {interval: 200ms, timeout: 100ms}\nchecks:\n"
                                "  - {name: a-alive, type: heartbeat, uuid: " +
                                b_uuid + ", period: 1s, grace: 1s}\n");
  const std::string a_cfg = a_dir.Write(
      "a.yaml", "data_dir: ./data\nlisten: 127.0.0.1:" + std::to_string(a_port) +
                    "\ndefaults: {interval: 200ms, timeout: 100ms}\nchecks:\n"
                    "  - {name: root, type: disk, path: /, warning: 99.99%, critical: 100%}\n"
                    "peers:\n  - {name: b, url: 'http://127.0.0.1:" +
                    std::to_string(b_port) + "/ping/" + b_uuid + "', every: 1s}\n");
  DaemonProcess b({"-c", b_cfg}, b_dir.path() + "/b.log");
  ASSERT_TRUE(b.WaitForLog("ping API listening")) << b.Log();
  auto a = std::make_unique<DaemonProcess>(std::vector<std::string>{"-c", a_cfg},
                                           a_dir.path() + "/a.log");
  ASSERT_TRUE(a->WaitForLog("ping API listening")) << a->Log();
  ASSERT_TRUE(Eventually(
      [&] {
        auto s = StatusOf(b_cfg, "a-alive");
        return s.is_object() && s["status"] == "ok" &&
               s["summary"].get<std::string>().find("last success") != std::string::npos;
      },
      5000ms))
      << StatusOf(b_cfg, "a-alive").dump();
  ASSERT_TRUE(Eventually(
      [&] {
        auto s = StatusOf(a_cfg, "peer-b");
        return s.is_object() && s["status"] == "ok";
      },
      5000ms))
      << StatusOf(a_cfg, "peer-b").dump();
  a->Signal(SIGKILL);
  a->Wait();
  ASSERT_TRUE(Eventually(
      [&] {
        auto s = StatusOf(b_cfg, "a-alive");
        return s.is_object() && s["status"] == "critical";
      },
      6000ms))
      << StatusOf(b_cfg, "a-alive").dump();
  EXPECT_TRUE(b.WaitForLog("a-alive: OK -> CRITICAL: late")) << b.Log();
}

TEST(HeartbeatConfig, ExampleValidatesAndMistakesAreExplained) {
  TempDir dir;
  auto ok =
      RunMamori({"config", "validate", "-c",
                 dir.Write("ok.yaml",
                           "listen: 127.0.0.1:8470\nchecks:\n"
                           "  - {name: nightly-backup, type: heartbeat, uuid: "
                           "1b4e28ba-2fa1-41d2-883f-0016d3cca427, period: 1d, grace: 2h}\n")});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  auto no_listen = RunMamori({"config", "validate", "-c",
                              dir.Write("nolisten.yaml",
                                        "checks:\n  - {name: hb, type: heartbeat, uuid: "
                                        "1b4e28ba-2fa1-41d2-883f-0016d3cca427, period: 1d}\n")});
  EXPECT_EQ(no_listen.exit_code, 78);
  EXPECT_NE(no_listen.err.find("heartbeats need the ping API"), std::string::npos) << no_listen.err;
  auto no_uuid = RunMamori({"config", "validate", "-c",
                            dir.Write("nouuid.yaml",
                                      "listen: 127.0.0.1:8470\nchecks:\n"
                                      "  - {name: hb, type: heartbeat, period: 1d}\n")});
  EXPECT_EQ(no_uuid.exit_code, 78);
  EXPECT_NE(no_uuid.err.find("add uuid: "), std::string::npos) << no_uuid.err;
  auto cron_ok = RunMamori({"config", "validate", "-c",
                            dir.Write("cron.yaml",
                                      "listen: 127.0.0.1:8470\nchecks:\n"
                                      "  - {name: hb, type: heartbeat, uuid: "
                                      "1b4e28ba-2fa1-41d2-883f-0016d3cca427, cron: '0 3 * * *', "
                                      "tz: Asia/Tokyo, grace: 2h}\n")});
  EXPECT_EQ(cron_ok.exit_code, 0) << cron_ok.err;
  auto cron_bad = RunMamori(
      {"config", "validate", "-c",
       dir.Write("cronbad.yaml",
                 "listen: 127.0.0.1:8470\nchecks:\n"
                 "  - {name: hb, type: heartbeat, uuid: "
                 "1b4e28ba-2fa1-41d2-883f-0016d3cca427, cron: '61 3 * * *'}\n"
                 "  - {name: hb2, type: heartbeat, uuid: "
                 "2b4e28ba-2fa1-41d2-883f-0016d3cca427, cron: '@daily', tz: Mars/Base}\n")});
  EXPECT_EQ(cron_bad.exit_code, 78);
  EXPECT_NE(cron_bad.err.find("cronbad.yaml:3:"), std::string::npos) << cron_bad.err;
  EXPECT_NE(cron_bad.err.find("minute field '61' is out of range 0-59"), std::string::npos)
      << cron_bad.err;
  EXPECT_NE(cron_bad.err.find("unknown time zone"), std::string::npos) << cron_bad.err;
  auto bad = RunMamori({"config", "validate", "-c",
                        dir.Write("bad.yaml",
                                  "listen: 127.0.0.1\nchecks:\n"
                                  "  - {name: hb, type: heartbeat, uuid: 123, period: 1d}\n")});
  EXPECT_EQ(bad.exit_code, 78);
  EXPECT_NE(bad.err.find("bad.yaml:1:9:"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("'123' is not a UUID"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace mamori
