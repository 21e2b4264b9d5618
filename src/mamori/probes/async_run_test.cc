#include "mamori/probes/async_run.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

namespace mamori::probes {
namespace {

using namespace std::chrono_literals;

TEST(AsyncRun, JudgeLatencyPrefixesTheWorstLimitPassed) {
  std::string s = "connected";
  EXPECT_EQ(JudgeLatency(100ms, 1s, 2s, s), CheckStatus::kOk);
  EXPECT_EQ(s, "connected");
  EXPECT_EQ(JudgeLatency(1500ms, 1s, 2s, s), CheckStatus::kWarning);
  EXPECT_EQ(s, "slow: 1.5s (warning above 1.0s); connected");
  s = "connected";
  EXPECT_EQ(JudgeLatency(3s, 1s, 2s, s), CheckStatus::kCritical);
  EXPECT_EQ(s, "slow: 3.0s (critical above 2.0s); connected");
  s = "connected";
  EXPECT_EQ(JudgeLatency(3s, std::nullopt, std::nullopt, s), CheckStatus::kOk);
}

// A run that only waits: the deadline ends it, once.
class WaitRun : public AsyncRun, public std::enable_shared_from_this<WaitRun> {
 public:
  using AsyncRun::AsyncRun;
  void Begin(SteadyTime deadline, Duration budget) {
    ArmDeadline(deadline, budget, [self = shared_from_this()] {
      self->Complete(Observation::Make(
          CheckStatus::kCritical, "timed out after " + std::to_string(self->budget().count())));
    });
  }
};

TEST(AsyncRun, DeadlineEndsTheRunOnceOnItsStrand) {
  boost::asio::io_context io;
  int calls = 0;
  Observation got;
  auto run = std::make_shared<WaitRun>(io, [&](Observation o) {
    ++calls;
    got = std::move(o);
  });
  const auto start = std::chrono::steady_clock::now();
  boost::asio::post(run->strand(),
                    [run] { run->Begin(std::chrono::steady_clock::now() + 50ms, 50ms); });
  run.reset();  // the pending handlers keep it alive
  io.run_for(5s);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(got.status, CheckStatus::kCritical);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 45ms);
}

}  // namespace
}  // namespace mamori::probes
