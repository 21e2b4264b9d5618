// SIGKILL of the real daemon (`mamori run`) while it writes: pings from
// several clients at once and a steady stream of observations from fast
// checks share the store's writer. The kill comes at a random moment; after a
// restart every ping that was answered 200 must be in the store, and the
// store must take writes again. heartbeat_test.cc's
// AcknowledgedPingsSurviveSigkill kills at a fixed count of one client's
// burst with nothing else writing; this one kills at random moments with
// observations, snapshots and pings of several checks in the same commits.
#include <signal.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "mamori/store/store.h"
#include "mamori/util/clock.h"
#include "testing/cli.h"
#include "testing/loopback_client.h"
#include "testing/ports.h"

namespace mamori {
namespace {

using namespace std::chrono_literals;
using testing::DaemonProcess;
using testing::TempDir;

constexpr int kWriters = 4;  // one heartbeat check each
constexpr int kLoadChecks = 100;

std::string Uuid(int writer) {
  return "7b2e4c1a-0d3f-4a5b-8c6d-00000000000" + std::to_string(writer);
}

class SigkillFaults : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = testing::PickFreePort();
    std::string yaml = "data_dir: " + dir_.path() +
                       "/data\nlisten: 127.0.0.1:" + std::to_string(port_) +
                       "\n"
                       // The writers are one client address sending as fast as
                       // they are answered.
                       "api: {rate_limit: 0}\n"
                       "defaults: {interval: 100ms, timeout: 100ms}\n"
                       "checks:\n";
    for (int w = 0; w < kWriters; ++w)
      yaml += "  - {name: job-" + std::to_string(w) + ", type: heartbeat, uuid: " + Uuid(w) +
              ", period: 1d, grace: 1h}\n";
    // ~1,000 observations a second from cheap checks on the worker pool.
    for (int i = 0; i < kLoadChecks; ++i)
      yaml += "  - {name: load-" + std::to_string(i) + ", type: load}\n";
    config_ = dir_.Write("mamori.yaml", yaml);
  }

  // Starts the daemon; fails the test unless it serves pings within 10 s.
  void Launch() {
    // A log per start: the line waited for must be this start's.
    daemon_ = std::make_unique<DaemonProcess>(
        std::vector<std::string>{"-c", config_},
        dir_.path() + "/daemon-" + std::to_string(starts_++) + ".log");
    ASSERT_TRUE(daemon_->WaitForLog("ping API listening", 10s)) << daemon_->Log();
  }

  size_t StoredObservations(Store& store) {
    size_t n = 0;
    for (int i = 0; i < kLoadChecks; ++i) {
      auto obs = store.Observations("load-" + std::to_string(i), WallTime{}, Store::kMaxReadRows);
      if (obs.ok()) n += obs->size();
    }
    return n;
  }

  TempDir dir_;
  std::string config_;
  int port_ = 0;
  int starts_ = 0;
  std::unique_ptr<DaemonProcess> daemon_;
};

TEST_F(SigkillFaults, EveryAcknowledgedPingSurvivesAKillAtARandomMoment) {
  const unsigned seed = std::random_device{}();
  std::cout << "seed " << seed << "\n";
  std::mt19937 rng(seed);
  // The moment, after the flood starts: the daemon is mid-commit at any of them.
  std::uniform_int_distribution<int> kill_after_ms(200, 1500);

  std::mutex mu;
  std::set<std::string> acknowledged[kWriters];
  size_t sent = 0;
  for (int round = 0; round < 3; ++round) {
    Launch();
    std::atomic<bool> stop{false}, killed{false};
    // Answers other than 200 (or none within 2 s) while the daemon lived.
    std::atomic<int> unanswered{0};
    std::vector<std::thread> writers;
    for (int w = 0; w < kWriters; ++w)
      writers.emplace_back([&, w] {
        for (int i = 0; !stop; ++i) {
          const std::string body =
              "r" + std::to_string(round) + "-w" + std::to_string(w) + "-" + std::to_string(i);
          const int status = testing::Request(port_, testing::PingRequest(Uuid(w), body), 2000ms);
          if (status != 200 && !killed) {
            std::lock_guard lock(mu);
            if (unanswered++ < 5) std::cout << "answered " << status << " before the kill\n";
          }
          std::lock_guard lock(mu);
          ++sent;
          if (status == 200) acknowledged[w].insert(body);
        }
      });
    const auto wait = std::chrono::milliseconds(kill_after_ms(rng));
    std::this_thread::sleep_for(wait);
    killed = true;  // before the signal: a failure seen earlier was the live daemon's
    daemon_->Signal(SIGKILL);
    // Requests in flight now fail (connection reset or refused): the writers
    // run on for a moment against the dead port, then stop.
    std::this_thread::sleep_for(100ms);
    stop = true;
    for (auto& t : writers) t.join();
    EXPECT_EQ(daemon_->Wait(5s), 128 + SIGKILL);
    EXPECT_EQ(unanswered.load(), 0) << "pings not answered 200 within 2 s before the kill";
    std::lock_guard lock(mu);
    size_t acked = 0;
    for (auto& a : acknowledged) acked += a.size();
    std::cout << "round " << round << ": killed after " << wait.count() << " ms; " << acked
              << " acknowledged so far\n";
  }

  // A fourth start: the store opens after three kills, recovers its WAL and
  // takes new observations and pings.
  Launch();
  ASSERT_EQ(testing::Request(port_, testing::PingRequest(Uuid(0), "after the kills"), 2000ms), 200)
      << daemon_->Log();
  SystemClock clock;
  auto observations = [&] {
    auto store = Store::Open(dir_.path() + "/data", clock, Store::OpenMode::kReadOnly);
    return store.ok() ? StoredObservations(**store) : 0;
  };
  const size_t observations_before = observations();
  EXPECT_GT(observations_before, 0u);
  EXPECT_TRUE(testing::Eventually([&] { return observations() > observations_before; }, 5s))
      << "no observations written after the restart";
  daemon_->Signal(SIGTERM);
  ASSERT_EQ(daemon_->Wait(), 0) << daemon_->Log();

  auto store = Store::Open(dir_.path() + "/data", clock, Store::OpenMode::kReadOnly);
  ASSERT_TRUE(store.ok()) << store.error().message();
  size_t acked = 0, lost = 0;
  for (int w = 0; w < kWriters; ++w) {
    auto pings = (*store)->Pings("job-" + std::to_string(w), Store::kMaxReadRows);
    ASSERT_TRUE(pings.ok()) << pings.error().message();
    std::set<std::string> stored;
    for (const auto& p : *pings) stored.insert(p.body);
    for (const auto& body : acknowledged[w]) {
      ++acked;
      if (!stored.count(body)) {
        ++lost;
        if (lost <= 10) ADD_FAILURE() << "acknowledged ping " << body << " is not in the store";
      }
    }
  }
  std::cout << "sent " << sent << ", acknowledged " << acked << ", lost " << lost << "\n";
  // Enough acknowledged to mean something, and kills that came mid-flood.
  EXPECT_GT(acked, 30u);
  EXPECT_LT(acked, sent);
  EXPECT_EQ(lost, 0u);
}

}  // namespace
}  // namespace mamori
