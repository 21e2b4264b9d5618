// Replay of incident 4 (INCIDENTS.md, the GitLab.com database incident): all
// backup mechanisms had failed silently. pg_dump 9.2 ran against a 9.6
// server and wrote a few bytes of error text instead of a dump, the failure
// mails were rejected by DMARC, and the cleanup deleted the older dumps.
// What mamori must catch, against a real PostgreSQL 15 started here:
//   - a "dump" that is pg_dump's error message is CRITICAL and quotes it;
//   - a dump written by an older pg_dump major than its server: CRITICAL
//     with both versions;
//   - a cleanup that kept only today's dump (min_count), and a dump that
//     collapsed in size against the history of good ones;
//   - an offsite location that is empty;
//   - the failure mail rejected with 550 5.7.1 (DMARC): the webhook gets the
//     backup failure and the alarm about the mail channel, with the reply;
//   - a restore test that restores the newest dump into a scratch database
//     and counts rows, and fails on a dump that decodes but does not restore.
// Every step drives the real `mamori` binary (`backup verify`, `check`,
// `run`); the dumps are real pg_dump output, edited only where the incident
// had a different pg_dump (only version 15 is installed).
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "testing/cli.h"
#include "testing/notify_servers.h"
#include "testing/postgres.h"

namespace mamori {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::PostgresServer;
using testing::RunMamori;

constexpr const char* kErrorText = "pg_dump: error: aborting because of server version mismatch";
constexpr int kUsers = 20000;

bool Contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// Dumps are written nightly; give each file the age it would have.
void SetAge(const fs::path& p, std::chrono::system_clock::duration age) {
  const auto when = std::chrono::system_clock::now() - age;
  const auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(when.time_since_epoch()).count();
  struct timespec ts[2];
  ts[0].tv_sec = ts[1].tv_sec = ns / 1'000'000'000;
  ts[0].tv_nsec = ts[1].tv_nsec = ns % 1'000'000'000;
  ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), ts, 0), 0) << p;
}

std::string ReadAll(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

void WriteAll(const fs::path& p, const std::string& content) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << content;
}

// `mamori check --json --only NAME`: the one result, or {"status": "no result"}.
nlohmann::json CheckJson(const std::string& config, const std::string& only) {
  auto r = RunMamori({"check", "-c", config, "--json", "--only", only});
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  if (!j.is_array() || j.size() != 1)
    return nlohmann::json{{"status", "no result"}, {"out", r.out}, {"err", r.err}};
  return j[0];
}

std::string Summary(const nlohmann::json& j) {
  return j.contains("summary") && j["summary"].is_string() ? j["summary"].get<std::string>() : "";
}

// One PostgreSQL 15 cluster for the whole replay, holding the "production"
// database with a users table.
class ScenarioSilentBackups : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!PostgresServer::MissingBinaries().empty()) return;
    pg_ = new PostgresServer();
    error_ = pg_->Start();
    if (!error_.empty()) return;
    auto r = pg_->Sql(
        fmt::format("CREATE TABLE users (id serial PRIMARY KEY, name text NOT NULL);"
                    "INSERT INTO users (name) SELECT 'user ' || g FROM generate_series(1, {}) g;",
                    kUsers));
    if (!r.ok()) error_ = r.error().message();
  }
  static void TearDownTestSuite() {
    delete pg_;
    pg_ = nullptr;
  }

  void SetUp() override {
    if (!pg_) GTEST_SKIP() << PostgresServer::MissingBinaries();
    ASSERT_EQ(error_, "");
    backups_ = fs::path(dir_.path()) / "backups";
    fs::create_directories(backups_);
  }

  // A real pg_dump of the production database, `age` old.
  fs::path Dump(const std::string& name, std::chrono::system_clock::duration age,
                const std::string& format = "-Fp", const std::string& database = "") {
    const fs::path p = backups_ / name;
    auto r = pg_->PgDump({format, "-f", p.string()}, database);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message());
    SetAge(p, age);
    return p;
  }

  std::string Config(const std::string& checks) const {
    return dir_.Write("mamori.yaml", "data_dir: " + dir_.path() + "/data\nchecks:\n" + checks);
  }

  static PostgresServer* pg_;
  static std::string error_;
  testing::TempDir dir_;
  fs::path backups_;
};

PostgresServer* ScenarioSilentBackups::pg_ = nullptr;
std::string ScenarioSilentBackups::error_;

// What the cron job left when pg_dump refused the server: a few bytes of
// error text under the dump's name. The job's exit status was never read.
TEST_F(ScenarioSilentBackups, ErrorTextInsteadOfADumpIsCritical) {
  const fs::path good = Dump("gitlab-1.sql", 26h);
  const fs::path bad = backups_ / "gitlab-2.sql";
  WriteAll(bad, std::string(kErrorText) + "\n");

  auto r = RunMamori({"backup", "verify", "--json", good.string(), bad.string()});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;  // CRITICAL
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_array() && j.size() == 2) << r.out << r.err;
  EXPECT_EQ(j[0]["status"], "ok") << j[0].dump();
  EXPECT_EQ(j[0]["format"], "pg_dump-plain");
  EXPECT_EQ(j[1]["path"], bad.string());
  EXPECT_EQ(j[1]["status"], "critical") << j[1].dump();
  EXPECT_EQ(j[1]["size_bytes"], 60);
  EXPECT_EQ(Summary(j[1]),
            fmt::format("not a pg_dump archive: 60 bytes of text: '{}'", kErrorText));
}

// The dump's header says which pg_dump wrote it from which server. Only
// pg_dump 15 is installed, so a real dump's "Dumped by" line is edited to
// the incident's 9.2 (the bytes are otherwise pg_dump's own).
TEST_F(ScenarioSilentBackups, DumpFromAnOlderPgDumpNamesBothVersions) {
  auto server = pg_->ServerVersion();
  ASSERT_TRUE(server.ok()) << server.error().message();
  const fs::path p = Dump("gitlab.sql", 2h);
  std::string text = ReadAll(p);
  const std::string by = "-- Dumped by pg_dump version ";
  const size_t at = text.find(by);
  ASSERT_NE(at, std::string::npos) << text.substr(0, 400);
  const size_t eol = text.find('\n', at);
  text.replace(at + by.size(), eol - at - by.size(), "9.2.24");
  WriteAll(p, text);
  SetAge(p, 2h);

  auto r = RunMamori({"backup", "verify", "--json", p.string()});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_array() && j.size() == 1) << r.out << r.err;
  EXPECT_EQ(j[0]["status"], "critical") << j[0].dump();
  EXPECT_EQ(j[0]["pg"]["pg_dump_major"], "9.2") << j[0].dump();
  EXPECT_EQ(j[0]["pg"]["server_major"], "15") << j[0].dump();
  const std::string summary = Summary(j[0]);
  const std::string short_server = server->substr(0, server->find(' '));  // "15.18"
  EXPECT_TRUE(Contains(summary, "pg_dump 9.2.24 dumped a " + short_server + " server")) << summary;
  EXPECT_TRUE(Contains(summary, "major versions differ")) << summary;
  EXPECT_TRUE(Contains(summary, "(15)")) << summary;

  // The incident's own pair: pg_dump 9.2 and a 9.6 server.
  const std::string from = "-- Dumped from database version ";
  const size_t fat = text.find(from);
  ASSERT_NE(fat, std::string::npos);
  text.replace(fat + from.size(), text.find('\n', fat) - fat - from.size(), "9.6.1");
  const fs::path incident = backups_ / "gitlab-2017-01-31.sql";
  WriteAll(incident, text);
  SetAge(incident, 3h);
  r = RunMamori({"backup", "verify", incident.string()});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_TRUE(Contains(r.out, "CRITICAL " + incident.string() +
                                  " (pg_dump-plain): pg_dump 9.2.24 dumped a 9.6.1 server: major "
                                  "versions differ; use the pg_dump of the server's major version "
                                  "(9.6)"))
      << r.out;

  // The cause itself, before any dump is written: the pg_dump the job runs
  // against the live server. A script stands in for pg_dump 9.2 (not
  // installed); it only answers --version, which is all that is asked.
  const std::string fake =
      dir_.Write("pg_dump-9.2", "#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.2.24'\n");
  fs::permissions(fake, fs::perms::owner_all);
  const std::string config = Config(
      "  - {name: db-nightly, type: backup, path: " + backups_.string() +
      ", server: {type: postgres, dsn: '" + pg_->ConnInfo() + "', pg_dump: " + fake + "}}\n");
  auto check = CheckJson(config, "db-nightly");
  EXPECT_EQ(check["status"], "critical") << check.dump();
  EXPECT_TRUE(Contains(Summary(check), "is pg_dump 9.2.24, the server is " + *server))
      << check.dump();
  EXPECT_TRUE(Contains(Summary(check), "version skew: written by pg_dump 9.2.24")) << check.dump();
}

// The cleanup kept deleting the old dumps, so when the newest were useless
// there was nothing to fall back on. Then: a dump that decodes, but is a
// fraction of the size of every dump before it.
TEST_F(ScenarioSilentBackups, CleanupThatKeptOnlyTodaysDumpAndSizeCollapse) {
  std::vector<fs::path> nightly;
  for (int day = 4; day >= 0; --day)
    nightly.push_back(Dump(fmt::format("gitlab-{}.sql", 5 - day), day * 24h + 2h));
  const std::string config = Config("  - {name: db-nightly, type: backup, path: '" +
                                    backups_.string() + "/gitlab-*.sql', min_count: 5}\n");
  auto ok = CheckJson(config, "db-nightly");
  EXPECT_EQ(ok["status"], "ok") << ok.dump();
  EXPECT_TRUE(Contains(Summary(ok), "5 kept")) << ok.dump();

  for (size_t i = 0; i + 1 < nightly.size(); ++i) fs::remove(nightly[i]);
  auto gone = CheckJson(config, "db-nightly");
  EXPECT_EQ(gone["status"], "critical") << gone.dump();
  EXPECT_TRUE(Contains(Summary(gone), "only 1 backup kept (min_count 5); 4 older ones vanished"))
      << gone.dump();
  EXPECT_EQ(gone["metrics"]["count"], 1) << gone.dump();
  EXPECT_EQ(gone["metrics"]["vanished"], 4) << gone.dump();

  // Size against history: three good nights, each checked as it arrives,
  // then a valid dump of a database that is empty (the job pointed at the
  // wrong database, or the data was gone).
  const fs::path sized = fs::path(dir_.path()) / "sized";
  fs::create_directories(sized);
  const std::string sized_config =
      Config("  - {name: db-sized, type: backup, path: " + sized.string() + "}\n");
  for (int night = 1; night <= 3; ++night) {
    const fs::path p = sized / fmt::format("gitlab-{}.sql", night);
    ASSERT_TRUE(pg_->PgDump({"-Fp", "-f", p.string()}).ok());
    SetAge(p, (4 - night) * 24h);
    auto j = CheckJson(sized_config, "db-sized");
    EXPECT_EQ(j["status"], "ok") << "night " << night << ": " << j.dump();
  }
  ASSERT_TRUE(pg_->Sql("CREATE DATABASE gitlab_empty").ok());
  const fs::path tiny = sized / "gitlab-4.sql";
  ASSERT_TRUE(pg_->PgDump({"-Fp", "-f", tiny.string()}, "gitlab_empty").ok());
  SetAge(tiny, 2h);
  auto collapsed = CheckJson(sized_config, "db-sized");
  EXPECT_EQ(collapsed["status"], "critical") << collapsed.dump();
  EXPECT_TRUE(Contains(Summary(collapsed), "newest gitlab-4.sql is "));
  EXPECT_TRUE(Contains(Summary(collapsed), "smaller than the previous good one (gitlab-3.sql"))
      << collapsed.dump();
  EXPECT_TRUE(Contains(Summary(collapsed), "newest good one is 1d 0h old (gitlab-3.sql)"))
      << collapsed.dump();
  EXPECT_LT(collapsed["metrics"]["size_change_percent"].get<double>(), -90) << collapsed.dump();
  ASSERT_TRUE(pg_->Sql("DROP DATABASE gitlab_empty", "postgres").ok());
}

// The S3 bucket meant to hold copies of the dumps was empty, and nothing
// said so. The listing command stands in for the bucket's (no S3 here): it
// prints sha256sum lines for what a local directory holds.
TEST_F(ScenarioSilentBackups, EmptyOffsiteBucketIsCritical) {
  const fs::path dump = Dump("gitlab-1.sql", 3h);
  const fs::path bucket = fs::path(dir_.path()) / "bucket";
  fs::create_directories(bucket);
  const std::string config =
      Config("  - {name: db-offsite, type: backup, path: " + backups_.string() +
             ", offsite: {command: [sh, -c, 'cd " + bucket.string() +
             " && for f in *; do [ -f \"$f\" ] && sha256sum \"$f\"; done; true']}}\n");
  auto empty = CheckJson(config, "db-offsite");
  EXPECT_EQ(empty["status"], "critical") << empty.dump();
  EXPECT_TRUE(Contains(Summary(empty), "offsite location is empty")) << empty.dump();

  fs::copy_file(dump, bucket / "gitlab-1.sql");
  auto copied = CheckJson(config, "db-offsite");
  EXPECT_EQ(copied["status"], "ok") << copied.dump();
  EXPECT_TRUE(Contains(Summary(copied), "offsite copy matches (sha256")) << copied.dump();
}

// The failure mails were rejected by DMARC and nobody saw it. The daemon
// judges the backup CRITICAL, the mail server refuses the alert with 550
// 5.7.1, and the webhook hears both the backup failure and that the mail
// channel is failing, in the receiver's words.
TEST_F(ScenarioSilentBackups, RejectedFailureMailIsAlertedOnTheWebhook) {
  std::string error;
  auto smtp = testing::SmtpSink::Start(&error);
  ASSERT_TRUE(smtp) << error;
  auto hook = testing::WebhookSink::Start(&error);
  ASSERT_TRUE(hook) << error;
  const std::string reject = "550 5.7.1 Unauthenticated email is not accepted due to DMARC policy";
  smtp->RejectWith(reject);

  Dump("gitlab-1.sql", 26h);
  const fs::path bad = backups_ / "gitlab-2.sql";
  WriteAll(bad, std::string(kErrorText) + "\n");
  SetAge(bad, 2h);
  const std::string config =
      dir_.Write("mamori.yaml", "data_dir: " + dir_.path() +
                                    "/data\n"
                                    "outbox: {retry_first: 1s, retry_max: 2s}\n"
                                    "alerting: {group_wait: 200ms, channel_failing_after: 2}\n"
                                    "notify:\n"
                                    "  - {name: ops-mail, type: email, smtp: '" +
                                    smtp->Url() +
                                    "', from: backups@example.org, to: [ops@example.org]}\n"
                                    "  - {name: hook, type: webhook, url: '" +
                                    hook->Url() +
                                    "'}\n"
                                    "checks:\n"
                                    "  - {name: db-nightly, type: backup, interval: 2s, path: " +
                                    backups_.string() + "}\n");
  testing::DaemonProcess d({"-c", config}, dir_.path() + "/daemon.log");
  ASSERT_TRUE(d.WaitForLog("db-nightly: PENDING -> CRITICAL")) << d.Log();

  auto request_with = [&](const std::string& a, const std::string& b) {
    for (const auto& r : hook->Requests())
      if (Contains(r, a) && Contains(r, b)) return r;
    return std::string();
  };
  std::string failure, alarm;
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        failure = request_with("db-nightly", "not a pg_dump archive: 60 bytes of text");
        alarm = request_with("notify:ops-mail", "rejected");
        return !failure.empty() && !alarm.empty();
      },
      20))
      << d.Log();
  EXPECT_TRUE(Contains(failure, kErrorText)) << failure;
  EXPECT_TRUE(Contains(failure, "newest good one is 1d 2h old (gitlab-1.sql)")) << failure;
  EXPECT_TRUE(Contains(alarm, reject)) << alarm;
  EXPECT_TRUE(Contains(alarm, "mail to ops@example.org")) << alarm;
  EXPECT_TRUE(smtp->Messages().empty());  // every mail was refused
  d.Signal(SIGTERM);
  EXPECT_EQ(d.Wait(), 0) << d.Log();
}

// A backup is proven by restoring it. The newest dump is restored into a
// scratch database and its rows are counted; then a dump whose middle was
// hit by a block of zeros (header and trailer intact, so it decodes as a
// complete plain dump) is caught by the restore itself.
TEST_F(ScenarioSilentBackups, RestoreTestCountsRowsAndCatchesADumpThatDoesNotRestore) {
  Dump("gitlab-1.sql", 26h);
  const std::string config = Config(
      "  - name: db-nightly\n"
      "    type: backup\n"
      "    path: " +
      backups_.string() +
      "\n"
      "    restore:\n"
      "      type: postgres\n"
      "      dsn: '" +
      pg_->ConnInfo("postgres") +
      "'\n"
      "      database: gitlab_restore_test\n"
      "      bin_dir: " +
      pg_->bin_dir() +
      "\n"
      "      assertions:\n" +
      fmt::format("        - {{query: 'SELECT count(*) FROM users', min: {}}}\n", kUsers));
  auto ok = CheckJson(config, "db-nightly");
  EXPECT_EQ(ok["status"], "ok") << ok.dump();
  EXPECT_TRUE(Contains(Summary(ok), fmt::format("users {} rows", kUsers))) << ok.dump();
  EXPECT_TRUE(Contains(Summary(ok), "restore ")) << ok.dump();
  ASSERT_TRUE(ok["metrics"].contains("restore_s")) << ok.dump();
  EXPECT_GT(ok["metrics"]["restore_s"].get<double>(), 0) << ok.dump();
  auto left = pg_->Sql("SELECT count(*) FROM pg_database WHERE datname = 'gitlab_restore_test'",
                       "postgres");
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(*left, "0\n");  // the scratch database was dropped again

  // Tonight's dump: 4 KiB of zeros in the middle of the users data, where a
  // content check that reads the head and the tail does not look.
  const fs::path damaged = Dump("gitlab-2.sql", 2h);
  std::string text = ReadAll(damaged);
  ASSERT_GT(text.size(), 200'000u);
  text.replace(text.size() / 2, 4096, std::string(4096, '\0'));
  WriteAll(damaged, text);
  SetAge(damaged, 2h);
  auto verify = RunMamori({"backup", "verify", damaged.string()});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  auto bad = CheckJson(config, "db-nightly");
  EXPECT_EQ(bad["status"], "critical") << bad.dump();
  EXPECT_TRUE(Contains(Summary(bad), "restore test failed")) << bad.dump();
  EXPECT_TRUE(Contains(Summary(bad), "newest good one is 1d 2h old (gitlab-1.sql)")) << bad.dump();
}

}  // namespace
}  // namespace mamori
