// Boots are events, end to end: `mamori run` started on a data directory whose
// boot record names another kernel boot records one "booted" event in the
// store (with the previous boot's last-seen time and how it ended); started
// again on the same boot it records none. After the settle time one "after
// boot" summary is mailed, what is back and what is not, and nothing before
// it. The real binary, a real store, a real SMTP server (aiosmtpd).
#include <signal.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "mamori/daemon/boot_record.h"
#include "mamori/store/store.h"
#include "testing/cli.h"
#include "testing/notify_servers.h"

namespace mamori {
namespace {

using namespace std::chrono_literals;
using testing::DaemonProcess;
using testing::TempDir;

std::vector<Event> HostEvents(const std::string& data_dir) {
  SystemClock clock;
  auto store = Store::Open(data_dir, clock, Store::OpenMode::kReadOnly);
  EXPECT_TRUE(store.ok()) << store.error().message();
  if (!store.ok()) return {};
  auto events = (*store)->Events(std::string(kHostEventCheck), WallTime{}, 100);
  EXPECT_TRUE(events.ok());
  return events.ok() ? *events : std::vector<Event>{};
}

void RunOnce(const std::string& cfg, const std::string& log) {
  DaemonProcess d({"-c", cfg}, log);
  ASSERT_TRUE(d.WaitForLog("running 1 check")) << d.Log();
  d.Signal(SIGTERM);
  EXPECT_EQ(d.Wait(), 0) << d.Log();
}

TEST(BootEvent, AStartOnANewBootIsRecordedOnce) {
  TempDir dir;
  const std::string cfg =
      dir.Write("mamori.yaml",
                "data_dir: ./data\n"
                "checks:\n"
                "  - {name: root-disk, type: disk, path: /, warning: 99.9%, critical: 100%}\n");
  // The first start of all: a record is written, no event.
  RunOnce(cfg, dir.path() + "/1.log");
  EXPECT_TRUE(HostEvents(dir.path() + "/data").empty());

  // Pretend the last run was on another boot, last seen at a known time.
  dir.Write("data/boot", "0b0b0b0b-previous-boot\n1767225600\n");
  RunOnce(cfg, dir.path() + "/2.log");
  auto events = HostEvents(dir.path() + "/data");
  ASSERT_EQ(events.size(), 1u);
  const std::string me = *ReadBootId();
  // No "stopped" mark: mamori was still running when that boot ended. (This
  // machine's journal does not know a boot "0b0b0b0b...", so the record
  // alone speaks.)
  EXPECT_EQ(events[0].summary,
            "booted (boot " + me.substr(0, 8) +
                "); previous boot 0b0b0b0b last seen at 2026-01-01 00:00:00 UTC, ended without a "
                "clean shutdown (power cut, crash or reset?): mamori was still running");

  // A restart on the same boot is not another boot.
  RunOnce(cfg, dir.path() + "/3.log");
  EXPECT_EQ(HostEvents(dir.path() + "/data").size(), 1u);

  // SIGTERM is a clean stop: the record says so, and the next boot reads it.
  std::ifstream record(dir.path() + "/data/boot");
  std::string id, seconds, mark;
  record >> id >> seconds >> mark;
  EXPECT_EQ(id, me);
  EXPECT_EQ(mark, "stopped");
  dir.Write("data/boot", "0c0c0c0c-previous-boot\n1767225600\nstopped\n");
  RunOnce(cfg, dir.path() + "/4.log");
  events = HostEvents(dir.path() + "/data");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_NE(events[0].summary.find("previous boot 0c0c0c0c"), std::string::npos);
  EXPECT_NE(events[0].summary.find("mamori was stopped before it ended"), std::string::npos)
      << events[0].summary;
}

TEST(AfterBoot, OneSummaryAfterTheSettleTimeSaysWhatIsBackAndWhatIsNot) {
  std::string error;
  auto smtp = testing::SmtpSink::Start(&error);
  ASSERT_TRUE(smtp) << error;
  TempDir dir;
  const std::string web = dir.Write("web-up", "x");   // back after the boot
  const std::string ddns = dir.path() + "/ddns-ran";  // never written: did not come back
  const std::string cfg =
      dir.Write("mamori.yaml",
                "data_dir: ./data\n"
                "after_boot: {settle: 3s}\n"
                "notify:\n  - {name: ops-mail, type: email, smtp: '" +
                    smtp->Url() +
                    "', from: mamori@example.org, to: [ops@example.org]}\n"
                    "checks:\n"
                    "  - {name: web, type: file, path: '" +
                    web +
                    "', interval: 250ms, timeout: 200ms, failures_before_alert: 1}\n"
                    "  - {name: ddns, type: file, path: '" +
                    ddns + "', interval: 250ms, timeout: 200ms, failures_before_alert: 1}\n");
  std::filesystem::create_directories(dir.path() + "/data");
  dir.Write("data/boot", "0d0d0d0d-previous-boot\n1767225600\n");
  const auto started = std::chrono::steady_clock::now();
  DaemonProcess d({"-c", cfg}, dir.path() + "/daemon.log");
  ASSERT_TRUE(d.WaitForLog("ddns: PENDING -> CRITICAL")) << d.Log();
  // Failing during the settle time is not mailed (group_wait is 2 s; the
  // settle time 3 s: a problem mail would be out by now if it were sent).
  ASSERT_TRUE(d.WaitForLog("after boot: running all 2 check(s) now")) << d.Log();
  EXPECT_GE(std::chrono::steady_clock::now() - started, 3s);
  ASSERT_TRUE(testing::WaitFor([&] { return !smtp->Messages().empty(); }, 20)) << d.Log();
  const testing::Mail mail = testing::ParseMail(smtp->Messages()[0]);
  EXPECT_EQ(mail.kind, "after-boot");
  EXPECT_EQ(mail.subject, "[mamori] after boot: 1 not back, 1 back");
  const size_t not_back = mail.body.find("Not back (1):");
  const size_t back = mail.body.find("Back (1):");
  ASSERT_NE(not_back, std::string::npos) << mail.body;
  ASSERT_NE(back, std::string::npos) << mail.body;
  const size_t ddns_line = mail.body.find("  ddns ");
  EXPECT_TRUE(not_back < ddns_line && ddns_line < back) << mail.body;
  EXPECT_GT(mail.body.find("  web "), back) << mail.body;
  EXPECT_NE(mail.body.find(ddns + " does not exist"), std::string::npos) << mail.body;
  EXPECT_NE(mail.body.find("The host booted (boot "), std::string::npos) << mail.body;
  EXPECT_NE(mail.body.find("previous boot 0d0d0d0d"), std::string::npos) << mail.body;
  // The summary told the channel: no separate problem mail for ddns follows.
  std::this_thread::sleep_for(4s);  // group_wait (2s) and a router tick, twice over
  d.Signal(SIGTERM);
  EXPECT_EQ(d.Wait(), 0) << d.Log();
  EXPECT_EQ(smtp->Messages().size(), 1u) << smtp->Messages().back();
}

}  // namespace
}  // namespace mamori
