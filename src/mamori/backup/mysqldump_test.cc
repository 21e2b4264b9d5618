#include "mamori/backup/mysqldump.h"

#include <gtest/gtest.h>

namespace mamori::backup {
namespace {

HeadTail Feed(const std::string& s) {
  HeadTail ht(64 * 1024, 8 * 1024);
  ht.Feed(Bytes(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
  return ht;
}

const char* kHead =
    "-- MariaDB dump 10.19  Distrib 10.11.19-MariaDB, for debian-linux-gnu (x86_64)\n--\n"
    "-- Host: 127.0.0.1    Database: shop\n"
    "-- ------------------------------------------------------\n"
    "-- Server version\t10.11.19-MariaDB-0+deb12u1\n\nINSERT INTO `t` VALUES (1);\n";

TEST(BackupMysqlDump, CompleteDump) {
  Findings f;
  const std::string s = VerifyMysqlDump(
      Feed(std::string(kHead) + "\n-- Dump completed on 2026-11-23  9:37:14\n"), &f);
  EXPECT_TRUE(f.ok());
  EXPECT_NE(s.find("mariadb-dump of shop complete, server 10.11.19-MariaDB-0+deb12u1"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("completed 2026-11-23  9:37:14"), std::string::npos) << s;
}

TEST(BackupMysqlDump, MissingTrailerIsCritical) {
  Findings f;
  VerifyMysqlDump(Feed(kHead), &f);
  EXPECT_EQ(f.status, CheckStatus::kCritical);
  EXPECT_NE(f.WorstMessages().find("mariadb-dump output incomplete: trailer '-- Dump completed' "
                                   "missing; it ends at byte"),
            std::string::npos)
      << f.WorstMessages();
  EXPECT_NE(f.WorstMessages().find("with 'INSERT INTO `t` VALUES (1);'"), std::string::npos);
}

TEST(BackupMysqlDump, MysqlFlavourAndDatelessTrailer) {
  Findings f;
  std::string s = VerifyMysqlDump(
      Feed("-- MySQL dump 10.13  Distrib 8.0.36\n-- Server version\t8.0.36\n\n-- Dump completed\n"),
      &f);
  EXPECT_TRUE(f.ok());
  EXPECT_EQ(s.rfind("mysqldump of all databases complete, server 8.0.36", 0), 0u) << s;
}

}  // namespace
}  // namespace mamori::backup
