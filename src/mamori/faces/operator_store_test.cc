// OperatorStore's window ends, on a fake clock: what the daemon is handed
// for the after-maintenance run, and when it has to look again.
#include "mamori/faces/operator_store.h"

#include <gtest/gtest.h>

#include "testing/cli.h"

namespace mamori::faces {
namespace {

using namespace std::chrono_literals;

OperatorWindow Window(WindowKind kind, WallTime start, WallTime end) {
  OperatorWindow w;
  w.kind = kind;
  w.start = start;
  w.end = end;
  w.reason = "test";
  return w;
}

TEST(OperatorStoreEnds, MaintenanceEndsAreHandedOverOnceAndSilencesNever) {
  testing::TempDir dir;
  FakeClock clock;
  auto ops = OperatorStore::Open(dir.path(), clock);
  ASSERT_TRUE(ops.ok()) << ops.error().message();
  OperatorStore& s = **ops;
  const WallTime t0 = clock.Now();
  auto natural = s.AddWindow(Window(WindowKind::kMaintenance, t0, t0 + 10min));
  auto cut = s.AddWindow(Window(WindowKind::kMaintenance, t0, t0 + 1h));
  auto later = s.AddWindow(Window(WindowKind::kMaintenance, t0 + 2h, t0 + 3h));
  auto silence = s.AddWindow(Window(WindowKind::kSilence, t0, t0 + 5min));
  ASSERT_TRUE(natural.ok() && cut.ok() && later.ok() && silence.ok());
  EXPECT_EQ(s.NextTransition(), t0 + 5min);
  EXPECT_TRUE(s.TakeEnded().empty());

  clock.Advance(6min);  // the silence is over: nothing to hand over
  EXPECT_TRUE(s.TakeEnded().empty());
  EXPECT_EQ(s.NextTransition(), t0 + 10min);

  ASSERT_TRUE(s.EndWindow(WindowKind::kMaintenance, cut->id).ok());
  ASSERT_TRUE(s.EndWindow(WindowKind::kMaintenance, later->id).ok());  // never began
  auto ended = s.TakeEnded();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].id, cut->id);
  EXPECT_EQ(ended[0].end, t0 + 6min);  // cut short: ends when it was cut

  clock.Advance(5min);
  // Over, but until the daemon takes it over it still holds its checks.
  EXPECT_TRUE(s.Holding("web", {}, clock.Now()).has_value());
  ended = s.TakeEnded();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].id, natural->id);
  EXPECT_TRUE(s.TakeEnded().empty());  // once
  EXPECT_EQ(s.NextTransition(), std::nullopt);
  EXPECT_FALSE(s.Holding("web", {}, clock.Now()).has_value());
}

}  // namespace
}  // namespace mamori::faces
