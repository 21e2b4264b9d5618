#include "mamori/logs/template_miner.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "mamori/logs/mine_command.h"
#include "mamori_source_dir.h"

namespace mamori::logs {
namespace {

std::string Masked(std::string_view line) {
  std::string key;
  bool cut = false;
  internal::MaskLine(line, MinerOptions{}, &key, &cut);
  for (auto& c : key) {
    if (c == '\x01') c = '*';
  }
  return key;
}

TEST(TemplateMiner, MasksVariableLookingTokens) {
  EXPECT_EQ(Masked("Accepted password for root from 10.0.0.1 port 22 ssh2"),
            "Accepted password for root from * port *");
  EXPECT_EQ(Masked("block blk_-1608999687919862906 of size 67108864"), "block * of size *");
  EXPECT_EQ(Masked("req 3f2a9c1e-1b2c-4d5e-8f90-0123456789ab done in 35ms"), "req * done in *");
  // Timestamps with month and weekday names collapse into one variable.
  EXPECT_EQ(Masked("[Sun Dec 04 04:47:44 2005] [error] mod_jk child"),
            "[* * *] [error] mod_jk child");
  // Inside a word only the variable part is masked.
  EXPECT_EQ(Masked("sshd[24200]: uid=0 onExtend:1514038530000"), "sshd[*]: uid=* onExtend:*");
  EXPECT_EQ(Masked("connection from x () at"), "connection from x (*) at");
  EXPECT_EQ(Masked("lookup proxy.cse.example.hk failed"), "lookup * failed");
  EXPECT_EQ(Masked("  \t "), "");
}

TEST(TemplateMiner, LearnsTheHeaderSeparator) {
  std::vector<std::string_view> lines = {
      "Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186",
      "Dec 10 06:55:48 otherhost sshd[24201]: Invalid user test9 from 173.234.31.186",
      "Dec 10 07:02:47 LabSZ su[24203]: session opened for user root by (uid=0)"};
  EXPECT_EQ(internal::LearnHeader(lines), internal::HeaderKind::kColon);
  EXPECT_EQ(lines[0].substr(internal::ContentStart(lines[0], internal::HeaderKind::kColon)),
            " Invalid user webmaster from 173.234.31.186");
  EXPECT_EQ(internal::ContentStart("no separator here", internal::HeaderKind::kColon), 0u);
}

TEST(TemplateMiner, LearnsAHeaderOfNumericColumns) {
  // No separator: an id, a node, a component, an epoch time and a flag.
  std::vector<std::string_view> lines = {"5001 n-1 disk state 1700000001 1 write error on sda",
                                         "5002 n-2 disk state 1700000002 -1 write error on sdb",
                                         "5003 rack7 fan state 1700000003 1 fan 3 stopped",
                                         "5004 n-9 disk state 1700000004 1 running",
                                         "5005 n-3 fan state 1700000005 1 fan 1 stopped",
                                         "5006 n-4 disk state 1700000006 1 running",
                                         "5007 n-5 disk state 1700000007 1 write error on sdc",
                                         "5008 n-6 net status 1700000008 0 link 2 down"};
  EXPECT_EQ(internal::LearnHeader(lines), internal::HeaderKind::kNone);
  ASSERT_EQ(internal::LearnNumericColumns(lines), 6u);
  EXPECT_EQ(lines[3].substr(internal::SkipColumns(lines[3], 6)), " running");
  EXPECT_EQ(internal::SkipColumns("1 2", 6), 3u);  // a short line: all header
  BatchResult r = MineBatch(lines);
  EXPECT_EQ(r.templates[r.line_template[3]], "running");
  EXPECT_EQ(r.line_template[5], r.line_template[3]);
  EXPECT_EQ(r.line_template[4], r.line_template[2]);  // other component, same message
  // Ordinary text has no such columns.
  EXPECT_EQ(
      internal::LearnNumericColumns({"a b 1", "c d", "e 2 f", "g h", "i j", "k l", "m n", "o p"}),
      0u);
}

TEST(TemplateMiner, BatchGroupsAcrossHostsAndComponents) {
  std::vector<std::string_view> lines = {
      "Jun 14 15:16:01 combo sshd(pam_unix)[19939]: check pass; user unknown",
      "Jun 14 15:16:02 other sshd(pam_unix)[19937]: session opened for user alice by (uid=0)",
      "Jul  7 08:09:10 combo login(pam_unix)[2421]: check pass; user unknown",
      "Jun 14 15:16:05 combo sshd(pam_unix)[19939]: session closed for user alice",
      "Jun 15 04:12:42 combo su(pam_unix)[22644]: session opened for user news by (uid=0)",
      "Jun 15 04:12:43 combo su(pam_unix)[22645]: session opened for user bob by (uid=0)",
      "Jun 15 04:12:44 combo su(pam_unix)[22646]: session opened for user carol by (uid=0)"};
  BatchResult r = MineBatch(lines);
  ASSERT_EQ(r.line_template.size(), lines.size());
  EXPECT_EQ(r.line_template[0], 0u);
  EXPECT_EQ(r.line_template[2], 0u);  // other host and component, same message
  EXPECT_EQ(r.line_template[3], 2u);
  for (std::size_t i : {1, 4, 5, 6}) EXPECT_EQ(r.line_template[i], 1u) << i;
  EXPECT_EQ(r.templates[0], "check pass; user unknown");
  EXPECT_EQ(r.templates[1], "session opened for user <*> by (uid=<*>)");
  EXPECT_TRUE(r.truncated_lines.empty());
}

TEST(TemplateMiner, LiteralInstancesOfAVariableColumnStayInItsGroup) {
  // Most lines hold a masked address; one holds a literal value with the
  // same text around it. It is the same message, not a new template.
  std::vector<std::string_view> lines = {"clock synced to 10.1.2.3, level 3",
                                         "clock synced to 10.1.2.4, level 3",
                                         "clock synced to 10.1.9.9, level 2",
                                         "clock synced to LOCAL(0), level 10",
                                         "open path(/tmp/a1) failed",
                                         "open path(/srv/b2) failed",
                                         "open path(cwd) failed",
                                         "disk sda is full",
                                         "disk sdb is full"};
  BatchResult r = MineBatch(lines);
  ASSERT_EQ(r.line_template.size(), lines.size());
  for (std::size_t i : {1, 2, 3}) EXPECT_EQ(r.line_template[i], r.line_template[0]) << i;
  EXPECT_EQ(r.templates[r.line_template[0]], "clock synced to <*>, level <*>");
  EXPECT_EQ(r.line_template[6], r.line_template[4]);
  EXPECT_EQ(r.templates[r.line_template[4]], "open path(<*>) failed");
}

TEST(TemplateMiner, OptionalVariablePartsMergeAcrossLengths) {
  // One message that sometimes prints an extra bracketed value with a unit,
  // or a "<1 sec" instead of a clock time.
  std::vector<std::string_view> lines = {
      "peer 10.0.0.1 done, 0 bytes out, 0 bytes in, took 00:01",
      "peer 10.0.0.2 done, 5120 bytes (5.00 KB) out, 12 bytes in, took 00:07",
      "peer 10.0.0.3 done, 5120 bytes (5.00 KB) out, 2048 bytes (2.00 KB) in, took <1 sec",
      "peer 10.0.0.4 done, 7 bytes out, 9 bytes in, took <1 sec",
      // Not optional: a word column that varies ("user=root", "user=bob") is
      // part of the message, so the longer line stays apart.
      "login failed; rhost=10.0.0.9", "login failed; rhost=10.0.0.8",
      "login failed; rhost=10.0.0.7 user=root", "login failed; rhost=10.0.0.6 user=bob",
      "login failed; rhost=10.0.0.5 user=eve", "login failed; rhost=10.0.0.4 user=amy"};
  BatchResult r = MineBatch(lines);
  ASSERT_EQ(r.line_template.size(), lines.size());
  for (std::size_t i : {1, 2, 3}) EXPECT_EQ(r.line_template[i], r.line_template[0]) << i;
  EXPECT_EQ(r.line_template[5], r.line_template[4]);
  EXPECT_NE(r.line_template[6], r.line_template[4]);
  EXPECT_EQ(r.line_template[7], r.line_template[6]);
  EXPECT_EQ(r.line_template[8], r.line_template[6]);
  EXPECT_EQ(r.line_template[9], r.line_template[6]);
}

TEST(TemplateMiner, AVariableEqualToAWordOfAnotherMessageStaysAVariable) {
  // "user" as a user name also is the third word of the other message of the
  // same length, which makes it look like a frequent constant.
  std::vector<std::string> lines;
  for (const char* name : {"alice", "bob", "carol", "dave", "erin", "user"}) {
    lines.push_back(std::string("Unknown user ") + name + " from 10.0.0.1");
    lines.push_back(std::string("auth_check: unknown user ") + name + " [pre]");
  }
  std::vector<std::string_view> views(lines.begin(), lines.end());
  BatchResult r = MineBatch(views);
  ASSERT_EQ(r.line_template.size(), lines.size());
  for (std::size_t i = 2; i < lines.size(); ++i) {
    EXPECT_EQ(r.line_template[i], r.line_template[i % 2]) << lines[i];
  }
  EXPECT_NE(r.line_template[0], r.line_template[1]);
  EXPECT_EQ(r.templates[r.line_template[0]], "Unknown user <*> from <*>");
}

TEST(TemplateMiner, StreamingIdsAreStable) {
  TemplateMiner m;
  auto a = m.Add("Failed password for root from 1.2.3.4 port 22 ssh2");
  auto b = m.Add("Connection closed by 5.6.7.8 [preauth]");
  auto a2 = m.Add("Failed password for admin from 9.9.9.9 port 2222 ssh2");
  EXPECT_NE(a, b);
  EXPECT_EQ(a, a2);  // the template generalised, the id did not change
  EXPECT_EQ(m.Template(a), "Failed password for <*> from <*> port <*>");
  EXPECT_EQ(m.Add("Failed password for root from 1.2.3.4 port 22 ssh2"), a);
  EXPECT_EQ(m.template_count(), 2u);
  EXPECT_EQ(m.Template(12345), "");
  EXPECT_EQ(m.Template(TemplateMiner::kOverflowId), "<overflow>");
}

TEST(TemplateMiner, TruncatesAMegabyteLine) {
  std::string huge(1 << 20, 'a');
  for (std::size_t i = 0; i < huge.size(); i += 7) huge[i] = ' ';
  TemplateMiner m;
  bool cut = false;
  auto id = m.Add(huge, &cut);
  EXPECT_TRUE(cut);
  EXPECT_EQ(m.truncated_lines(), 1u);
  // Bounded by max_tokens: the rest of the line is one variable.
  EXPECT_LE(m.Template(id).size(), MinerOptions{}.max_tokens * 8);
  BatchResult r = MineBatch({huge, "short line"});
  ASSERT_EQ(r.truncated_lines.size(), 1u);
  EXPECT_EQ(r.truncated_lines[0], 0u);
}

TEST(TemplateMiner, BinaryGarbageAndOverflow) {
  std::mt19937 rng(7);
  MinerOptions o;
  o.max_templates = 50;
  TemplateMiner m(o);
  std::vector<std::string> lines;
  for (int i = 0; i < 2000; ++i) {
    std::string s(rng() % 300, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    lines.push_back(s);
    auto id = m.Add(s);
    EXPECT_TRUE(id == TemplateMiner::kOverflowId || id < 50);
    (void)m.Template(id);
  }
  EXPECT_LE(m.template_count(), 50u);
  std::vector<std::string_view> views(lines.begin(), lines.end());
  BatchResult r = MineBatch(views, o);
  EXPECT_EQ(r.line_template.size(), lines.size());
  EXPECT_TRUE(r.overflow);
  for (auto id : r.line_template) {
    EXPECT_TRUE(id == TemplateMiner::kOverflowId || id < r.templates.size());
  }
  std::set<std::string> texts(r.templates.begin(), r.templates.end());
  EXPECT_EQ(texts.size(), r.templates.size());  // one id per template text
}

TEST(MineCommand, PrintsCsv) {
  auto dir = std::filesystem::temp_directory_path() / "mamori_mine_test";
  std::filesystem::create_directories(dir);
  auto file = dir / "a.log";
  {
    std::ofstream f(file);
    f << "x: said \"hi\", twice 1\nx: said \"hi\", twice 2\nx: other\n";
  }
  std::ostringstream out, err;
  EXPECT_EQ(RunMineCommand({file.string()}, "csv", out, err), 0);
  EXPECT_EQ(out.str(),
            "LineId,EventId,EventTemplate\n"
            "1,E1,\"said \"\"hi\"\", twice <*>\"\n"
            "2,E1,\"said \"\"hi\"\", twice <*>\"\n"
            "3,E2,other\n");
  EXPECT_EQ(RunMineCommand({file.string()}, "json", out, err), 64);
  EXPECT_EQ(RunMineCommand({(dir / "missing").string()}, "csv", out, err), 66);
  std::filesystem::remove_all(dir);
}

// Runs the evaluator on real labelled Loghub samples when they are present.
TEST(MineCommand, LoghubGroupAccuracyFloors) {
  std::string dir = std::string(MAMORI_SOURCE_DIR) + "/../shared/loghub";
  if (!std::filesystem::exists(dir + "/HDFS")) {
    // CI has the samples: there a missing copy is a broken setup, not a skip.
    const char* ci = std::getenv("CI");
    if (ci && *ci) FAIL() << "CI is set but the Loghub samples are missing at " << dir;
    GTEST_SKIP() << "no Loghub samples at " << dir;
  }
  // Floors a little below the measured values (see bench/RESULTS-logs.md):
  // the average 0.002 below, each dataset about 0.01 below.
  const std::pair<const char*, double> floors[] = {
      {"Android", 0.917}, {"Apache", 0.99},       {"BGL", 0.976},      {"HDFS", 0.99},
      {"HPC", 0.94},      {"Hadoop", 0.983},      {"HealthApp", 0.99}, {"Linux", 0.99},
      {"Mac", 0.927},     {"OpenSSH", 0.986},     {"OpenStack", 0.99}, {"Proxifier", 0.974},
      {"Spark", 0.987},   {"Thunderbird", 0.982}, {"Windows", 0.99},   {"Zookeeper", 0.984}};
  double sum = 0;
  for (const auto& [name, floor] : floors) {
    auto e = EvaluateDataset(dir, name);
    ASSERT_TRUE(e.ok()) << e.error().message();
    EXPECT_GE(e->ga.accuracy, floor) << name;
    EXPECT_EQ(e->ga.lines, 2000u) << name;
    sum += e->ga.accuracy;
  }
  EXPECT_EQ(std::size(floors), LoghubDatasets().size());
  EXPECT_GE(sum / std::size(floors), 0.9830);
}

}  // namespace
}  // namespace mamori::logs
