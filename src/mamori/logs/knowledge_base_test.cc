// The shipped knowledge base (rules/*.yaml): it loads without a single
// diagnostic, every signature is complete and matches its own examples, the
// log lines quoted in INCIDENTS.md are recognised, and real Loghub samples give
// plausible matches (and no critical false alarms).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

#include "mamori/logs/line_reader.h"
#include "mamori/logs/rule_loader.h"
#include "mamori/logs/signature_scanner.h"
#include "mamori_source_dir.h"

namespace mamori::logs {
namespace {

const std::string kRulesDir = std::string(MAMORI_SOURCE_DIR) + "/rules";
const std::string kLoghub = std::string(MAMORI_SOURCE_DIR) + "/../shared/loghub";

class KnowledgeBaseTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto rules = LoadRules({kRulesDir});
    ASSERT_TRUE(rules.ok()) << rules.error().message();
    auto sc = SignatureScanner::Compile(std::move(*rules));
    ASSERT_TRUE(sc.ok()) << sc.error().message();
    scanner_ = std::move(*sc);
  }
  static void TearDownTestSuite() { scanner_.reset(); }

  std::set<std::string> Ids(std::string_view line) {
    ScanSession s(*scanner_);
    std::vector<uint32_t> ids;
    s.MatchIds(line, &ids);
    std::set<std::string> out;
    for (uint32_t i : ids) out.insert(scanner_->signature(i).id);
    return out;
  }

  static std::unique_ptr<SignatureScanner> scanner_;
};
std::unique_ptr<SignatureScanner> KnowledgeBaseTest::scanner_;

TEST_F(KnowledgeBaseTest, HasEnoughCompleteSignatures) {
  ASSERT_TRUE(scanner_);
  const auto& sigs = scanner_->rules().signatures;
  EXPECT_GE(sigs.size(), 120u);
  std::set<std::string> components;
  for (const auto& s : sigs) {
    components.insert(s.component);
    EXPECT_EQ(s.id.rfind(s.component + ".", 0), 0u) << s.id << " should start with its component";
    EXPECT_FALSE(s.examples.empty()) << s.id << " has no examples";
    EXPECT_FALSE(s.causes.empty()) << s.id << " has no causes";
    EXPECT_FALSE(s.runbook.empty()) << s.id << " has no runbook";
    for (const auto& step : s.runbook)
      EXPECT_FALSE(step.check.empty()) << s.id << ": " << step.step;
  }
  for (const char* c :
       {"apache", "nginx", "php-fpm", "mariadb", "postgresql", "systemd", "kernel", "time", "mail",
        "ssh", "disk", "memory", "tls", "dns", "wordpress", "cron", "backup"})
    EXPECT_TRUE(components.count(c)) << c;
}

TEST_F(KnowledgeBaseTest, EveryExampleMatchesItsSignatureAndFillsItsSummary) {
  ASSERT_TRUE(scanner_);
  const auto& sigs = scanner_->rules().signatures;
  for (uint32_t i = 0; i < sigs.size(); ++i) {
    for (const auto& ex : sigs[i].examples) {
      EXPECT_TRUE(Ids(ex).count(sigs[i].id)) << sigs[i].id << " does not match its example: " << ex;
      std::string summary = scanner_->Summary(i, ex);
      if (sigs[i].summary.find('{') != std::string::npos) {
        EXPECT_EQ(summary.find('?'), std::string::npos)
            << sigs[i].id << ": a placeholder stays empty for: " << ex << " -> " << summary;
      }
    }
  }
}

// Every log line quoted in INCIDENTS.md, exactly as written there.
TEST_F(KnowledgeBaseTest, IncidentLogLinesAreRecognised) {
  ASSERT_TRUE(scanner_);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"Error establishing a database connection", "wordpress.db-connection-error"},
      {"bitnami.service: Unit process 641 (php-fpm) remains running after unit stopped.",
       "systemd.unit-process-remains"},
      {"Failed to start LSB: bitnami init script.", "systemd.unit-failed-to-start"},
      {"The server is temporarily unable to service your request due to maintenance downtime "
       "or capacity problems. Please try again later.",
       "apache.service-unavailable-503"},
      {"[ERROR] InnoDB: Failed to read page 27258 from file "
       "'./bitnami_wordpress/wp_statpress.ibd': Page read from tablespace is corrupted.",
       "mariadb.innodb-page-corrupted"},
      {"the NTP socket is in use, exiting", "time.ntpdate-socket-in-use"},
      {"[notice] modpython: using mutexdirectory /tmp", "apache.modpython-mutex-directory"},
      {"errorFile exists: modpython: Failed to create global mutex 0 of 8 (/tmp/mpmtx7120).",
       "apache.mutex-create-failed"},
      {"Configuration Failed", "apache.configuration-failed"},
      {"qpopper[31656]: ... -ERR [SYS/PERM] Unable to process From lines (envelopes), change "
       "recognition modes or check for corrupted mail drop.",
       "mail.qpopper-corrupted-maildrop"},
  };
  for (const auto& [line, id] : cases) EXPECT_TRUE(Ids(line).count(id)) << id << " <- " << line;
  // The page and file of the InnoDB line are captured.
  auto idx = scanner_->rules().IndexOf("mariadb.innodb-page-corrupted");
  ASSERT_TRUE(idx);
  EXPECT_EQ(scanner_->Summary(*idx, cases[4].first),
            "InnoDB page 27258 of ./bitnami_wordpress/wp_statpress.ibd is corrupted");
}

std::map<std::string, uint64_t> CountFile(const SignatureScanner& sc, const std::string& path,
                                          uint64_t* lines) {
  std::map<std::string, uint64_t> counts;
  auto r = LineReader::Open(path);
  EXPECT_TRUE(r.ok());
  if (!r.ok()) return counts;
  ScanSession s(sc);
  std::vector<uint32_t> ids;
  Line line;
  while ((*r)->Next(&line)) {
    s.MatchIds(line.text, &ids);
    for (uint32_t i : ids) ++counts[sc.signature(i).id];
  }
  *lines = (*r)->lines();
  return counts;
}

TEST_F(KnowledgeBaseTest, LoghubSamplesGivePlausibleMatches) {
  ASSERT_TRUE(scanner_);
  if (!std::filesystem::exists(kLoghub + "/OpenSSH/OpenSSH_2k.log")) {
    // CI has the samples: there a missing copy is a broken setup, not a skip.
    const char* ci = std::getenv("CI");
    if (ci && *ci) FAIL() << "CI is set but the Loghub samples are missing at " << kLoghub;
    GTEST_SKIP() << "Loghub samples not found beside the repository (" << kLoghub << ")";
  }
  uint64_t lines = 0;
  // OpenSSH: a brute-force sample. Labelled counts from OpenSSH_2k.log_structured.csv.
  auto ssh = CountFile(*scanner_, kLoghub + "/OpenSSH/OpenSSH_2k.log", &lines);
  EXPECT_EQ(lines, 2000u);
  EXPECT_GE(ssh["ssh.failed-password"], 300u);
  EXPECT_GE(ssh["ssh.invalid-user"], 100u);
  EXPECT_GE(ssh["ssh.pam-auth-failure"], 300u);
  EXPECT_EQ(ssh["ssh.reverse-mapping-failed"], 85u);  // grep -c "reverse mapping"
  for (const auto& [id, n] : ssh) {
    EXPECT_EQ(id.rfind("ssh.", 0), 0u) << "unexpected " << id << " x" << n << " in OpenSSH";
  }
  // Apache 2005 error log: mod_jk trouble and directory listings, nothing critical.
  auto apache = CountFile(*scanner_, kLoghub + "/Apache/Apache_2k.log", &lines);
  EXPECT_GE(apache["apache.mod-jk-error-state"], 500u);
  EXPECT_GE(apache["apache.directory-index-forbidden"], 10u);
  for (const auto& [id, n] : apache)
    EXPECT_EQ(id.rfind("apache.", 0), 0u) << "unexpected " << id << " x" << n << " in Apache";
  // Linux syslog: sshd PAM failures and a kernel boot.
  auto syslog = CountFile(*scanner_, kLoghub + "/Linux/Linux_2k.log", &lines);
  EXPECT_GE(syslog["ssh.pam-auth-failure"], 300u);
  EXPECT_GE(syslog["kernel.boot"], 1u);
  // No critical signature fires on any of the 16 samples except the real
  // critical lines listed here: anything else would be a false alarm.
  const std::set<std::pair<std::string, std::string>> real_critical = {
      // "sshd[1761]: error: Bind to port 22 on 0.0.0.0 failed: Address already in use."
      {"Thunderbird", "ssh.bind-failed"},
  };
  for (const char* name :
       {"Android", "Apache", "BGL", "HDFS", "HPC", "Hadoop", "HealthApp", "Linux", "Mac", "OpenSSH",
        "OpenStack", "Proxifier", "Spark", "Thunderbird", "Windows", "Zookeeper"}) {
    auto c = CountFile(*scanner_, kLoghub + "/" + name + "/" + name + "_2k.log", &lines);
    for (const auto& [id, n] : c) {
      const Signature* s = scanner_->rules().Find(id);
      ASSERT_TRUE(s);
      if (s->severity == Severity::kCritical && !real_critical.count({name, id}))
        ADD_FAILURE() << name << ": critical " << id << " x" << n;
    }
  }
}

}  // namespace
}  // namespace mamori::logs
