#include "mamori/backup/restore.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace mamori::backup {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class RestoreShapeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("mamori-restore-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return dir_ / name;
  }
  // Compresses with the real tools, as a backup job would.
  fs::path Compress(const fs::path& p, const std::string& tool) {
    EXPECT_EQ(std::system((tool + " -q -f " + p.string()).c_str()), 0);
    return p.string() + (tool == "gzip" ? ".gz" : ".zst");
  }
  Result<std::optional<std::string>> Switch(const fs::path& p, SqlTarget::Kind k) {
    auto shape = SniffDump(p);
    EXPECT_TRUE(shape.ok());
    return FindDatabaseSwitch(p, *shape, k, clock_.Monotonic() + 10s, clock_);
  }
  fs::path dir_;
  SystemClock clock_;
};

TEST_F(RestoreShapeTest, CompressedPlainDumpsAreScannedForDatabaseSwitches) {
  auto pg =
      Write("pg.sql", "SET x = 1;\nCOPY t (a) FROM stdin;\nuse the force\n\\.\n\\connect shop\n");
  auto gz = Compress(pg, "gzip");
  auto shape = SniffDump(gz);
  ASSERT_TRUE(shape.ok());
  EXPECT_EQ(shape->compression, DumpShape::Compression::kGzip);
  EXPECT_FALSE(shape->pg_archive);
  auto s = Switch(gz, SqlTarget::Kind::kPostgres);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->value_or(""), "\\connect shop");  // "use the force" is COPY data

  auto my = Write("my.sql", "INSERT INTO t VALUES (1);\nUSE `shop`;\n");
  auto zst = Compress(my, "zstd");
  auto m = Switch(zst, SqlTarget::Kind::kMariadb);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->value_or(""), "USE `shop`;");
  auto clean = Write("clean.sql", "CREATE TABLE t (a int);\nINSERT INTO t VALUES (1);\n");
  auto c = Switch(clean, SqlTarget::Kind::kMariadb);
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->has_value());
}

TEST_F(RestoreShapeTest, CommandRestoreReportsExitAndDuration) {
  auto art = Write("a.dump", "x");
  RestoreSpec spec;
  spec.kind = RestoreSpec::Kind::kCommand;
  spec.command = {"sh", "-c", "test -f \"$MAMORI_ARTIFACT\" && echo restored"};
  auto ok = RunRestore(spec, art, clock_.Monotonic() + 10s, clock_);
  EXPECT_EQ(ok.status, CheckStatus::kOk) << ok.summary;
  EXPECT_TRUE(ok.restored);
  spec.command = {"sh", "-c", "echo 'ERROR: relation users does not exist'; exit 3"};
  auto bad = RunRestore(spec, art, clock_.Monotonic() + 10s, clock_);
  EXPECT_EQ(bad.status, CheckStatus::kCritical);
  EXPECT_NE(bad.summary.find("exit 3"), std::string::npos) << bad.summary;
  EXPECT_NE(bad.summary.find("relation users does not exist"), std::string::npos) << bad.summary;
}

}  // namespace
}  // namespace mamori::backup
