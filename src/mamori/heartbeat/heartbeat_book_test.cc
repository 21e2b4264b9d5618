// The heartbeat judgement with explicit times (no sleeping): on time, late,
// failed, running too long, run durations paired by run id.
#include "mamori/heartbeat/heartbeat_book.h"

#include <gtest/gtest.h>

#include "mamori/util/cron.h"

namespace mamori::heartbeat {
namespace {

using namespace std::chrono_literals;

const WallTime kT0 = FromUnixMillis(1'790'000'000'000);  // a fixed instant

Ping MakePing(PingKind kind, WallTime t, int exit_code = -1, std::string rid = "",
              std::string body = "") {
  Ping p;
  p.check = "backup";
  p.kind = kind;
  p.time = t;
  p.exit_code = exit_code;
  p.rid = std::move(rid);
  p.body = std::move(body);
  return p;
}

Schedule Daily() {
  Schedule s;
  s.period = 24h;
  s.grace = 2h;
  s.max_runtime = 1h;
  s.describe = "every 1d + 2h grace";
  return s;
}

TEST(Heartbeat, WaitsForTheFirstPingThenGoesLate) {
  HeartbeatBook book;
  book.Expect("backup", kT0);
  auto r = *book.Get("backup");
  Observation o = Evaluate(Daily(), r, kT0 + 25h);
  EXPECT_EQ(o.status, CheckStatus::kOk);
  EXPECT_NE(o.summary.find("waiting for the first ping"), std::string::npos) << o.summary;
  Observation late = Evaluate(Daily(), r, kT0 + 26h + 1s);
  EXPECT_EQ(late.status, CheckStatus::kCritical);
  EXPECT_NE(late.summary.find("late: no success ping"), std::string::npos) << late.summary;
}

TEST(Heartbeat, SuccessKeepsItOkUntilPeriodPlusGrace) {
  HeartbeatBook book;
  book.Expect("backup", kT0);
  book.Add(MakePing(PingKind::kSuccess, kT0 + 1h, 0));
  auto r = *book.Get("backup");
  EXPECT_EQ(Evaluate(Daily(), r, kT0 + 1h + 26h).status, CheckStatus::kOk);
  Observation late = Evaluate(Daily(), r, kT0 + 1h + 26h + 1s);
  EXPECT_EQ(late.status, CheckStatus::kCritical);
  EXPECT_NE(late.summary.find("late: last success 1d 2h ago (expected every 1d + 2h grace)"),
            std::string::npos)
      << late.summary;
}

TEST(Heartbeat, FailureAndExitCodesAreCriticalWithTheOutputTail) {
  HeartbeatBook book;
  book.Add(MakePing(PingKind::kSuccess, kT0, 0));
  book.Add(MakePing(PingKind::kExitCode, kT0 + 1h, 23, "",
                    "sending incremental file list\nrsync error: some files could not be "
                    "transferred (code 23)\n"));
  Observation o = Evaluate(Daily(), *book.Get("backup"), kT0 + 2h);
  EXPECT_EQ(o.status, CheckStatus::kCritical);
  EXPECT_NE(o.summary.find("exited with code 23"), std::string::npos) << o.summary;
  EXPECT_NE(o.summary.find("rsync error: some files could not be transferred (code 23)"),
            std::string::npos)
      << o.summary;
  // The next success clears it.
  book.Add(MakePing(PingKind::kSuccess, kT0 + 3h, 0));
  EXPECT_EQ(Evaluate(Daily(), *book.Get("backup"), kT0 + 4h).status, CheckStatus::kOk);
  book.Add(MakePing(PingKind::kFail, kT0 + 5h, 1));
  EXPECT_NE(Evaluate(Daily(), *book.Get("backup"), kT0 + 6h).summary.find("reported failure"),
            std::string::npos);
}

TEST(Heartbeat, LogPingsChangeNothing) {
  HeartbeatBook book;
  book.Add(MakePing(PingKind::kFail, kT0, 1));
  book.Add(MakePing(PingKind::kLog, kT0 + 1h, -1, "", "just saying"));
  EXPECT_EQ(Evaluate(Daily(), *book.Get("backup"), kT0 + 2h).status, CheckStatus::kCritical);
}

TEST(Heartbeat, StartedButNeverFinishedIsCriticalAfterMaxRuntime) {
  HeartbeatBook book;
  book.Add(MakePing(PingKind::kSuccess, kT0 - 1h, 0));
  book.Add(MakePing(PingKind::kStart, kT0));
  auto r = *book.Get("backup");
  EXPECT_EQ(Evaluate(Daily(), r, kT0 + 59min).status, CheckStatus::kOk);
  Observation o = Evaluate(Daily(), r, kT0 + 2h);
  EXPECT_EQ(o.status, CheckStatus::kCritical);
  EXPECT_NE(o.summary.find("still running at"), std::string::npos) << o.summary;
  EXPECT_NE(o.summary.find("(max_runtime 1h 0m)"), std::string::npos) << o.summary;
}

TEST(Heartbeat, DurationsPairStartAndEndByRunId) {
  HeartbeatBook book;
  book.Add(MakePing(PingKind::kStart, kT0, -1, "a"));
  book.Add(MakePing(PingKind::kStart, kT0 + 10s, -1, "b"));
  Ping end_b = MakePing(PingKind::kSuccess, kT0 + 15s, 0, "b");
  book.FillDuration(end_b);
  ASSERT_TRUE(end_b.duration);
  EXPECT_EQ(*end_b.duration, Duration(5s));
  book.Add(end_b);
  Ping end_a = MakePing(PingKind::kSuccess, kT0 + 60s, 0, "a");
  book.FillDuration(end_a);
  ASSERT_TRUE(end_a.duration);
  EXPECT_EQ(*end_a.duration, Duration(60s));
  book.Add(end_a);
  EXPECT_TRUE(book.Get("backup")->open_runs.empty());
  // An end without a start has no duration.
  Ping lone = MakePing(PingKind::kSuccess, kT0 + 90s, 0, "c");
  book.FillDuration(lone);
  EXPECT_FALSE(lone.duration);
}

TEST(Heartbeat, OpenRunsAreBounded) {
  HeartbeatBook book;
  for (int i = 0; i < 1000; ++i)
    book.Add(
        MakePing(PingKind::kStart, kT0 + std::chrono::seconds(i), -1, "rid-" + std::to_string(i)));
  EXPECT_EQ(book.Get("backup")->open_runs.size(), HeartbeatBook::kMaxOpenRuns);
}

TEST(Heartbeat, CronStyleScheduleBlamesOnlyRunsAfterWatchingBegan) {
  Schedule s;
  s.grace = 1h;
  s.describe = "daily at 03:00";
  // Due every day at 03:00 UTC (relative to kT0's day).
  const WallTime day0 = kT0 - (kT0.time_since_epoch() % 24h);
  s.previous_due = [day0](WallTime t) -> std::optional<WallTime> {
    WallTime due = day0 + 3h;
    while (due + 24h <= t) due += 24h;
    if (due > t) return std::nullopt;
    return due;
  };
  HeartbeatBook book;
  book.Expect("backup", day0 + 1h);  // began watching at 01:00
  EXPECT_EQ(Evaluate(s, *book.Get("backup"), day0 + 3h + 59min).status,
            CheckStatus::kOk);  // within grace
  Observation missed = Evaluate(s, *book.Get("backup"), day0 + 4h + 1min);
  EXPECT_EQ(missed.status, CheckStatus::kCritical);
  EXPECT_NE(missed.summary.find("did not report success"), std::string::npos) << missed.summary;
  book.Add(MakePing(PingKind::kSuccess, day0 + 3h + 5min, 0));
  EXPECT_EQ(Evaluate(s, *book.Get("backup"), day0 + 4h + 1min).status, CheckStatus::kOk);
  EXPECT_EQ(Evaluate(s, *book.Get("backup"), day0 + 27h).status, CheckStatus::kOk);
  EXPECT_EQ(Evaluate(s, *book.Get("backup"), day0 + 28h + 1min).status, CheckStatus::kCritical);
}

// The same judgement with a real cron schedule in a time zone: the nightly
// backup at 03:00 Tokyo time (18:00 UTC the day before).
TEST(Heartbeat, CronScheduleInATimeZone) {
  auto cron = CronSchedule::Parse("0 3 * * *", "Asia/Tokyo");
  ASSERT_TRUE(cron.ok()) << cron.error().message();
  auto shared = std::make_shared<CronSchedule>(*cron);
  Schedule s;
  s.grace = 2h;
  s.describe = "cron '0 3 * * *' Asia/Tokyo + 2h grace";
  s.previous_due = [shared](WallTime t) { return shared->Previous(t); };
  // 2026-12-01T00:00:00Z; the run is due at 2026-12-01T18:00:00Z.
  const WallTime day = FromUnixMillis(1'796'083'200'000);
  HeartbeatBook book;
  book.Expect("backup", day);
  EXPECT_EQ(Evaluate(s, *book.Get("backup"), day + 19h).status, CheckStatus::kOk);  // within grace
  Observation missed = Evaluate(s, *book.Get("backup"), day + 20h + 1min);
  EXPECT_EQ(missed.status, CheckStatus::kCritical);
  EXPECT_NE(missed.summary.find("the run due 2026-12-01 18:00 UTC did not report success"),
            std::string::npos)
      << missed.summary;
  book.Add(MakePing(PingKind::kSuccess, day + 18h + 20min, 0));
  EXPECT_EQ(Evaluate(s, *book.Get("backup"), day + 20h + 1min).status, CheckStatus::kOk);
}

}  // namespace
}  // namespace mamori::heartbeat
