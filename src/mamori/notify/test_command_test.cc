// `mamori notify test` end to end: the real binary, a config file, a real
// aiosmtpd server and a real HTTP receiver on 127.0.0.1.
#include "mamori/notify/test_command.h"

#include <gtest/gtest.h>

#include "testing/cli.h"
#include "testing/notify_servers.h"

namespace mamori::notify {
namespace {

using testing::RunMamori;
using testing::SmtpSink;
using testing::TempDir;
using testing::WebhookSink;

TEST(NotifyTestCommand, PrintsEachServersAnswer) {
  std::string error;
  auto smtp = SmtpSink::Start(&error);
  ASSERT_TRUE(smtp) << error;
  auto hook = WebhookSink::Start(&error);
  ASSERT_TRUE(hook) << error;
  TempDir dir;
  const std::string cfg =
      dir.Write("mamori.yaml", "data_dir: " + dir.path() +
                                   "\n"
                                   "checks: [{name: root, type: disk, path: /}]\n"
                                   "notify:\n"
                                   "  - {name: ops-mail, type: email, smtp: " +
                                   smtp->Url() +
                                   ", from: mamori@example.org, to: "
                                   "[ops@example.org]}\n"
                                   "  - {name: hook, type: webhook, url: " +
                                   hook->Url() + "}\n");
  auto r = RunMamori({"notify", "test", "-c", cfg});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("ops-mail: ok (mail to ops@example.org via " + smtp->Url() +
                       "): 250 2.0.0 Ok: queued as TEST0001"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("hook: ok ("), std::string::npos) << r.out;
  ASSERT_EQ(smtp->Messages().size(), 1u);
  EXPECT_NE(smtp->Messages()[0].find("Subject: [mamori] test notification from "),
            std::string::npos);
  EXPECT_EQ(hook->Requests().size(), 1u);

  // Only one channel, refused: the server's words and a failing exit code.
  smtp->RejectWith("550 5.7.1 rejected by DMARC policy");
  r = RunMamori({"notify", "test", "-c", cfg, "ops-mail"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("ops-mail: FAILED: mail to ops@example.org rejected: 550 5.7.1 rejected "
                       "by DMARC policy"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(hook->Requests().size(), 1u);
  r = RunMamori({"notify", "test", "-c", cfg, "nope"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("no channel named 'nope' (configured: ops-mail, hook)"), std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace mamori::notify
