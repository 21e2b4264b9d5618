#include "mamori/daemon/pending_once.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace mamori {
namespace {

TEST(PendingOnce, OneClaimPerKeyUntilReleased) {
  PendingOnce p;
  EXPECT_TRUE(p.Claim("a"));
  EXPECT_FALSE(p.Claim("a"));
  EXPECT_TRUE(p.Claim("b"));  // keys are independent
  p.Release("a");
  EXPECT_TRUE(p.Claim("a"));  // work that started may be asked for again
  EXPECT_FALSE(p.Claim("b"));
}

TEST(PendingOnce, ConcurrentClaimsWinOnce) {
  PendingOnce p;
  std::atomic<int> wins{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 10'000; ++i)
        if (p.Claim("job")) wins.fetch_add(1);
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(wins.load(), 1);
}

}  // namespace
}  // namespace mamori
