#include "mamori/logs/template_rate.h"

#include <gtest/gtest.h>

namespace mamori::logs {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

const WallTime kStart = WallTime(seconds(1767225600));

// Feeds `per_step` lines of key 1 every `step` from `from` for `span`; returns
// how many of them were reported as part of a burst.
int Steady(TemplateRate& r, WallTime from, Duration span, Duration step, int per_step) {
  int bursts = 0;
  for (Duration d{}; d < span; d += step)
    for (int i = 0; i < per_step; ++i)
      if (r.Add(1, from + d)) ++bursts;
  return bursts;
}

TEST(TemplateRateTest, BurstFarAboveTheUsualRateIsReportedWithItsNumbers) {
  TemplateRate r;  // 10m window, factor 10, at least 20 lines, 24h of history
  EXPECT_EQ(Steady(r, kStart, hours(48), minutes(10), 3), 0);
  const WallTime t = kStart + hours(48);
  std::optional<Burst> last;
  int bursts = 0;
  for (int i = 0; i < 470; ++i)
    if (auto b = r.Add(1, t)) {
      last = b;
      ++bursts;
    }
  ASSERT_TRUE(last);
  // Up to 30 lines fit the usual rate (10 x ~3); the rest is the burst.
  EXPECT_GE(bursts, 435);
  EXPECT_EQ(last->lines, 470u);
  EXPECT_NEAR(last->usual, 3.0, 0.2);
}

TEST(TemplateRateTest, SteadyRateIsNoBurstAtAnyLevel) {
  for (int per_step : {3, 50, 470}) {
    TemplateRate r;
    EXPECT_EQ(Steady(r, kStart, hours(72), minutes(10), per_step), 0) << per_step;
  }
}

TEST(TemplateRateTest, FewLinesAreNoBurstEvenFromZero) {
  BurstOptions o;
  o.min_lines = 20;
  TemplateRate r(o);
  r.Add(1, kStart);
  for (int i = 0; i < 19; ++i) EXPECT_FALSE(r.Add(1, kStart + hours(30))) << i;
  EXPECT_TRUE(r.Add(1, kStart + hours(30)));  // the 20th in the window
}

TEST(TemplateRateTest, NothingIsABurstBeforeTheHistoryIsLongEnough) {
  TemplateRate r;
  EXPECT_EQ(Steady(r, kStart, hours(20), minutes(10), 1), 0);
  for (int i = 0; i < 500; ++i) EXPECT_FALSE(r.Add(1, kStart + hours(20)));
}

TEST(TemplateRateTest, TheWindowSlidesAndABurstEnds) {
  TemplateRate r;
  Steady(r, kStart, hours(48), minutes(10), 1);
  WallTime t = kStart + hours(48);
  for (int i = 0; i < 100; ++i) r.Add(1, t);
  EXPECT_TRUE(r.Add(1, t + minutes(5)));    // 101 lines within 10m
  EXPECT_FALSE(r.Add(1, t + minutes(11)));  // the burst slid out
}

TEST(TemplateRateTest, ALastingRiseIsLearned) {
  TemplateRate r;
  Steady(r, kStart, hours(48), minutes(10), 2);
  WallTime t = kStart + hours(48);
  // 40 per 10m from now on: a burst at first, the new usual within a day.
  EXPECT_GT(Steady(r, t, hours(1), minutes(10), 40), 0);
  Steady(r, t + hours(1), hours(23), minutes(10), 40);
  EXPECT_EQ(Steady(r, t + hours(24), hours(24), minutes(10), 40), 0);
  EXPECT_GT(r.UsualPerWindow(*r.Find(1)), 10);
}

TEST(TemplateRateTest, RestoredBaselineKeepsTheUsualRate) {
  TemplateRate a;
  Steady(a, kStart, hours(48), minutes(10), 3);
  auto changed = a.TakeChanged();
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_TRUE(a.TakeChanged().empty());
  TemplateRate b;
  ASSERT_TRUE(b.Restore(7, changed[0].second));
  EXPECT_FALSE(b.Restore(7, changed[0].second));
  EXPECT_NEAR(b.UsualPerWindow(*b.Find(7)), 3.0, 0.2);
  std::optional<Burst> last;
  for (int i = 0; i < 100; ++i)
    if (auto x = b.Add(7, kStart + hours(49))) last = x;
  ASSERT_TRUE(last);
  EXPECT_EQ(last->lines, 100u);
}

TEST(TemplateRateTest, ForgottenAfterThirtyDaysAndBoundedKeys) {
  BurstOptions o;
  o.max_keys = 3;
  TemplateRate r(o);
  Steady(r, kStart, hours(48), minutes(10), 3);
  WallTime later = kStart + hours(48 + 24 * 31);
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(r.Add(1, later));  // history starts again
  EXPECT_LT(r.Find(1)->seconds, 1);
  r.Add(2, later);
  r.Add(3, later);
  EXPECT_FALSE(r.Add(4, later));
  EXPECT_EQ(r.size(), 3u);
  EXPECT_EQ(r.Find(4), nullptr);
}

TEST(TemplateRateTest, TimeGoingBackwardsCountsAsNow) {
  TemplateRate r;
  Steady(r, kStart, hours(48), minutes(10), 1);
  WallTime t = kStart + hours(48);
  r.Add(1, t);
  for (int i = 0; i < 30; ++i) r.Add(1, t - hours(5));
  EXPECT_EQ(r.Find(1)->updated, t);
  EXPECT_TRUE(r.Add(1, t));
}

}  // namespace
}  // namespace mamori::logs
