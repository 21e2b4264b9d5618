#include "mamori/engine/runner.h"

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <thread>

namespace mamori {
namespace {

using namespace std::chrono_literals;

// Test probes: the runner's contract is about probes that misbehave, which no
// real check type does on purpose, so these are hand-made.
class ImmediateProbe : public Probe {
 public:
  void Start(ProbeEnv&, MonoTime, ProbeDone done) override {
    done(Observation::Make(CheckStatus::kWarning, "inline answer"));
  }
};
class SilentProbe : public Probe {  // never answers
 public:
  void Start(ProbeEnv&, MonoTime, ProbeDone done) override { kept_ = std::move(done); }
  ProbeDone kept_;
};
class SleepyProbe : public BlockingProbe {  // blocks past its deadline, then answers
 public:
  Observation Run(const Clock&, MonoTime) override {
    std::this_thread::sleep_for(1500ms);
    return Observation::Make(CheckStatus::kOk, "too late");
  }
};

TEST(Runner, DeliversOnTheLoopWithTimeAndDuration) {
  SystemClock clock;
  boost::asio::io_context io;
  boost::asio::thread_pool pool(2);
  Runner runner(clock, io, pool, nullptr);
  std::optional<Observation> got;
  std::thread::id loop_thread = std::this_thread::get_id();
  WallTime before = clock.Now();
  runner.Run(std::make_shared<ImmediateProbe>(), 5s, [&](Observation o) {
    EXPECT_EQ(std::this_thread::get_id(), loop_thread);
    got = std::move(o);
  });
  EXPECT_FALSE(got) << "must not call back inside Run";
  io.run();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, CheckStatus::kWarning);
  EXPECT_GE(got->time, before);
  EXPECT_GE(got->duration.count(), 0);
  pool.join();
}

TEST(Runner, AProbeThatNeverAnswersIsReportedUnknownAfterItsTimeout) {
  SystemClock clock;
  boost::asio::io_context io;
  boost::asio::thread_pool pool(2);
  Runner runner(clock, io, pool, nullptr);
  auto probe = std::make_shared<SilentProbe>();
  std::optional<Observation> got;
  auto start = std::chrono::steady_clock::now();
  runner.Run(probe, 200ms, [&](Observation o) { got = std::move(o); });
  io.run();
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, CheckStatus::kUnknown);
  EXPECT_NE(got->summary.find("did not finish within its timeout (200ms)"), std::string::npos)
      << got->summary;
  EXPECT_GE(took, 200ms + Runner::kGrace);
  EXPECT_LT(took, 200ms + Runner::kGrace + 2s);
  pool.join();
  // The probe holds its callback, which holds the probe (the runner keeps a
  // probe alive while it runs); a real probe drops it when its next run
  // starts. Drop it here so the leak checker sees a clean exit.
  probe->kept_ = nullptr;
}

TEST(Runner, ALateAnswerIsDroppedNotDeliveredTwice) {
  SystemClock clock;
  boost::asio::io_context io;
  boost::asio::thread_pool pool(2);
  Runner runner(clock, io, pool, nullptr);
  int calls = 0;
  std::optional<Observation> got;
  runner.Run(std::make_shared<SleepyProbe>(), 100ms, [&](Observation o) {
    ++calls;
    got = std::move(o);
  });
  io.run();  // returns once the late answer's posted handler has also run
  pool.join();
  io.restart();
  io.run();
  EXPECT_EQ(calls, 1);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, CheckStatus::kUnknown);
}

}  // namespace
}  // namespace mamori
