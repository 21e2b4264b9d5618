// The alert life cycle end to end: the real mamori binary, a real aiosmtpd,
// a real prometheus-alertmanager and a python http.server webhook receiver,
// all on loopback. Checks are `file` checks on flag files the test removes
// and re-creates, so failures happen exactly when the test wants them.
#include <signal.h>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "mamori/notify/http_post.h"
#include "testing/cli.h"
#include "testing/http_call.h"
#include "testing/notify_servers.h"
#include "testing/ports.h"

namespace mamori {
namespace {

using namespace std::chrono_literals;

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

std::string Subject(const std::string& mail) {
  const size_t p = mail.find("\nSubject: ");
  if (p == std::string::npos) return "";
  return mail.substr(p + 10, mail.find('\n', p + 1) - p - 10);
}

constexpr const char* kFast =
    "data_dir: ./data\n"
    "defaults: {interval: 200ms, timeout: 150ms, failures_before_alert: 2, "
    "successes_before_recovery: 1}\n"
    "outbox: {retry_first: 1s, retry_max: 2s}\n";

std::string FileCheck(const std::string& name, const std::string& path,
                      const std::string& extra = "") {
  return "  - {name: " + name + ", type: file, path: '" + path + "'" + extra + "}\n";
}

TEST(Alerts, SimultaneousFailuresBecomeOneMailAndReachAlertmanager) {
  std::string error;
  auto smtp = testing::SmtpSink::Start(&error);
  ASSERT_TRUE(smtp) << error;
  auto am = testing::Alertmanager::Start(&error);
  ASSERT_TRUE(am) << error;
  testing::TempDir dir;
  const std::string a = dir.Write("a", "x"), b = dir.Write("b", "x");
  const std::string cfg = dir.Write(
      "mamori.yaml", std::string(kFast) + "alerting: {group_wait: 1s}\n" +
                         "notify:\n  - {name: ops-mail, type: email, smtp: '" + smtp->Url() +
                         "', from: mamori@example.org, to: [ops@example.org]}\n"
                         "  - {name: am, type: alertmanager, url: '" +
                         am->Url() + "'}\n" + "checks:\n" + FileCheck("web-a", a) +
                         FileCheck("web-b", b));
  testing::DaemonProcess d({"-c", cfg}, dir.path() + "/daemon.log");
  ASSERT_TRUE(d.WaitForLog("web-b: PENDING -> OK")) << d.Log();
  std::remove(a.c_str());
  std::remove(b.c_str());
  ASSERT_TRUE(testing::WaitFor([&] { return smtp->Messages().size() >= 1; }, 10)) << d.Log();
  ASSERT_TRUE(d.WaitForLog("notify: problem to am")) << d.Log();
  const std::string mail = smtp->Messages()[0];
  EXPECT_NE(Subject(mail).find("2 changes"), std::string::npos) << mail;
  EXPECT_NE(mail.find("web-a"), std::string::npos) << mail;
  EXPECT_NE(mail.find("web-b"), std::string::npos) << mail;
  // Alertmanager got both alerts; read them back through its API.
  std::string alerts;
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        notify::PostRequest get;
        get.method = "GET";
        get.url = am->Url() + "/api/v2/alerts";
        get.timeout = 2s;
        auto r = notify::HttpPost(get);
        alerts = r.ok() ? r->body : "";
        return alerts.find("web-a") != std::string::npos &&
               alerts.find("web-b") != std::string::npos;
      },
      10))
      << alerts;
  d.Signal(SIGTERM);
  EXPECT_EQ(d.Wait(), 0);
  EXPECT_EQ(smtp->Messages().size(), 1u);  // one e-mail for both
}

TEST(Alerts, RejectedMailIsAlertedOnTheWebhook) {
  std::string error;
  auto smtp = testing::SmtpSink::Start(&error);
  ASSERT_TRUE(smtp) << error;
  auto hook = testing::WebhookSink::Start(&error);
  ASSERT_TRUE(hook) << error;
  smtp->RejectWith("550 5.7.1 rejected by DMARC policy");
  testing::TempDir dir;
  const std::string flag = dir.Write("flag", "x");
  const std::string cfg =
      dir.Write("mamori.yaml", std::string(kFast) +
                                   "alerting: {group_wait: 500ms, channel_failing_after: 2}\n"
                                   "notify:\n  - {name: ops-mail, type: email, smtp: '" +
                                   smtp->Url() +
                                   "', from: mamori@example.org, to: [ops@example.org]}\n"
                                   "  - {name: hook, type: webhook, url: '" +
                                   hook->Url() + "'}\n" + "checks:\n" + FileCheck("backup", flag));
  testing::DaemonProcess d({"-c", cfg}, dir.path() + "/daemon.log");
  ASSERT_TRUE(d.WaitForLog("backup: PENDING -> OK")) << d.Log();
  std::remove(flag.c_str());
  auto alarm = [&] {
    for (const auto& r : hook->Requests())
      if (r.find("notify:ops-mail") != std::string::npos) return r;
    return std::string();
  };
  ASSERT_TRUE(testing::WaitFor([&] { return !alarm().empty(); }, 15)) << d.Log();
  const std::string r = alarm();
  EXPECT_NE(r.find("550 5.7.1 rejected by DMARC policy"), std::string::npos) << r;
  EXPECT_NE(r.find("mail to ops@example.org"), std::string::npos) << r;
  // It points at the command that shows each attempt, not at a database file.
  EXPECT_NE(r.find("mamori notify log --channel ops-mail"), std::string::npos) << r;
  EXPECT_EQ(r.find("outbox.db"), std::string::npos) << r;
  // The mail server accepts again: the queued mails arrive (nothing lost) and
  // the webhook hears that the channel recovered.
  smtp->RejectWith("");
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        size_t recovered = 0;
        for (const auto& q : hook->Requests())
          if (q.find("notify:ops-mail") != std::string::npos &&
              q.find("delivering again") != std::string::npos)
            ++recovered;
        return recovered == 1 && smtp->Messages().size() >= 1;
      },
      15))
      << d.Log();
  EXPECT_NE(smtp->Messages()[0].find("backup"), std::string::npos);
  d.Signal(SIGTERM);
  EXPECT_EQ(d.Wait(), 0);
}

TEST(Alerts, OneAlertNamesTheDependencyInsteadOfOnePerDependant) {
  std::string error;
  auto smtp = testing::SmtpSink::Start(&error);
  ASSERT_TRUE(smtp) << error;
  testing::TempDir dir;
  const std::string router = dir.Write("router", "x"), web = dir.Write("web", "x"),
                    dns = dir.Write("dns", "x");
  const std::string cfg =
      dir.Write("mamori.yaml",
                std::string(kFast) + "alerting: {group_wait: 1s}\n" +
                    "notify:\n  - {name: ops-mail, type: email, smtp: '" + smtp->Url() +
                    "', from: mamori@example.org, to: [ops@example.org]}\n" + "checks:\n" +
                    FileCheck("router", router) + FileCheck("web", web, ", depends_on: [router]") +
                    FileCheck("dns", dns, ", depends_on: [router]"));
  testing::DaemonProcess d({"-c", cfg}, dir.path() + "/daemon.log");
  ASSERT_TRUE(d.WaitForLog("dns: PENDING -> OK")) << d.Log();
  for (const auto& f : {router, web, dns}) std::remove(f.c_str());
  ASSERT_TRUE(testing::WaitFor([&] { return smtp->Messages().size() >= 1; }, 10)) << d.Log();
  // Give a second mail (wrongly) the time to arrive.
  ASSERT_TRUE(d.WaitForLog("dns: OK -> CRITICAL")) << d.Log();
  std::this_thread::sleep_for(1500ms);
  ASSERT_EQ(smtp->Messages().size(), 1u);
  const std::string mail = smtp->Messages()[0];
  EXPECT_NE(Subject(mail).find("router"), std::string::npos) << mail;
  EXPECT_NE(mail.find("also affected"), std::string::npos) << mail;
  EXPECT_NE(mail.find("dns, web"), std::string::npos) << mail;
  // The router is back, web is not: web is alerted on its own now.
  dir.Write("router", "x");
  dir.Write("dns", "x");
  ASSERT_TRUE(testing::WaitFor([&] { return smtp->Messages().size() >= 2; }, 10)) << d.Log();
  const std::string second = smtp->Messages()[1];
  EXPECT_NE(second.find("web"), std::string::npos) << second;
  d.Signal(SIGTERM);
  EXPECT_EQ(d.Wait(), 0);
}

TEST(Alerts, AckFromTheCommandLineStopsReminders) {
  std::string error;
  auto hook = testing::WebhookSink::Start(&error);
  ASSERT_TRUE(hook) << error;
  testing::TempDir dir;
  const std::string flag = dir.Write("flag", "x");
  const int port = testing::PickFreePort();
  const std::string cfg =
      dir.Write("mamori.yaml", std::string(kFast) + "listen: 127.0.0.1:" + std::to_string(port) +
                                   "\nalerting: {group_wait: 200ms}\n"
                                   "notify:\n  - {name: hook, type: webhook, url: '" +
                                   hook->Url() + "', reminder_every: 1s}\n" + "checks:\n" +
                                   FileCheck("backup", flag));
  testing::DaemonProcess d({"-c", cfg}, dir.path() + "/daemon.log");
  ASSERT_TRUE(d.WaitForLog("backup: PENDING -> OK")) << d.Log();
  auto ack = testing::RunMamori({"ack", "-c", cfg, "backup"});
  EXPECT_EQ(ack.exit_code, 1) << ack.out << ack.err;  // not failing yet
  EXPECT_NE(ack.err.find("not failing"), std::string::npos) << ack.err;
  std::remove(flag.c_str());
  auto reminders = [&] {
    size_t n = 0;
    for (const auto& r : hook->Requests()) n += Count(r, "still CRITICAL") > 0;
    return n;
  };
  ASSERT_TRUE(testing::WaitFor([&] { return reminders() >= 2; }, 10)) << d.Log();
  // A page of another site, open in a browser on this host, reaches 127.0.0.1
  // too; its Origin gives it away and it acknowledges nothing.
  auto forged =
      testing::HttpCall(port, "POST", "/api/v1/ack/backup", "", "Origin: https://evil.example\r\n");
  EXPECT_EQ(forged.status, 403) << forged.body;
  EXPECT_EQ(testing::RunMamori({"ack", "-c", cfg}).out, "no acknowledged checks\n");
  ack = testing::RunMamori({"ack", "-c", cfg, "backup", "--by", "alice"});
  ASSERT_EQ(ack.exit_code, 0) << ack.out << ack.err;
  EXPECT_NE(ack.out.find("acknowledged until it recovers"), std::string::npos) << ack.out;
  auto list = testing::RunMamori({"ack", "-c", cfg});
  EXPECT_NE(list.out.find("backup  acknowledged by alice"), std::string::npos) << list.out;
  const size_t at_ack = reminders();
  std::this_thread::sleep_for(3s);     // three reminder periods
  EXPECT_LE(reminders(), at_ack + 1);  // at most one that was already on its way
  const size_t before_remove = reminders();
  ack = testing::RunMamori({"ack", "-c", cfg, "backup", "--remove"});
  ASSERT_EQ(ack.exit_code, 0) << ack.out << ack.err;
  ASSERT_TRUE(testing::WaitFor([&] { return reminders() >= before_remove + 2; }, 10)) << d.Log();
  auto unknown = testing::RunMamori({"ack", "-c", cfg, "bakcup"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("no check named 'bakcup'"), std::string::npos) << unknown.err;
  d.Signal(SIGTERM);
  EXPECT_EQ(d.Wait(), 0);
  // The daemon is gone: a clear error.
  auto gone = testing::RunMamori({"ack", "-c", cfg, "backup"});
  EXPECT_EQ(gone.exit_code, 3);
  EXPECT_NE(gone.err.find("cannot reach the daemon"), std::string::npos) << gone.err;
}

// Each alert carries its evidence: the check's last observations (newest
// first) and when the state before it began, in the webhook JSON and the mail.
TEST(Alerts, AlertsCarryTheLastObservationsAndThePreviousSince) {
  std::string error;
  auto hook = testing::WebhookSink::Start(&error);
  ASSERT_TRUE(hook) << error;
  testing::TempDir dir;
  const std::string flag = dir.Write("flag", "x");
  const std::string cfg =
      dir.Write("mamori.yaml", std::string(kFast) +
                                   "alerting: {group_wait: 200ms}\n"
                                   "notify:\n  - {name: hook, type: webhook, url: '" +
                                   hook->Url() + "'}\n" + "checks:\n" + FileCheck("backup", flag));
  testing::DaemonProcess d({"-c", cfg}, dir.path() + "/daemon.log");
  ASSERT_TRUE(d.WaitForLog("backup: PENDING -> OK")) << d.Log();
  std::remove(flag.c_str());
  nlohmann::json item;
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        for (const auto& r : hook->Requests()) {
          auto req = nlohmann::json::parse(r, nullptr, false);
          if (!req.is_object()) continue;
          auto body = nlohmann::json::parse(req.value("body", ""), nullptr, false);
          if (!body.is_object() || !body.contains("items")) continue;
          for (const auto& it : body["items"])
            if (it.value("to", "") == "critical") item = it;
        }
        return item.is_object();
      },
      10))
      << d.Log();
  ASSERT_TRUE(item.contains("observations")) << item.dump();
  ASSERT_GE(item["observations"].size(), 2u) << item.dump();  // the failures that made it hard
  EXPECT_EQ(item["observations"][0].value("status", ""), "critical") << item.dump();
  EXPECT_TRUE(item.contains("previous_since")) << item.dump();  // OK since the first run
}

TEST(Alerts, KilledBeforeTheGroupWasSentStillAlertsOnceAfterRestart) {
  std::string error;
  auto smtp = testing::SmtpSink::Start(&error);
  ASSERT_TRUE(smtp) << error;
  testing::TempDir dir;
  const std::string flag = dir.Write("flag", "x");
  const std::string cfg = dir.Write(
      "mamori.yaml", std::string(kFast) + "alerting: {group_wait: 4s}\n" +
                         "notify:\n  - {name: ops-mail, type: email, smtp: '" + smtp->Url() +
                         "', from: mamori@example.org, to: [ops@example.org]}\n" + "checks:\n" +
                         FileCheck("backup", flag));
  {
    testing::DaemonProcess d({"-c", cfg}, dir.path() + "/daemon1.log");
    ASSERT_TRUE(d.WaitForLog("backup: PENDING -> OK")) << d.Log();
    std::remove(flag.c_str());
    ASSERT_TRUE(d.WaitForLog("backup: OK -> CRITICAL")) << d.Log();
    std::this_thread::sleep_for(1500ms);  // the state is saved (every second); the group is not due
    d.Signal(SIGKILL);
    d.Wait();
  }
  EXPECT_TRUE(smtp->Messages().empty());
  testing::DaemonProcess d({"-c", cfg}, dir.path() + "/daemon2.log");
  ASSERT_TRUE(testing::WaitFor([&] { return smtp->Messages().size() >= 1; }, 15)) << d.Log();
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(smtp->Messages().size(), 1u);
  EXPECT_NE(smtp->Messages()[0].find("backup"), std::string::npos);
  d.Signal(SIGTERM);
  EXPECT_EQ(d.Wait(), 0);
}

}  // namespace
}  // namespace mamori
