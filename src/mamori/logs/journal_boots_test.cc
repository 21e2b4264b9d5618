// Boots in the journal: the id forms, the boot time from /proc/stat, and the
// honest "unknown" where a journal directory holds no such boot. Reading real
// boots (a clean poweroff and a hard stop) is in tests/host_boots_test.cc,
// which boots systemd in a container.
#include "mamori/logs/journal_boots.h"

#include <gtest/gtest.h>

#include <chrono>

#include "testing/cli.h"

namespace mamori::logs {
namespace {

TEST(JournalBoots, KernelBootIdsBecomeJournalIds) {
  EXPECT_EQ(JournalBootId("0b3e1a2c-9f7d-4e21-8c55-6a7b8c9d0e1f"),
            "0b3e1a2c9f7d4e218c556a7b8c9d0e1f");
  EXPECT_EQ(JournalBootId("0b3e1a2c9f7d4e218c556a7b8c9d0e1f"), "0b3e1a2c9f7d4e218c556a7b8c9d0e1f");
}

TEST(JournalBoots, TheBootStartIsTheKernelsBtime) {
  testing::TempDir dir;
  dir.Write("stat", "cpu  1 2 3 4\nintr 5\nbtime 1767225600\nprocesses 42\n");
  auto t = CurrentBootStart(dir.path());
  ASSERT_TRUE(t.ok()) << t.error().message();
  EXPECT_EQ(*t, WallTime(std::chrono::seconds(1767225600)));

  dir.Write("stat", "cpu  1 2 3 4\n");
  EXPECT_FALSE(CurrentBootStart(dir.path()).ok());

  auto real = CurrentBootStart();
  ASSERT_TRUE(real.ok()) << real.error().message();
  EXPECT_LT(*real, std::chrono::system_clock::now());
}

TEST(JournalBoots, AJournalWithoutThatBootIsUnknownNotAnError) {
  testing::TempDir dir;
  auto b = FindJournalBoot("0b3e1a2c-9f7d-4e21-8c55-6a7b8c9d0e1f", dir.path());
  ASSERT_TRUE(b.ok()) << b.error().message();
  EXPECT_FALSE(*b);
  auto before = JournalBootBefore(std::chrono::system_clock::now(), dir.path());
  ASSERT_TRUE(before.ok()) << before.error().message();
  EXPECT_FALSE(*before);
}

}  // namespace
}  // namespace mamori::logs
