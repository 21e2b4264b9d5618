// The `backup` check type against real servers: one throw-away PostgreSQL 15
// cluster and one MariaDB server on loopback for the whole suite, real
// pg_dump / mariadb-dump output, real restores with pg_restore, psql and the
// mariadb client, and the history in a real backups.db.
#include <fcntl.h>
#include <sys/stat.h>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "mamori/backup/backup_probe.h"
#include "mamori/backup/history.h"
#include "mamori/backup/list_command.h"
#include "mamori/backup/offsite.h"
#include "mamori/daemon/config_file.h"
#include "testing/mariadb.h"
#include "testing/postgres.h"

namespace mamori {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using probes::backup::BackupProbe;
using testing::MariaDbServer;
using testing::PostgresServer;

void SetAge(const fs::path& p, Duration age) {
  auto when = std::chrono::system_clock::now() - age;
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(when.time_since_epoch()).count();
  struct timespec ts[2];
  ts[0].tv_sec = ts[1].tv_sec = ns / 1'000'000'000;
  ts[0].tv_nsec = ts[1].tv_nsec = ns % 1'000'000'000;
  ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), ts, 0), 0) << p;
}

bool Contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

class BackupCheckTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!PostgresServer::MissingBinaries().empty() || !MariaDbServer::MissingBinaries().empty())
      return;
    pg_ = new PostgresServer();
    pg_error_ = pg_->Start();
    if (pg_error_.empty()) {
      auto r = pg_->Sql(
          "CREATE TABLE users (id serial PRIMARY KEY, name text NOT NULL);"
          "INSERT INTO users (name) SELECT 'user ' || g FROM generate_series(1, 5000) g;");
      if (!r.ok()) pg_error_ = r.error().message();
    }
    my_ = new MariaDbServer();
    my_error_ = my_->Start();
    if (my_error_.empty()) {
      auto r = my_->Sql(
          "CREATE TABLE orders (id INT PRIMARY KEY AUTO_INCREMENT, total INT NOT NULL);"
          "INSERT INTO orders (total) SELECT seq FROM seq_1_to_1200;");
      if (!r.ok()) my_error_ = r.error().message();
    }
  }
  static void TearDownTestSuite() {
    delete pg_;
    delete my_;
    pg_ = nullptr;
    my_ = nullptr;
  }

  void SetUp() override {
    if (!pg_ || !my_) GTEST_SKIP() << "PostgreSQL or MariaDB binaries are not installed";
    ASSERT_EQ(pg_error_, "");
    ASSERT_EQ(my_error_, "");
    dir_ = fs::temp_directory_path() /
           fmt::format("mamori-backup-{}-{}", ::getpid(),
                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "backups");
    fs::create_directories(dir_ / "data");
  }
  void TearDown() override {
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }

  // A real custom-format dump of the test database, `age` old.
  fs::path PgDump(const std::string& name, Duration age, const std::string& format = "-Fc") {
    fs::path p = dir_ / "backups" / name;
    auto r = pg_->PgDump({format, "-f", p.string()});
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message());
    SetAge(p, age);
    return p;
  }

  // Loads one check from YAML (a full config) and returns its probe.
  std::shared_ptr<BackupProbe> Load(const std::string& check_yaml, std::string* errors = nullptr,
                                    CheckConfig* out = nullptr) {
    const std::string text = "data_dir: " + (dir_ / "data").string() + "\nchecks:\n" + check_yaml;
    ConfigLoad load = LoadConfigText(text, "mamori.yaml");
    if (!load.config) {
      if (errors)
        *errors = load.diagnostics.ToString();
      else
        ADD_FAILURE() << load.diagnostics.ToString();
      return nullptr;
    }
    if (out) *out = load.config->checks.at(0);
    return std::dynamic_pointer_cast<BackupProbe>(load.config->checks.at(0).probe);
  }

  Observation Run(const BackupProbe& p, Duration timeout = 60s) {
    return p.Run(clock_, clock_.Monotonic() + timeout, (dir_ / "data").string());
  }

  std::string Backups() const { return (dir_ / "backups").string(); }
  std::string PgDsn(const std::string& db) const { return pg_->ConnInfo(db); }

  static PostgresServer* pg_;
  static MariaDbServer* my_;
  static std::string pg_error_, my_error_;
  fs::path dir_;
  SystemClock clock_;
};

PostgresServer* BackupCheckTest::pg_ = nullptr;
MariaDbServer* BackupCheckTest::my_ = nullptr;
std::string BackupCheckTest::pg_error_;
std::string BackupCheckTest::my_error_;

double Metric(const Observation& o, const std::string& name) {
  for (const auto& m : o.metrics)
    if (m.name == name) return m.value;
  ADD_FAILURE() << "no metric " << name;
  return -1;
}

TEST_F(BackupCheckTest, HealthyDirectoryAndDefaultTiming) {
  PgDump("shop-1.dump", 50h);
  PgDump("shop-2.dump", 26h);
  PgDump("shop-3.dump", 2h);
  CheckConfig cc;
  auto probe = Load(
      "  - {name: db-nightly, type: backup, path: " + Backups() + ", max_age: 26h, min_count: 3}\n",
      nullptr, &cc);
  ASSERT_TRUE(probe);
  EXPECT_EQ(cc.interval, Duration(1h));
  EXPECT_EQ(cc.timeout, Duration(30min));
  EXPECT_EQ(probe->options().budget, std::optional<Duration>(10min));  // no restore test
  EXPECT_EQ(cc.thresholds.failures_before_alert, 1);                   // a verdict, not a flap
  Observation o = Run(*probe);
  EXPECT_EQ(o.status, CheckStatus::kOk) << o.summary << "\n" << o.details;
  EXPECT_TRUE(Contains(o.summary, "newest shop-3.dump 2h")) << o.summary;
  EXPECT_TRUE(Contains(o.summary, "pg_dump custom OK")) << o.summary;
  EXPECT_TRUE(Contains(o.summary, "3 kept")) << o.summary;
  EXPECT_EQ(Metric(o, "count"), 3);
  EXPECT_NEAR(Metric(o, "age_s"), 7200, 60);
}

TEST_F(BackupCheckTest, OlderBackupsThatVanishedAreNamed) {
  auto a = PgDump("shop-1.dump", 72h);
  auto b = PgDump("shop-2.dump", 48h);
  PgDump("shop-3.dump", 1h);
  auto probe = Load("  - {name: db, type: backup, path: " + Backups() + ", min_count: 3}\n");
  ASSERT_TRUE(probe);
  ASSERT_EQ(Run(*probe).status, CheckStatus::kOk);
  // A cleanup job deleted everything but today's dump.
  fs::remove(a);
  fs::remove(b);
  Observation o = Run(*probe);
  EXPECT_EQ(o.status, CheckStatus::kCritical);
  EXPECT_TRUE(Contains(o.summary, "only 1 backup kept (min_count 3)")) << o.summary;
  EXPECT_TRUE(Contains(o.summary, "2 older ones vanished")) << o.summary;
  EXPECT_EQ(Metric(o, "vanished"), 2);

  std::ostringstream out, err;
  int rc = backup::RunBackupList((dir_ / "data").string(), "db", false, clock_, out, err);
  EXPECT_EQ(rc, 0) << err.str();
  EXPECT_TRUE(Contains(out.str(), "shop-3.dump")) << out.str();
  EXPECT_TRUE(Contains(out.str(), "gone since")) << out.str();
}

TEST_F(BackupCheckTest, StaleNewestArtifact) {
  PgDump("shop-1.dump", 74h);
  PgDump("shop-2.dump", 50h);
  auto probe =
      Load("  - {name: db, type: backup, path: '" + Backups() + "/shop-*.dump', max_age: 25h}\n");
  ASSERT_TRUE(probe);
  Observation o = Run(*probe);
  EXPECT_EQ(o.status, CheckStatus::kCritical);
  EXPECT_TRUE(Contains(o.summary, "newest shop-2.dump is 2d 2h old (max_age 1d 1h)")) << o.summary;
}

TEST_F(BackupCheckTest, SizeCollapseAgainstHistoryAndNewestGoodAge) {
  PgDump("shop-1.dump", 49h, "-Fp");
  PgDump("shop-2.dump", 25h, "-Fp");
  auto probe = Load("  - {name: db, type: backup, path: '" + Backups() + "/*.dump'}\n");
  ASSERT_TRUE(probe);
  ASSERT_EQ(Run(*probe).status, CheckStatus::kOk);
  // A valid dump of a database someone emptied: decodes fine, but a tenth
  // of yesterday's size.
  ASSERT_TRUE(pg_->Sql("CREATE DATABASE emptied").ok());
  fs::path p = dir_ / "backups" / "shop-3.dump";
  ASSERT_TRUE(pg_->PgDump({"-Fp", "-f", p.string()}, "emptied").ok());
  SetAge(p, 1h);
  Observation o = Run(*probe);
  EXPECT_EQ(o.status, CheckStatus::kCritical) << o.summary;
  EXPECT_TRUE(Contains(o.summary, "smaller than the previous good one (shop-2.dump")) << o.summary;
  EXPECT_FALSE(Contains(o.summary, "server 15"))
      << o.summary;  // the decoder's account is in details
  EXPECT_TRUE(Contains(o.summary, "newest good one is 1d 1h old (shop-2.dump)")) << o.summary;
  EXPECT_LT(Metric(o, "size_change_percent"), -50);
  // The collapsed dump is recorded as bad, so it never becomes the reference.
  auto h = backup::History::Open((dir_ / "data").string(), backup::History::Mode::kReadOnly);
  ASSERT_TRUE(h.ok());
  auto rows = (*h)->List("db");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ((*rows)[0].verdict, CheckStatus::kCritical);
  std::ostringstream out, err;
  EXPECT_EQ(backup::RunBackupList((dir_ / "data").string(), "db", false, clock_, out, err), 2);
  EXPECT_TRUE(Contains(out.str(), "the newest good one is 1d 1h old (shop-2.dump)")) << out.str();
  ASSERT_TRUE(pg_->Sql("DROP DATABASE emptied", "postgres").ok());
}

TEST_F(BackupCheckTest, ErrorTextInsteadOfADump) {
  PgDump("shop-1.dump", 30h);
  // What a cron job writes when pg_dump refuses a newer server.
  fs::path p = dir_ / "backups" / "shop-2.dump";
  std::ofstream(p) << "pg_dump: error: aborting because of server version mismatch\n";
  SetAge(p, 2h);
  auto probe = Load("  - {name: db, type: backup, path: " + Backups() + "}\n");
  ASSERT_TRUE(probe);
  Observation o = Run(*probe);
  EXPECT_EQ(o.status, CheckStatus::kCritical);
  EXPECT_TRUE(Contains(o.summary, "newest shop-2.dump: ")) << o.summary;
  EXPECT_TRUE(Contains(o.summary, "newest good one is 1d 6h old (shop-1.dump)")) << o.summary;
}

TEST_F(BackupCheckTest, LiveServerVersionSkew) {
  PgDump("shop-1.dump", 1h);
  // A pg_dump that says it is 9.2, as the incident's was.
  fs::path fake = dir_ / "pg_dump";
  std::ofstream(fake) << "#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.2.24'\n";
  fs::permissions(fake, fs::perms::owner_all);
  auto probe =
      Load("  - {name: db, type: backup, path: " + Backups() + ", server: {type: postgres, dsn: '" +
           PgDsn("mamori_test") + "', pg_dump: " + fake.string() + "}}\n");
  ASSERT_TRUE(probe);
  Observation o = Run(*probe);
  EXPECT_EQ(o.status, CheckStatus::kCritical);
  EXPECT_TRUE(Contains(o.summary, "is pg_dump 9.2.24, the server is 15")) << o.summary;
  EXPECT_TRUE(Contains(o.summary, "server version mismatch")) << o.summary;

  auto same = Load("  - {name: db2, type: backup, path: " + Backups() +
                   ", server: {type: postgres, dsn: '" + PgDsn("mamori_test") +
                   "', pg_dump: " + pg_->bin_dir() + "/pg_dump}}\n");
  ASSERT_TRUE(same);
  Observation ok = Run(*same);
  EXPECT_EQ(ok.status, CheckStatus::kOk) << ok.summary << "\n" << ok.details;
}

TEST_F(BackupCheckTest, PostgresRestoreCountsRows) {
  PgDump("shop-1.dump", 1h);
  const std::string base = "  - {name: db, type: backup, path: " + Backups() +
                           ", server: {type: postgres, dsn: '" + PgDsn("mamori_test") +
                           "', pg_dump: ''}, restore: {type: postgres, database: shop_restore, "
                           "bin_dir: " +
                           pg_->bin_dir() + ", assertions: [";
  auto probe = Load(base +
                    "{query: 'SELECT count(*) FROM users', min: 1000}, "
                    "{query: 'SELECT count(*) FROM users', within_percent_of_production: 1%}]}}\n");
  ASSERT_TRUE(probe);
  Observation o = Run(*probe);
  EXPECT_EQ(o.status, CheckStatus::kOk) << o.summary << "\n" << o.details;
  EXPECT_TRUE(Contains(o.summary, "users 5000 rows, users 5000 rows (production 5000)"))
      << o.summary;
  EXPECT_TRUE(Contains(o.summary, "restore ")) << o.summary;
  EXPECT_GT(Metric(o, "restore_s"), 0);
  // The scratch database is gone again.
  auto left =
      pg_->Sql("SELECT count(*) FROM pg_database WHERE datname = 'shop_restore'", "postgres");
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(*left, "0\n");
  // Restored once per artifact: the duration comes from the history now.
  Observation again = Run(*probe);
  EXPECT_EQ(again.status, CheckStatus::kOk);
  EXPECT_NEAR(Metric(again, "restore_s"), Metric(o, "restore_s"), 0.001);

  // An assertion that fails: far fewer rows than expected.
  fs::remove_all(dir_ / "data");
  auto failing = Load(base + "{query: 'SELECT count(*) FROM users', min: 1000000}]}}\n");
  ASSERT_TRUE(failing);
  Observation bad = Run(*failing);
  EXPECT_EQ(bad.status, CheckStatus::kCritical);
  EXPECT_TRUE(Contains(bad.summary, "restore test failed: restore ")) << bad.summary;
  EXPECT_TRUE(Contains(bad.summary, "users 5000 rows (min 1000000)")) << bad.summary;

  std::ostringstream out, err;
  // Its content is fine but it failed its restore test: as bad as the check says.
  EXPECT_EQ(backup::RunBackupList((dir_ / "data").string(), "db", true, clock_, out, err), 2);
  EXPECT_TRUE(Contains(out.str(), "\"restore_s\"")) << out.str();
  EXPECT_TRUE(Contains(out.str(), "\"restore_status\": \"critical\"")) << out.str();
}

// A dump that decodes but does not restore is not "good": the summary names
// the newest one that did restore, and good_age_s is its age, not the age of
// the dump that just failed.
TEST_F(BackupCheckTest, DumpThatFailsToRestoreIsNotTheNewestGoodOne) {
  PgDump("shop-1.dump", 26h, "-Fp");
  auto probe = Load("  - {name: db, type: backup, path: " + Backups() +
                    ", restore: {type: postgres, dsn: '" + PgDsn("postgres") +
                    "', database: shop_restore, bin_dir: " + pg_->bin_dir() + "}}\n");
  ASSERT_TRUE(probe);
  Observation ok = Run(*probe);
  ASSERT_EQ(ok.status, CheckStatus::kOk) << ok.summary << "\n" << ok.details;

  // Header and trailer intact, one row's tab gone: psql stops at that row.
  fs::path p = PgDump("shop-2.dump", 2h, "-Fp");
  std::string text;
  {
    std::ifstream in(p, std::ios::binary);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  const size_t row = text.find("2500\tuser 2500\n");
  ASSERT_NE(row, std::string::npos);
  text[row + 4] = ' ';
  std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
  SetAge(p, 2h);
  Observation bad = Run(*probe);
  EXPECT_EQ(bad.status, CheckStatus::kCritical) << bad.summary;
  EXPECT_TRUE(Contains(bad.summary, "restore test failed: ")) << bad.summary;
  EXPECT_TRUE(Contains(bad.summary, "newest good one is 1d 2h old (shop-1.dump)")) << bad.summary;
  EXPECT_NEAR(Metric(bad, "good_age_s"), 26 * 3600, 60);
  // Remembered: the next run says the same without restoring again.
  Observation again = Run(*probe);
  EXPECT_EQ(again.status, CheckStatus::kCritical);
  EXPECT_TRUE(Contains(again.summary, "newest good one is 1d 2h old (shop-1.dump)"))
      << again.summary;
  // `mamori backup list` judges it the same way.
  std::ostringstream out, err;
  EXPECT_EQ(backup::RunBackupList((dir_ / "data").string(), "db", false, clock_, out, err), 2)
      << out.str() << err.str();
  EXPECT_TRUE(Contains(out.str(),
                       "newest shop-2.dump is CRITICAL (its restore test failed); "
                       "the newest good one is 1d 2h old (shop-1.dump)"))
      << out.str();
}

TEST_F(BackupCheckTest, RestoreNeverDropsADatabaseItDidNotCreate) {
  PgDump("shop-1.dump", 1h);
  ASSERT_TRUE(pg_->Sql("CREATE DATABASE precious").ok());
  auto probe =
      Load("  - {name: db, type: backup, path: " + Backups() +
           ", restore: {type: postgres, dsn: '" + PgDsn("postgres") + "', database: precious}}\n");
  ASSERT_TRUE(probe);
  Observation o = Run(*probe);
  EXPECT_EQ(o.status, CheckStatus::kUnknown);
  EXPECT_TRUE(Contains(o.summary, "precious already exists and was not created by mamori"))
      << o.summary;
  EXPECT_TRUE(pg_->Sql("SELECT 1", "precious").ok());
  ASSERT_TRUE(pg_->Sql("DROP DATABASE precious", "postgres").ok());
}

TEST_F(BackupCheckTest, MariaDbRestoreIntoScratchSchema) {
  fs::path p = dir_ / "backups" / "orders.sql";
  ASSERT_TRUE(
      my_->Dump({"--single-transaction", "--result-file=" + p.string(), "mamori_test"}).ok());
  SetAge(p, 1h);
  const std::string conn = fmt::format("host: 127.0.0.1, port: {}, user: root", my_->port());
  auto probe =
      Load("  - {name: orders, type: backup, path: " + Backups() + ", server: {type: mariadb, " +
           conn + ", database: mamori_test}, restore: {type: mariadb, " + conn +
           ", schema: orders_restore, assertions: [{query: 'SELECT count(*) FROM "
           "orders', min: 1000, within_percent_of_production: 0%}]}}\n");
  ASSERT_TRUE(probe);
  Observation o = Run(*probe);
  EXPECT_EQ(o.status, CheckStatus::kOk) << o.summary << "\n" << o.details;
  EXPECT_TRUE(Contains(o.summary, "orders 1200 rows")) << o.summary;
  auto left = my_->Sql(
      "SELECT count(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = "
      "'orders_restore'");
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(*left, "0\n");

  // A dump made with --databases would write into production: refused.
  fs::path all = dir_ / "backups" / "orders-all.sql";
  ASSERT_TRUE(my_->Dump({"--databases", "mamori_test", "--result-file=" + all.string()}).ok());
  SetAge(all, 10min);
  Observation refused = Run(*probe);
  EXPECT_EQ(refused.status, CheckStatus::kUnknown) << refused.summary;
  EXPECT_TRUE(Contains(refused.summary, "switches databases")) << refused.summary;
}

TEST_F(BackupCheckTest, OffsiteCopyMissingDifferentSame) {
  auto older = PgDump("shop-1.dump", 30h);
  auto newest = PgDump("shop-2.dump", 3h);
  fs::create_directories(dir_ / "offsite");
  auto probe = Load("  - {name: db, type: backup, path: " + Backups() +
                    ", offsite: {path: " + (dir_ / "offsite").string() + "}}\n");
  ASSERT_TRUE(probe);
  Observation empty = Run(*probe);
  EXPECT_EQ(empty.status, CheckStatus::kCritical);
  EXPECT_TRUE(Contains(empty.summary, "is empty (no shop-2.dump)")) << empty.summary;

  fs::copy_file(older, dir_ / "offsite" / "shop-1.dump");
  Observation missing = Run(*probe);
  EXPECT_EQ(missing.status, CheckStatus::kCritical);
  EXPECT_TRUE(Contains(missing.summary, "has no shop-2.dump (its newest: shop-1.dump)"))
      << missing.summary;

  // Same size, one byte flipped.
  fs::copy_file(newest, dir_ / "offsite" / "shop-2.dump");
  {
    std::fstream f(dir_ / "offsite" / "shop-2.dump",
                   std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(fs::file_size(newest) / 2));
    f.put('\x7f');
  }
  Observation different = Run(*probe);
  EXPECT_EQ(different.status, CheckStatus::kCritical);
  EXPECT_TRUE(Contains(different.summary, "offsite copy of shop-2.dump differs: sha256"))
      << different.summary;

  fs::remove(dir_ / "offsite" / "shop-2.dump");
  fs::copy_file(newest, dir_ / "offsite" / "shop-2.dump");
  Observation same = Run(*probe);
  EXPECT_EQ(same.status, CheckStatus::kOk) << same.summary;
  EXPECT_TRUE(Contains(same.summary, "offsite copy matches")) << same.summary;

  // A command listing in sha256sum format.
  auto listed = Load("  - {name: db2, type: backup, path: " + Backups() +
                     ", offsite: {command: [sh, -c, 'cd " + (dir_ / "offsite").string() +
                     " && sha256sum *']}}\n");
  ASSERT_TRUE(listed);
  Observation by_command = Run(*listed);
  EXPECT_EQ(by_command.status, CheckStatus::kOk) << by_command.summary;
  EXPECT_TRUE(Contains(by_command.summary, "offsite copy matches (sha256")) << by_command.summary;
  auto empty_bucket = Load("  - {name: db3, type: backup, path: " + Backups() +
                           ", offsite: {command: ['true']}}\n");
  ASSERT_TRUE(empty_bucket);
  Observation nothing = Run(*empty_bucket);
  EXPECT_EQ(nothing.status, CheckStatus::kCritical);
  EXPECT_TRUE(Contains(nothing.summary, "offsite location is empty")) << nothing.summary;
}

TEST_F(BackupCheckTest, ConfigErrorsPointAtTheKey) {
  std::string errors;
  auto p = Load(
      "  - name: db\n    type: backup\n    path: /var/backups\n"
      "    server: {type: postgres, dsn: 'host=127.0.0.1 dbname=shop'}\n"
      "    restore: {type: postgres, database: shop}\n",
      &errors);
  EXPECT_FALSE(p);
  EXPECT_TRUE(Contains(errors, "mamori.yaml:7:41: check 'db': restore: 'database'")) << errors;
  EXPECT_TRUE(Contains(errors, "is the production database")) << errors;
  EXPECT_TRUE(Contains(errors, "give it its own name")) << errors;

  errors.clear();
  EXPECT_FALSE(Load("  - {name: db, type: backup}\n", &errors));
  EXPECT_TRUE(Contains(errors, "missing 'path'")) << errors;
  errors.clear();
  EXPECT_FALSE(Load("  - {name: db, type: backup, path: /x, offsite: {}}\n", &errors));
  EXPECT_TRUE(Contains(errors, "exactly one of 'path' or 'command'")) << errors;
  errors.clear();
  EXPECT_FALSE(
      Load("  - {name: db, type: backup, path: /x, restore: {type: mariadb, "
           "schema: 'a-b'}}\n",
           &errors));
  EXPECT_TRUE(Contains(errors, "not a valid scratch name")) << errors;
}

TEST_F(BackupCheckTest, NoBackupAtAll) {
  auto probe = Load("  - {name: db, type: backup, path: '" + Backups() + "/*.dump'}\n");
  ASSERT_TRUE(probe);
  Observation o = Run(*probe);
  EXPECT_EQ(o.status, CheckStatus::kCritical);
  EXPECT_TRUE(Contains(o.summary, "no backup in")) << o.summary;
}

}  // namespace
}  // namespace mamori
