// The boot record in the data directory: a new boot_id is a new boot (with
// the previous boot's last-seen time), the same one is not, the first start
// of all is not, and the record is replaced whole.
#include "mamori/daemon/boot_record.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "testing/cli.h"

namespace mamori {
namespace {

using namespace std::chrono_literals;

TEST(BootRecord, ANewBootIdIsANewBootWithThePreviousLastSeenTime) {
  testing::TempDir dir;
  const WallTime t0 = WallTime(std::chrono::seconds(1767225600));  // 2026-01-01 00:00:00 UTC
  auto first = NoteBoot(dir.path(), "aaaaaaaa-1111", t0);
  ASSERT_TRUE(first.ok()) << first.error().message();
  EXPECT_FALSE(*first) << "no record yet: the first start is not a boot event";

  ASSERT_TRUE(TouchBoot(dir.path(), "aaaaaaaa-1111", t0 + 90s).ok());
  auto same = NoteBoot(dir.path(), "aaaaaaaa-1111", t0 + 2min);
  ASSERT_TRUE(same.ok());
  EXPECT_FALSE(*same) << "a restart on the same boot";
  ASSERT_TRUE(TouchBoot(dir.path(), "aaaaaaaa-1111", t0 + 5min).ok());

  auto next = NoteBoot(dir.path(), "bbbbbbbb-2222", t0 + 1h);
  ASSERT_TRUE(next.ok());
  ASSERT_TRUE(*next);
  EXPECT_EQ((*next)->boot_id, "aaaaaaaa-1111");
  EXPECT_EQ((*next)->last_seen, t0 + 5min);
  Event e = BootEvent(**next, "bbbbbbbb-2222", t0 + 1h);
  EXPECT_EQ(e.check, kHostEventCheck);
  EXPECT_EQ(e.time, t0 + 1h);
  EXPECT_EQ(e.summary,
            "booted (boot bbbbbbbb); previous boot aaaaaaaa last seen at 2026-01-01 00:05:00 UTC, "
            "ended without a clean shutdown (power cut, crash or reset?): mamori was still "
            "running");

  // The record now names the new boot.
  auto again = NoteBoot(dir.path(), "bbbbbbbb-2222", t0 + 2h);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/boot.tmp"));
}

TEST(BootRecord, ACleanStopIsRememberedUntilTheDaemonRunsAgain) {
  testing::TempDir dir;
  const WallTime t0 = WallTime(std::chrono::seconds(1767225600));
  ASSERT_TRUE(NoteBoot(dir.path(), "aaaa", t0).ok());
  ASSERT_TRUE(MarkCleanStop(dir.path(), "aaaa", t0 + 1min).ok());
  auto next = NoteBoot(dir.path(), "bbbb", t0 + 1h);
  ASSERT_TRUE(next.ok() && *next);
  EXPECT_TRUE((*next)->stopped_cleanly);
  EXPECT_EQ((*next)->last_seen, t0 + 1min);
  // Running again on that boot: the mark is gone until the next clean stop.
  ASSERT_TRUE(TouchBoot(dir.path(), "bbbb", t0 + 2h).ok());
  auto cut = NoteBoot(dir.path(), "cccc", t0 + 3h);
  ASSERT_TRUE(cut.ok() && *cut);
  EXPECT_FALSE((*cut)->stopped_cleanly);
}

TEST(BootRecord, TheJournalsWordOnTheShutdownComesFirst) {
  PreviousBoot p;
  p.stopped_cleanly = false;
  EXPECT_EQ(DescribeShutdown(p),
            "ended without a clean shutdown (power cut, crash or reset?): mamori was still "
            "running");
  p.stopped_cleanly = true;
  EXPECT_EQ(DescribeShutdown(p),
            "mamori was stopped before it ended (a clean shutdown, or mamori was stopped)");
  p.journal_shutdown = false;  // mamori was stopped, but the system never shut down
  EXPECT_EQ(DescribeShutdown(p), "ended without a clean shutdown (power cut, crash or reset?)");
  p.journal_shutdown = true;
  EXPECT_EQ(DescribeShutdown(p), "shut down cleanly");
}

TEST(BootRecord, AnUnreadableRecordIsNotABootAndIsReplaced) {
  testing::TempDir dir;
  dir.Write("boot", "garbage");
  auto r = NoteBoot(dir.path(), "cccc", WallTime(std::chrono::seconds(100)));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(*r);
  std::ifstream in(dir.path() + "/boot");
  std::string id;
  int64_t t = 0;
  in >> id >> t;
  EXPECT_EQ(id, "cccc");
  EXPECT_EQ(t, 100);
}

TEST(BootRecord, AnUnwritableDataDirIsAnError) {
  auto r = NoteBoot("/nonexistent-mamori-dir", "x", WallTime{});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("cannot write /nonexistent-mamori-dir/boot"),
            std::string::npos)
      << r.error().message();
}

TEST(BootRecord, ReadsTheKernelsBootId) {
  auto id = ReadBootId();
  ASSERT_TRUE(id.ok()) << id.error().message();
  EXPECT_EQ(id->size(), 36u) << *id;  // a UUID
  EXPECT_EQ(*ReadBootId(), *id) << "stable within one boot";
  EXPECT_FALSE(ReadBootId("/nonexistent").ok());
}

}  // namespace
}  // namespace mamori
