#include "mamori/logs/diagnose.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "mamori/logs/rule_loader.h"
#include "mamori_source_dir.h"

namespace mamori::logs {
namespace {

class UtcZone : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tz = getenv("TZ");
    old_ = tz ? tz : "";
    had_ = tz != nullptr;
    setenv("TZ", "UTC", 1);
    tzset();
  }
  void TearDown() override {
    if (had_)
      setenv("TZ", old_.c_str(), 1);
    else
      unsetenv("TZ");
    tzset();
  }
  std::string old_;
  bool had_ = false;
};

WallTime At(int64_t unix_seconds) { return WallTime(std::chrono::seconds(unix_seconds)); }

using ParseLogTimeTest = UtcZone;

TEST_F(ParseLogTimeTest, CommonFormats) {
  const WallTime now = At(1763900000);  // 2025-11-23T12:13:20Z
  EXPECT_EQ(ParseLogTime("2023-03-02 10:11:12 0 [ERROR] InnoDB", now), At(1677751872));
  EXPECT_EQ(ParseLogTime("2023-03-02T10:11:12Z x", now), At(1677751872));
  EXPECT_EQ(ParseLogTime("2023-03-02T12:11:12+02:00 x", now), At(1677751872));
  EXPECT_EQ(ParseLogTime("2023/03/02 10:11:12 [error] 1#1: x", now), At(1677751872));
  EXPECT_EQ(ParseLogTime("230302 10:11:12 [ERROR] x", now), At(1677751872));
  EXPECT_EQ(ParseLogTime("[Thu Mar 02 10:11:12.123456 2023] [core:error] x", now),
            At(1677751872) + std::chrono::microseconds(123456));
  EXPECT_EQ(ParseLogTime("[Thu Mar  2 10:11:12 2023] [error] x", now), At(1677751872));
  // Syslog: this year, or last year when it would be in the future.
  EXPECT_EQ(ParseLogTime("Nov 23 12:00:00 host sshd[1]: x", now), At(1763899200));
  EXPECT_EQ(ParseLogTime("Dec 24 12:00:00 host x", now), At(1735041600));  // 2024
  EXPECT_EQ(ParseLogTime("Mar  2 10:11:12 host x", now), At(1740910272));  // 2025
  EXPECT_FALSE(ParseLogTime("Configuration Failed", now));
  EXPECT_FALSE(ParseLogTime("2023-13-45 99:11:12 x", now));
  EXPECT_FALSE(ParseLogTime("", now));
  EXPECT_FALSE(ParseLogTime("Nov", now));
}

class DiagnoserTest : public UtcZone {
 protected:
  void SetUp() override {
    UtcZone::SetUp();
    auto rules = LoadRules({std::string(MAMORI_SOURCE_DIR) + "/rules"});
    ASSERT_TRUE(rules.ok()) << rules.error().message();
    auto s = SignatureScanner::Compile(std::move(rules).value());
    ASSERT_TRUE(s.ok()) << s.error().message();
    scanner_ = std::move(s).value();
  }
  DiagnoseReport Run(const std::vector<std::pair<std::string, std::vector<std::string>>>& files) {
    DiagnoserOptions o;
    o.now = At(1763900000);
    Diagnoser d(*scanner_, o);
    for (const auto& [name, lines] : files) {
      d.BeginSource(name);
      for (size_t i = 0; i < lines.size(); ++i) d.AddLine(i + 1, lines[i]);
    }
    return d.Finish();
  }
  const Finding* Find(const DiagnoseReport& r, std::string_view id) {
    for (const auto& f : r.findings)
      if (f.signature == id) return &f;
    return nullptr;
  }
  std::unique_ptr<SignatureScanner> scanner_;
};

TEST_F(DiagnoserTest, BootWithoutShutdownAcrossFilesNamesTheSuspect) {
  auto r = Run({{"/var/log/maillog",
                 {"Nov 21 15:19:40 home qpopper[31650]: (v4.0.9) POP login by user \"alice\" at "
                  "(laptop) 192.168.1.20",
                  "Nov 21 15:19:41 home qpopper[31650]: Stats: alice 0 0 12 45678 laptop 1.2.3.4"}},
                {"/var/log/messages",
                 {"Nov 21 15:00:00 home ntpd[1]: time reset +0.1 s",
                  "Nov 21 15:21:48 home kernel: Copyright (c) 1992-2009 The FreeBSD Project."}}});
  const Finding* u = Find(r, kUncleanShutdownId);
  ASSERT_NE(u, nullptr);
  EXPECT_EQ(u->count, 1u);
  ASSERT_FALSE(u->suspects.empty());
  EXPECT_EQ(u->suspects[0].what, "mailbox of alice (last POP session, qpopper)");
  EXPECT_EQ(u->suspects[0].evidence.file, "/var/log/maillog");
  EXPECT_EQ(u->suspects[0].evidence.line, 2u);  // the session's end: the mailbox written back
  // The machine was up until 15:19:41 (the mail log), not 15:00:00 (the
  // last line of the log holding the boot banner).
  EXPECT_NE(u->summary.find("after the last line at 15:19:41"), std::string::npos) << u->summary;
  bool last = false;
  for (const auto& ev : u->evidence) last = last || (ev.file == "/var/log/maillog" && ev.line == 2);
  EXPECT_TRUE(last) << u->summary;
}

TEST_F(DiagnoserTest, TheBootsOwnFirstLinesAreNotTheLastLineBeforeIt) {
  // The shape of a sysklogd boot (Loghub's Linux sample): syslogd and klogd
  // start in the banner's second, before the banner itself.
  auto r = Run({{"/var/log/messages",
                 {"Jul 27 10:59:53 combo ftpd[31985]: connection from 218.38.58.3 ()",
                  "Jul 27 14:41:57 combo syslogd 1.4.1: restart.",
                  "Jul 27 14:41:57 combo kernel: klogd 1.4.1, log source = /proc/kmsg started.",
                  "Jul 27 14:41:57 combo kernel: Linux version 2.6.5-1.358 (bhcompile@x) (gcc)"}}});
  const Finding* u = Find(r, kUncleanShutdownId);
  ASSERT_NE(u, nullptr);
  EXPECT_NE(u->summary.find("after the last line at 10:59:53"), std::string::npos) << u->summary;
  bool ftpd = false;
  for (const auto& ev : u->evidence) ftpd = ftpd || ev.line == 1;
  EXPECT_TRUE(ftpd) << u->summary;
}

TEST_F(DiagnoserTest, CleanShutdownsAndRepeatedBannersAreNotUnclean) {
  auto r = Run({{"/var/log/syslog",
                 {"Nov 21 10:00:00 web CRON[1]: (root) CMD (true)",
                  "Nov 21 10:05:00 web systemd[1]: Reached target System Shutdown.",
                  "Nov 21 10:06:00 web kernel: [    0.000000] Linux version 6.1.0-18-amd64 (x)",
                  "Nov 21 10:06:01 web kernel: [    0.000000] Linux version 6.1.0-18-amd64 (x)",
                  "Nov 21 10:06:05 web systemd-journald[200]: Journal started",
                  "Nov 21 11:00:00 web syslogd: exiting on signal 15",
                  "Nov 21 11:01:00 web kernel: Linux version 6.1.0-18-amd64 (x)"}}});
  EXPECT_EQ(Find(r, kUncleanShutdownId), nullptr);
  // The first boot of a log with nothing before it says nothing.
  auto r2 = Run({{"/var/log/syslog", {"Nov 21 10:06:00 web kernel: Linux version 6.1.0 (x)"}}});
  EXPECT_EQ(Find(r2, kUncleanShutdownId), nullptr);
}

TEST_F(DiagnoserTest, FindingsAggregateAndRankBySeverityThenRecency) {
  std::string page =
      " 0 [ERROR] InnoDB: Failed to read page 7 from file './db/t.ibd': Page read from "
      "tablespace is corrupted.";
  auto r = Run({{"/e.log",
                 {"2025-11-20 10:00:00" + page, "2025-11-21 10:00:00" + page,
                  "2025-11-22 10:00:00 0 [ERROR] mysqld: Table './db/u' is marked as crashed and "
                  "should be repaired"}}});
  ASSERT_GE(r.findings.size(), 2u);
  EXPECT_EQ(r.findings[0].signature, "mariadb.table-marked-crashed");  // critical, newer
  EXPECT_EQ(r.findings[1].signature, "mariadb.innodb-page-corrupted");
  EXPECT_EQ(r.findings[1].count, 2u);
  EXPECT_EQ(r.findings[1].first_seen, At(1763632800));
  EXPECT_EQ(r.findings[1].evidence[1].line, 2u);
}

}  // namespace
}  // namespace mamori::logs
