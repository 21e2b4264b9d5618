// SIGTERM of the real daemon (`mamori run`) while clients ping as fast as
// they are answered, at a random moment, ten times. At shutdown the daemon
// refuses pings (503) and commits what its store holds before the API server
// goes, so: every ping answered 200 is in the store once the process has
// exited; once a client was refused, it is never told 200 again; the process
// exits 0, soon. sigkill_faults_test.cc is the same flood ended by SIGKILL.
#include <signal.h>
#include <unistd.h>

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
constexpr int kRounds = 10;

std::string Uuid(int writer) {
  return "5c9d2e7f-3a4b-4c5d-9e6f-00000000000" + std::to_string(writer);
}

// What one writer saw in one round.
struct Seen {
  std::set<std::string> acknowledged;  // bodies answered 200
  int refused = 0;                     // 503 "shutting down; retry"
  int failed = 0;                      // anything else (no answer, another 503)
  int acknowledged_after_refusal = 0;  // 200s after this writer's first 503
};

TEST(SigtermFaults, AcknowledgedPingsAreStoredAndRefusalsAreFinal) {
  TempDir dir;
  const int port = testing::PickFreePort();
  std::string yaml = "data_dir: " + dir.path() +
                     "/data\nlisten: 127.0.0.1:" + std::to_string(port) +
                     "\napi: {rate_limit: 0}\n"
                     "defaults: {interval: 100ms, timeout: 100ms}\n"
                     "checks:\n";
  for (int w = 0; w < kWriters; ++w)
    yaml += "  - {name: job-" + std::to_string(w) + ", type: heartbeat, uuid: " + Uuid(w) +
            ", period: 1d, grace: 1h}\n";
  const std::string config = dir.Write("mamori.yaml", yaml);
  const unsigned seed = std::random_device{}();
  std::cout << "seed " << seed << "\n";
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> stop_after_ms(20, 300);

  Seen total[kWriters];
  int refused = 0, failed = 0;
  // Ten rounds, and more (up to thirty) until one reached the window where
  // pings are refused: it is a few milliseconds wide.
  for (int round = 0; round < kRounds || (refused == 0 && round < 3 * kRounds); ++round) {
    DaemonProcess daemon({"-c", config}, dir.path() + "/daemon-" + std::to_string(round) + ".log");
    ASSERT_TRUE(daemon.WaitForLog("ping API listening", 10s)) << daemon.Log();
    std::atomic<bool> stop{false}, signalled{false};
    std::atomic<int> early{0};  // not answered 200 before the signal
    Seen seen[kWriters];
    std::vector<std::thread> writers;
    for (int w = 0; w < kWriters; ++w)
      writers.emplace_back([&, w] {
        for (int i = 0; !stop; ++i) {
          const std::string body =
              "r" + std::to_string(round) + "-w" + std::to_string(w) + "-" + std::to_string(i);
          // The whole answer (Connection: close): a refusal is the stop's
          // own 503, not a handler deadline's or a failed commit's.
          testing::Exchange answer;
          if (int fd = testing::OpenFrom("127.0.0.1", port); fd >= 0) {
            answer = testing::SendAndRead(fd, testing::PingRequest(Uuid(w), body), 2000ms);
            ::close(fd);
          }
          const int status = answer.status();
          Seen& s = seen[w];
          if (status != 200 && !signalled) ++early;
          if (status == 200) {
            s.acknowledged.insert(body);
            if (s.refused > 0) ++s.acknowledged_after_refusal;
          } else if (status == 503 &&
                     answer.response.find("shutting down; retry") != std::string::npos) {
            ++s.refused;
          } else {
            ++s.failed;
          }
        }
      });
    const auto wait = std::chrono::milliseconds(stop_after_ms(rng));
    std::this_thread::sleep_for(wait);
    const auto start = std::chrono::steady_clock::now();
    signalled = true;  // before the signal: a failure seen earlier was the live daemon's
    daemon.Signal(SIGTERM);
    const int code = daemon.Wait(5s);
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    stop = true;
    for (auto& t : writers) t.join();
    EXPECT_EQ(code, 0) << "round " << round << "\n" << daemon.Log();
    EXPECT_LT(took, 5s) << "round " << round;
    EXPECT_EQ(early, 0) << "round " << round << ": pings not answered 200 before the SIGTERM";
    int round_refused = 0, round_failed = 0;
    for (int w = 0; w < kWriters; ++w) {
      EXPECT_EQ(seen[w].acknowledged_after_refusal, 0) << "round " << round << ", writer " << w;
      total[w].acknowledged.insert(seen[w].acknowledged.begin(), seen[w].acknowledged.end());
      round_refused += seen[w].refused;
      round_failed += seen[w].failed;
    }
    refused += round_refused;
    failed += round_failed;
    std::cout << "round " << round << ": SIGTERM after " << wait.count() << " ms, exit in "
              << took.count() << " ms, " << round_refused << " refused, " << round_failed
              << " unanswered\n";
  }

  SystemClock clock;
  auto store = Store::Open(dir.path() + "/data", clock, Store::OpenMode::kReadOnly);
  ASSERT_TRUE(store.ok()) << store.error().message();
  size_t acked = 0, lost = 0;
  for (int w = 0; w < kWriters; ++w) {
    auto pings = (*store)->Pings("job-" + std::to_string(w), Store::kMaxReadRows);
    ASSERT_TRUE(pings.ok()) << pings.error().message();
    std::set<std::string> stored;
    for (const auto& p : *pings) stored.insert(p.body);
    for (const auto& body : total[w].acknowledged) {
      ++acked;
      if (!stored.count(body) && ++lost <= 10)
        ADD_FAILURE() << "ping " << body << " was answered 200 and is not in the store";
    }
  }
  std::cout << "acknowledged " << acked << ", lost " << lost << ", refused " << refused
            << ", unanswered " << failed << "\n";
  EXPECT_GT(acked, 100u);
  EXPECT_EQ(lost, 0u);
  // Pings came between the refusal and the server's end in some round: the
  // window was reached (without the refusal, nothing is ever answered 503).
  EXPECT_GT(refused, 0) << "no ping was refused: the shutdown window was never reached";
}

}  // namespace
}  // namespace mamori
