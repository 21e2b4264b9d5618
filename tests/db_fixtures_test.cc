// The PostgreSQL and MariaDB test fixtures start real servers that answer
// queries and can be dumped, and clean up after themselves.
#include <gtest/gtest.h>

#include <filesystem>

#include "testing/mariadb.h"
#include "testing/postgres.h"

namespace mamori::testing {
namespace {

TEST(DbFixtures, PostgresStartsAnswersAndDumps) {
  if (auto m = PostgresServer::MissingBinaries(); !m.empty()) GTEST_SKIP() << m;
  std::string dir;
  {
    PostgresServer pg;
    ASSERT_EQ(pg.Start(), "");
    dir = pg.dir();
    auto v = pg.ServerVersion();
    ASSERT_TRUE(v.ok()) << v.error().message();
    EXPECT_EQ(v->rfind("15.", 0), 0u) << *v;
    ASSERT_TRUE(pg.Sql("CREATE TABLE t(x int); INSERT INTO t VALUES (1),(2),(3);").ok());
    auto n = pg.Sql("SELECT count(*) FROM t");
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(*n, "3\n");
    auto dump = pg.PgDump({});
    ASSERT_TRUE(dump.ok()) << dump.error().message();
    EXPECT_NE(dump->find("PostgreSQL database dump complete"), std::string::npos);
    auto bad = pg.Sql("SELECT * FROM no_such_table");
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.error().message().find("no_such_table"), std::string::npos);
  }
  EXPECT_FALSE(std::filesystem::exists(dir));
}

TEST(DbFixtures, MariaDbStartsAnswersAndDumps) {
  if (auto m = MariaDbServer::MissingBinaries(); !m.empty()) GTEST_SKIP() << m;
  std::string dir;
  {
    MariaDbServer db;
    ASSERT_EQ(db.Start(), "");
    dir = db.dir();
    auto v = db.ServerVersion();
    ASSERT_TRUE(v.ok()) << v.error().message();
    EXPECT_NE(v->find("MariaDB"), std::string::npos) << *v;
    ASSERT_TRUE(db.Sql("CREATE TABLE t(x int); INSERT INTO t VALUES (1),(2);").ok());
    auto dump = db.Dump({db.database()});
    ASSERT_TRUE(dump.ok()) << dump.error().message();
    EXPECT_NE(dump->find("INSERT INTO `t`"), std::string::npos);
    EXPECT_NE(dump->find("-- Dump completed"), std::string::npos);
  }
  EXPECT_FALSE(std::filesystem::exists(dir));
}

}  // namespace
}  // namespace mamori::testing
