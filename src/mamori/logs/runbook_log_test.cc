#include "mamori/logs/runbook_log.h"

#include <gtest/gtest.h>

#include "testing/cli.h"

namespace mamori::logs {
namespace {

TEST(RunbookLogTest, RecordsAttemptsAndReadsThemBackAcrossOpens) {
  testing::TempDir dir;
  std::string dd = dir.path() + "/data";
  {
    auto missing = RunbookLog::Open(dd, /*create=*/false);
    ASSERT_TRUE(missing.ok());
    auto none = (*missing)->Attempts();
    ASSERT_TRUE(none.ok());
    EXPECT_TRUE(none->empty());
  }
  {
    auto log = RunbookLog::Open(dd, true);
    ASSERT_TRUE(log.ok()) << log.error().message();
    ASSERT_TRUE(
        (*log)->Record({"mariadb.innodb-page-corrupted", 1, true, "", FromUnixMillis(1000)}).ok());
    ASSERT_TRUE((*log)
                    ->Record({"mariadb.innodb-page-corrupted", 3, false, "still crashes",
                              FromUnixMillis(2000)})
                    .ok());
    ASSERT_TRUE(
        (*log)->Record({"apache.modpython-mutex", 1, false, "", FromUnixMillis(3000)}).ok());
    ASSERT_TRUE((*log)
                    ->Record({"mariadb.innodb-page-corrupted", 3, true, "level 4 worked",
                              FromUnixMillis(4000)})
                    .ok());
  }
  auto log = RunbookLog::Open(dd, false);
  ASSERT_TRUE(log.ok());
  auto all = (*log)->Attempts("mariadb.innodb-page-corrupted");
  ASSERT_TRUE(all.ok()) << all.error().message();
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[1].note, "still crashes");
  EXPECT_FALSE((*all)[1].ok);
  const StepAttempt* latest = LatestAttempt(*all, "mariadb.innodb-page-corrupted", 3);
  ASSERT_NE(latest, nullptr);
  EXPECT_TRUE(latest->ok);
  EXPECT_EQ(latest->time, FromUnixMillis(4000));
  EXPECT_EQ(LatestAttempt(*all, "mariadb.innodb-page-corrupted", 2), nullptr);
  EXPECT_EQ((*log)->Attempts()->size(), 4u);
  EXPECT_FALSE((*log)->Record({"x", 1, true, "", FromUnixMillis(0)}).ok());
}

}  // namespace
}  // namespace mamori::logs
