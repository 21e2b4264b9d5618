// Maintenance windows end to end: the real `mamori run`, a real aiosmtpd
// receiving the mail, real files as the checks' targets. The window is a few
// seconds long and computed from the current time.
#include <signal.h>

#include <date/date.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <thread>

#include "mamori/store/store.h"
#include "testing/cli.h"
#include "testing/http_call.h"
#include "testing/notify_servers.h"
#include "testing/ports.h"

namespace mamori {
namespace {

using namespace std::chrono_literals;
using testing::Mail;
using testing::ParseMail;
using testing::Tokyo;

std::string MailConfig(const testing::SmtpSink& smtp) {
  return "data_dir: ./data\n"
         "notify:\n  - {name: ops-mail, type: email, smtp: '" +
         smtp.Url() + "', from: mamori@example.org, to: [ops@example.org]}\n";
}

TEST(MaintenanceDaemon, WindowEndReRunsChecksAndMailsOneSummary) {
  std::string error;
  auto smtp = testing::SmtpSink::Start(&error);
  ASSERT_TRUE(smtp) << error;
  testing::TempDir dir;
  const std::string web = dir.Write("web-up", "x");       // removed inside the window
  const std::string backup = dir.path() + "/backup-ran";  // never written: the missed job
  const std::string clock = dir.Write("clock-ok", "x");   // fine throughout
  // Whole milliseconds, as written in the file and kept in the store.
  const WallTime start =
      date::floor<std::chrono::milliseconds>(std::chrono::system_clock::now()) + 2s;
  const WallTime end = start + 3s;
  const std::string cfg = dir.Write(
      "mamori.yaml", MailConfig(*smtp) +
                         "checks:\n"
                         "  - {name: web, type: file, path: '" +
                         web +
                         "', interval: 250ms, timeout: 200ms, failures_before_alert: 1, "
                         "successes_before_recovery: 1}\n"
                         // 1h: a run right after the window can only be the window's re-run.
                         "  - {name: backup-ran, type: file, path: '" +
                         backup +
                         "', interval: 1h, timeout: 2s}\n"
                         "  - {name: clock, type: file, path: '" +
                         clock +
                         "', interval: 1h, timeout: 2s}\n"
                         "maintenance:\n"
                         "  - {name: test-window, start: '" +
                         Tokyo(start) + "', end: '" + Tokyo(end) + "'}\n");
  testing::DaemonProcess d({"-c", cfg}, dir.path() + "/daemon.log");
  ASSERT_TRUE(d.WaitForLog("web: PENDING -> OK")) << d.Log();
  ASSERT_TRUE(d.WaitForLog("maintenance test-window is on")) << d.Log();
  ASSERT_LT(std::chrono::system_clock::now(), end - 1s) << "the daemon started too slowly";
  std::remove(web.c_str());
  ASSERT_TRUE(d.WaitForLog("web: OK -> CRITICAL")) << d.Log();
  ASSERT_TRUE(d.WaitForLog("suppressed: in maintenance test-window")) << d.Log();

  // `mamori status` shows the window while it lasts.
  if (std::chrono::system_clock::now() < end - 300ms) {
    testing::CliResult st = testing::RunMamori({"status", "-c", cfg, "--json"});
    auto j = nlohmann::json::parse(st.out, nullptr, false);
    ASSERT_TRUE(j.is_array()) << st.out << st.err;
    bool marked = false;
    for (const auto& row : j)
      if (row.value("name", "") == "web" && row.contains("maintenance"))
        marked = row["maintenance"].value("window", "") == "test-window";
    EXPECT_TRUE(marked) << st.out;
  }
  EXPECT_TRUE(smtp->Messages().empty()) << "mailed during the window:\n" << smtp->Messages()[0];

  ASSERT_TRUE(testing::WaitFor([&] { return !smtp->Messages().empty(); }, 20)) << d.Log();
  EXPECT_GE(std::chrono::system_clock::now(), end);
  const Mail mail = ParseMail(smtp->Messages()[0]);
  EXPECT_EQ(mail.kind, "after-maintenance");
  EXPECT_EQ(mail.subject, "[mamori] after maintenance test-window: 2 still failing, 1 fine");
  const size_t failing = mail.body.find("Still failing (2):");
  const size_t fine = mail.body.find("Fine (1):");
  ASSERT_NE(failing, std::string::npos) << mail.body;
  ASSERT_NE(fine, std::string::npos) << mail.body;
  const size_t web_line = mail.body.find("  web ");
  const size_t backup_line = mail.body.find("  backup-ran ");
  const size_t clock_line = mail.body.find("  clock ");
  EXPECT_TRUE(failing < web_line && web_line < fine) << mail.body;
  EXPECT_TRUE(failing < backup_line && backup_line < fine) << mail.body;
  EXPECT_GT(clock_line, fine) << mail.body;
  EXPECT_NE(mail.body.find(backup + " does not exist"), std::string::npos) << mail.body;
  // The summary told the channel: the alert router's next group (backup-ran
  // went CRITICAL in the re-run, after the window) must not repeat it.
  std::this_thread::sleep_for(4s);  // group_wait (2s) and a router tick, twice over
  EXPECT_EQ(smtp->Messages().size(), 1u) << smtp->Messages().back();

  // The re-runs happened right at the end (they are in the store).
  SystemClock sys;
  auto store = Store::Open(dir.path() + "/data", sys, Store::OpenMode::kReadOnly);
  ASSERT_TRUE(store.ok()) << store.error().message();
  for (const char* name : {"backup-ran", "clock"}) {
    std::vector<StoredObservation> obs;
    ASSERT_TRUE(testing::Eventually(
        [&] {
          auto r = (*store)->Observations(name, end - 1s, 100);
          if (r.ok()) obs = *r;
          return !obs.empty();
        },
        10s))
        << name;
    bool at_end = false;
    for (const auto& o : obs) at_end = at_end || (o.time >= end && o.time <= end + 2s);
    std::string seen;
    for (const auto& o : obs)
      seen += " " + std::to_string(ToUnixMillis(o.time) - ToUnixMillis(end)) + "ms";
    EXPECT_TRUE(at_end) << name << ": no run within 2 s after the window ended; runs at" << seen
                        << " from the end\n"
                        << d.Log();
  }
  // The state change inside the window was recorded as usual.
  auto events = (*store)->Events(std::string("web"), start - 1s, 10);
  ASSERT_TRUE(events.ok());
  bool recorded = false;
  for (const auto& e : *events) recorded = recorded || e.to == CheckStatus::kCritical;
  EXPECT_TRUE(recorded);

  d.Signal(SIGTERM);
  EXPECT_EQ(d.Wait(), 0);
  EXPECT_EQ(smtp->Messages().size(), 1u) << d.Log();  // the summary and nothing else
}

// A window started through the API and cut short with DELETE ends like a
// configured one: its checks run at once and one summary is mailed.
TEST(MaintenanceDaemon, ApiWindowCutShortReRunsItsChecksAndMailsOneSummary) {
  std::string error;
  auto smtp = testing::SmtpSink::Start(&error);
  ASSERT_TRUE(smtp) << error;
  testing::TempDir dir;
  const std::string web = dir.Write("web-up", "x");      // removed inside the window
  const std::string clock = dir.Write("clock-ok", "x");  // fine throughout
  const int port = testing::PickFreePort();
  const std::string token = "write-token-0123456789abcdef";
  const std::string cfg = dir.Write(
      "mamori.yaml", MailConfig(*smtp) + "listen: 127.0.0.1:" + std::to_string(port) +
                         "\napi: {tokens: [{token: " + token +
                         ", scope: write}]}\n"
                         "checks:\n"
                         "  - {name: web, type: file, path: '" +
                         web +
                         "', interval: 250ms, timeout: 200ms, failures_before_alert: 1, "
                         "successes_before_recovery: 1}\n"
                         // 1h: a run right after the window can only be the window's re-run.
                         "  - {name: clock, type: file, path: '" +
                         clock + "', interval: 1h, timeout: 2s}\n");
  testing::DaemonProcess d({"-c", cfg}, dir.path() + "/daemon.log");
  ASSERT_TRUE(d.WaitForLog("web: PENDING -> OK")) << d.Log();
  const std::string auth = "Authorization: Bearer " + token + "\r\n";
  auto started = testing::HttpCall(port, "POST", "/api/v1/maintenance",
                                   R"({"duration": "1h", "reason": "disk swap"})",
                                   auth + "Content-Type: application/json\r\n");
  ASSERT_EQ(started.status, 201) << started.body;
  const int64_t id = nlohmann::json::parse(started.body).value("id", int64_t{0});
  ASSERT_GT(id, 0) << started.body;
  std::remove(web.c_str());
  ASSERT_TRUE(d.WaitForLog("web: OK -> CRITICAL")) << d.Log();
  std::this_thread::sleep_for(3s);  // past group_wait: a mail now would be a leak
  EXPECT_TRUE(smtp->Messages().empty()) << "mailed during the window:\n" << smtp->Messages()[0];

  const WallTime cut = std::chrono::system_clock::now();
  auto ended =
      testing::HttpCall(port, "DELETE", "/api/v1/maintenance/" + std::to_string(id), "", auth);
  ASSERT_EQ(ended.status, 200) << ended.body;
  ASSERT_TRUE(testing::WaitFor([&] { return !smtp->Messages().empty(); }, 20)) << d.Log();
  const Mail mail = ParseMail(smtp->Messages()[0]);
  EXPECT_EQ(mail.kind, "after-maintenance");
  EXPECT_EQ(mail.subject, fmt::format("[mamori] after maintenance api #{} (disk swap): 1 still "
                                      "failing, 1 fine",
                                      id));
  // clock ran again right after the cut (its own schedule is an hour).
  SystemClock sys;
  auto store = Store::Open(dir.path() + "/data", sys, Store::OpenMode::kReadOnly);
  ASSERT_TRUE(store.ok()) << store.error().message();
  bool rerun = false;
  ASSERT_TRUE(testing::Eventually(
      [&] {
        auto r = (*store)->Observations("clock", cut - 1s, 100);
        if (r.ok())
          for (const auto& o : *r) rerun = rerun || o.time >= cut;  // hourly otherwise
        return rerun;
      },
      10s))
      << d.Log();
  d.Signal(SIGTERM);
  EXPECT_EQ(d.Wait(), 0);
  EXPECT_EQ(smtp->Messages().size(), 1u) << d.Log();
}

TEST(MaintenanceDaemon, FailureOutsideAnyWindowIsMailedAsBefore) {
  std::string error;
  auto smtp = testing::SmtpSink::Start(&error);
  ASSERT_TRUE(smtp) << error;
  testing::TempDir dir;
  const std::string web = dir.Write("web-up", "x");
  const WallTime now = std::chrono::system_clock::now();
  const std::string cfg =
      dir.Write("mamori.yaml", MailConfig(*smtp) +
                                   "checks:\n"
                                   "  - {name: web, type: file, path: '" +
                                   web +
                                   "', interval: 250ms, timeout: 200ms, failures_before_alert: 1, "
                                   "successes_before_recovery: 1}\n"
                                   "  - {name: other, type: file, path: '" +
                                   web +
                                   "', interval: 1h, tags: [batch]}\n"
                                   "maintenance:\n"
                                   // Over already.
                                   "  - {name: past, start: '" +
                                   Tokyo(now - 2h) + "', end: '" + Tokyo(now - 1h) +
                                   "'}\n"
                                   // On now, but for other checks only.
                                   "  - {name: others, start: '" +
                                   Tokyo(now - 1h) + "', end: '" + Tokyo(now + 1h) +
                                   "', checks: [other], tags: [batch]}\n");
  testing::DaemonProcess d({"-c", cfg}, dir.path() + "/daemon.log");
  ASSERT_TRUE(d.WaitForLog("web: PENDING -> OK")) << d.Log();
  std::remove(web.c_str());
  ASSERT_TRUE(testing::WaitFor([&] { return !smtp->Messages().empty(); }, 20)) << d.Log();
  const Mail mail = ParseMail(smtp->Messages()[0]);
  EXPECT_EQ(mail.kind, "problem");
  EXPECT_NE(mail.subject.find("CRITICAL: web"), std::string::npos) << mail.subject;
  EXPECT_EQ(d.Log().find("suppressed"), std::string::npos) << d.Log();
  d.Signal(SIGTERM);
  EXPECT_EQ(d.Wait(), 0);
}

}  // namespace
}  // namespace mamori
