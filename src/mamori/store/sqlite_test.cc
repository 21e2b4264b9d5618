#include "mamori/store/sqlite.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

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

// ---- OpenVersioned ----

constexpr std::string_view kSteps[] = {
    "CREATE TABLE a(x INTEGER)",             // 0 -> 1
    "ALTER TABLE a ADD COLUMN y TEXT",       // 1 -> 2
    "CREATE TABLE b(z INTEGER PRIMARY KEY)"  // 2 -> 3
};

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int Version(Db& db) {
  auto v = UserVersion(db);
  EXPECT_TRUE(v.ok()) << v.error().message();
  return v.ok() ? *v : -1;
}

bool HasTable(Db& db, const std::string& name) {
  auto st = db.Prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1");
  EXPECT_TRUE(st.ok());
  st->Bind(1, name);
  auto r = st->Step();
  return r.ok() && *r && st->ColumnInt(0) == 1;
}

TEST_F(SqliteTest, OpenVersionedCreatesAFreshFileAtTheLastVersionInWal) {
  const std::string path = dir_ + "/fresh.db";
  VersionedOptions o;
  o.on_create = "PRAGMA auto_vacuum = INCREMENTAL";
  o.settings = "PRAGMA synchronous = NORMAL";
  auto db = OpenVersioned(path, kSteps, o);
  ASSERT_TRUE(db.ok()) << db.error().message();
  EXPECT_EQ(Version(*db), 3);
  EXPECT_TRUE(HasTable(*db, "a"));
  EXPECT_TRUE(HasTable(*db, "b"));
  EXPECT_TRUE(db->Exec("INSERT INTO a(x, y) VALUES(1, 'one')").ok());
  auto jm = db->Prepare("PRAGMA journal_mode");
  ASSERT_TRUE(jm.ok());
  ASSERT_TRUE(*jm->Step());
  EXPECT_EQ(jm->ColumnText(0), "wal");
  auto av = db->Prepare("PRAGMA auto_vacuum");
  ASSERT_TRUE(av.ok());
  ASSERT_TRUE(*av->Step());
  EXPECT_EQ(av->ColumnInt(0), 2);  // incremental
  db = Db();
  auto again = OpenVersioned(path, kSteps, o);  // nothing left to do
  ASSERT_TRUE(again.ok()) << again.error().message();
  EXPECT_EQ(Version(*again), 3);
}

TEST_F(SqliteTest, OpenVersionedUpgradesFromAnOlderVersionKeepingRows) {
  const std::string path = dir_ + "/old.db";
  {
    auto v1 = OpenVersioned(path, std::span(kSteps).first(1));
    ASSERT_TRUE(v1.ok()) << v1.error().message();
    ASSERT_TRUE(v1->Exec("INSERT INTO a(x) VALUES(7)").ok());
  }
  auto db = OpenVersioned(path, kSteps);
  ASSERT_TRUE(db.ok()) << db.error().message();
  EXPECT_EQ(Version(*db), 3);
  auto st = db->Prepare("SELECT x, y FROM a");
  ASSERT_TRUE(st.ok());
  ASSERT_TRUE(*st->Step());
  EXPECT_EQ(st->ColumnInt(0), 7);
  EXPECT_TRUE(st->IsNull(1));
  EXPECT_TRUE(HasTable(*db, "b"));
}

TEST_F(SqliteTest, OpenVersionedRefusesANewerFileAndLeavesItAlone) {
  const std::string path = dir_ + "/newer.db";
  {
    auto db = OpenVersioned(path, kSteps);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(db->Exec("PRAGMA user_version = 9; PRAGMA wal_checkpoint(TRUNCATE)").ok());
  }
  const std::string before = Slurp(path);
  for (auto mode : {Db::Mode::kReadWriteCreate, Db::Mode::kReadOnly}) {
    VersionedOptions o;
    o.mode = mode;
    auto db = OpenVersioned(path, kSteps, o);
    ASSERT_FALSE(db.ok());
    EXPECT_EQ(db.error().message(), path +
                                        " was written by a newer mamori (schema 9, this build "
                                        "knows up to 3); upgrade mamori");
  }
  EXPECT_EQ(Slurp(path), before);
}

TEST_F(SqliteTest, OpenVersionedRefusesForeignAndGarbageFilesWithoutWriting) {
  // t.db (the fixture's) holds table t at version 0: someone else's.
  db_ = Db();
  const std::string foreign = dir_ + "/t.db";
  const std::string before = Slurp(foreign);
  VersionedOptions o;
  o.hint = "; move it aside";
  auto db = OpenVersioned(foreign, kSteps, o);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.error().message(),
            foreign + " is not a mamori database (it holds other tables); move it aside");
  EXPECT_EQ(Slurp(foreign), before);
  EXPECT_FALSE(std::filesystem::exists(foreign + "-wal"));

  const std::string garbage = dir_ + "/garbage.db";
  { std::ofstream(garbage) << std::string(4096, 'x'); }
  auto g = OpenVersioned(garbage, kSteps, o);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().message(),
            garbage + " is not a mamori database (file is not a database); move it aside");
  EXPECT_EQ(Slurp(garbage), std::string(4096, 'x'));
  EXPECT_FALSE(std::filesystem::exists(garbage + "-wal"));
}

TEST_F(SqliteTest, OpenVersionedAdoptsAFileFromBeforeVersioning) {
  // Table t at version 0 is what an unversioned release of this store wrote.
  db_ = Db();
  const std::string path = dir_ + "/t.db";
  constexpr std::string_view steps[] = {"CREATE TABLE IF NOT EXISTS t(a INTEGER, b TEXT, c REAL)",
                                        "CREATE TABLE u(v INTEGER)"};
  VersionedOptions o;
  o.unversioned_tables = {"t"};
  auto db = OpenVersioned(path, steps, o);
  ASSERT_TRUE(db.ok()) << db.error().message();
  EXPECT_EQ(Version(*db), 2);
  EXPECT_TRUE(HasTable(*db, "u"));
}

TEST_F(SqliteTest, OpenVersionedRollsBackEveryStepWhenOneFails) {
  const std::string path = dir_ + "/broken.db";
  {
    auto v1 = OpenVersioned(path, std::span(kSteps).first(1));
    ASSERT_TRUE(v1.ok());
  }
  constexpr std::string_view steps[] = {kSteps[0], kSteps[1], "CREATE TABLE b(", "SELECT 1"};
  auto db = OpenVersioned(path, steps);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.error().message().rfind("upgrading " + path + ": ", 0), 0u) << db.error().message();
  auto check = Db::Open(path, Db::Mode::kReadOnly);
  ASSERT_TRUE(check.ok());
  EXPECT_EQ(Version(*check), 1);
  auto cols = check->Prepare("SELECT y FROM a");  // step 1 -> 2 was rolled back too
  EXPECT_FALSE(cols.ok());
}

TEST_F(SqliteTest, OpenVersionedReadOnlyNeverMigrates) {
  const std::string path = dir_ + "/ro.db";
  { ASSERT_TRUE(OpenVersioned(path, std::span(kSteps).first(1)).ok()); }
  VersionedOptions o;
  o.mode = Db::Mode::kReadOnly;
  auto db = OpenVersioned(path, kSteps, o);
  ASSERT_TRUE(db.ok()) << db.error().message();
  EXPECT_EQ(Version(*db), 1);
  EXPECT_FALSE(HasTable(*db, "b"));
}

}  // namespace
}  // namespace mamori::sqlite
