// The daemon sends hard problems and recoveries through the outbox: a real
// aiosmtpd receives the mails.
#include <signal.h>

#include <gtest/gtest.h>

#include "testing/cli.h"
#include "testing/notify_servers.h"

namespace mamori {
namespace {

using namespace std::chrono_literals;

TEST(NotifyDaemon, HardProblemAndRecoveryAreMailed) {
  std::string error;
  auto smtp = testing::SmtpSink::Start(&error);
  ASSERT_TRUE(smtp) << error;
  testing::TempDir dir;
  const std::string flag = dir.Write("flag", "x");
  const std::string cfg =
      dir.Write("mamori.yaml",
                "data_dir: ./data\n"
                "defaults: {interval: 200ms, timeout: 150ms, failures_before_alert: 2, "
                "successes_before_recovery: 1}\n"
                "notify:\n  - {name: ops-mail, type: email, smtp: '" +
                    smtp->Url() +
                    "', from: mamori@example.org, to: [ops@example.org]}\n"
                    "checks:\n  - {name: flag, type: file, path: '" +
                    flag + "'}\n");
  testing::DaemonProcess d({"-c", cfg}, dir.path() + "/daemon.log");
  ASSERT_TRUE(d.WaitForLog("PENDING -> OK")) << d.Log();
  std::remove(flag.c_str());
  ASSERT_TRUE(testing::WaitFor([&] { return smtp->Messages().size() >= 1; }, 20)) << d.Log();
  EXPECT_NE(smtp->Messages()[0].find("flag"), std::string::npos) << smtp->Messages()[0];
  EXPECT_NE(smtp->Messages()[0].find("CRITICAL"), std::string::npos) << smtp->Messages()[0];
  dir.Write("flag", "x");
  ASSERT_TRUE(testing::WaitFor([&] { return smtp->Messages().size() >= 2; }, 20)) << d.Log();
  EXPECT_NE(smtp->Messages()[1].find("OK"), std::string::npos) << smtp->Messages()[1];
  d.Signal(SIGTERM);
  EXPECT_EQ(d.Wait(), 0);
  EXPECT_EQ(smtp->Messages().size(), 2u);  // one problem, one recovery; nothing for PENDING -> OK
}

}  // namespace
}  // namespace mamori
