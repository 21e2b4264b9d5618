#include "mamori/engine/scheduler.h"

#include <gtest/gtest.h>
#include <algorithm>
#include <map>
#include <set>

namespace mamori {
namespace {

using namespace std::chrono_literals;

TEST(Scheduler, OffsetIsStableAndWithinTheInterval) {
  // Pinned: a check's phase must survive restarts and upgrades, so the hash
  // (FNV-1a and its finaliser) may never change. These values were computed
  // independently of this code.
  EXPECT_EQ(StableOffset("blog", 60s), Duration(20'949'136'386));
  EXPECT_EQ(StableOffset("blog2", 60s), Duration(36'927'993'331));
  EXPECT_EQ(StableOffset("web-1", 60s), Duration(59'667'715'840));
  EXPECT_EQ(StableOffset("web-2", 60s), Duration(5'778'138'707));
  EXPECT_EQ(StableOffset("", 60s), Duration(38'889'640'531));
  EXPECT_EQ(StableOffset("blog", 1h), Duration(1'220'949'136'386));
  EXPECT_EQ(StableOffset("blog", Duration(0)), Duration(0));
  for (int i = 0; i < 1000; ++i) {
    Duration d = StableOffset("check-" + std::to_string(i), 1s);
    EXPECT_GE(d.count(), 0);
    EXPECT_LT(d, Duration(1s));
  }
}

// Reset with `n` checks named prefix0... sharing `interval`, then fired over
// `span`, one millisecond at a time: the number of checks started at each
// millisecond that started any.
std::map<int64_t, int> FireOver(int n, const std::string& prefix, Duration interval,
                                std::chrono::milliseconds span) {
  FakeClock clock;
  Scheduler s;
  std::vector<Scheduler::Slot> slots;
  for (int i = 0; i < n; ++i) slots.push_back({prefix + std::to_string(i), interval});
  s.Reset(slots, clock.Now(), clock.Monotonic());
  std::map<int64_t, int> per_ms;
  for (int64_t ms = 0; ms < span.count(); ++ms) {
    auto due = s.PopDue(clock.Monotonic());
    if (!due.empty()) per_ms[ms] = static_cast<int>(due.size());
    clock.Advance(1ms);
  }
  return per_ms;
}

TEST(Scheduler, BatchesDoubleOnlyWhenASlotWouldHoldMoreThanAFewDozen) {
  EXPECT_EQ(BatchesFor(0), kMinBatches);
  EXPECT_EQ(BatchesFor(50), 4u);
  EXPECT_EQ(BatchesFor(256), 4u);
  EXPECT_EQ(BatchesFor(257), 8u);
  EXPECT_EQ(BatchesFor(1000), 16u);
  EXPECT_EQ(BatchesFor(10'000), 256u);
  // A phase is the start of its slot (the offset rounded down) plus the
  // grid's shift, the same for every check of the interval and less than a
  // slot: blog (offset 20.9 s) and web-2 (5.8 s) fall 15 s apart, web-1
  // (59.7 s) in the last slot.
  const Duration blog = BatchPhase("blog", 60s, 4), web2 = BatchPhase("web-2", 60s, 4);
  EXPECT_EQ(blog - web2, Duration(15s));
  EXPECT_GE(web2, Duration(0));
  EXPECT_LT(web2, Duration(15s));
  EXPECT_EQ(BatchPhase("web-1", 60s, 4) - web2, Duration(45s));
  EXPECT_EQ(BatchPhase("blog", Duration(0), 4), Duration(0));
}

// Two intervals, or two hosts (the seed), do not share the batches' instants.
TEST(Scheduler, EachIntervalAndEachHostHasItsOwnGrid) {
  const Duration a60 = BatchPhase("web-2", 60s, 4, "host-a") % Duration(15s);
  const Duration b60 = BatchPhase("web-2", 60s, 4, "host-b") % Duration(15s);
  const Duration a10 = BatchPhase("web-2", 10s, 4, "host-a") % Duration(2500ms);
  EXPECT_NE(a60, b60);
  EXPECT_NE(a60 % Duration(2500ms), a10);
  // Stable: the same host gets the same instants after a restart.
  EXPECT_EQ(BatchPhase("web-2", 60s, 4, "host-a"), BatchPhase("web-2", 60s, 4, "host-a"));
}

// Probes on the worker pool keep their own spread phase: 50 of them every
// second start at (nearly) 50 instants, while 50 network checks start at 4.
TEST(Scheduler, ChecksOnTheWorkerPoolAreNotBatched) {
  FakeClock clock;
  Scheduler s;
  std::vector<Scheduler::Slot> slots;
  for (int i = 0; i < 50; ++i) slots.push_back({"disk-" + std::to_string(i), 1s, false});
  for (int i = 0; i < 50; ++i) slots.push_back({"web-" + std::to_string(i), 1s, true});
  s.Reset(slots, clock.Now(), clock.Monotonic(), "host");
  std::set<int64_t> pool_ms, batched_ms;
  for (int64_t ms = 0; ms < 1000; ++ms) {
    for (const auto& due : s.PopDue(clock.Monotonic()))
      (due.index < 50 ? pool_ms : batched_ms).insert(ms);
    clock.Advance(1ms);
  }
  EXPECT_GE(pool_ms.size(), 45u);
  EXPECT_LE(batched_ms.size(), 4u);
}

// 50 http checks every second, as the footprint benchmark runs them: four
// wake-ups a second, not fifty, and every check still once a second.
TEST(Scheduler, FiftyChecksASecondStartInFourBatches) {
  auto per_ms = FireOver(50, "c", 1s, 3000ms);
  int fired = 0;
  for (auto& [ms, n] : per_ms) fired += n;
  EXPECT_EQ(fired, 150);  // each exactly once a second
  EXPECT_LE(per_ms.size(), 12u) << "more than four wake-ups a second";
  // The batches are a slot apart: their starts differ by multiples of 250 ms.
  for (auto& [ms, n] : per_ms) EXPECT_EQ((ms - per_ms.begin()->first) % 250, 0) << ms;
}

TEST(Scheduler, ThousandChecksWithOneIntervalStartInBatchesSpreadOverIt) {
  auto per_ms = FireOver(1000, "web-", 60s, 60'000ms);
  int fired = 0, worst = 0;
  for (auto& [ms, n] : per_ms) {
    fired += n;
    worst = std::max(worst, n);
  }
  EXPECT_EQ(fired, 1000);         // each exactly once in the first minute
  EXPECT_EQ(per_ms.size(), 16u);  // 1000 checks: 16 batches of about 62
  // Not one burst: no batch holds much more than its share.
  EXPECT_LE(worst, 2 * static_cast<int>(kChecksPerBatch)) << "checks bunch up";
  // And the batches cover the whole minute, not a corner of it.
  EXPECT_LT(per_ms.begin()->first, 3750);
  EXPECT_GE(per_ms.rbegin()->first, 60'000 - 3750);
}

TEST(Scheduler, RunsAtTheIntervalAndKeepsPhaseAcrossRestarts) {
  FakeClock clock;
  Scheduler a;
  a.Reset({{"db", 10s}}, clock.Now(), clock.Monotonic());
  MonoTime first = *a.NextDue();
  ASSERT_LT(first - clock.Monotonic(), Duration(10s));
  clock.Advance(first - clock.Monotonic());
  ASSERT_EQ(a.PopDue(clock.Monotonic()).size(), 1u);
  EXPECT_EQ(*a.NextDue() - first, Duration(10s));
  // A restart 3.5 s later keeps the same phase against wall time.
  clock.Advance(3500ms);
  Scheduler b;
  b.Reset({{"db", 10s}}, clock.Now(), clock.Monotonic());
  EXPECT_EQ(*b.NextDue(), *a.NextDue());
}

TEST(Scheduler, SkipsMissedSlotsInsteadOfBursting) {
  FakeClock clock;
  Scheduler s;
  s.Reset({{"x", 1s}}, clock.Now(), clock.Monotonic());
  clock.Advance(10s + 500ms);  // e.g. the machine was suspended
  auto due = s.PopDue(clock.Monotonic());
  EXPECT_EQ(due.size(), 1u);
  EXPECT_TRUE(s.PopDue(clock.Monotonic()).empty());
  EXPECT_GT(*s.NextDue(), clock.Monotonic());
  EXPECT_LE(*s.NextDue() - clock.Monotonic(), Duration(1s));
}

TEST(Scheduler, RunAtOverridesOnceThenPhaseResumes) {
  FakeClock clock;
  Scheduler s;
  s.Reset({{"x", 60s}}, clock.Now(), clock.Monotonic());
  MonoTime regular = *s.NextDue();
  s.RunAt(0, clock.Monotonic());
  auto due = s.PopDue(clock.Monotonic());
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].index, 0u);
  // The next regular run is still on phase.
  MonoTime next = *s.NextDue();
  EXPECT_EQ((next - regular).count() % Duration(60s).count(), 0);
}

// RunBy moves the next run earlier, never later.
TEST(Scheduler, RunByOnlyBringsTheNextRunForward) {
  FakeClock clock;
  Scheduler s;
  s.Reset({{"x", 60s}}, clock.Now(), clock.Monotonic());
  const MonoTime regular = *s.NextDue();
  s.RunBy(0, regular + 5s);  // later than the regular run: no change
  EXPECT_EQ(*s.NextDue(), regular);
  const MonoTime sooner = clock.Monotonic() + (regular - clock.Monotonic()) / 2;
  s.RunBy(0, sooner);
  EXPECT_EQ(*s.NextDue(), sooner);
  EXPECT_EQ(s.PopDue(sooner).size(), 1u);
}

}  // namespace
}  // namespace mamori
