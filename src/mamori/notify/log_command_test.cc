// `mamori notify log` against a real outbox.db written by the Outbox talking
// to a real aiosmtpd that first accepts and then rejects (550, DMARC), read
// while the Outbox still holds its lock, as it is while the daemon runs.
#include "mamori/notify/log_command.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "mamori/notify/outbox.h"
#include "testing/notify_servers.h"

namespace mamori::notify {
namespace {

using testing::NotifyFromYaml;
using testing::SmtpSink;
using testing::TempDir;
using testing::WaitFor;

Notification Problem(const Clock& clock, const std::string& summary) {
  return testing::SampleProblem(clock.Now(), "backup-db", summary);
}

TEST(NotifyLog, ShowsEveryAttemptWithTheReceiversAnswerWhileTheOutboxIsOpen) {
  std::string error;
  auto smtp = SmtpSink::Start(&error);
  ASSERT_TRUE(smtp) << error;
  TempDir dir;
  FakeClock clock;
  auto ob = Outbox::Open(dir.path(), clock);
  ASSERT_TRUE(ob.ok()) << ob.error().message();
  auto cfg = NotifyFromYaml("notify: [{name: ops-mail, type: email, smtp: " + smtp->Url() +
                                ", from: mamori@example.org, to: [ops@example.org], timeout: 5s}]",
                            &error);
  ASSERT_EQ(error, "");
  (*ob)->SetChannels(cfg.channels);

  const Notification first = Problem(clock, "pg_dump wrote 12 B");
  ASSERT_TRUE((*ob)->Enqueue(first, {"ops-mail"}).ok());
  ASSERT_TRUE(WaitFor([&] { return smtp->Messages().size() == 1; }));
  ASSERT_TRUE(WaitFor([&] {
    auto a = (*ob)->Attempts(first.id);
    return a.ok() && a->size() == 1;
  }));

  std::ostringstream out, err;
  NotifyLogOptions opt;
  opt.data_dir = dir.path();
  EXPECT_EQ(RunNotifyLog(opt, out, err), 0) << err.str();
  EXPECT_NE(out.str().find("ops-mail"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("delivered"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("250 2.0.0 Ok"), std::string::npos) << out.str();

  smtp->RejectWith("550 5.7.1 Unauthenticated email is not accepted due to DMARC policy");
  const Notification second = Problem(clock, "pg_dump wrote 9 B");
  ASSERT_TRUE((*ob)->Enqueue(second, {"ops-mail"}).ok());
  ASSERT_TRUE(WaitFor([&] {
    auto a = (*ob)->Attempts(second.id);
    return a.ok() && !a->empty();
  }));

  out.str("");
  EXPECT_EQ(RunNotifyLog(opt, out, err), 2) << out.str() << err.str();
  const std::string text = out.str();
  const size_t rejected = text.find("550 5.7.1");
  const size_t accepted = text.find("250 2.0.0 Ok");
  ASSERT_NE(rejected, std::string::npos) << text;
  EXPECT_LT(rejected, accepted) << "newest first:\n" << text;
  EXPECT_NE(text.find("ops-mail: 1 waiting"), std::string::npos) << text;

  out.str("");
  opt.json = true;
  EXPECT_EQ(RunNotifyLog(opt, out, err), 2);
  auto j = nlohmann::json::parse(out.str(), nullptr, false);
  ASSERT_TRUE(j.is_object()) << out.str();
  ASSERT_EQ(j["attempts"].size(), 2u) << out.str();
  EXPECT_EQ(j["attempts"][0]["notification"], second.id);
  EXPECT_EQ(j["attempts"][0]["outcome"], "failed");
  EXPECT_EQ(j["attempts"][1]["outcome"], "delivered");
  ASSERT_EQ(j["channels"].size(), 1u);
  EXPECT_EQ(j["channels"][0]["pending"], 1);

  opt.json = false;
  opt.channel = "other";
  out.str("");
  EXPECT_EQ(RunNotifyLog(opt, out, err), 0);
  EXPECT_EQ(out.str(), "no delivery attempts recorded for other\n");
}

TEST(NotifyLog, MissingOutboxIsAClearError) {
  TempDir dir;
  std::ostringstream out, err;
  NotifyLogOptions opt;
  opt.data_dir = dir.path() + "/nowhere";
  EXPECT_EQ(RunNotifyLog(opt, out, err), 3);
  EXPECT_NE(err.str().find("outbox.db does not exist"), std::string::npos) << err.str();
  EXPECT_EQ(out.str(), "");
}

}  // namespace
}  // namespace mamori::notify
