// A cron job that forks a process and leaves (`sleep 30 &`), wrapped by
// `mamori exec` and reporting to the real daemon: the wrapper returns as soon
// as the job exits, not when the leftover process closes the output pipes
// it inherited, and both pings of the run reach the daemon's store as one
// run with its duration. tests/exec_test.cc proves the wrapper's side
// against a plain webhook receiver
// (ExecCli.ReturnsWhenTheJobExitsEvenIfItLeftAProcessHoldingItsOutput); this
// is the same fault end to end.
#include <signal.h>

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>

#include "mamori/store/store.h"
#include "mamori/util/clock.h"
#include "testing/cli.h"
#include "testing/ports.h"

namespace mamori {
namespace {

using namespace std::chrono_literals;
using testing::DaemonProcess;
using testing::TempDir;

constexpr const char* kUuid = "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a";

TEST(JobFaults, ExecReturnsWhenAJobLeavesAChildAndTheDaemonHasTheRun) {
  TempDir dir;
  const int port = testing::PickFreePort();
  const std::string config =
      dir.Write("mamori.yaml", "data_dir: " + dir.path() +
                                   "/data\nlisten: 127.0.0.1:" + std::to_string(port) +
                                   "\n"
                                   "checks:\n"
                                   "  - {name: nightly, type: heartbeat, uuid: " +
                                   kUuid + ", period: 1d, grace: 1h}\n");
  DaemonProcess daemon({"-c", config}, dir.path() + "/daemon.log");
  ASSERT_TRUE(daemon.WaitForLog("ping API listening")) << daemon.Log();

  const std::string pidfile = dir.path() + "/leftover.pid";
  const auto start = std::chrono::steady_clock::now();
  auto r = testing::RunMamori(
      {"exec", "--url", "http://127.0.0.1:" + std::to_string(port) + "/ping/" + kUuid, "--", "sh",
       "-c", "echo working; sleep 30 & echo $! > " + pidfile + "; exit 0"});
  const auto took = std::chrono::steady_clock::now() - start;
  {
    std::ifstream in(pidfile);
    pid_t leftover = 0;
    if (in >> leftover && leftover > 1) ::kill(leftover, SIGKILL);
  }
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LT(took, 3s);
  EXPECT_EQ(r.err, "");

  daemon.Signal(SIGTERM);
  ASSERT_EQ(daemon.Wait(), 0) << daemon.Log();
  SystemClock clock;
  auto store = Store::Open(dir.path() + "/data", clock, Store::OpenMode::kReadOnly);
  ASSERT_TRUE(store.ok()) << store.error().message();
  auto pings = (*store)->Pings("nightly", 10);
  ASSERT_TRUE(pings.ok());
  ASSERT_EQ(pings->size(), 2u);  // newest first: the end, then the start
  EXPECT_EQ((*pings)[1].kind, heartbeat::PingKind::kStart);
  EXPECT_EQ((*pings)[0].kind, heartbeat::PingKind::kSuccess);
  EXPECT_EQ((*pings)[0].exit_code, 0);
  EXPECT_EQ((*pings)[0].rid, (*pings)[1].rid);
  EXPECT_NE((*pings)[0].body.find("working"), std::string::npos) << (*pings)[0].body;
  ASSERT_TRUE((*pings)[0].duration.has_value());
  EXPECT_LT(*(*pings)[0].duration, 3s);
}

}  // namespace
}  // namespace mamori
