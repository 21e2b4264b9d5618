#include "mamori/engine/check_state.h"

#include <gtest/gtest.h>

namespace mamori {
namespace {

using S = CheckStatus;
using namespace std::chrono_literals;

class CheckStateTest : public ::testing::Test {
 protected:
  // Feeds one result one minute after the previous one; returns its events.
  std::vector<Event> Feed(CheckState& st, S status, std::string summary = "") {
    clock_.Advance(60s);
    Observation o =
        Observation::Make(status, summary.empty() ? std::string(StatusName(status)) : summary);
    o.time = clock_.Now();
    return st.Apply(o);
  }
  FakeClock clock_;
};

TEST_F(CheckStateTest, PendingBecomesOkAtOnce) {
  CheckState st("web", "http", {3, 2});
  EXPECT_FALSE(st.snapshot().hard.has_value());
  auto ev = Feed(st, S::kOk);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_FALSE(ev[0].from.has_value());
  EXPECT_EQ(ev[0].to, S::kOk);
  EXPECT_EQ(st.snapshot().hard, S::kOk);
}

TEST_F(CheckStateTest, HardFailureOnlyAfterNConsecutiveFailures) {
  CheckState st("web", "http", {3, 2});
  Feed(st, S::kOk);
  EXPECT_TRUE(Feed(st, S::kCritical).empty());
  EXPECT_TRUE(st.snapshot().soft_failing);
  EXPECT_TRUE(Feed(st, S::kCritical).empty());
  auto ev = Feed(st, S::kCritical, "HTTP 503");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].from, S::kOk);
  EXPECT_EQ(ev[0].to, S::kCritical);
  EXPECT_EQ(ev[0].summary, "HTTP 503");
  EXPECT_EQ(ev[0].time, clock_.Now());
  // OK began with the first result, three minutes before.
  ASSERT_TRUE(ev[0].from_since.has_value());
  EXPECT_EQ(*ev[0].from_since, clock_.Now() - 3min);
  EXPECT_EQ(st.snapshot().hard, S::kCritical);
  EXPECT_FALSE(st.snapshot().soft_failing);
  EXPECT_EQ(st.snapshot().attempts, 3);
}

TEST_F(CheckStateTest, AnOkResultResetsTheFailureStreak) {
  CheckState st("web", "http", {3, 2});
  Feed(st, S::kOk);
  Feed(st, S::kCritical);
  Feed(st, S::kCritical);
  EXPECT_TRUE(Feed(st, S::kOk).empty());
  EXPECT_TRUE(Feed(st, S::kCritical).empty());
  EXPECT_TRUE(Feed(st, S::kCritical).empty());
  EXPECT_EQ(st.snapshot().hard, S::kOk);
}

TEST_F(CheckStateTest, RecoveryNeedsMSuccesses) {
  CheckState st("web", "http", {1, 2});
  Feed(st, S::kOk);
  ASSERT_EQ(Feed(st, S::kCritical).size(), 1u);
  EXPECT_TRUE(Feed(st, S::kOk).empty());
  EXPECT_EQ(st.snapshot().hard, S::kCritical);
  EXPECT_TRUE(st.snapshot().soft_failing);
  auto ev = Feed(st, S::kOk);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].from, S::kCritical);
  EXPECT_EQ(ev[0].to, S::kOk);
}

TEST_F(CheckStateTest, SeverityChangeWhileHardFailingIsImmediate) {
  CheckState st("disk", "disk", {2, 1});
  Feed(st, S::kOk);
  Feed(st, S::kWarning);
  ASSERT_EQ(Feed(st, S::kWarning).size(), 1u);
  auto ev = Feed(st, S::kCritical);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].from, S::kWarning);
  EXPECT_EQ(ev[0].to, S::kCritical);
}

TEST_F(CheckStateTest, UnknownIsKeptDistinctFromCritical) {
  CheckState st("cmd", "command", {2, 1});
  Feed(st, S::kOk);
  Feed(st, S::kUnknown);
  auto ev = Feed(st, S::kUnknown);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].to, S::kUnknown);
  EXPECT_EQ(st.snapshot().hard, S::kUnknown);
  ev = Feed(st, S::kCritical);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].from, S::kUnknown);
  EXPECT_EQ(ev[0].to, S::kCritical);
}

TEST_F(CheckStateTest, FailingFromTheStartGoesHardAfterN) {
  CheckState st("db", "tcp", {3, 2});
  EXPECT_TRUE(Feed(st, S::kCritical).empty());
  EXPECT_TRUE(Feed(st, S::kCritical).empty());
  auto ev = Feed(st, S::kCritical);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_FALSE(ev[0].from.has_value());
}

TEST_F(CheckStateTest, AlternatingResultsAreFlappingAndStopWhenStable) {
  CheckState st("wifi", "tcp", {1, 1});
  bool started = false;
  for (int i = 0; i < 21 && !started; ++i) {
    for (const auto& e : Feed(st, i % 2 ? S::kCritical : S::kOk))
      if (e.kind == EventKind::kFlappingStarted) started = true;
  }
  ASSERT_TRUE(started);
  EXPECT_TRUE(st.snapshot().flapping);
  EXPECT_GT(st.FlapPercent(), 50.0);
  bool stopped = false;
  for (int i = 0; i < 21 && !stopped; ++i) {
    for (const auto& e : Feed(st, S::kOk))
      if (e.kind == EventKind::kFlappingStopped) stopped = true;
  }
  EXPECT_TRUE(stopped);
  EXPECT_FALSE(st.snapshot().flapping);
}

TEST_F(CheckStateTest, OccasionalFailuresAreNotFlapping) {
  CheckState st("web", "http", {3, 2});
  for (int i = 0; i < 60; ++i) {
    for (const auto& e : Feed(st, i % 10 == 0 ? S::kCritical : S::kOk))
      EXPECT_NE(e.kind, EventKind::kFlappingStarted) << "at result " << i;
  }
  EXPECT_FALSE(st.snapshot().flapping);
}

TEST_F(CheckStateTest, RestoreKeepsAFailingStreak) {
  CheckState st("web", "http", {3, 2});
  Feed(st, S::kOk);
  Feed(st, S::kCritical);
  Feed(st, S::kCritical);
  CheckState restored("web", "http", {3, 2});
  restored.Restore(st.snapshot());
  auto ev = Feed(restored, S::kCritical);
  ASSERT_EQ(ev.size(), 1u) << "the third failure after a restart must still alert";
  EXPECT_EQ(ev[0].to, S::kCritical);
}

}  // namespace
}  // namespace mamori
