// Replay of incident 2 ("The VPS after scheduled maintenance"): after the
// hosting company's window the site looked fine, but the clock was about 3
// hours off (ntpd stopped while the VM stood still) and the nightly backup
// scheduled inside the window never ran.
//   - the clock: a timesync check that compares with an NTP server says
//     CRITICAL "clock is 3h 0m behind ...", whatever the local flags say.
//     A real chronyd serves time 3 hours ahead of ours (libfaketime): the
//     same offset as a local clock 3 hours behind.
//   - the window: no mail while it lasts, and at its end every check it
//     covered is run at once and ONE "after maintenance" mail says what is
//     still failing (the clock, the backup that never ran) and what is fine.
#include <signal.h>

#include <date/date.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <future>
#include <nlohmann/json.hpp>

#include "mamori/heartbeat/ping.h"
#include "mamori/store/store.h"
#include "testing/chronyd.h"
#include "testing/cli.h"
#include "testing/nginx.h"
#include "testing/notify_servers.h"
#include "testing/ports.h"

namespace mamori {
namespace {

using namespace std::chrono_literals;
using testing::Mail;
using testing::ParseMail;
using testing::Tokyo;
using testing::RunMamori;

constexpr char kBackupUuid[] = "1b4e28ba-2fa1-41d2-883f-0016d3cca427";

// The first line of `body` that starts with `prefix` ("" when there is none).
std::string LineStarting(const std::string& body, const std::string& prefix) {
  size_t pos = body.rfind(prefix, 0) == 0 ? 0 : body.find("\n" + prefix);
  if (pos == std::string::npos) return "";
  if (body[pos] == '\n') ++pos;
  const size_t eol = body.find_first_of("\r\n", pos);
  return body.substr(pos, eol == std::string::npos ? std::string::npos : eol - pos);
}

TEST(ScenarioAfterMaintenance, ClockThreeHoursOffIsCritical) {
  std::string error;
  auto ntp = testing::ChronydServer::Start("+3h", &error);
  ASSERT_TRUE(ntp) << error;
  testing::TempDir dir;
  const std::string config = dir.Write(
      "mamori.yaml", "checks:\n  - {name: clock, type: timesync, allow_unsynced: true, server: \"" +
                         ntp->address() + "\"}\n");
  auto r = RunMamori({"check", "-c", config, "--json"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_array() && j.size() == 1) << r.out;
  EXPECT_EQ(j[0]["status"], "critical");
  EXPECT_EQ(j[0]["summary"].get<std::string>().rfind("clock is 3h 0m behind " + ntp->address(), 0),
            0u)
      << j[0].dump();
}

// The window itself. The hosting company's 02:00-05:00 window, compressed to
// a few seconds, declared in mamori's config:
//   - inside it the website goes down (a real nginx answering 404 while its
//     page is gone) and comes back: nothing is mailed;
//   - the clock (a timesync check against a real chronyd 3 h ahead) and the
//     nightly backup (a heartbeat, period 1d, whose next success was due
//     inside the window and never came) have an interval of 1 h, so a result
//     right after the window can only be the end-of-window re-run;
//   - at the end ONE "after maintenance" mail (a real aiosmtpd) lists the
//     clock and the backup as still failing and the website as fine.
// Yesterday's backup ping is history: it is written into the daemon's store
// before the daemon starts, as the previous night's run left it there.
TEST(ScenarioAfterMaintenance, WindowEndMailsOneSummaryWithClockAndMissedBackup) {
  std::string error;
  auto smtp = testing::SmtpSink::Start(&error);
  ASSERT_TRUE(smtp) << error;
  auto ntp = testing::ChronydServer::Start("+3h", &error);
  ASSERT_TRUE(ntp) << error;
  testing::TempDir dir;
  std::filesystem::create_directories(dir.path() + "/www");
  const std::string page = dir.Write("www/index.html", "<html><body>shop</body></html>\n");
  // nginx's workers run unprivileged: they must be able to read the page.
  std::filesystem::permissions(dir.path(), std::filesystem::perms::owner_all |
                                               std::filesystem::perms::group_exec |
                                               std::filesystem::perms::others_exec);
  testing::NginxServer::Options opts;
  opts.extra_config = "location /shop/ { alias " + dir.path() + "/www/; }\n";
  auto nginx = testing::NginxServer::Start(opts, &error);
  ASSERT_TRUE(nginx) << error;

  const WallTime start =
      date::floor<std::chrono::milliseconds>(std::chrono::system_clock::now()) + 3s;
  const WallTime end = start + 4s;
  // The backup runs nightly (period 1d, 30m grace); its last success was
  // yesterday, so the next one is due 1 s into the window.
  {
    SystemClock sys;
    auto store = Store::Open(dir.path() + "/data", sys, Store::OpenMode::kReadWrite);
    ASSERT_TRUE(store.ok()) << store.error().message();
    heartbeat::Ping ping;
    ping.check = "nightly-backup";
    ping.time = start + 1s - 24h - 30min;
    ping.kind = heartbeat::PingKind::kSuccess;
    ping.exit_code = 0;
    ping.source = "127.0.0.1";
    std::promise<Status> committed;
    (*store)->RecordPing(ping, [&](Status s) { committed.set_value(std::move(s)); });
    const Status s = committed.get_future().get();
    ASSERT_TRUE(s.ok()) << s.error().message();
  }

  const int port = testing::PickFreePort();
  const std::string cfg =
      dir.Write("mamori.yaml",
                "data_dir: ./data\n"
                "listen: 127.0.0.1:" +
                    std::to_string(port) +
                    "\n"
                    "notify:\n  - {name: ops-mail, type: email, smtp: '" +
                    smtp->Url() +
                    "', from: mamori@example.org, to: [ops@example.org]}\n"
                    "checks:\n"
                    "  - {name: website, type: http, url: '" +
                    nginx->Url("/shop/") +
                    "', interval: 250ms, timeout: 200ms, failures_before_alert: 1, "
                    "successes_before_recovery: 1}\n"
                    "  - {name: clock, type: timesync, allow_unsynced: true, server: '" +
                    ntp->address() +
                    "', interval: 1h, timeout: 2s}\n"
                    "  - {name: nightly-backup, type: heartbeat, uuid: " +
                    kBackupUuid +
                    ", period: 1d, grace: 30m, interval: 1h}\n"
                    "maintenance:\n"
                    "  - {name: vps-maintenance, start: '" +
                    Tokyo(start) + "', end: '" + Tokyo(end) + "'}\n");
  testing::DaemonProcess d({"-c", cfg}, dir.path() + "/daemon.log");
  ASSERT_TRUE(d.WaitForLog("website: PENDING -> OK")) << d.Log();
  ASSERT_TRUE(d.WaitForLog("maintenance vps-maintenance is on")) << d.Log();

  // The website is down during the maintenance, then back.
  ASSERT_EQ(std::remove(page.c_str()), 0);
  ASSERT_TRUE(d.WaitForLog("website: OK -> CRITICAL")) << d.Log();
  ASSERT_TRUE(d.WaitForLog("suppressed: in maintenance vps-maintenance")) << d.Log();
  dir.Write("www/index.html", "<html><body>shop</body></html>\n");
  ASSERT_TRUE(d.WaitForLog("website: CRITICAL -> OK")) << d.Log();
  ASSERT_LT(std::chrono::system_clock::now(), end) << "too slow: the site came back after the "
                                                      "window\n"
                                                   << d.Log();
  EXPECT_TRUE(smtp->Messages().empty()) << "mailed during the window:\n" << smtp->Messages()[0];

  // One summary, right after the end (the checks' own interval is 1 h).
  ASSERT_TRUE(testing::WaitFor([&] { return !smtp->Messages().empty(); }, 20)) << d.Log();
  const WallTime mailed = std::chrono::system_clock::now();
  EXPECT_GE(mailed, end);
  EXPECT_LT(mailed, end + 10s) << "the summary came late";
  const Mail mail = ParseMail(smtp->Messages()[0]);
  EXPECT_EQ(mail.kind, "after-maintenance");
  EXPECT_EQ(mail.subject, "[mamori] after maintenance vps-maintenance: 2 still failing, 1 fine");
  const size_t failing = mail.body.find("Still failing (2):");
  const size_t fine = mail.body.find("Fine (1):");
  ASSERT_NE(failing, std::string::npos) << mail.body;
  ASSERT_NE(fine, std::string::npos) << mail.body;
  const std::string clock_line = LineStarting(mail.body, "  clock ");
  const std::string backup_line = LineStarting(mail.body, "  nightly-backup ");
  const size_t website = mail.body.find("  website ");
  ASSERT_FALSE(clock_line.empty()) << mail.body;
  ASSERT_FALSE(backup_line.empty()) << mail.body;
  EXPECT_TRUE(failing < mail.body.find(clock_line) && mail.body.find(clock_line) < fine)
      << mail.body;
  EXPECT_TRUE(failing < mail.body.find(backup_line) && mail.body.find(backup_line) < fine)
      << mail.body;
  EXPECT_GT(website, fine) << mail.body;
  EXPECT_NE(clock_line.find("CRITICAL"), std::string::npos) << mail.body;
  EXPECT_NE(clock_line.find("clock is 3h 0m behind " + ntp->address()), std::string::npos)
      << mail.body;
  EXPECT_NE(backup_line.find("CRITICAL"), std::string::npos) << mail.body;
  EXPECT_NE(backup_line.find("late: last success 1d"), std::string::npos) << mail.body;

  d.Signal(SIGTERM);
  EXPECT_EQ(d.Wait(), 0) << d.Log();
  EXPECT_EQ(smtp->Messages().size(), 1u) << d.Log();  // the summary and nothing else
}

}  // namespace
}  // namespace mamori
