#include "mamori/backup/history.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace mamori::backup {
namespace {

using namespace std::chrono_literals;

class BackupHistoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("mamori-history-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static ArtifactRecord Rec(const std::string& check, const std::string& path, uint64_t size,
                            int64_t mtime_s, CheckStatus verdict, WallTime seen) {
    ArtifactRecord r;
    r.check = check;
    r.key = {path, size, mtime_s * 1'000'000'000};
    r.first_seen = r.last_seen = seen;
    r.verdict = verdict;
    r.format = "pg_dump-custom";
    r.summary = "ok";
    return r;
  }

  std::filesystem::path dir_;
};

TEST_F(BackupHistoryTest, PutFindListRoundTrip) {
  auto h = History::Open(dir_.string(), History::Mode::kReadWrite);
  ASSERT_TRUE(h.ok()) << h.error().message();
  EXPECT_EQ((*h)->path(), (dir_ / "backups.db").string());
  const WallTime now = FromUnixMillis(1'800'000'000'000);
  auto a = Rec("db", "/b/a.dump", 1000, 1'799'990'000, CheckStatus::kOk, now);
  a.sha256 = std::string(64, 'a');
  a.restore_duration = 48'250ms;
  a.restore_status = CheckStatus::kOk;
  a.restore_summary = "users 10234 rows";
  ASSERT_TRUE((*h)->Put(a).ok());
  ASSERT_TRUE(
      (*h)->Put(Rec("db", "/b/b.dump", 61, 1'799'995'000, CheckStatus::kCritical, now)).ok());
  ASSERT_TRUE((*h)->Put(Rec("other", "/x", 5, 1, CheckStatus::kOk, now)).ok());

  auto found = (*h)->Find("db", a.key);
  ASSERT_TRUE(found.ok());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->sha256, a.sha256);
  EXPECT_EQ((*found)->restore_duration, Duration(48'250ms));
  EXPECT_EQ((*found)->restore_status, CheckStatus::kOk);
  EXPECT_EQ((*found)->restore_summary, "users 10234 rows");
  EXPECT_EQ((*found)->mtime(), WallTime(std::chrono::seconds(1'799'990'000)));
  // Same path, different size: another artifact.
  auto other = (*h)->Find("db", {"/b/a.dump", 999, a.key.mtime_ns});
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->has_value());

  auto list = (*h)->List("db");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].key.path, "/b/b.dump");  // newest first
  EXPECT_EQ((*list)[0].verdict, CheckStatus::kCritical);
  EXPECT_EQ((*list)[1].key.path, "/b/a.dump");
  auto checks = (*h)->Checks();
  ASSERT_TRUE(checks.ok());
  EXPECT_EQ(*checks, (std::vector<std::string>{"db", "other"}));
}

TEST_F(BackupHistoryTest, SyncMarksVanishedArtifactsAndTrims) {
  auto h = History::Open(dir_.string(), History::Mode::kReadWrite, /*keep_per_check=*/3);
  ASSERT_TRUE(h.ok()) << h.error().message();
  WallTime t0 = FromUnixMillis(1'800'000'000'000);
  std::vector<ArtifactKey> keys;
  for (int i = 0; i < 3; ++i) {
    auto r = Rec("db", "/b/" + std::to_string(i), 100, 1000 + i, CheckStatus::kOk, t0);
    keys.push_back(r.key);
    ASSERT_TRUE((*h)->Put(r).ok());
  }
  ASSERT_TRUE((*h)->Sync("db", keys, t0).ok());
  // A cleanup deleted all but the newest.
  const WallTime t1 = t0 + 1h;
  ASSERT_TRUE((*h)->Sync("db", {keys[2]}, t1).ok());
  auto list = (*h)->List("db");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 3u);
  EXPECT_FALSE((*list)[0].gone.has_value());
  EXPECT_EQ((*list)[0].last_seen, t1);
  ASSERT_TRUE((*list)[1].gone.has_value());
  EXPECT_EQ(*(*list)[1].gone, t1);
  EXPECT_EQ((*list)[2].last_seen, t0);

  // A fourth artifact pushes the oldest out (keep 3).
  auto r = Rec("db", "/b/3", 100, 2000, CheckStatus::kOk, t1 + 1h);
  ASSERT_TRUE((*h)->Put(r).ok());
  ASSERT_TRUE((*h)->Sync("db", {keys[2], r.key}, t1 + 1h).ok());
  list = (*h)->List("db");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ(list->back().key.path, "/b/1");
}

TEST_F(BackupHistoryTest, ReadOnlyNeedsAnExistingFileAndRejectsGarbage) {
  auto missing = History::Open(dir_.string(), History::Mode::kReadOnly);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("does not exist"), std::string::npos);
  std::filesystem::create_directories(dir_);
  std::ofstream(dir_ / "backups.db") << "this is not a database, just some text long enough";
  auto garbage = History::Open(dir_.string(), History::Mode::kReadOnly);
  ASSERT_FALSE(garbage.ok());
  EXPECT_NE(garbage.error().message().find("backups.db"), std::string::npos);
}

}  // namespace
}  // namespace mamori::backup
