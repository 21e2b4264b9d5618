// The daemon's restart wiring (UnitRestarts) driven by the real state machine
// (CheckState) on a fake clock. The restarter here is a FAKE, on purpose:
// the real one asks systemd over sd-bus, which needs systemd as PID 1; that
// one is tested against a real systemd in tests/host_restart_test.cc. The
// fake counts calls and answers like a systemd job ("done"), or fails.
#include "mamori/daemon/unit_restarts.h"

#include <gtest/gtest.h>

#include "mamori/engine/check_state.h"

namespace mamori {
namespace {

using namespace std::chrono_literals;

class FakeRestarter final : public host::UnitRestarter {
 public:
  Result<std::string> Restart(const std::string& unit, MonoTime) override {
    units.push_back(unit);
    if (!error.empty()) return Error(error);
    return std::string("done");
  }
  std::vector<std::string> units;
  std::string error;
};

class UnitRestartsTest : public ::testing::Test {
 protected:
  UnitRestartsTest() {
    auto plan = std::make_shared<host::RestartPlan>();
    plan->unit = "crash.service";
    plan->limit = 2;
    plan->within = 10min;
    config_.name = "crash";
    config_.type = "systemd";
    config_.thresholds = {.failures_before_alert = 2, .successes_before_recovery = 2};
    config_.restart = plan;
  }

  // One result through the state machine, then the restart wiring (as the
  // daemon's OnResult does).
  void Result(CheckStatus s, const std::string& summary, bool maintenance = false) {
    Observation o = Observation::Make(s, summary);
    o.time = clock_.Now();
    state_.Apply(o);
    restarts_.OnResult(config_, state_.snapshot(), o, maintenance);
    clock_.Advance(1s);
  }

  FakeClock clock_;
  FakeRestarter fake_;
  CheckConfig config_;
  CheckState state_{
      "crash", "systemd", {.failures_before_alert = 2, .successes_before_recovery = 2}};
  std::vector<std::string> events_;
  std::vector<UnitRestarts::GiveUp> alerts_;
  std::vector<std::string> rechecks_;
  UnitRestarts restarts_{
      clock_, fake_,
      UnitRestarts::Hooks{[this](const std::string& check, const std::string& s) {
                            events_.push_back(check + ": " + s);
                          },
                          [this](const UnitRestarts::GiveUp& g) { alerts_.push_back(g); },
                          [](std::function<void()> work, std::function<void()> done) {
                            work();  // inline: the daemon runs it on its worker pool
                            done();
                          },
                          [this](const std::string& check) { rechecks_.push_back(check); }}};
};

TEST_F(UnitRestartsTest, RestartsLimitTimesRecordsEachThenAlertsOnce) {
  Result(CheckStatus::kCritical, "crash.service failed (exit-code)");
  EXPECT_TRUE(fake_.units.empty()) << "soft failure: nothing yet";
  Result(CheckStatus::kCritical, "crash.service failed (exit-code)");  // hard: restart 1
  ASSERT_EQ(fake_.units.size(), 1u);
  EXPECT_EQ(fake_.units[0], "crash.service");
  EXPECT_EQ(rechecks_.size(), 1u) << "re-run at once after a restart";
  for (int i = 0; i < 2; ++i) Result(CheckStatus::kCritical, "crash.service failed (exit-code)");
  EXPECT_EQ(fake_.units.size(), 2u);
  for (int i = 0; i < 10; ++i) Result(CheckStatus::kCritical, "crash.service failed (exit-code)");
  EXPECT_EQ(fake_.units.size(), 2u) << "never more than limit";
  ASSERT_EQ(alerts_.size(), 1u) << "one give-up alert, not one per cycle";
  const auto& g = alerts_[0];
  EXPECT_EQ(g.text,
            "gave up after 2 restarts in 10m: crash.service; last failure: crash.service failed "
            "(exit-code)");
  EXPECT_NE(g.details.find("restart 1/2 of crash.service at 2026-01-01 00:00:01 UTC: job done"),
            std::string::npos)
      << g.details;
  EXPECT_NE(g.details.find("restart 2/2 of crash.service at"), std::string::npos) << g.details;

  // Every restart is an event before and after; the give-up is one too.
  ASSERT_EQ(events_.size(), 5u) << ::testing::PrintToString(events_);
  EXPECT_EQ(events_[0],
            "crash: restart 1/2 of crash.service: starting (failing: crash.service failed "
            "(exit-code))");
  EXPECT_EQ(events_[1].rfind("crash: restart 1/2 of crash.service: job done in ", 0), 0u)
      << events_[1];
  EXPECT_EQ(events_[2].rfind("crash: restart 2/2 of crash.service: starting", 0), 0u);
  EXPECT_EQ(events_[4], "crash: " + g.text);
}

TEST_F(UnitRestartsTest, NothingDuringMaintenance) {
  for (int i = 0; i < 10; ++i) Result(CheckStatus::kCritical, "down", /*maintenance=*/true);
  EXPECT_TRUE(fake_.units.empty());
  EXPECT_TRUE(events_.empty());
  Result(CheckStatus::kCritical, "down");
  EXPECT_EQ(fake_.units.size(), 1u) << "the window ended, the unit is still down";
}

TEST_F(UnitRestartsTest, AFailedRestartCountsAndSaysWhy) {
  fake_.error = "RestartUnit crash.service: Unit crash.service not found.";
  for (int i = 0; i < 8; ++i) Result(CheckStatus::kCritical, "down");
  EXPECT_EQ(fake_.units.size(), 2u) << "a restart that cannot be made still counts";
  EXPECT_NE(events_[1].find("failed: RestartUnit crash.service: Unit crash.service not found."),
            std::string::npos)
      << events_[1];
  EXPECT_EQ(alerts_.size(), 1u);
}

TEST_F(UnitRestartsTest, RearmsAfterTheWindowWithTheCheckHealthy) {
  for (int i = 0; i < 8; ++i) Result(CheckStatus::kCritical, "down");
  ASSERT_EQ(alerts_.size(), 1u);
  for (int i = 0; i < 5; ++i) Result(CheckStatus::kOk, "up");
  clock_.Advance(10min);
  Result(CheckStatus::kOk, "up");
  for (int i = 0; i < 2; ++i) Result(CheckStatus::kCritical, "down again");
  EXPECT_EQ(fake_.units.size(), 3u) << "a new episode after a healthy window is restarted";
}

}  // namespace
}  // namespace mamori
