// End-to-end tests of `mamori run` and `mamori status`: the real binary, a real
// data directory, real signals.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "mamori/store/store.h"
#include "testing/cli.h"

namespace mamori {
namespace {

using namespace std::chrono_literals;
using testing::DaemonProcess;
using testing::Eventually;
using testing::RunMamori;
using testing::TempDir;

std::string Config(const TempDir& dir, bool second_check = false) {
  std::string y =
      "data_dir: ./data\n"
      "defaults: {interval: 200ms, timeout: 150ms, failures_before_alert: 2, "
      "successes_before_recovery: 1}\n"
      "checks:\n"
      "  - {name: flag, type: file, path: \"" +
      dir.path() + "/flag\"}\n";
  if (second_check)
    y += "  - {name: root-disk, type: disk, path: /, warning: 99.9%, critical: 100%}\n";
  return y;
}

// The status of one check as `mamori status --json` reports it.
nlohmann::json StatusOf(const std::string& config, const std::string& name) {
  auto r = RunMamori({"status", "-c", config, "--json"});
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  if (!j.is_array()) return nullptr;
  for (auto& c : j)
    if (c["name"] == name) return c;
  return nullptr;
}

TEST(Daemon, RunsChecksRecordsHardChangesReloadsAndPersists) {
  TempDir dir;
  dir.Write("flag", "x");
  const std::string cfg = dir.Write("mamori.yaml", Config(dir));
  const std::string log = dir.path() + "/daemon.log";

  {
    DaemonProcess d({"-c", cfg, "--stats-interval", "1s"}, log);
    ASSERT_TRUE(d.WaitForLog("running 1 check")) << d.Log();

    // The first OK result makes the check hard OK; status shows it.
    ASSERT_TRUE(Eventually([&] { return StatusOf(cfg, "flag")["hard_status"] == "ok"; }, 10s))
        << d.Log();

    // The flag disappears: after 2 consecutive failures, a hard change.
    std::filesystem::remove(dir.path() + "/flag");
    ASSERT_TRUE(d.WaitForLog("flag: OK -> CRITICAL")) << d.Log();
    ASSERT_TRUE(
        Eventually([&] { return StatusOf(cfg, "flag")["hard_status"] == "critical"; }, 10s));
    auto st = StatusOf(cfg, "flag");
    EXPECT_EQ(st["status"], "critical");
    EXPECT_EQ(st["type"], "file");
    EXPECT_NE(st["summary"].get<std::string>().find("flag"), std::string::npos) << st;

    // SIGHUP with a second check: it is picked up, the first keeps its state.
    dir.Write("mamori.yaml", Config(dir, true));
    d.Signal(SIGHUP);
    ASSERT_TRUE(d.WaitForLog("reloaded: 2 checks (was 1)")) << d.Log();
    ASSERT_TRUE(Eventually([&] { return StatusOf(cfg, "root-disk")["hard_status"] == "ok"; }, 10s))
        << d.Log();
    EXPECT_EQ(StatusOf(cfg, "flag")["hard_status"], "critical");

    // SIGHUP with a broken file: every error logged, the old config keeps running.
    dir.Write(
        "mamori.yaml",
        Config(dir, true) + "  - {name: extra, type: disk, path: /, warning: 95, intervall: 5s}\n");
    d.Signal(SIGHUP);
    ASSERT_TRUE(d.WaitForLog("reload rejected: 2 error(s)")) << d.Log();
    EXPECT_NE(d.Log().find("mamori.yaml:6:"), std::string::npos) << d.Log();
    EXPECT_NE(d.Log().find("did you mean 'interval'?"), std::string::npos) << d.Log();
    // (status reads the same data_dir through a valid copy of the config)
    const std::string good = dir.Write("good.yaml", Config(dir, true));
    const std::string before = StatusOf(good, "root-disk")["last_check"];
    ASSERT_TRUE(
        Eventually([&] { return StatusOf(good, "root-disk")["last_check"] != before; }, 10s))
        << "checks must keep running after a rejected reload";

    // Recovery: one success is enough here.
    dir.Write("flag", "x");
    ASSERT_TRUE(d.WaitForLog("flag: CRITICAL -> OK")) << d.Log();

    d.Signal(SIGTERM);
    EXPECT_EQ(d.Wait(), 0) << d.Log();
    EXPECT_NE(d.Log().find("SIGTERM: shutting down"), std::string::npos);
  }

  // The store holds the hard changes as events.
  SystemClock clock;
  auto store = Store::Open(dir.path() + "/data", clock, Store::OpenMode::kReadOnly);
  ASSERT_TRUE(store.ok()) << store.error().message();
  auto events = (*store)->Events("flag", WallTime{}, 100);
  ASSERT_TRUE(events.ok());
  std::vector<std::string> seen;
  for (auto it = events->rbegin(); it != events->rend(); ++it)
    seen.push_back(std::string(it->from ? StatusName(*it->from) : "pending") + ">" +
                   std::string(StatusName(it->to)));
  EXPECT_EQ(seen, (std::vector<std::string>{"pending>ok", "ok>critical", "critical>ok"}));

  // A restart restores the state instead of starting from pending.
  dir.Write("mamori.yaml", Config(dir, true));
  std::filesystem::remove(dir.path() + "/flag");
  {
    DaemonProcess d({"-c", cfg}, log + ".2");
    ASSERT_TRUE(d.WaitForLog("restored the state of 2 check(s)")) << d.Log();
    // Hard OK before the restart, so two failures lead to a hard change again
    // (not a "pending -> critical").
    ASSERT_TRUE(d.WaitForLog("flag: OK -> CRITICAL")) << d.Log();
    d.Signal(SIGINT);
    EXPECT_EQ(d.Wait(), 0) << d.Log();
  }
}

// Every path comes from one resolved place: with --data-dir, the log check
// keeps its positions (logpos.db) there, not in the config file's data_dir.
TEST(Daemon, DataDirOverrideHoldsTheLogPositionsToo) {
  TempDir dir;
  dir.Write("app.log", "started\n");
  const std::string cfg = dir.Write("mamori.yaml",
                                    "data_dir: ./config-data\n"
                                    "checks:\n"
                                    "  - {name: app-log, type: log, interval: 200ms, files: ['" +
                                        dir.path() + "/app.log']}\n");
  const std::string override_dir = dir.path() + "/override";
  DaemonProcess d({"-c", cfg, "--data-dir", override_dir}, dir.path() + "/daemon.log");
  ASSERT_TRUE(d.WaitForLog("running 1 check")) << d.Log();
  ASSERT_TRUE(Eventually([&] { return std::filesystem::exists(override_dir + "/logpos.db"); }, 10s))
      << d.Log();
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/config-data/logpos.db"));
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/config-data"));
}

// A probe that overruns its timeout is reported UNKNOWN at the deadline but
// stays in flight until it really returns: its next slots are skipped (and
// counted), never started beside the hung run. The log check opening a FIFO
// with no writer blocks in open(2), which makes such a probe.
TEST(Daemon, AProbeThatOverrunsIsNeverStartedTwice) {
  TempDir dir;
  const std::string fifo = dir.path() + "/stuck.log";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const std::string cfg =
      dir.Write("mamori.yaml",
                "data_dir: ./data\n"
                "checks:\n"
                "  - {name: stuck, type: log, interval: 200ms, timeout: 100ms, files: ['" +
                    fifo + "']}\n");
  DaemonProcess d({"-c", cfg, "--stats-interval", "1s"}, dir.path() + "/daemon.log");
  ASSERT_TRUE(d.WaitForLog("running 1 check")) << d.Log();
  // Slots keep coming every 200 ms while a run hangs: each is skipped. The
  // first run returns (the follower starts at the end without reading), the
  // next one hangs; its timeout result at +1.1 s must not free the slot for
  // another run.
  auto runs_per_window = [&] {
    const std::string log = d.Log();
    std::vector<int> runs;
    const std::string key = "stats: 1 checks, ";
    for (size_t at = log.find(key); at != std::string::npos; at = log.find(key, at + 1))
      runs.push_back(std::atoi(log.c_str() + at + key.size()));
    return runs;
  };
  ASSERT_TRUE(Eventually([&] { return runs_per_window().size() >= 5; }, 15s)) << d.Log();
  // Over five seconds: the first run and the hung one, nothing else (the old
  // daemon started a new run after every 1.1 s timeout: 4 or more).
  int total = 0;
  for (int n : runs_per_window()) total += n;
  EXPECT_LE(total, 2) << d.Log();
  // Release the hung open(2) so the worker thread returns.
  int w = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
  if (w >= 0) ::close(w);
}

TEST(Daemon, RefusesToStartOnAnInvalidConfig) {
  TempDir dir;
  const std::string cfg = dir.Write("bad.yaml", "checks:\n  - {name: a, type: disk}\n");
  DaemonProcess d({"-c", cfg}, dir.path() + "/log");
  EXPECT_EQ(d.Wait(), 78);
  EXPECT_NE(d.Log().find("bad.yaml:2:5: check 'a': missing 'path'"), std::string::npos) << d.Log();
}

TEST(Daemon, ASecondDaemonOnTheSameDataDirRefusesToStart) {
  TempDir dir;
  dir.Write("flag", "x");
  const std::string cfg = dir.Write("mamori.yaml", Config(dir));
  DaemonProcess first({"-c", cfg}, dir.path() + "/first.log");
  ASSERT_TRUE(first.WaitForLog("running 1 check")) << first.Log();
  DaemonProcess second({"-c", cfg}, dir.path() + "/second.log");
  EXPECT_EQ(second.Wait(), 75) << second.Log();
  EXPECT_NE(second.Log().find("another mamori (pid " + std::to_string(first.pid()) +
                              ") is already running"),
            std::string::npos)
      << second.Log();
  first.Signal(SIGTERM);
  EXPECT_EQ(first.Wait(), 0) << first.Log();
}

TEST(Daemon, StatusWithoutDataSaysSo) {
  TempDir dir;
  const std::string cfg =
      dir.Write("m.yaml", "data_dir: ./nothing\nchecks:\n  - {name: r, type: disk, path: /}\n");
  auto r = RunMamori({"status", "-c", cfg});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("no data yet in " + dir.path() + "/nothing"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace mamori
