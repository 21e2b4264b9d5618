// `mamori logs scan` end to end: the real binary, the shipped rules, real
// files (plain, gzip, binary garbage) in a temporary directory.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>

#include "mamori/util/subprocess.h"
#include "mamori_binary_path.h"
#include "mamori_source_dir.h"

namespace mamori {
namespace {

class LogsScanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("mamori_scan_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& data) {
    auto p = (dir_ / name).string();
    std::ofstream(p, std::ios::binary) << data;
    return p;
  }
  ProcessResult Run(std::vector<std::string> args) {
    ProcessOptions o;
    o.argv = {MAMORI_BINARY, "logs", "scan"};
    o.argv.insert(o.argv.end(), args.begin(), args.end());
    o.env = {{"MAMORI_RULES", std::string(MAMORI_SOURCE_DIR) + "/rules"}};
    o.timeout = std::chrono::seconds(30);
    o.max_output = 1 << 20;
    auto r = RunProcess(o);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : ProcessResult{};
  }
  std::filesystem::path dir_;
};

const char* kErrorLog =
    "2023-03-02 10:11:12 0 [Note] InnoDB: Starting crash recovery\n"
    "2023-03-02 10:11:12 0 [ERROR] InnoDB: Failed to read page 27258 from file "
    "'./bitnami_wordpress/wp_statpress.ibd': Page read from tablespace is corrupted.\n"
    "2023-03-02 10:11:13 0 [Note] nothing to see\n";

// A copied binary, the package and a container behave the same: the shipped
// rules are inside the binary. The copy runs in a mount namespace where the
// source tree's rules/ is an empty tmpfs and $MAMORI_RULES is unset, so no
// rule file anywhere can be what it reads.
TEST_F(LogsScanTest, ACopiedBinaryKnowsTheShippedRulesWithNoRuleFilesAnywhere) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to hide rules/ in a mount namespace";
  auto copy = dir_ / "bin" / "mamori";
  std::filesystem::create_directories(copy.parent_path());
  std::filesystem::copy_file(MAMORI_BINARY, copy);
  const std::string rules = std::string(MAMORI_SOURCE_DIR) + "/rules";
  ProcessOptions o;
  o.argv = {"unshare",
            "-m",
            "sh",
            "-c",
            "mount -t tmpfs none \"$1\" && ls -A \"$1\" | wc -l && exec env -u MAMORI_RULES "
            "\"$2\" logs scan --count \"$3\"",
            "sh",
            rules,
            copy.string(),
            Write("error.log", kErrorLog)};
  o.timeout = std::chrono::seconds(30);
  o.max_output = 1 << 20;
  auto r = RunProcess(o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 2) << r->out << r->err;
  EXPECT_EQ(r->out.substr(0, 2), "0\n") << "rules/ was not hidden: " << r->out;
  EXPECT_NE(r->out.find("mariadb.innodb-page-corrupted"), std::string::npos) << r->out;
}

TEST_F(LogsScanTest, PrintsMatchesWithSummaryAndExitsCritical) {
  auto r = Run({Write("error.log", kErrorLog)});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(
      r.out.find(
          "error.log:2: critical mariadb.innodb-page-corrupted: InnoDB page 27258 of "
          "./bitnami_wordpress/wp_statpress.ibd (bitnami_wordpress.wp_statpress) is corrupted"),
      std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("3 lines, 1 matched, 0 truncated, 0 not UTF-8"), std::string::npos);
}

TEST_F(LogsScanTest, CountsPerSignatureAcrossPlainAndGzipFiles) {
  std::string ssh;
  for (int i = 0; i < 10; ++i)
    ssh += "Dec 10 06:55:48 LabSZ sshd[24200]: Failed password for root from 10.0.0." +
           std::to_string(i) + " port 38926 ssh2\n";
  auto gz = (dir_ / "auth.log.gz").string();
  gzFile f = gzopen(gz.c_str(), "wb");
  gzwrite(f, ssh.data(), static_cast<unsigned>(ssh.size()));
  gzclose(f);
  auto r = Run({"--count", gz, Write("error.log", kErrorLog)});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("        10 info     ssh.failed-password\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("         1 critical mariadb.innodb-page-corrupted\n"), std::string::npos);
  EXPECT_NE(r.out.find("13 lines, 11 matched"), std::string::npos);
}

TEST_F(LogsScanTest, HugeLinesAndBinaryAreTruncatedAndFlagged) {
  std::string data = std::string(1 << 20, 'A') + "\n";
  for (int i = 0; i < 4096; ++i) data += static_cast<char>((i * 7919) & 0xff);
  data += "\nkernel: Out of memory: Killed process 812 (mariadbd) total-vm:1kB\n";
  auto r = Run({"--count", Write("junk.log", data)});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.out.find("memory.oom-killed-process"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" 1 truncated, "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" not UTF-8"), std::string::npos);
}

TEST_F(LogsScanTest, BadRulesAndMissingFilesAreReported) {
  auto rules = dir_ / "rules";
  std::filesystem::create_directories(rules);
  std::ofstream(rules / "x.yaml") << "component: x\nsignatures:\n  - id: x.a\n    severity: bad\n";
  auto r = Run({"--rules", rules.string(), Write("a.log", "x\n")});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("x.yaml:4:15: signature 'x.a': 'severity': 'bad' is not a severity"),
            std::string::npos)
      << r.err;
  auto m = Run({(dir_ / "missing.log").string()});
  EXPECT_EQ(m.exit_code, 3);
  EXPECT_NE(m.err.find("missing.log: No such file or directory"), std::string::npos) << m.err;
  auto clean = Run({Write("ok.log", "all good\n")});
  EXPECT_EQ(clean.exit_code, 0) << clean.out << clean.err;
}

TEST_F(LogsScanTest, ExportedPatternsWorkWithGrep) {
  auto r = Run({"--export-patterns"});
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_GT(std::count(r.out.begin(), r.out.end(), '\n'), 120);
  EXPECT_EQ(r.out.find("\\d"), std::string::npos);
  auto pat = Write("patterns.txt", r.out);
  ProcessOptions o;
  o.argv = {"grep", "-c", "-E", "-f", pat, Write("error.log", kErrorLog)};
  o.env = {{"LC_ALL", "C"}};
  auto g = RunProcess(o);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->err, "");
  EXPECT_EQ(g->out, "1\n");
}

}  // namespace
}  // namespace mamori
