#include "mamori/faces/read_model.h"
#include "mamori/faces/store_test_fixture.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <date/date.h>

#include <filesystem>

namespace mamori::faces {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// A real store in a temp dir, fed through its public write path.
class ReadModelTest : public StoreFixture {
 protected:
  void Observe(const std::string& check, WallTime t, CheckStatus s, Duration d) {
    Observation o;
    o.time = t;
    o.status = s;
    o.duration = d;
    o.summary = std::string(StatusName(s));
    store_->Record(check, "http", o);
  }
};

TEST_F(ReadModelTest, HistoryBucketsRawObservationsWithWorstStatusAndResponseTimes) {
  const WallTime t0 = clock_.Now() - 1h;
  for (int i = 0; i < 60; ++i)  // one a minute; minute 30 failed
    Observe("web", t0 + std::chrono::minutes(i),
            i == 30 ? CheckStatus::kCritical : CheckStatus::kOk, std::chrono::milliseconds(10 + i));
  ASSERT_TRUE(store_->Flush().ok());
  ReadModel model(*store_, clock_);
  auto h = model.History("web", t0, t0 + 1h, 15min);
  ASSERT_TRUE(h.ok()) << h.error().message();
  ASSERT_EQ(h->size(), 4u);
  EXPECT_EQ((*h)[0].counts.total(), 15);
  EXPECT_EQ((*h)[2].counts.worst(), CheckStatus::kCritical);
  EXPECT_EQ((*h)[1].counts.worst(), CheckStatus::kOk);
  EXPECT_EQ((*h)[3].counts.duration_max, std::chrono::milliseconds(10 + 59));
  EXPECT_NEAR(*(*h)[2].counts.uptime(), 14.0 / 15.0, 1e-9);
}

TEST_F(ReadModelTest, HourlyStepsComeFromRollupsAndRangesAreBounded) {
  const WallTime t0 = std::chrono::floor<std::chrono::hours>(clock_.Now()) - 48h;
  for (int h = 0; h < 48; ++h)
    Observe("db", t0 + std::chrono::hours(h) + 5min,
            h < 24 ? CheckStatus::kOk : CheckStatus::kWarning, 1ms);
  ASSERT_TRUE(store_->Flush().ok());
  ReadModel model(*store_, clock_);
  auto h = model.History("db", t0, t0 + 48h, 24h);
  ASSERT_TRUE(h.ok()) << h.error().message();
  ASSERT_EQ(h->size(), 2u);
  EXPECT_EQ((*h)[0].counts.ok, 24);
  EXPECT_EQ((*h)[1].counts.warning, 24);
  EXPECT_FALSE(model.History("db", t0, t0 + 48h, 30s).ok());        // step too small
  EXPECT_FALSE(model.History("db", t0, t0 + 24h * 500, 24h).ok());  // range too long
  EXPECT_FALSE(model.History("db", t0, t0 + 48h * 30, 1min).ok());  // too many buckets
  EXPECT_FALSE(model.History("db", t0 + 1h, t0, 1h).ok());          // reversed
}

TEST_F(ReadModelTest, UptimeOverWindowsAndPerDay) {
  const WallTime now = clock_.Now();
  // 10 days back: 9 fine days, then 6 critical hours out of 24 yesterday.
  for (int h = 1; h <= 24 * 10; ++h) {
    const bool down = h > 24 && h <= 30;
    Observe("api", now - std::chrono::hours(h), down ? CheckStatus::kCritical : CheckStatus::kOk,
            2ms);
  }
  ASSERT_TRUE(store_->Flush().ok());
  ReadModel model(*store_, clock_);
  auto day = model.Uptime("api", 24h);
  ASSERT_TRUE(day.ok());
  EXPECT_EQ(*day->uptime(), 1.0);
  auto week = model.Uptime("api", 24h * 7);
  ASSERT_TRUE(week.ok());
  EXPECT_EQ(week->critical, 6);
  EXPECT_NEAR(*week->uptime(), 1.0 - 6.0 / (24 * 7), 1e-9);
  auto none = model.Uptime("nothing", 24h * 30);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->uptime().has_value());  // not measured is not 100%

  auto days = model.Daily("api", 90);
  ASSERT_TRUE(days.ok());
  ASSERT_EQ(days->size(), 90u);
  EXPECT_EQ(days->back().start, std::chrono::floor<date::days>(now));
  EXPECT_FALSE((*days)[0].counts.uptime().has_value());  // before the first observation
  int64_t critical = 0;
  for (const auto& d : *days) critical += d.counts.critical;
  EXPECT_EQ(critical, 6);
}

// Every check's uptime from one query (and the settled hours from a cache)
// is exactly what each check's own query gives, also as the clock moves on.
TEST_F(ReadModelTest, UptimeAllMatchesEachCheckAndFollowsTheClock) {
  const WallTime now = clock_.Now();
  for (int h = 1; h <= 24 * 10; ++h) {
    Observe("api", now - std::chrono::hours(h) + 30min,
            h % 17 == 0 ? CheckStatus::kCritical : CheckStatus::kOk, 2ms);
    Observe("db", now - std::chrono::hours(h) + 10min,
            h % 5 == 0 ? CheckStatus::kWarning : CheckStatus::kOk, 7ms);
  }
  ASSERT_TRUE(store_->Flush().ok());
  ReadModel model(*store_, clock_);
  const auto same = [&](Duration window) {
    auto all = model.UptimeAll(window);
    ASSERT_TRUE(all.ok()) << all.error().message();
    EXPECT_EQ(all->size(), 2u);
    for (const char* name : {"api", "db"}) {
      auto one = model.Uptime(name, window);
      ASSERT_TRUE(one.ok());
      const Counts& c = (*all)[name];
      EXPECT_EQ(c.ok, one->ok) << name;
      EXPECT_EQ(c.warning, one->warning) << name;
      EXPECT_EQ(c.critical, one->critical) << name;
      EXPECT_EQ(c.duration_sum, one->duration_sum) << name;
      EXPECT_EQ(c.duration_max, one->duration_max) << name;
      EXPECT_GT(c.total(), 0) << name;
    }
  };
  for (Duration w : {Duration(24h), Duration(24h * 7), Duration(24h * 30)}) same(w);
  // A new result in the current hour shows at once (not from the cache).
  Observe("api", now + 1min, CheckStatus::kCritical, 900ms);
  ASSERT_TRUE(store_->Flush().ok());
  auto after = model.UptimeAll(24h * 7);
  ASSERT_TRUE(after.ok());
  auto direct = model.Uptime("api", 24h * 7);
  ASSERT_TRUE(direct.ok());
  EXPECT_EQ((*after)["api"].critical, direct->critical);
  EXPECT_EQ((*after)["api"].duration_max, 900ms);
  // Hours later the window has moved: old hours leave it, new ones join.
  clock_.Advance(5h);
  Observe("db", clock_.Now(), CheckStatus::kCritical, 3ms);
  ASSERT_TRUE(store_->Flush().ok());
  for (Duration w : {Duration(24h), Duration(24h * 7)}) same(w);
}

TEST_F(ReadModelTest, IncidentsFromStateChangesWithTimeline) {
  const WallTime t = clock_.Now() - 5h;
  Change("web", t, CheckStatus::kOk, CheckStatus::kWarning, "slow");
  Change("web", t + 10min, CheckStatus::kWarning, CheckStatus::kCritical, "down");
  Change("web", t + 1h, CheckStatus::kCritical, CheckStatus::kOk, "back");
  Change("db", t + 2h, CheckStatus::kOk, CheckStatus::kCritical, "refused");
  Event remedy;
  remedy.time = t + 2h + 1min;
  remedy.check = "db";
  remedy.kind = EventKind::kRemedy;
  remedy.to = CheckStatus::kCritical;
  remedy.summary = "restarting db.service";
  store_->RecordEvent(remedy);
  ASSERT_TRUE(store_->Flush().ok());
  ReadModel model(*store_, clock_);
  auto all = model.Incidents({}, 24h, 100);
  ASSERT_TRUE(all.ok()) << all.error().message();
  ASSERT_EQ(all->size(), 2u);
  const Incident& db = (*all)[0];  // newest first
  EXPECT_EQ(db.check, "db");
  EXPECT_FALSE(db.ended.has_value());
  ASSERT_EQ(db.timeline.size(), 2u);
  EXPECT_EQ(db.timeline[1].kind, "remedy");
  const Incident& web = (*all)[1];
  EXPECT_EQ(web.worst, CheckStatus::kCritical);
  EXPECT_EQ(web.summary, "slow");
  ASSERT_TRUE(web.ended.has_value());
  EXPECT_EQ(*web.ended, t + 1h);
  EXPECT_EQ(web.timeline.back().kind, "recovered");
  EXPECT_EQ(web.id, IncidentId("web", t));
  auto only = model.Incidents({"web"}, 24h, 100);
  ASSERT_TRUE(only.ok());
  EXPECT_EQ(only->size(), 1u);
}

TEST(ReadModelPure, AnIncidentOpenBeforeTheWindowStartsAtFromSince) {
  const WallTime t = WallTime(std::chrono::hours(1000));
  Event e;
  e.check = "x";
  e.time = t;
  e.from = CheckStatus::kCritical;
  e.from_since = t - 3h;
  e.to = CheckStatus::kOk;
  auto inc = BuildIncidents({e});
  ASSERT_EQ(inc.size(), 1u);
  EXPECT_EQ(inc[0].started, t - 3h);
  EXPECT_EQ(inc[0].ended, t);
}

TEST(ReadModelPure, WindowsAndTimesParseOrSayWhy) {
  EXPECT_EQ(*ParseWindow("30d"), std::chrono::hours(24 * 30));
  EXPECT_EQ(*ParseWindow("24h"), std::chrono::hours(24));
  EXPECT_FALSE(ParseWindow("30").ok());
  EXPECT_FALSE(ParseWindow("-1d").ok());
  EXPECT_FALSE(ParseWindow("999d").ok());
  EXPECT_EQ(FormatTime(*ParseTime("2026-12-07T04:12:22Z")), "2026-12-07T04:12:22Z");
  EXPECT_EQ(FormatTime(*ParseTime("2026-12-07T13:12:22+09:00")), "2026-12-07T04:12:22Z");
  EXPECT_EQ(FormatTime(*ParseTime("0")), "1970-01-01T00:00:00Z");
  EXPECT_FALSE(ParseTime("yesterday").ok());
  EXPECT_EQ(FormatTime(*ParseTime("2026-12-06T23:12:22.250-05:00")), "2026-12-07T04:12:22Z");
  EXPECT_FALSE(ParseTime("2026-02-30T00:00:00Z").ok());  // no such day
  EXPECT_FALSE(ParseTime("2026-12-07T04:12:22").ok());   // no offset: ambiguous
}

}  // namespace
}  // namespace mamori::faces
