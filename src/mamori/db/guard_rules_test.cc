// The guard's judgment on command lines, with data directories given.
#include "mamori/db/guard_rules.h"

#include <gtest/gtest.h>

namespace mamori::db {
namespace {

const std::vector<DataDir> kDirs = {
    {"/var/lib/postgresql/15/main", Engine::kPostgres, 10, "/run/postgresql", 5432},
    {"/var/lib/mysql", Engine::kMariadb, 0, "", 0}};

GuardVerdict Classify(std::vector<std::string> argv) {
  return ClassifyCommand(argv, kDirs, [](const std::string& p) { return NormalPath(p, "/srv"); });
}

TEST(GuardRules, RemovingOrMovingADataDirectoryIsDestructive) {
  auto v = Classify({"rm", "-rf", "/var/lib/postgresql/15/main"});
  EXPECT_TRUE(v.destructive);
  EXPECT_EQ(v.data_dirs, std::vector<std::string>{"/var/lib/postgresql/15/main"});
  EXPECT_NE(v.what.find("PostgreSQL data directory"), std::string::npos) << v.what;
  EXPECT_TRUE(Classify({"rm", "/var/lib/postgresql/15/main/base/1/123"}).destructive);
  EXPECT_TRUE(Classify({"rm", "-r", "--", "/var/lib/postgresql/15/main/"}).destructive);
  // A directory that holds a data directory takes it along.
  EXPECT_TRUE(Classify({"rm", "-rf", "/var/lib"}).destructive);
  EXPECT_TRUE(Classify({"mv", "/var/lib/mysql", "/tmp/old"}).destructive);
  EXPECT_TRUE(Classify({"/usr/bin/rm", "-rf", "/var/lib/postgresql/15/main/../main"}).destructive);
  EXPECT_TRUE(Classify({"sudo", "rmdir", "/var/lib/mysql"}).destructive);
}

TEST(GuardRules, RelativePathsAreResolvedAgainstTheWorkingDirectory) {
  auto v = ClassifyCommand({"rm", "-rf", "main"}, kDirs, [](const std::string& p) {
    return NormalPath(p, "/var/lib/postgresql/15");
  });
  EXPECT_TRUE(v.destructive);
  EXPECT_FALSE(Classify({"rm", "-rf", "main"}).destructive);  // /srv/main
}

TEST(GuardRules, OtherFilesAndSimilarNamesAreNot) {
  EXPECT_FALSE(Classify({"rm", "-rf", "/var/lib/postgresql/15/main2"}).destructive);
  EXPECT_FALSE(Classify({"rm", "/tmp/x", "/var/lib/mysql-backup"}).destructive);
  EXPECT_FALSE(Classify({"ls", "-l", "/var/lib/postgresql/15/main"}).destructive);
  EXPECT_FALSE(Classify({"cp", "-a", "/var/lib/mysql", "/backup"}).destructive);
  EXPECT_FALSE(Classify({}).destructive);
}

TEST(GuardRules, SqlThatDropsADatabase) {
  EXPECT_TRUE(Classify({"dropdb", "shop"}).destructive);
  EXPECT_TRUE(Classify({"psql", "-c", "drop   database shop"}).destructive);
  EXPECT_TRUE(Classify({"psql", "--command=DROP DATABASE shop"}).destructive);
  EXPECT_TRUE(Classify({"mysql", "-e", "DROP SCHEMA shop"}).destructive);
  EXPECT_TRUE(Classify({"mariadb", "-eDROP\nDATABASE x"}).destructive);
  EXPECT_FALSE(Classify({"psql", "-c", "SELECT 1"}).destructive);
  EXPECT_FALSE(Classify({"mysql", "-e", "DROP TABLE t"}).destructive);
  EXPECT_FALSE(Classify({"psql", "-d", "drop database"}).destructive);
}

TEST(GuardRules, ImmediateStopsUnitsFileSystemsAndDevices) {
  EXPECT_TRUE(Classify({"pg_ctl", "stop", "-D", "/x", "-m", "immediate"}).destructive);
  EXPECT_TRUE(Classify({"pg_ctl", "-mi", "stop"}).destructive);
  EXPECT_TRUE(Classify({"pg_ctlcluster", "15", "main", "stop", "--mode=immediate"}).destructive);
  EXPECT_FALSE(Classify({"pg_ctl", "stop", "-m", "fast"}).destructive);
  EXPECT_FALSE(Classify({"pg_ctl", "status", "-m", "immediate"}).destructive);
  EXPECT_TRUE(Classify({"systemctl", "stop", "postgresql@15-main"}).destructive);
  EXPECT_TRUE(Classify({"systemctl", "--now", "disable", "mariadb.service"}).destructive);
  EXPECT_FALSE(Classify({"systemctl", "stop", "nginx"}).destructive);
  EXPECT_FALSE(Classify({"systemctl", "status", "postgresql"}).destructive);
  EXPECT_FALSE(Classify({"systemctl", "restart", "mariadb"}).destructive);
  EXPECT_TRUE(Classify({"mkfs.ext4", "/dev/sdb1"}).destructive);
  EXPECT_TRUE(Classify({"mkfs", "-t", "xfs", "/dev/sdb1"}).destructive);
  EXPECT_TRUE(Classify({"dd", "if=/dev/zero", "of=/dev/sda", "bs=1M"}).destructive);
  EXPECT_FALSE(Classify({"dd", "if=/dev/sda", "of=/tmp/disk.img"}).destructive);
}

}  // namespace
}  // namespace mamori::db
