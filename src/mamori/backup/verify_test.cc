// Backup verification against real dumps: a throw-away PostgreSQL 15 and
// MariaDB are started, dumped in every format, and the dumps (and damaged
// copies of them) are judged. Compression uses the real gzip and zstd tools.
#include "mamori/backup/verify.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "mamori/util/subprocess.h"
#include "testing/cli.h"
#include "testing/mariadb.h"
#include "testing/postgres.h"

namespace mamori::backup {
namespace {
namespace fs = std::filesystem;
using ::mamori::testing::MariaDbServer;
using ::mamori::testing::PostgresServer;
using ::mamori::testing::TempDir;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void Spit(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}

std::string RunTool(const std::vector<std::string>& argv) {
  ProcessOptions o;
  o.argv = argv;
  o.timeout = std::chrono::seconds(60);
  auto r = RunProcess(o);
  if (!r.ok()) return r.error().message();
  return r->exit_code == 0 ? "" : "exit " + std::to_string(r->exit_code) + ": " + r->err;
}

std::string Describe(const ArtifactVerdict& v) {
  return std::string(StatusName(v.status)) + " " + v.format + ": " + v.summary;
}

// One PostgreSQL and one MariaDB for the whole suite; dumps are made once.
class BackupVerify : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    if (PostgresServer::MissingBinaries().empty()) {
      pg_ = new PostgresServer();
      pg_error_ = pg_->Start();
      if (pg_error_.empty()) pg_error_ = MakePgDumps();
    } else {
      pg_error_ = "skip: " + PostgresServer::MissingBinaries();
    }
    if (MariaDbServer::MissingBinaries().empty()) {
      db_ = new MariaDbServer();
      db_error_ = db_->Start();
      if (db_error_.empty()) db_error_ = MakeMariaDbDumps();
    } else {
      db_error_ = "skip: " + MariaDbServer::MissingBinaries();
    }
  }
  static void TearDownTestSuite() {
    delete pg_;
    delete db_;
    delete dir_;
    pg_ = nullptr;
    db_ = nullptr;
    dir_ = nullptr;
  }

  static std::string MakePgDumps() {
    auto r = pg_->Sql(
        "CREATE TABLE users (id int PRIMARY KEY, name text, note text);"
        "INSERT INTO users SELECT g, 'user ' || g, repeat(md5(g::text), 4) FROM "
        "generate_series(1, 30000) g;"
        "CREATE TABLE orders (id serial PRIMARY KEY, user_id int REFERENCES users, total numeric);"
        "INSERT INTO orders (user_id, total) SELECT g % 30000 + 1, g * 1.5 FROM "
        "generate_series(1, 20000) g;"
        "CREATE TABLE empty_table (x int);"
        "SELECT lo_from_bytea(0, decode(repeat('ab', 5000), 'hex'));");
    if (!r.ok()) return r.error().message();
    const std::string d = dir_->path();
    for (const auto& args :
         std::vector<std::vector<std::string>>{{"-Fp", "-f", d + "/plain.sql"},
                                               {"-Fc", "-f", d + "/custom.dump"},
                                               {"-Fc", "-Z0", "-f", d + "/custom0.dump"},
                                               {"-Fd", "-f", d + "/dir"},
                                               {"-Fd", "-Z0", "-f", d + "/dir0"},
                                               {"-Ft", "-f", d + "/dump.tar"}}) {
      auto dump = pg_->PgDump(args);
      if (!dump.ok()) return dump.error().message();
    }
    // Through a pipe pg_dump cannot seek back to record data offsets.
    auto piped = pg_->PgDump({"-Fc"});
    if (!piped.ok()) return piped.error().message();
    Spit(d + "/piped.dump", *piped);
    for (const auto& cmd :
         std::vector<std::vector<std::string>>{{"gzip", "-k", d + "/plain.sql"},
                                               {"zstd", "-q", "-k", d + "/plain.sql"},
                                               {"gzip", "-k", d + "/dump.tar"},
                                               {"zstd", "-q", "-k", d + "/custom0.dump"}}) {
      if (auto e = RunTool(cmd); !e.empty()) return cmd[0] + ": " + e;
    }
    auto v = pg_->ServerVersion();
    if (!v.ok()) return v.error().message();
    server_version_ = *v;
    return "";
  }

  static std::string MakeMariaDbDumps() {
    auto r = db_->Sql(
        "CREATE TABLE items (id int PRIMARY KEY, name varchar(100));"
        "INSERT INTO items SELECT seq, CONCAT('item ', seq) FROM seq_1_to_5000;");
    if (!r.ok()) return r.error().message();
    auto dump = db_->Dump({"--single-transaction", db_->database()});
    if (!dump.ok()) return dump.error().message();
    Spit(dir_->path() + "/maria.sql", *dump);
    return RunTool({"gzip", "-k", dir_->path() + "/maria.sql"});
  }

  void SetUp() override {
    const bool needs_pg =
        std::string(::testing::UnitTest::GetInstance()->current_test_info()->name())
            .find("Maria") == std::string::npos;
    const std::string& e = needs_pg ? pg_error_ : db_error_;
    if (e.rfind("skip: ", 0) == 0) GTEST_SKIP() << e.substr(6);
    ASSERT_EQ(e, "");
  }

  static std::string P(const std::string& name) { return dir_->path() + "/" + name; }
  // A copy of `name` cut to `size` bytes.
  static std::string Truncated(const std::string& name, std::size_t size) {
    const std::string data = Slurp(P(name));
    const std::string out =
        P("cut-" + std::to_string(size) + "-" + fs::path(name).filename().string());
    Spit(out, data.substr(0, std::min(size, data.size())));
    return out;
  }

  static TempDir* dir_;
  static PostgresServer* pg_;
  static MariaDbServer* db_;
  static std::string pg_error_, db_error_, server_version_;
};

TempDir* BackupVerify::dir_ = nullptr;
PostgresServer* BackupVerify::pg_ = nullptr;
MariaDbServer* BackupVerify::db_ = nullptr;
std::string BackupVerify::pg_error_, BackupVerify::db_error_, BackupVerify::server_version_;

TEST_F(BackupVerify, GoodPostgresDumpsPass) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"plain.sql", "pg_dump-plain"},          {"plain.sql.gz", "gzip+pg_dump-plain"},
      {"plain.sql.zst", "zstd+pg_dump-plain"}, {"custom.dump", "pg_dump-custom"},
      {"custom0.dump", "pg_dump-custom"},      {"custom0.dump.zst", "zstd+pg_dump-custom"},
      {"piped.dump", "pg_dump-custom"},        {"dir", "pg_dump-directory"},
      {"dir0", "pg_dump-directory"},           {"dump.tar", "pg_dump-tar"},
      {"dump.tar.gz", "gzip+pg_dump-tar"},
  };
  for (const auto& [name, format] : cases) {
    SCOPED_TRACE(name);
    ArtifactVerdict v = VerifyArtifact(P(name));
    EXPECT_EQ(v.status, CheckStatus::kOk) << Describe(v);
    EXPECT_EQ(v.format, format);
    ASSERT_TRUE(v.pg.has_value());
    EXPECT_EQ(v.pg->server_version, server_version_);
    EXPECT_EQ(v.pg->server_major, "15");
    EXPECT_EQ(v.pg->pg_dump_major, "15");
    EXPECT_GT(v.size_bytes, 0u);
  }
  ArtifactVerdict custom = VerifyArtifact(P("custom.dump"));
  EXPECT_NE(custom.summary.find("pg_dump custom archive"), std::string::npos) << custom.summary;
  EXPECT_NE(custom.summary.find("database mamori_test"), std::string::npos) << custom.summary;
  EXPECT_EQ(custom.details["compression"], "gzip");
  EXPECT_EQ(custom.details["archive_format"], "custom");
  // users, orders, empty_table, the sequence has no data block; plus the
  // large objects block.
  EXPECT_GE(custom.details["data_blocks"].get<int>(), 4);
  EXPECT_GT(custom.details["data_bytes"].get<std::uint64_t>(), 1'000'000u);
  EXPECT_GT(custom.details["toc_entries"].get<int>(), 8);
  ArtifactVerdict dir = VerifyArtifact(P("dir"));
  EXPECT_GE(dir.details["data_files"].get<int>(), 5) << dir.details.dump();
}

TEST_F(BackupVerify, CustomArchiveTruncatedAnywhereIsCritical) {
  for (const std::string name : {"custom.dump", "custom0.dump", "piped.dump"}) {
    const std::size_t size = fs::file_size(P(name));
    // Inside the header, inside the TOC, and at 40 points through the data.
    std::vector<std::size_t> cuts = {6, 10, 40, 300};
    for (int i = 1; i < 40; ++i) cuts.push_back(size * i / 40);
    cuts.push_back(size - 1);
    for (std::size_t cut : cuts) {
      SCOPED_TRACE(name + " cut at " + std::to_string(cut));
      ArtifactVerdict v = VerifyArtifact(Truncated(name, cut));
      EXPECT_EQ(v.status, CheckStatus::kCritical) << Describe(v);
      EXPECT_NE(v.summary.find("truncated"), std::string::npos) << v.summary;
      fs::remove(P("cut-" + std::to_string(cut) + "-" + name));
    }
  }
}

TEST_F(BackupVerify, CustomArchiveTruncationNamesTheTocEntry) {
  // Cut right after the TOC (the header is valid): every data block is gone.
  const std::size_t size = fs::file_size(P("custom0.dump"));
  ArtifactVerdict v = VerifyArtifact(Truncated("custom0.dump", size / 2));
  ASSERT_EQ(v.status, CheckStatus::kCritical);
  EXPECT_NE(v.summary.find("pg_dump custom archive truncated: data block for TOC entry"),
            std::string::npos)
      << v.summary;
  EXPECT_NE(v.summary.find("TABLE DATA public"), std::string::npos) << v.summary;
  EXPECT_NE(v.summary.find(std::to_string(size / 2)), std::string::npos) << v.summary;
}

TEST_F(BackupVerify, PlainDumpTruncatedIsCritical) {
  const std::size_t size = fs::file_size(P("plain.sql"));
  for (std::size_t cut : {std::size_t{200}, size / 3, size / 2, size - 200}) {
    SCOPED_TRACE(cut);
    ArtifactVerdict v = VerifyArtifact(Truncated("plain.sql", cut));
    EXPECT_EQ(v.status, CheckStatus::kCritical) << Describe(v);
    EXPECT_NE(v.summary.find("trailer 'PostgreSQL database dump complete' missing"),
              std::string::npos)
        << v.summary;
  }
  // Newer pg_dump writes \unrestrict after the trailer: a dump cut just
  // before it has the trailer but is still incomplete.
  ASSERT_NE(Slurp(P("plain.sql")).find("\\unrestrict"), std::string::npos);
  ArtifactVerdict v = VerifyArtifact(Truncated("plain.sql", size - 40));
  EXPECT_EQ(v.status, CheckStatus::kCritical) << Describe(v);
  EXPECT_NE(v.summary.find("closing '\\unrestrict' line is missing"), std::string::npos)
      << v.summary;
}

TEST_F(BackupVerify, GzipDamageIsCriticalWithTheCause) {
  const std::string gz = Slurp(P("plain.sql.gz"));
  // A flipped byte in the deflate data.
  std::string flipped = gz;
  flipped[gz.size() / 2] = static_cast<char>(flipped[gz.size() / 2] ^ 0x55);
  Spit(P("flipped.sql.gz"), flipped);
  ArtifactVerdict v = VerifyArtifact(P("flipped.sql.gz"));
  EXPECT_EQ(v.status, CheckStatus::kCritical) << Describe(v);
  EXPECT_EQ(v.summary.rfind("gzip: ", 0), 0u) << v.summary;
  EXPECT_EQ(v.format, "gzip+pg_dump-plain");
  // A flipped byte in the stored CRC.
  std::string crc = gz;
  crc[gz.size() - 8] = static_cast<char>(crc[gz.size() - 8] ^ 0x01);
  Spit(P("crc.sql.gz"), crc);
  v = VerifyArtifact(P("crc.sql.gz"));
  EXPECT_EQ(v.status, CheckStatus::kCritical);
  EXPECT_NE(v.summary.find("gzip: CRC mismatch in member 1 at byte " +
                           std::to_string(gz.size() - 8) + " (stored 0x"),
            std::string::npos)
      << v.summary;
  EXPECT_NE(v.summary.find(", computed 0x"), std::string::npos) << v.summary;
  // Truncated.
  v = VerifyArtifact(Truncated("plain.sql.gz", gz.size() / 2));
  EXPECT_EQ(v.status, CheckStatus::kCritical);
  EXPECT_NE(v.summary.find("gzip: unexpected end of file in member 1"), std::string::npos)
      << v.summary;
  // The zstd copy, truncated.
  v = VerifyArtifact(Truncated("plain.sql.zst", fs::file_size(P("plain.sql.zst")) - 5));
  EXPECT_EQ(v.status, CheckStatus::kCritical);
  EXPECT_EQ(v.summary.rfind("zstd: ", 0), 0u) << v.summary;
}

TEST_F(BackupVerify, TarWithoutItsEndIsCritical) {
  std::string tar = Slurp(P("dump.tar"));
  // Remove the end-of-archive blocks (and record padding): the archive now
  // stops right after its last entry.
  while (tar.size() >= 512 && tar.substr(tar.size() - 512) == std::string(512, '\0'))
    tar.resize(tar.size() - 512);
  Spit(P("noend.tar"), tar);
  ArtifactVerdict v = VerifyArtifact(P("noend.tar"));
  EXPECT_EQ(v.status, CheckStatus::kCritical) << Describe(v);
  EXPECT_NE(v.summary.find("tar: end-of-archive marker missing"), std::string::npos) << v.summary;
  v = VerifyArtifact(Truncated("dump.tar", tar.size() / 2 + 100));
  EXPECT_EQ(v.status, CheckStatus::kCritical) << Describe(v);
}

TEST_F(BackupVerify, DirectoryArchiveMissingOrDamagedFilesAreCritical) {
  fs::copy(P("dir"), P("dir-missing"), fs::copy_options::recursive);
  fs::path victim;
  for (const auto& e : fs::directory_iterator(P("dir-missing")))
    if (e.path().filename().string().ends_with(".dat.gz") &&
        (victim.empty() || fs::file_size(e.path()) > fs::file_size(victim)))
      victim = e.path();
  ASSERT_FALSE(victim.empty());
  fs::remove(victim);
  ArtifactVerdict v = VerifyArtifact(P("dir-missing"));
  EXPECT_EQ(v.status, CheckStatus::kCritical) << Describe(v);
  EXPECT_NE(v.summary.find("pg_dump directory archive incomplete: data file"), std::string::npos)
      << v.summary;
  EXPECT_NE(v.summary.find("is missing"), std::string::npos) << v.summary;

  fs::copy(P("dir"), P("dir-cut"), fs::copy_options::recursive);
  const std::string victim2 = P("dir-cut") + "/" + victim.filename().string();
  const std::string data = Slurp(victim2);
  Spit(victim2, data.substr(0, data.size() / 2));
  v = VerifyArtifact(P("dir-cut"));
  EXPECT_EQ(v.status, CheckStatus::kCritical) << Describe(v);
  EXPECT_NE(v.summary.find(victim.filename().string() + " (TOC entry"), std::string::npos)
      << v.summary;
  EXPECT_NE(v.summary.find("gzip: unexpected end of file"), std::string::npos) << v.summary;

  fs::copy(P("dir"), P("dir-toc"), fs::copy_options::recursive);
  const std::string toc = Slurp(P("dir-toc") + "/toc.dat");
  Spit(P("dir-toc") + "/toc.dat", toc.substr(0, toc.size() - 20));
  v = VerifyArtifact(P("dir-toc"));
  EXPECT_EQ(v.status, CheckStatus::kCritical) << Describe(v);
  EXPECT_NE(v.summary.find("truncated in its table of contents"), std::string::npos) << v.summary;
}

TEST_F(BackupVerify, VersionSkewIsCriticalWithTheCause) {
  // Incident 4's shape, in a real plain dump's header: pg_dump 9.2 against
  // a 9.6 server.
  std::string plain = Slurp(P("plain.sql"));
  const std::string from = "-- Dumped from database version " + server_version_;
  const auto at = plain.find(from);
  ASSERT_NE(at, std::string::npos);
  plain.replace(at, from.size(), "-- Dumped from database version 9.6.1");
  const auto by = plain.find("-- Dumped by pg_dump version ");
  ASSERT_NE(by, std::string::npos);
  plain.replace(by, plain.find('\n', by) - by, "-- Dumped by pg_dump version 9.2.24");
  Spit(P("skew.sql"), plain);
  ArtifactVerdict v = VerifyArtifact(P("skew.sql"));
  EXPECT_EQ(v.status, CheckStatus::kCritical) << Describe(v);
  EXPECT_EQ(v.summary,
            "pg_dump 9.2.24 dumped a 9.6.1 server: major versions differ; use the pg_dump of the "
            "server's major version (9.6)");
  ASSERT_TRUE(v.pg);
  EXPECT_EQ(v.pg->pg_dump_major, "9.2");
  EXPECT_EQ(v.pg->server_major, "9.6");

  // In a custom archive's header: same-length edit so every offset holds.
  std::string custom = Slurp(P("custom.dump"));
  const std::string dumper = server_version_;  // pg_dump 15 wrote both
  const auto second = custom.find(dumper, custom.find(dumper) + 1);
  ASSERT_NE(second, std::string::npos);
  custom.replace(second, 2, "14");
  Spit(P("skew.dump"), custom);
  v = VerifyArtifact(P("skew.dump"));
  EXPECT_EQ(v.status, CheckStatus::kCritical) << Describe(v);
  EXPECT_NE(v.summary.find("pg_dump 14."), std::string::npos) << v.summary;
  EXPECT_NE(v.summary.find("server: major versions differ; use the pg_dump of the server's major "
                           "version (15)"),
            std::string::npos)
      << v.summary;
  // A newer pg_dump is how upgrades are done: allowed on request only.
  custom = Slurp(P("custom.dump"));
  custom.replace(custom.find(dumper), 2, "14");  // the server now reads 14
  Spit(P("newer.dump"), custom);
  EXPECT_EQ(VerifyArtifact(P("newer.dump")).status, CheckStatus::kCritical);
  VerifyOptions o;
  o.allow_newer_pg_dump = true;
  EXPECT_EQ(VerifyArtifact(P("newer.dump"), o).status, CheckStatus::kOk);
}

TEST_F(BackupVerify, TinyErrorMessageInsteadOfADumpIsCritical) {
  Spit(P("db.dump"), "pg_dump: error: aborting because of server version mismatch\n");
  ArtifactVerdict v = VerifyArtifact(P("db.dump"));
  EXPECT_EQ(v.status, CheckStatus::kCritical);
  EXPECT_EQ(v.summary,
            "not a pg_dump archive: 60 bytes of text: 'pg_dump: error: aborting because of server "
            "version mismatch'");
  Spit(P("zero.dump"), "");
  v = VerifyArtifact(P("zero.dump"));
  EXPECT_EQ(v.status, CheckStatus::kCritical);
  EXPECT_EQ(v.summary, "empty file (0 bytes)");
  EXPECT_EQ(v.format, "empty");
}

TEST_F(BackupVerify, ManifestBesideTheArtifactIsChecked) {
  fs::create_directories(P("sums"));
  fs::copy_file(P("plain.sql.gz"), P("sums/plain.sql.gz"));
  ASSERT_EQ(RunTool({"sh", "-c", "cd " + P("sums") + " && sha256sum plain.sql.gz > SHA256SUMS"}),
            "");
  ArtifactVerdict v = VerifyArtifact(P("sums/plain.sql.gz"));
  EXPECT_EQ(v.status, CheckStatus::kOk) << Describe(v);
  EXPECT_EQ(v.details["sha256_verified"], true);
  ASSERT_TRUE(v.sha256);
  EXPECT_EQ(Slurp(P("sums/SHA256SUMS")).substr(0, 64), *v.sha256);
  // The manifest itself as the artifact.
  v = VerifyArtifact(P("sums/SHA256SUMS"));
  EXPECT_EQ(v.status, CheckStatus::kOk) << Describe(v);
  EXPECT_EQ(v.format, "sha256-manifest");
  // A manifest that disagrees.
  std::string sums = Slurp(P("sums/SHA256SUMS"));
  sums[0] = sums[0] == '0' ? '1' : '0';
  Spit(P("sums/SHA256SUMS"), sums);
  v = VerifyArtifact(P("sums/plain.sql.gz"));
  EXPECT_EQ(v.status, CheckStatus::kCritical);
  EXPECT_NE(v.summary.find("SHA256SUMS: checksum mismatch"), std::string::npos) << v.summary;
}

TEST_F(BackupVerify, MariaDbDumpsPassAndTruncatedOnesFail) {
  ArtifactVerdict v = VerifyArtifact(P("maria.sql"));
  EXPECT_EQ(v.status, CheckStatus::kOk) << Describe(v);
  EXPECT_EQ(v.format, "mysqldump");
  EXPECT_NE(v.summary.find("mariadb-dump of mamori_test complete"), std::string::npos) << v.summary;
  EXPECT_EQ(v.details["tool"], "mariadb-dump");
  v = VerifyArtifact(P("maria.sql.gz"));
  EXPECT_EQ(v.status, CheckStatus::kOk) << Describe(v);
  EXPECT_EQ(v.format, "gzip+mysqldump");
  const std::size_t size = fs::file_size(P("maria.sql"));
  for (std::size_t cut : {std::size_t{1500}, size / 2, size - 40}) {
    SCOPED_TRACE(cut);
    v = VerifyArtifact(Truncated("maria.sql", cut));
    EXPECT_EQ(v.status, CheckStatus::kCritical) << Describe(v);
    EXPECT_NE(v.summary.find("mariadb-dump output incomplete: trailer '-- Dump completed' missing"),
              std::string::npos)
        << v.summary;
  }
}

}  // namespace
}  // namespace mamori::backup
