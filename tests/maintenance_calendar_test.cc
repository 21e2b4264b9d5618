#include "mamori/engine/maintenance.h"

#include <gtest/gtest.h>

#include "mamori/daemon/config_file.h"
#include "mamori/notify/notification.h"
#include "testing/cli.h"

namespace mamori {
namespace {

using namespace std::chrono_literals;

WallTime T(const char* rfc3339) {
  auto t = ParseRfc3339Offset(rfc3339);
  EXPECT_TRUE(t.ok()) << rfc3339;
  return t.ok() ? *t : WallTime{};
}

MaintenanceWindow OneOff(std::string name, const char* start, const char* end) {
  MaintenanceWindow w;
  w.name = std::move(name);
  w.start = T(start);
  w.end = T(end);
  return w;
}

MaintenanceWindow Recurring(std::string name, const char* cron, const char* tz, Duration d) {
  MaintenanceWindow w;
  w.name = std::move(name);
  auto c = CronSchedule::Parse(cron, tz);
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message());
  if (c.ok()) w.cron = *c;
  w.duration = d;
  return w;
}

const std::vector<std::string> kNoTags;

// ---- RFC 3339 ----

TEST(Maintenance, ParsesRfc3339WithOffsets) {
  EXPECT_EQ(ToUnixMillis(T("2026-12-01T02:00:00+09:00")), ToUnixMillis(T("2026-11-30T17:00:00Z")));
  EXPECT_EQ(ToUnixMillis(T("2026-11-30T17:00:00Z")), 1796058000000);
  EXPECT_EQ(ToUnixMillis(T("2026-11-30T12:00:00-05:00")), 1796058000000);
  EXPECT_EQ(ToUnixMillis(T("2026-11-30t17:00:00.250z")), 1796058000250);
  EXPECT_EQ(ToUnixMillis(T("2024-02-29T00:00:00Z")), 1709164800000);  // leap day
}

TEST(Maintenance, Rfc3339IsStrict) {
  for (const char* bad :
       {"", "2026-12-01 02:00", "2026-12-01T02:00", "2026-12-01T02:00:00", "2026-12-01",
        "2026-02-30T00:00:00Z", "2025-02-29T00:00:00Z", "2026-13-01T00:00:00Z",
        "2026-12-01T24:00:00Z", "2026-12-01T02:60:00Z", "2026-12-01T02:00:60Z",
        "2026-12-01T02:00:00+0900", "2026-12-01T02:00:00+24:00", "2026-12-01T02:00:00Zjunk",
        "2026-12-01T02:00:00.Z", "26-12-01T02:00:00Z", "tomorrow"}) {
    EXPECT_FALSE(ParseRfc3339Offset(bad).ok()) << bad;
  }
  EXPECT_NE(ParseRfc3339Offset("2026-12-01 02:00").error().message().find("space"),
            std::string::npos);
  EXPECT_NE(ParseRfc3339Offset("2026-12-01T02:00:00").error().message().find("no UTC offset"),
            std::string::npos);
  EXPECT_FALSE(ParseRfc3339Offset(std::string(1000, '9')).ok());
}

// ---- calendar ----

TEST(Maintenance, OneOffCoversHalfOpenInterval) {
  MaintenanceCalendar cal(
      {OneOff("vps", "2026-12-01T02:00:00+09:00", "2026-12-01T05:00:00+09:00")});
  EXPECT_FALSE(cal.Covers("web", kNoTags, T("2026-12-01T01:59:59+09:00")));
  EXPECT_TRUE(cal.Covers("web", kNoTags, T("2026-12-01T02:00:00+09:00")));
  EXPECT_TRUE(cal.Covers("web", kNoTags, T("2026-12-01T04:59:59.999+09:00")));
  EXPECT_FALSE(cal.Covers("web", kNoTags, T("2026-12-01T05:00:00+09:00")));
  auto ended = cal.EndedBetween(T("2026-12-01T04:00:00+09:00"), T("2026-12-01T05:00:00+09:00"));
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].name, "vps");
  EXPECT_EQ(ended[0].start, T("2026-11-30T17:00:00Z"));
  EXPECT_EQ(ended[0].end, T("2026-11-30T20:00:00Z"));
  // (t0, t1]: an end exactly at t0 was already reported.
  EXPECT_TRUE(
      cal.EndedBetween(T("2026-12-01T05:00:00+09:00"), T("2026-12-01T06:00:00+09:00")).empty());
  EXPECT_EQ(*cal.NextTransition(T("2026-12-01T00:00:00+09:00")), T("2026-12-01T02:00:00+09:00"));
  EXPECT_EQ(*cal.NextTransition(T("2026-12-01T02:00:00+09:00")), T("2026-12-01T05:00:00+09:00"));
  EXPECT_FALSE(cal.NextTransition(T("2026-12-01T05:00:00+09:00")).has_value());
}

TEST(Maintenance, ScopeByNameAndTag) {
  auto w = OneOff("db", "2026-12-01T00:00:00Z", "2026-12-01T01:00:00Z");
  w.checks = {"postgres"};
  w.tags = {"db"};
  MaintenanceCalendar cal({w});
  const WallTime in = T("2026-12-01T00:30:00Z");
  EXPECT_TRUE(cal.Covers("postgres", kNoTags, in));
  EXPECT_TRUE(cal.Covers("replica", {"eu", "db"}, in));
  EXPECT_FALSE(cal.Covers("web", {"eu"}, in));
  EXPECT_FALSE(cal.Covers("postgres-2", kNoTags, in));
  // Active() ignores scope: the window itself is on.
  ASSERT_EQ(cal.Active(in).size(), 1u);
}

TEST(Maintenance, OverlappingWindows) {
  auto a = OneOff("a", "2026-12-01T00:00:00Z", "2026-12-01T02:00:00Z");
  auto b = OneOff("b", "2026-12-01T01:00:00Z", "2026-12-01T03:00:00Z");
  b.checks = {"web"};
  MaintenanceCalendar cal({a, b});
  EXPECT_EQ(cal.Covering("web", kNoTags, T("2026-12-01T01:30:00Z"))->name, "a");  // config order
  EXPECT_EQ(cal.Covering("web", kNoTags, T("2026-12-01T02:30:00Z"))->name, "b");
  EXPECT_FALSE(cal.Covers("db", kNoTags, T("2026-12-01T02:30:00Z")));
  EXPECT_EQ(cal.Active(T("2026-12-01T01:30:00Z")).size(), 2u);
  auto ended = cal.EndedBetween(T("2026-12-01T00:00:00Z"), T("2026-12-02T00:00:00Z"));
  ASSERT_EQ(ended.size(), 2u);
  EXPECT_EQ(ended[0].name, "a");
  EXPECT_EQ(ended[1].name, "b");
  // Every start and end is a transition.
  WallTime t = T("2026-11-30T00:00:00Z");
  std::vector<WallTime> seen;
  while (auto n = cal.NextTransition(t)) {
    seen.push_back(*n);
    t = *n;
  }
  EXPECT_EQ(seen, (std::vector<WallTime>{T("2026-12-01T00:00:00Z"), T("2026-12-01T01:00:00Z"),
                                         T("2026-12-01T02:00:00Z"), T("2026-12-01T03:00:00Z")}));
}

TEST(Maintenance, WindowSpanningMidnight) {
  // Every Saturday 23:00 Tokyo time for 3 hours: into Sunday.
  MaintenanceCalendar cal({Recurring("weekly", "0 23 * * sat", "Asia/Tokyo", 3h)});
  EXPECT_FALSE(cal.Covers("x", kNoTags, T("2026-12-05T22:59:00+09:00")));
  EXPECT_TRUE(cal.Covers("x", kNoTags, T("2026-12-05T23:00:00+09:00")));
  EXPECT_TRUE(cal.Covers("x", kNoTags, T("2026-12-06T00:30:00+09:00")));
  EXPECT_TRUE(cal.Covers("x", kNoTags, T("2026-12-06T01:59:59+09:00")));
  EXPECT_FALSE(cal.Covers("x", kNoTags, T("2026-12-06T02:00:00+09:00")));
  auto occ = cal.Covering("x", kNoTags, T("2026-12-06T00:30:00+09:00"));
  ASSERT_TRUE(occ);
  EXPECT_EQ(occ->start, T("2026-12-05T23:00:00+09:00"));
  EXPECT_EQ(occ->end, T("2026-12-06T02:00:00+09:00"));
  auto ended = cal.EndedBetween(T("2026-12-06T00:00:00+09:00"), T("2026-12-06T02:00:00+09:00"));
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].end, T("2026-12-06T02:00:00+09:00"));
  EXPECT_EQ(*cal.NextTransition(T("2026-12-06T00:30:00+09:00")), T("2026-12-06T02:00:00+09:00"));
  EXPECT_EQ(*cal.NextTransition(T("2026-12-06T02:00:00+09:00")), T("2026-12-12T23:00:00+09:00"));
  // The one-off kind across midnight too.
  MaintenanceCalendar once({OneOff("o", "2026-12-31T23:30:00+01:00", "2027-01-01T00:30:00+01:00")});
  EXPECT_TRUE(once.Covers("x", kNoTags, T("2027-01-01T00:00:00+01:00")));
}

TEST(Maintenance, DaylightSavingSpringForward) {
  // Berlin, 2026-03-29: 02:00 CET becomes 03:00 CEST. A daily 02:30 window
  // fires at the first instant after the gap (03:00 CEST = 01:00Z) and lasts
  // one real hour.
  MaintenanceCalendar cal({Recurring("nightly", "30 2 * * *", "Europe/Berlin", 1h)});
  EXPECT_FALSE(cal.Covers("x", kNoTags, T("2026-03-29T00:59:00Z")));
  auto occ = cal.Covering("x", kNoTags, T("2026-03-29T01:30:00Z"));
  ASSERT_TRUE(occ);
  EXPECT_EQ(occ->start, T("2026-03-29T03:00:00+02:00"));
  EXPECT_EQ(occ->end, T("2026-03-29T04:00:00+02:00"));
  EXPECT_FALSE(cal.Covers("x", kNoTags, T("2026-03-29T04:00:00+02:00")));
  // The day before and after: 02:30 local as usual (CET, then CEST).
  EXPECT_TRUE(cal.Covers("x", kNoTags, T("2026-03-28T02:30:00+01:00")));
  EXPECT_TRUE(cal.Covers("x", kNoTags, T("2026-03-30T02:30:00+02:00")));
  EXPECT_FALSE(cal.Covers("x", kNoTags, T("2026-03-30T02:29:00+02:00")));
}

TEST(Maintenance, DaylightSavingFallBack) {
  // Berlin, 2026-10-25: 03:00 CEST becomes 02:00 CET; 02:30 happens twice.
  // The window starts once, at the first 02:30 (CEST), and lasts 1 real hour:
  // it ends at the second 02:30 (CET).
  MaintenanceCalendar cal({Recurring("nightly", "30 2 * * *", "Europe/Berlin", 1h)});
  auto occ = cal.Covering("x", kNoTags, T("2026-10-25T02:45:00+02:00"));
  ASSERT_TRUE(occ);
  EXPECT_EQ(occ->start, T("2026-10-25T02:30:00+02:00"));
  EXPECT_EQ(occ->end, T("2026-10-25T02:30:00+01:00"));
  EXPECT_TRUE(cal.Covers("x", kNoTags, T("2026-10-25T02:15:00+01:00")));
  EXPECT_FALSE(cal.Covers("x", kNoTags, T("2026-10-25T02:45:00+01:00")));
  auto ended = cal.EndedBetween(T("2026-10-25T00:00:00Z"), T("2026-10-25T12:00:00Z"));
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].end, T("2026-10-25T01:30:00Z"));
  // A 4h window from 01:00 on that night lasts 4 real hours (to 04:00 CET).
  MaintenanceCalendar four({Recurring("long", "0 1 * * *", "Europe/Berlin", 4h)});
  auto o4 = four.Covering("x", kNoTags, T("2026-10-25T02:30:00+01:00"));
  ASSERT_TRUE(o4);
  EXPECT_EQ(o4->end, T("2026-10-25T04:00:00+01:00"));
}

TEST(Maintenance, OverlappingOccurrencesOfOneWindowMerge) {
  // Every hour for 90 minutes: one long occurrence from 00:00 to 03:30.
  MaintenanceCalendar cal({Recurring("m", "0 0-2 1 12 *", "UTC", 90min)});
  auto occ = cal.Covering("x", kNoTags, T("2026-12-01T01:45:00Z"));
  ASSERT_TRUE(occ);
  EXPECT_EQ(occ->start, T("2026-12-01T00:00:00Z"));
  EXPECT_EQ(occ->end, T("2026-12-01T03:30:00Z"));
  auto ended = cal.EndedBetween(T("2026-11-30T00:00:00Z"), T("2026-12-02T00:00:00Z"));
  ASSERT_EQ(ended.size(), 1u);  // no "end" at 01:30 or 02:30
  EXPECT_EQ(ended[0].start, T("2026-12-01T00:00:00Z"));
  EXPECT_EQ(ended[0].end, T("2026-12-01T03:30:00Z"));
  // Always-on (every minute, 2 minutes long): bounded work, nothing ends.
  MaintenanceCalendar always({Recurring("always", "* * * * *", "UTC", 2min)});
  EXPECT_TRUE(always.Covers("x", kNoTags, T("2026-12-01T01:45:00Z")));
  EXPECT_TRUE(always.EndedBetween(T("2026-12-01T00:00:00Z"), T("2026-12-01T01:00:00Z")).empty());
  EXPECT_TRUE(always.NextTransition(T("2026-12-01T00:00:00Z")).has_value());
}

TEST(Maintenance, EndedBetweenIsBounded) {
  MaintenanceCalendar cal({Recurring("minutely", "* * * * *", "UTC", 30s)});
  auto ended = cal.EndedBetween(T("2026-01-01T00:00:00Z"), T("2027-01-01T00:00:00Z"));
  EXPECT_EQ(ended.size(), MaintenanceCalendar::kMaxEnds);
}

// ---- configuration ----

std::string Load(const std::string& yaml) {
  ConfigLoad l = LoadConfigText(yaml, "m.yaml");
  return l.config ? "" : l.diagnostics.ToString();
}

const char* const kChecks =
    "checks:\n"
    "  - {name: web, type: file, path: /etc/hostname, tags: [site]}\n"
    "  - {name: postgres, type: file, path: /etc/hostname, tags: [db]}\n";

TEST(MaintenanceConfig, ReadsBothKinds) {
  ConfigLoad l = LoadConfigText(std::string(kChecks) +
                                    "maintenance:\n"
                                    "  - name: vps\n"
                                    "    description: hosting maintenance\n"
                                    "    start: '2026-12-01T02:00:00+09:00'\n"
                                    "    end: '2026-12-01T05:00:00+09:00'\n"
                                    "  - {name: weekly, cron: '0 3 * * sun', duration: 1h, "
                                    "tz: Europe/Berlin, checks: [web], tags: [db]}\n",
                                "m.yaml");
  ASSERT_TRUE(l.config) << l.diagnostics.ToString();
  const auto& ws = l.config->maintenance.windows();
  ASSERT_EQ(ws.size(), 2u);
  EXPECT_EQ(ws[0].name, "vps");
  EXPECT_EQ(ws[0].description, "hosting maintenance");
  EXPECT_EQ(*ws[0].start, T("2026-11-30T17:00:00Z"));
  EXPECT_FALSE(ws[0].recurring());
  EXPECT_TRUE(ws[1].recurring());
  EXPECT_EQ(ws[1].cron->time_zone(), "Europe/Berlin");
  EXPECT_EQ(ws[1].duration, Duration(1h));
  EXPECT_EQ(ws[1].checks, std::vector<std::string>{"web"});
  EXPECT_EQ(ws[1].tags, std::vector<std::string>{"db"});
}

TEST(MaintenanceConfig, ErrorsPointAtTheProblemWithAHint) {
  struct Case {
    const char* window;
    const char* expected;
  } cases[] = {
      {"{name: a, start: '2026-12-01 02:00', end: '2026-12-01T05:00:00+09:00'}",
       "m.yaml:5:22: maintenance 'a': 'start': '2026-12-01 02:00' separates date and time with "
       "a space, not 'T'; use RFC 3339, e.g. 2026-12-01T02:00:00+09:00"},
      {"{name: a, start: '2026-12-01T05:00:00+09:00', end: '2026-12-01T02:00:00+09:00'}",
       "maintenance 'a': 'end': is not after start"},
      {"{name: a, start: '2026-12-01T02:00:00+09:00', end: '2026-12-01T05:00:00+09:00', "
       "checks: [web, postgress]}",
       "m.yaml:5:99: maintenance 'a': 'checks': no check named 'postgress'; did you mean "
       "'postgres'?"},
      {"{name: a, start: '2026-12-01T02:00:00+09:00', end: '2026-12-01T05:00:00+09:00', tags: "
       "[dbs]}",
       "'tags': no check has the tag 'dbs'; did you mean 'db'?"},
      {"{name: a, start: '2026-12-01T02:00:00+09:00', cron: '0 2 * * *', duration: 3h}",
       "maintenance 'a': has both start/end and cron"},
      {"{name: a, cron: '0 2 * * *'}", "maintenance 'a': missing 'duration'; say how long"},
      {"{name: a, cron: '0 2 * * *', duration: 3h, tz: Mars/Olympus}",
       "maintenance 'a': 'tz': unknown time zone 'Mars/Olympus'"},
      {"{name: a, cron: '0 25 * * *', duration: 3h}", "maintenance 'a': 'cron':"},
      {"{name: a, cron: '0 2 * * *', duration: 0s}", "'duration': must be positive"},
      {"{name: a, start: '2026-12-01T02:00:00+09:00', end: '2026-12-01T05:00:00+09:00', tz: "
       "UTC}",
       "'tz': applies to recurring (cron) windows only"},
      {"{name: a, start: '2026-12-01T02:00:00+09:00'}", "maintenance 'a': missing 'end'"},
      {"{name: a, start: '2026-12-01T02:00:00', end: '2026-12-01T05:00:00+09:00'}",
       "has no UTC offset"},
      {"{name: a}", "maintenance 'a': says neither when nor how often"},
      {"{start: '2026-12-01T02:00:00+09:00', end: '2026-12-01T05:00:00+09:00'}", "missing 'name'"},
      {"{name: a, strat: '2026-12-01T02:00:00+09:00', end: '2026-12-01T05:00:00+09:00'}",
       "unknown key 'strat'; did you mean 'start'?"},
  };
  for (const auto& c : cases) {
    const std::string errors = Load(std::string(kChecks) + "maintenance:\n  - " + c.window + "\n");
    EXPECT_NE(errors.find(c.expected), std::string::npos) << c.window << "\n" << errors;
  }
  const std::string dup =
      Load(std::string(kChecks) +
           "maintenance:\n"
           "  - {name: a, start: '2026-12-01T02:00:00+09:00', end: '2026-12-01T05:00:00+09:00'}\n"
           "  - {name: a, start: '2026-12-02T02:00:00+09:00', end: '2026-12-02T05:00:00+09:00'}\n");
  EXPECT_NE(dup.find("duplicate maintenance window name 'a'"), std::string::npos) << dup;
}

// The example of the issue, byte for byte: it has no checks: of its own, so
// the machine's auto-detected checks are watched.
const char* const kIssueExample = R"(listen: 127.0.0.1:8470
notify:
  - name: ops-mail
    type: email
    smtp: smtp://127.0.0.1:2525
    from: mamori@example.org
    to: [ops@example.org]
maintenance:
  - {name: vps-maintenance, start: "2026-12-01T02:00:00+09:00", end: "2026-12-01T05:00:00+09:00"}
)";

TEST(MaintenanceConfig, IssueExampleLoads) {
  ConfigLoad l = LoadConfigText(kIssueExample, "mamori.yaml");
  ASSERT_TRUE(l.config) << l.diagnostics.ToString();
  ASSERT_EQ(l.config->maintenance.windows().size(), 1u);
  EXPECT_EQ(l.config->maintenance.windows()[0].name, "vps-maintenance");
  EXPECT_NE(l.config->FindCheck("time-sync"), nullptr);
  EXPECT_NE(l.config->FindCheck("tcp-listeners"), nullptr);
  EXPECT_TRUE(l.config->maintenance.Covers("time-sync", kNoTags, T("2026-12-01T03:00:00+09:00")));
}

TEST(MaintenanceConfig, IssueExampleValidatesWithTheCli) {
  testing::TempDir dir;
  const std::string file = dir.Write("mamori.yaml", kIssueExample);
  testing::CliResult r = testing::RunMamori({"config", "validate", "-c", file});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("valid"), std::string::npos) << r.out;
}

// ---- the summary as people read it ----

TEST(MaintenanceSummary, TitleAndBodyListStillFailingFirst) {
  notify::Notification n;
  n.id = "id-1";
  n.kind = notify::Kind::kAfterMaintenance;
  n.time = T("2026-12-01T05:00:02+09:00");
  n.host = "vps1";
  auto item = [](std::string check, CheckStatus to, std::string summary) {
    notify::Item it;
    it.check = std::move(check);
    it.to = to;
    it.summary = std::move(summary);
    it.labels.emplace_back("maintenance", "vps-maintenance");
    return it;
  };
  n.items.push_back(item("disk-root", CheckStatus::kOk, "disk / 41% used"));
  n.items.push_back(item("time-sync", CheckStatus::kCritical, "clock is 3h 0m behind"));
  n.items.push_back(item("backup-ran", CheckStatus::kCritical, "no ping since 01:00"));
  EXPECT_EQ(notify::Title(n), "after maintenance vps-maintenance: 2 still failing, 1 fine");
  const std::string body = notify::TextBody(n);
  const size_t failing = body.find("Still failing (2):");
  const size_t fine = body.find("Fine (1):");
  ASSERT_NE(failing, std::string::npos) << body;
  ASSERT_NE(fine, std::string::npos) << body;
  EXPECT_LT(failing, fine);
  EXPECT_LT(body.find("clock is 3h 0m behind"), fine);
  EXPECT_GT(body.find("disk / 41% used"), fine);
  n.items.erase(n.items.begin() + 1, n.items.end());
  EXPECT_EQ(notify::Title(n), "after maintenance vps-maintenance: all 1 fine");
}

}  // namespace
}  // namespace mamori
