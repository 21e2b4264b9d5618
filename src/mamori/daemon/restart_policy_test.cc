// RestartPolicy on a fake clock: the limit, the sliding window, maintenance,
// one give-up, and re-arming once the window has passed with the check OK.
#include "mamori/daemon/restart_policy.h"

#include <gtest/gtest.h>

namespace mamori {
namespace {

using namespace std::chrono_literals;
using Action = RestartPolicy::Action;

class RestartPolicyTest : public ::testing::Test {
 protected:
  // One failing result of a check that is hard CRITICAL (failures: 1, so
  // every failing result makes a restart due).
  Action Fail(bool maintenance = false) {
    return policy_.OnResult(
        {.failing = true, .hard_critical = true, .in_maintenance = maintenance, .failures = 1});
  }
  Action Ok() { return policy_.OnResult({.failing = false}); }

  FakeClock clock_;
  RestartPolicy policy_{clock_, {.limit = 3, .within = 10min}};
};

TEST_F(RestartPolicyTest, RestartsExactlyLimitTimesThenGivesUpOnce) {
  for (int i = 1; i <= 3; ++i) {
    EXPECT_EQ(Fail(), Action::kRestart) << "restart " << i;
    EXPECT_EQ(policy_.restarts_in_window(), i);
    clock_.Advance(30s);
  }
  EXPECT_EQ(Fail(), Action::kGiveUp);
  EXPECT_TRUE(policy_.gave_up());
  // Every later cycle: nothing, not a second alert.
  for (int i = 0; i < 20; ++i) {
    clock_.Advance(30s);
    EXPECT_EQ(Fail(), Action::kNone) << "cycle " << i;
  }
  EXPECT_TRUE(policy_.gave_up()) << "still failing: stays given up after the window";
}

TEST_F(RestartPolicyTest, TheWindowSlides) {
  EXPECT_EQ(Fail(), Action::kRestart);  // t=0
  clock_.Advance(4min);
  EXPECT_EQ(Fail(), Action::kRestart);  // t=4m
  clock_.Advance(4min);
  EXPECT_EQ(Fail(), Action::kRestart);  // t=8m: 3 in 10m
  clock_.Advance(2min);                 // t=10m: the first leaves the window
  EXPECT_EQ(policy_.restarts_in_window(), 2);
  EXPECT_EQ(Fail(), Action::kRestart);
  clock_.Advance(1min);  // t=11m: 4m, 8m, 10m are in the window
  EXPECT_EQ(Fail(), Action::kGiveUp);
}

TEST_F(RestartPolicyTest, NeverInMaintenanceAndNothingCounted) {
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(Fail(/*maintenance=*/true), Action::kNone);
    clock_.Advance(10s);
  }
  EXPECT_EQ(policy_.restarts_in_window(), 0);
  EXPECT_FALSE(policy_.gave_up());
  EXPECT_EQ(Fail(), Action::kRestart) << "after the window, the failure is acted on";
}

TEST_F(RestartPolicyTest, AStreakThroughAWindowRestartsAtTheFirstFailureAfterIt) {
  const RestartPolicy::Result in{
      .failing = true, .hard_critical = true, .in_maintenance = true, .failures = 3};
  const RestartPolicy::Result after{.failing = true, .hard_critical = true, .failures = 3};
  for (int i = 0; i < 5; ++i) EXPECT_EQ(policy_.OnResult(in), Action::kNone);
  EXPECT_EQ(policy_.OnResult(after), Action::kRestart);
}

TEST_F(RestartPolicyTest, SuccessDecaysByTheWindowNotAtOnce) {
  EXPECT_EQ(Fail(), Action::kRestart);
  EXPECT_EQ(Ok(), Action::kNone);
  EXPECT_EQ(Fail(), Action::kRestart);
  EXPECT_EQ(Ok(), Action::kNone);
  EXPECT_EQ(Fail(), Action::kRestart);
  EXPECT_EQ(Ok(), Action::kNone);
  EXPECT_EQ(policy_.restarts_in_window(), 3) << "an OK in between does not reset the count";
  EXPECT_EQ(Fail(), Action::kGiveUp);
}

TEST_F(RestartPolicyTest, RearmsOnceTheWindowHasPassedWithTheCheckHealthy) {
  for (int i = 0; i < 3; ++i) ASSERT_EQ(Fail(), Action::kRestart);
  ASSERT_EQ(Fail(), Action::kGiveUp);
  clock_.Advance(5min);
  EXPECT_EQ(Ok(), Action::kNone);
  EXPECT_TRUE(policy_.gave_up()) << "healthy, but the restarts are still in the window";
  EXPECT_EQ(Fail(), Action::kNone) << "given up: no restart, no second alert";
  clock_.Advance(5min);
  EXPECT_EQ(Ok(), Action::kNone);
  EXPECT_FALSE(policy_.gave_up()) << "healthy and the window has passed: re-armed";
  EXPECT_EQ(Fail(), Action::kRestart);
}

TEST_F(RestartPolicyTest, WaitsForTheFailureStreakAndTheHardState) {
  RestartPolicy p(clock_, {.limit = 3, .within = 10min});
  const RestartPolicy::Result soft{.failing = true, .hard_critical = false, .failures = 2};
  const RestartPolicy::Result hard{.failing = true, .hard_critical = true, .failures = 2};
  EXPECT_EQ(p.OnResult(soft), Action::kNone) << "soft failure: not yet";
  EXPECT_EQ(p.OnResult(hard), Action::kRestart) << "the alert's failure";
  EXPECT_EQ(p.OnResult(hard), Action::kNone) << "one failure after a restart is not enough";
  EXPECT_EQ(p.OnResult(hard), Action::kRestart) << "the same grace as the first time";
  EXPECT_EQ(p.OnResult({.failing = false}), Action::kNone);
  EXPECT_EQ(p.OnResult(hard), Action::kNone) << "an OK restarts the streak";
  EXPECT_EQ(p.OnResult(hard), Action::kRestart);
}

}  // namespace
}  // namespace mamori
