#include "mamori/notify/router.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace mamori::notify {
namespace {

using namespace std::chrono_literals;

class RouterTest : public ::testing::Test {
 protected:
  void Setup(std::vector<std::string> channels, std::vector<CheckInfo> checks,
             AlertConfig alerts = {}) {
    setup_.channels = std::move(channels);
    setup_.alerts = std::move(alerts);
    setup_.host = "box";
    checks_ = std::move(checks);
    r_.Configure(setup_, checks_);
  }

  void Change(const std::string& check, std::optional<CheckStatus> from, CheckStatus to,
              std::string summary = "") {
    Event e;
    e.time = clock_.Now();
    e.check = check;
    e.from = from;
    e.to = to;
    e.summary = summary.empty() ? check + " is " + std::string(StatusLabel(to)) : summary;
    Observation o;
    o.status = to;
    o.summary = e.summary;
    r_.OnEvent(e, o);
  }
  void Fail(const std::string& check, CheckStatus to = CheckStatus::kCritical) {
    Change(check, CheckStatus::kOk, to);
  }
  void Recover(const std::string& check, CheckStatus from = CheckStatus::kCritical) {
    Change(check, from, CheckStatus::kOk);
  }
  void Flap(const std::string& check, EventKind kind, CheckStatus to) {
    Event e;
    e.time = clock_.Now();
    e.check = check;
    e.kind = kind;
    e.to = to;
    Observation o;
    o.status = to;
    r_.OnEvent(e, o);
  }

  // Advances the clock in 100 ms steps, ticking like the daemon does.
  std::vector<Outgoing> Run(Duration total) {
    std::vector<Outgoing> all;
    for (Duration t{0}; t < total; t += 100ms) {
      clock_.Advance(100ms);
      for (auto& o : r_.Tick()) all.push_back(std::move(o));
    }
    return all;
  }

  static std::vector<Outgoing> To(const std::vector<Outgoing>& out, const std::string& channel) {
    std::vector<Outgoing> r;
    for (const auto& o : out)
      if (std::find(o.channels.begin(), o.channels.end(), channel) != o.channels.end())
        r.push_back(o);
    return r;
  }
  static std::vector<std::string> Checks(const Outgoing& o) {
    std::vector<std::string> names;
    for (const auto& i : o.notification.items) names.push_back(i.check);
    return names;
  }

  FakeClock clock_;
  AlertRouter r_{clock_};
  RouterSetup setup_;
  std::vector<CheckInfo> checks_;
};

CheckInfo C(std::string name, std::vector<std::string> tags = {},
            std::vector<std::string> notify = {}, std::vector<std::string> deps = {}) {
  return CheckInfo{std::move(name), "file", std::move(tags), std::move(notify), std::move(deps)};
}

TEST_F(RouterTest, SimultaneousChangesBecomeOneNotificationPerChannel) {
  Setup({"mail", "hook"}, {C("a"), C("b"), C("c")});
  Fail("a");
  clock_.Advance(500ms);
  Fail("b", CheckStatus::kWarning);
  EXPECT_TRUE(r_.Tick().empty());  // held for group_wait
  auto out = Run(3s);
  ASSERT_EQ(out.size(), 2u);
  for (const auto& ch : {"mail", "hook"}) {
    auto mine = To(out, ch);
    ASSERT_EQ(mine.size(), 1u) << ch;
    EXPECT_EQ(mine[0].notification.kind, Kind::kProblem);
    EXPECT_EQ(Checks(mine[0]), (std::vector<std::string>{"a", "b"}));  // worst first
    EXPECT_EQ(mine[0].notification.host, "box");
  }
  EXPECT_TRUE(Run(1h).empty());  // no reminders by default
  Recover("a");
  Recover("b", CheckStatus::kWarning);
  out = Run(3s);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].notification.kind, Kind::kRecovery);
  EXPECT_EQ(out[0].notification.items.size(), 2u);
  EXPECT_FALSE(out[0].notification.items[0].firing());
  ASSERT_TRUE(out[0].notification.items[0].previous_since.has_value());
}

TEST_F(RouterTest, ManyChangesAreSplitAtTheItemLimit) {
  std::vector<CheckInfo> checks;
  for (int i = 0; i < 1200; ++i) checks.push_back(C("c" + std::to_string(i)));
  Setup({"mail"}, checks);
  for (const auto& c : checks) Fail(c.name);
  auto out = Run(3s);
  ASSERT_EQ(out.size(), 3u);
  size_t items = 0;
  for (const auto& o : out) items += o.notification.items.size();
  EXPECT_EQ(items, 1200u);
  EXPECT_EQ(out[0].notification.items.size(), kMaxItems);
}

TEST_F(RouterTest, RowsNeverClaimATellingStillHeldInALargeRound) {
  std::vector<CheckInfo> checks;
  for (int i = 0; i < 2500; ++i) checks.push_back(C("c" + std::to_string(i)));
  Setup({"mail"}, checks);
  for (const auto& c : checks) Fail(c.name);
  clock_.Advance(3s);
  EXPECT_TRUE(r_.Decide().empty());  // first slice of three: held
  auto rows = r_.TakeDirtyRows();
  EXPECT_EQ(rows.size(), 1500u);  // not reconciled yet: saved as failing, told nobody
  for (const auto& [name, row] : rows)
    ASSERT_NE(row.find("\"marks\":{}"), std::string::npos) << row;
  auto out = BuildNotifications(r_.FinishRound());
  ASSERT_EQ(out.size(), 5u);
  rows = r_.TakeDirtyRows();
  ASSERT_EQ(rows.size(), 2500u);
  for (const auto& [name, row] : rows) ASSERT_NE(row.find("\"mail\""), std::string::npos) << row;
}

TEST_F(RouterTest, RoutesByCheckListThenTagsThenEveryChannel) {
  AlertConfig a;
  a.routes.push_back({{"db"}, {"dba"}});
  Setup({"ops", "dba", "hook"}, {C("web", {}, {"hook"}), C("pg", {"db"}), C("disk", {"os"})}, a);
  Fail("web");
  Fail("pg");
  Fail("disk");
  auto out = Run(3s);
  auto names = [&](const std::string& ch) {
    std::vector<std::string> all;
    for (const auto& o : To(out, ch))
      for (const auto& n : Checks(o)) all.push_back(n);
    return all;
  };
  EXPECT_EQ(names("hook"), (std::vector<std::string>{"disk", "web"}));
  EXPECT_EQ(names("dba"), (std::vector<std::string>{"disk", "pg"}));
  EXPECT_EQ(names("ops"), (std::vector<std::string>{"disk"}));
  // The tag label travels with the item.
  for (const auto& o : To(out, "dba"))
    for (const auto& i : o.notification.items)
      if (i.check == "pg") {
        EXPECT_EQ(i.labels.at(0), (std::pair<std::string, std::string>{"tag", "db"}));
      }
}

TEST_F(RouterTest, MinSeverityAndRecoveryOnlyWhereTheProblemWent) {
  AlertConfig a;
  a.channels["pager"].min_severity = CheckStatus::kCritical;
  Setup({"mail", "pager"}, {C("disk")}, a);
  Fail("disk", CheckStatus::kWarning);
  auto out = Run(3s);
  EXPECT_EQ(To(out, "mail").size(), 1u);
  EXPECT_TRUE(To(out, "pager").empty());
  Change("disk", CheckStatus::kWarning, CheckStatus::kCritical);
  out = Run(3s);
  ASSERT_EQ(To(out, "pager").size(), 1u);
  ASSERT_EQ(To(out, "mail").size(), 1u);  // WARNING -> CRITICAL is news there too
  EXPECT_EQ(To(out, "mail")[0].notification.items[0].from, CheckStatus::kWarning);
  // Back to WARNING and then OK: the pager got the problem, so it gets the end.
  Change("disk", CheckStatus::kCritical, CheckStatus::kWarning);
  Run(3s);
  Recover("disk", CheckStatus::kWarning);
  out = Run(3s);
  EXPECT_EQ(To(out, "pager").size(), 1u);
  EXPECT_EQ(To(out, "mail").size(), 1u);
  // A WARNING that comes and goes never reaches the pager, not even its recovery.
  Fail("disk", CheckStatus::kWarning);
  Run(3s);
  Recover("disk", CheckStatus::kWarning);
  out = Run(3s);
  EXPECT_TRUE(To(out, "pager").empty());
}

TEST_F(RouterTest, RemindersUntilAcknowledgedAndAgainWhenTheAckExpires) {
  AlertConfig a;
  a.channels["mail"].reminder_every = 1h;
  Setup({"mail", "hook"}, {C("backup")}, a);
  Fail("backup");
  EXPECT_EQ(Run(3s).size(), 2u);
  auto out = Run(1h);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].notification.kind, Kind::kReminder);
  EXPECT_EQ(out[0].channels, std::vector<std::string>{"mail"});
  EXPECT_NE(out[0].notification.items[0].summary.find("still CRITICAL"), std::string::npos);
  auto ack = r_.Ack("backup", 90min, "alice@box");
  ASSERT_TRUE(ack.ok()) << ack.error().message();
  EXPECT_EQ(ack->by, "alice@box");
  EXPECT_TRUE(Run(85min).empty());  // acked
  out = Run(10min);                 // expired at 90m; reminder overdue
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].notification.kind, Kind::kReminder);
  // Ack until recovery; recovery clears it.
  ASSERT_TRUE(r_.Ack("backup", std::nullopt, "bob").ok());
  EXPECT_EQ(r_.Acks().size(), 1u);
  EXPECT_TRUE(Run(3h).empty());
  Recover("backup");
  EXPECT_EQ(Run(3s).size(), 2u);
  EXPECT_TRUE(r_.Acks().empty());
  // Errors a user can cause.
  EXPECT_FALSE(r_.Ack("backup", std::nullopt, "x").ok());  // not failing
  EXPECT_FALSE(r_.Ack("nope", std::nullopt, "x").ok());
  EXPECT_FALSE(r_.Unack("backup").ok());
}

TEST_F(RouterTest, EscalatesWhenNotAcknowledged) {
  AlertConfig a;
  a.channels["mail"].escalate_after = 30min;
  a.channels["mail"].escalate_to = {"boss"};
  Setup({"mail", "boss"}, {C("web", {}, {"mail"}), C("db", {}, {"mail"})}, a);
  Fail("web");
  Fail("db");
  auto out = Run(3s);
  ASSERT_EQ(out.size(), 1u);
  ASSERT_TRUE(r_.Ack("db", std::nullopt, "alice").ok());
  EXPECT_TRUE(Run(29min).empty());
  out = Run(2min);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].channels, std::vector<std::string>{"boss"});
  EXPECT_EQ(Checks(out[0]), std::vector<std::string>{"web"});
  EXPECT_NE(out[0].notification.items[0].summary.find("escalated"), std::string::npos);
  EXPECT_TRUE(Run(2h).empty());  // once
  Recover("web");
  out = Run(3s);
  EXPECT_EQ(To(out, "boss").size(), 1u);  // the escalation target hears the end too
  EXPECT_EQ(To(out, "mail").size(), 1u);
}

TEST_F(RouterTest, DependantsAreListedInTheDependencysAlertThenAlertedIfStillFailing) {
  Setup({"mail"}, {C("router"), C("web", {}, {}, {"router"}), C("dns", {}, {}, {"router"}),
                   C("app", {}, {}, {"web"})});
  Fail("web");  // first, within the group window
  Fail("router");
  Fail("dns");
  Fail("app");
  auto out = Run(3s);
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(Checks(out[0]), std::vector<std::string>{"router"});
  const Item& it = out[0].notification.items[0];
  EXPECT_NE(it.summary.find("also affected: 3 dependent checks"), std::string::npos) << it.summary;
  EXPECT_NE(it.details.find("app, dns, web"), std::string::npos) << it.details;
  EXPECT_TRUE(Run(1h).empty());
  Recover("dns");  // recovered while hidden: never mentioned
  Run(3s);
  Recover("router");
  out = Run(3s);
  ASSERT_EQ(out.size(), 1u);
  // The router's recovery and the dependant still failing, in one message;
  // app still waits behind web.
  EXPECT_EQ(Checks(out[0]), (std::vector<std::string>{"web", "router"}));
  EXPECT_NE(out[0].notification.items[0].summary.find("also affected: 1 dependent check"),
            std::string::npos);
}

TEST_F(RouterTest, FlappingSendsOneNoticeAndOneWhenItSettles) {
  Setup({"mail"}, {C("link")});
  Fail("link");
  ASSERT_EQ(Run(3s).size(), 1u);
  Flap("link", EventKind::kFlappingStarted, CheckStatus::kOk);
  auto out = Run(3s);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].notification.kind, Kind::kFlapping);
  EXPECT_NE(out[0].notification.items[0].summary.find("flapping"), std::string::npos);
  for (int i = 0; i < 10; ++i) {
    Recover("link");
    EXPECT_TRUE(Run(1s).empty());
    Fail("link");
    EXPECT_TRUE(Run(1s).empty());
  }
  Flap("link", EventKind::kFlappingStopped, CheckStatus::kCritical);
  out = Run(3s);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].notification.kind, Kind::kFlapping);
  EXPECT_EQ(out[0].notification.items[0].to, CheckStatus::kCritical);
  EXPECT_NE(out[0].notification.items[0].summary.find("no longer flapping; now CRITICAL"),
            std::string::npos);
  Recover("link");
  out = Run(3s);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].notification.kind, Kind::kRecovery);
}

TEST_F(RouterTest, QuietHoursHoldUntilTheyEndThenSendOneGroup) {
  // The fake clock starts at 2026-01-01 00:00 UTC = 01:00 in Berlin.
  AlertConfig a;
  QuietHours q;
  q.from_minute = 30;    // 00:30
  q.to_minute = 2 * 60;  // 02:00 Berlin = 01:00 UTC
  q.zone = *util::TimeZone::Load("Europe/Berlin");
  a.channels["mail"].quiet_hours = q;
  Setup({"mail", "hook"}, {C("a"), C("b"), C("c")}, a);
  Fail("a", CheckStatus::kWarning);
  auto out = Run(3s);
  EXPECT_TRUE(To(out, "mail").empty());
  EXPECT_EQ(To(out, "hook").size(), 1u);
  Fail("b");
  Fail("c");
  Run(10min);
  Recover("c");  // came and went in the quiet period: mail never hears of it
  out = Run(49min);
  EXPECT_TRUE(To(out, "mail").empty());
  out = Run(2min);  // 01:00 UTC: quiet hours are over
  auto mail = To(out, "mail");
  ASSERT_EQ(mail.size(), 1u);
  EXPECT_EQ(Checks(mail[0]), (std::vector<std::string>{"b", "a"}));

  // bypass: critical sends CRITICAL problems at once.
  EXPECT_TRUE(q.Contains(clock_.Now() + 23h));
  a.channels["mail"].quiet_hours->bypass_critical = true;
  Setup({"mail"}, {C("x"), C("y")}, a);
  clock_.Advance(23h);
  Fail("x");
  Fail("y", CheckStatus::kWarning);
  out = Run(3s);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(Checks(out[0]), std::vector<std::string>{"x"});
}

TEST_F(RouterTest, QuietHoursSpanMidnightInTheirZone) {
  QuietHours q;
  q.from_minute = 22 * 60;
  q.to_minute = 7 * 60;
  q.zone = *util::TimeZone::Load("America/New_York");
  const WallTime midnight_utc = WallTime(std::chrono::seconds(1767225600));  // 19:00 in NY
  EXPECT_FALSE(q.Contains(midnight_utc));
  EXPECT_TRUE(q.Contains(midnight_utc + 3h));    // 22:00
  EXPECT_TRUE(q.Contains(midnight_utc + 11h));   // 06:00
  EXPECT_FALSE(q.Contains(midnight_utc + 12h));  // 07:00
  EXPECT_EQ(ParseClockTime("07:30"), 450);
  EXPECT_FALSE(ParseClockTime("7:30"));
  EXPECT_FALSE(ParseClockTime("25:00"));
}

TEST_F(RouterTest, AFailingChannelIsAlertedOnTheOthers) {
  Setup({"mail", "hook", "am"}, {C("web")});
  ChannelHealth h;
  h.channel = "mail";
  h.describe = "mail to ops@example.org via smtp://127.0.0.1:25";
  h.consecutive_failures = 2;
  h.last_error = "mail to ops@example.org rejected: 550 5.7.1 rejected by DMARC policy";
  h.last_error_time = clock_.Now();
  r_.OnChannelHealth({h});
  EXPECT_TRUE(Run(3s).empty());  // below channel_failing_after (3)
  h.consecutive_failures = 3;
  r_.OnChannelHealth({h});
  r_.OnChannelHealth({h});  // polled again: still one alarm
  auto out = Run(3s);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(To(out, "mail").empty());
  const Item it = To(out, "hook")[0].notification.items[0];
  EXPECT_EQ(it.check, "notify:mail");
  EXPECT_EQ(it.to, CheckStatus::kCritical);
  EXPECT_NE(it.summary.find("550 5.7.1 rejected by DMARC policy"), std::string::npos) << it.summary;
  EXPECT_NE(it.summary.find("mail to ops@example.org via smtp://"), std::string::npos);
  EXPECT_TRUE(r_.Ack("notify:mail", 1h, "ops").ok());
  h.consecutive_failures = 0;
  h.last_answer = "250 2.0.0 Ok";
  r_.OnChannelHealth({h});
  out = Run(3s);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].notification.kind, Kind::kRecovery);
}

TEST_F(RouterTest, StateSurvivesARestartAndWhatWasNotToldIsToldAfterIt) {
  AlertConfig a;
  a.channels["mail"].reminder_every = 1h;
  Setup({"mail"}, {C("backup"), C("web")}, a);
  Fail("backup");
  Run(3s);
  ASSERT_TRUE(r_.Ack("backup", 2h, "alice").ok());
  Fail("web");  // decided, but the process dies before the group is sent
  auto rows = r_.TakeDirtyRows();
  std::vector<std::pair<std::string, std::string>> saved;
  for (auto& r : rows)
    if (!r.second.empty()) saved.push_back(r);
  ASSERT_EQ(saved.size(), 2u);

  AlertRouter again(clock_);
  again.Configure(setup_, checks_);
  again.Restore(saved);
  again.Seed("backup", CheckStatus::kCritical, clock_.Now(), "backup is CRITICAL");
  again.Seed("web", CheckStatus::kCritical, clock_.Now(), "web is CRITICAL");
  std::vector<Outgoing> out;
  for (int i = 0; i < 30; ++i) {
    clock_.Advance(100ms);
    for (auto& o : again.Tick()) out.push_back(o);
  }
  ASSERT_EQ(out.size(), 1u);  // web, never told; backup was
  EXPECT_EQ(Checks(out[0]), std::vector<std::string>{"web"});
  ASSERT_EQ(again.Acks().size(), 1u);
  EXPECT_EQ(again.Acks()[0].by, "alice");
  // The ack (2h) holds the reminder for backup; web's reminder comes after 1h.
  out.clear();
  for (int i = 0; i < 3700; ++i) {
    clock_.Advance(1s);
    for (auto& o : again.Tick()) out.push_back(o);
  }
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(Checks(out[0]), std::vector<std::string>{"web"});
  // Recovered while mamori was down: the recovery goes out after the start.
  AlertRouter third(clock_);
  third.Configure(setup_, checks_);
  third.Restore(saved);
  third.Seed("backup", CheckStatus::kOk, clock_.Now(), "backup is OK");
  out.clear();
  for (int i = 0; i < 30; ++i) {
    clock_.Advance(100ms);
    for (auto& o : third.Tick()) out.push_back(o);
  }
  ASSERT_GE(out.size(), 1u);
  bool recovery = false;
  for (const auto& o : out)
    for (const auto& i : o.notification.items)
      if (i.check == "backup" && !i.firing()) recovery = true;
  EXPECT_TRUE(recovery);
}

TEST_F(RouterTest, MaintenanceHoldsEverythingAboutTheCheck) {
  Setup({"mail"}, {C("web"), C("db")});
  bool window = true;
  r_.in_maintenance = [&](std::string_view check, WallTime) { return window && check == "web"; };
  Fail("web");
  Fail("db");
  auto out = Run(3s);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(Checks(out[0]), std::vector<std::string>{"db"});
  EXPECT_TRUE(Run(10min).empty());
  window = false;  // still failing after the window: told now
  out = Run(2s);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(Checks(out[0]), std::vector<std::string>{"web"});
}

}  // namespace
}  // namespace mamori::notify
