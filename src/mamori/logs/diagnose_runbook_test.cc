// Findings whose summary and runbook are filled from the evidence: the lines
// users reported as unknown or half-filled (issue #18) are diagnosed from real
// files, the runbook names the database, table, socket and pool of the line and
// greps the file that was read, and a corruption that stops MariaDB gets the
// recovery path in order. Also the placeholder rules of runbook text.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "mamori/config/diagnostics.h"
#include "mamori/logs/diagnose.h"
#include "mamori/logs/rule_loader.h"
#include "mamori_source_dir.h"

namespace mamori::logs {
namespace {

class DiagnoseRunbookTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto rules = LoadRules({std::string(MAMORI_SOURCE_DIR) + "/rules"});
    ASSERT_TRUE(rules.ok()) << rules.error().message();
    auto s = SignatureScanner::Compile(std::move(rules).value());
    ASSERT_TRUE(s.ok()) << s.error().message();
    scanner_ = std::move(s).value();
  }
  static void TearDownTestSuite() { scanner_.reset(); }

  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("mamori-runbook-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes `lines` to a file under the test directory and diagnoses it.
  DiagnoseReport DiagnoseLines(const std::string& name, const std::vector<std::string>& lines) {
    path_ = (dir_ / name).string();
    std::ofstream out(path_);
    for (const auto& l : lines) out << l << "\n";
    out.close();
    DiagnoserOptions o;
    Diagnoser d(*scanner_, o);
    DiagnoseFiles({path_}, &d);
    return d.Finish();
  }
  static const Finding* Find(const DiagnoseReport& r, std::string_view id) {
    for (const auto& f : r.findings)
      if (f.signature == id) return &f;
    return nullptr;
  }
  // Index of the first step whose command contains `needle`, or -1.
  static int StepWith(const Finding& f, std::string_view needle) {
    for (size_t i = 0; i < f.runbook.size(); ++i)
      if (f.runbook[i].command.find(needle) != std::string::npos) return static_cast<int>(i);
    return -1;
  }
  static void ExpectNoPlaceholderLeft(const Finding& f) {
    for (const auto& s : f.runbook)
      for (const std::string* text : {&s.step, &s.command, &s.check}) {
        EXPECT_TRUE(RunbookPlaceholders(*text).empty()) << f.signature << ": " << *text;
        for (const char* word : {"DBNAME", "TABLENAME", "SOCKET", "LOG_FILE"})
          EXPECT_EQ(text->find(word), std::string::npos) << f.signature << ": " << *text;
      }
  }

  static std::unique_ptr<SignatureScanner> scanner_;
  std::filesystem::path dir_;
  std::string path_;
};
std::unique_ptr<SignatureScanner> DiagnoseRunbookTest::scanner_;

TEST_F(DiagnoseRunbookTest, MariaDbCorruptionIsKnownFilledAndGrepsTheFileRead) {
  auto r = DiagnoseLines(
      "mariadb-error.log",
      {"2024-05-11 08:02:41 12 [ERROR] InnoDB: Database page corruption on disk or a failed "
       "read of file './wordpress/wp_options.ibd' page [page id: space=5, page number=3]. You "
       "may have to recover from a backup.",
       "2024-05-11 08:02:44 0 [ERROR] [FATAL] InnoDB: Aborting because of a corrupted database "
       "page",
       "Got signal 6 ;", "2024-05-11 08:02:45 0 [ERROR] mariadbd got signal 6 ;"});
  EXPECT_TRUE(r.novel.empty()) << r.novel.front().template_text;
  const Finding* disk = Find(r, "mariadb.innodb-corruption-on-disk");
  ASSERT_TRUE(disk);
  EXPECT_EQ(disk->summary, "InnoDB reports corruption on disk in wordpress.wp_options");
  ASSERT_FALSE(disk->runbook.empty());
  EXPECT_NE(disk->runbook[0].command.find(path_), std::string::npos) << disk->runbook[0].command;
  EXPECT_GE(StepWith(*disk, "mysqlcheck --check wordpress wp_options"), 0);
  EXPECT_GE(StepWith(*disk, "ALTER TABLE wordpress.wp_options FORCE"), 0);
  ExpectNoPlaceholderLeft(*disk);

  const Finding* signal = Find(r, "mariadb.crashed-signal");
  ASSERT_TRUE(signal);
  EXPECT_EQ(signal->count, 2u);
  EXPECT_EQ(signal->summary, "MariaDB crashed with signal 6");
  EXPECT_NE(signal->runbook[0].command.find(path_), std::string::npos);
  ExpectNoPlaceholderLeft(*signal);
}

// A corruption that stops the server: copy first, the lowest forced-recovery
// level, dump, rebuild, and back to 0; never mysqlcheck against a server that
// does not run.
TEST_F(DiagnoseRunbookTest, FatalCorruptionRunbookRecoversInOrder) {
  auto r = DiagnoseLines("error.log", {"2024-05-11 08:02:44 0 [ERROR] [FATAL] InnoDB: Aborting "
                                       "because of a corrupted database page"});
  const Finding* f = Find(r, "mariadb.innodb-fatal-corrupt-page");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->severity, Severity::kCritical);
  EXPECT_NE(f->runbook[0].command.find(path_), std::string::npos);
  int copy = StepWith(*f, "cp -a /var/lib/mysql");
  int level1 = StepWith(*f, "innodb_force_recovery = 1");
  int level4 = StepWith(*f, "innodb_force_recovery = 4");
  int dump = StepWith(*f, "mysqldump --all-databases");
  int rebuild = StepWith(*f, "mariadb-install-db");
  ASSERT_GE(copy, 0);
  EXPECT_LT(copy, level1);
  EXPECT_LT(level1, level4);
  EXPECT_LT(level4, dump);
  EXPECT_LT(dump, rebuild);
  EXPECT_NE(f->runbook[rebuild].command.find("rm -f /etc/mysql/mariadb.conf.d/99-force-recovery"),
            std::string::npos)
      << "the rebuild sets innodb_force_recovery back to 0";
  EXPECT_EQ(f->runbook[level4].risk, StepRisk::kDestructive);
  EXPECT_EQ(StepWith(*f, "mysqlcheck --check"), -1);
  ExpectNoPlaceholderLeft(*f);
}

TEST_F(DiagnoseRunbookTest, NginxPhpFpmSocketFailuresNameTheSocketAndPool) {
  const std::string tail =
      " while connecting to upstream, client: 203.0.113.7, server: example.org, request: \"GET / "
      "HTTP/1.1\", upstream: \"fastcgi://unix:/run/php/php8.2-fpm.sock:\", host: \"example.org\"";
  auto r = DiagnoseLines(
      "error.log",
      {"2023/03/02 10:11:12 [error] 1234#1234: *56 connect() to unix:/run/php/php8.2-fpm.sock "
       "failed (111: Connection refused)" +
           tail,
       "2023/03/02 10:11:13 [crit] 1234#1234: *57 connect() to unix:/run/php/php8.2-fpm.sock "
       "failed (2: No such file or directory)" +
           tail,
       "2023/03/02 10:11:14 [error] 1234#1234: *58 connect() to unix:/run/php/php8.2-fpm.sock "
       "failed (11: Resource temporarily unavailable)" +
           tail});
  EXPECT_TRUE(r.novel.empty());
  for (const char* id : {"nginx.upstream-socket-refused", "nginx.upstream-socket-missing",
                         "nginx.upstream-socket-backlog-full"}) {
    const Finding* f = Find(r, id);
    ASSERT_TRUE(f) << id;
    EXPECT_EQ(f->count, 1u) << id;
    EXPECT_NE(f->summary.find("/run/php/php8.2-fpm.sock"), std::string::npos) << f->summary;
    EXPECT_NE(f->summary.find("pool php8.2-fpm"), std::string::npos) << f->summary;
    EXPECT_GE(StepWith(*f, "/run/php/php8.2-fpm.sock"), 0) << id;
    ExpectNoPlaceholderLeft(*f);
  }
  // The TCP rule does not claim the Unix-socket lines.
  EXPECT_FALSE(Find(r, "nginx.upstream-refused"));
}

TEST_F(DiagnoseRunbookTest, JournalLinesGrepTheJournal) {
  Diagnoser d(*scanner_, DiagnoserOptions{});
  d.BeginSource("journal");
  d.AddLine(1, "mariadbd[812]: 2024-05-11 08:02:44 0 [ERROR] mariadbd got signal 6 ;");
  auto r = d.Finish();
  const Finding* f = Find(r, "mariadb.crashed-signal");
  ASSERT_TRUE(f);
  EXPECT_NE(f->runbook[0].command.find("<(journalctl --no-pager)"), std::string::npos)
      << f->runbook[0].command;
}

TEST(RunbookTextTest, PlaceholdersAreFilledOrShownInCapitals) {
  std::vector<Field> fields = {{"database", "wordpress"}, {"socket", "/run/php/a.sock"}};
  EXPECT_EQ(RenderRunbookText("mysqlcheck --check {database} {table}", fields),
            "mysqlcheck --check wordpress TABLE");
  // Shell and awk braces are not placeholders.
  EXPECT_EQ(RenderRunbookText("ss -xl | grep -qF {socket} || { rm -f {socket}; }", fields),
            "ss -xl | grep -qF /run/php/a.sock || { rm -f /run/php/a.sock; }");
  EXPECT_EQ(RenderRunbookText("awk '{print $1}' x | sed 's/a{2}/b/'; find . -exec ls {} +", fields),
            "awk '{print $1}' x | sed 's/a{2}/b/'; find . -exec ls {} +");
  EXPECT_EQ(RunbookPlaceholders("zgrep x {log_file} {database} {1} { a }"),
            (std::vector<std::string>{"log_file", "database"}));
}

TEST(RunbookTextTest, LoaderAcceptsSourceAndRefusesUncapturedPlaceholders) {
  const std::string head = R"(component: app
signatures:
  - id: app.x
    severity: warning
    source: 'app src/main.c (the message)'
    patterns: ['boom in db']
    captures: ['in (?P<database>[a-z]+)']
    summary: 'boom in {database}'
    explanation: x
    runbook:
      - step: look
        risk: read-only
        check: ok
)";
  RuleSet ok;
  config::Diagnostics diag;
  LoadRuleText(head + "        command: zgrep boom {log_file}; mysqlcheck {database}\n", "ok.yaml",
               &ok, &diag);
  EXPECT_TRUE(diag.empty()) << diag.items().front().ToString();
  ASSERT_EQ(ok.signatures.size(), 1u);
  EXPECT_EQ(ok.signatures[0].source, "app src/main.c (the message)");

  RuleSet bad;
  config::Diagnostics diag2;
  LoadRuleText(head + "        command: mysqlcheck {database} {table}\n", "bad.yaml", &bad, &diag2);
  ASSERT_EQ(diag2.size(), 1u);
  EXPECT_NE(diag2.items()[0].ToString().find("'{table}' is not captured"), std::string::npos)
      << diag2.items()[0].ToString();
  EXPECT_TRUE(bad.signatures.empty());
}

}  // namespace
}  // namespace mamori::logs
