#include "mamori/store/sqlite.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace mamori::sqlite {
namespace {

class SqliteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mamori-sqlite-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto db = Db::Open(dir_ + "/t.db", Db::Mode::kReadWriteCreate);
    ASSERT_TRUE(db.ok()) << db.error().message();
    db_ = std::move(db).value();
    ASSERT_TRUE(db_.Exec("CREATE TABLE t(a INTEGER, b TEXT, c REAL)").ok());
  }
  void TearDown() override {
    db_ = Db();
    std::filesystem::remove_all(dir_);
  }
  int64_t Count() {
    auto st = db_.Prepare("SELECT count(*) FROM t");
    EXPECT_TRUE(st.ok());
    auto r = st->Step();
    EXPECT_TRUE(r.ok() && *r);
    return st->ColumnInt(0);
  }

  std::string dir_;
  Db db_;
};

TEST_F(SqliteTest, BindStepColumnRoundTrip) {
  auto ins = db_.Prepare("INSERT INTO t(a, b, c) VALUES(?1, ?2, ?3)");
  ASSERT_TRUE(ins.ok()) << ins.error().message();
  ins->Bind(1, int64_t{1} << 40).Bind(2, std::string_view("h\0llo", 5)).Bind(3, 2.5);
  ASSERT_TRUE(ins->Run().ok());
  ins->Reset();
  ins->Bind(1, std::optional<int64_t>()).Bind(2, "x").BindNull(3);
  ASSERT_TRUE(ins->Run().ok());

  auto sel = db_.Prepare("SELECT a, b, c FROM t ORDER BY rowid");
  ASSERT_TRUE(sel.ok());
  auto r = sel->Step();
  ASSERT_TRUE(r.ok() && *r);
  EXPECT_EQ(sel->ColumnInt(0), int64_t{1} << 40);
  EXPECT_EQ(sel->ColumnText(1), std::string("h\0llo", 5));
  EXPECT_EQ(sel->ColumnDouble(2), 2.5);
  r = sel->Step();
  ASSERT_TRUE(r.ok() && *r);
  EXPECT_TRUE(sel->IsNull(0));
  EXPECT_EQ(sel->ColumnOptionalInt(0), std::nullopt);
  EXPECT_EQ(sel->ColumnText(2), "");
  r = sel->Step();
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(*r);
}

TEST_F(SqliteTest, ErrorsCarrySqliteMessageAndSql) {
  auto bad = db_.Prepare("SELEKT * FROM t");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("syntax error"), std::string::npos) << bad.error().message();
  EXPECT_NE(bad.error().message().find("in: SELEKT * FROM t"), std::string::npos);
  EXPECT_EQ(db_.last_error_code(), 1);  // SQLITE_ERROR

  Status s = db_.Exec("INSERT INTO missing VALUES(1)");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find("no such table: missing"), std::string::npos);
  EXPECT_NE(s.error().message().find("INSERT INTO missing"), std::string::npos);
}

TEST_F(SqliteTest, BindErrorIsReportedByStep) {
  auto ins = db_.Prepare("INSERT INTO t(a) VALUES(?1)");
  ASSERT_TRUE(ins.ok());
  ins->Bind(7, int64_t{1});  // no such parameter
  Status s = ins->Run();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find("binding parameter 7"), std::string::npos)
      << s.error().message();
  EXPECT_NE(s.error().message().find("INSERT INTO t(a)"), std::string::npos);
  ins->Reset();  // clears the remembered error
  ins->Bind(1, int64_t{1});
  EXPECT_TRUE(ins->Run().ok());
}

TEST_F(SqliteTest, TransactionRollsBackUnlessCommitted) {
  {
    auto tx = Transaction::Begin(db_);
    ASSERT_TRUE(tx.ok()) << tx.error().message();
    ASSERT_TRUE(db_.Exec("INSERT INTO t(a) VALUES(1)").ok());
  }
  EXPECT_EQ(Count(), 0);
  {
    auto tx = Transaction::Begin(db_);
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(db_.Exec("INSERT INTO t(a) VALUES(1)").ok());
    ASSERT_TRUE(tx->Commit().ok());
    EXPECT_FALSE(tx->Commit().ok());  // already finished
  }
  EXPECT_EQ(Count(), 1);
}

TEST_F(SqliteTest, BusyTimeoutWaitsThenFailsWithLockedMessage) {
  ASSERT_TRUE(db_.Exec("PRAGMA journal_mode = WAL").ok());
  auto other = Db::Open(dir_ + "/t.db", Db::Mode::kReadWrite, std::chrono::milliseconds(50));
  ASSERT_TRUE(other.ok());
  auto tx = Transaction::Begin(db_);
  ASSERT_TRUE(tx.ok());
  auto start = std::chrono::steady_clock::now();
  auto tx2 = Transaction::Begin(*other);
  ASSERT_FALSE(tx2.ok());
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(40));
  EXPECT_NE(tx2.error().message().find("database is locked"), std::string::npos)
      << tx2.error().message();
  EXPECT_EQ(other->last_error_code(), 5);  // SQLITE_BUSY
}

TEST_F(SqliteTest, OpenMissingFileReadOnlyFails) {
  auto db = Db::Open(dir_ + "/nope.db", Db::Mode::kReadOnly);
  ASSERT_FALSE(db.ok());
  EXPECT_NE(db.error().message().find(dir_ + "/nope.db"), std::string::npos)
      << db.error().message();
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/nope.db"));
}

}  // namespace
}  // namespace mamori::sqlite
