// The shipped knowledge base (rules/*.yaml): it loads without a single
// diagnostic, every signature is complete and matches its own examples, the
// log lines quoted in INCIDENTS.md are recognised, and real Loghub samples give
// plausible matches (and no critical false alarms).
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
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
  // At least 400 (431 when this was written), so a lost file fails here.
  EXPECT_GE(sigs.size(), 400u);
  std::set<std::string> components;
  for (const auto& s : sigs) {
    components.insert(s.component);
    EXPECT_EQ(s.id.rfind(s.component + ".", 0), 0u) << s.id << " should start with its component";
    EXPECT_GE(s.examples.size(), 2u) << s.id << " needs at least two real example lines";
    EXPECT_FALSE(s.source.empty()) << s.id << " has no source: say where such lines were seen";
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

// How diagnose orders the findings of one line (its ranking is severity, then
// recency, then load order; the lines of one example share their time): the
// signature shown first for `line`, or nullopt when nothing matches.
std::optional<uint32_t> TopRanked(const SignatureScanner& sc, const std::vector<uint32_t>& ids) {
  std::optional<uint32_t> top;
  for (uint32_t i : ids)
    if (!top || sc.signature(i).severity > sc.signature(*top).severity) top = i;
  return top;
}

// Each example is claimed by its own rule, ranked first, and by no rule of
// another component: the advice shown for a line is the advice written for it.
TEST_F(KnowledgeBaseTest, EveryExampleIsClaimedFirstByItsOwnRuleAndByNoOtherComponent) {
  ASSERT_TRUE(scanner_);
  const auto& sigs = scanner_->rules().signatures;
  ScanSession session(*scanner_);
  std::vector<uint32_t> ids;
  for (uint32_t i = 0; i < sigs.size(); ++i) {
    for (const auto& ex : sigs[i].examples) {
      session.MatchIds(ex, &ids);
      auto top = TopRanked(*scanner_, ids);
      ASSERT_TRUE(top) << sigs[i].id << " matches nothing: " << ex;
      EXPECT_EQ(sigs[*top].id, sigs[i].id)
          << sigs[*top].id << " outranks " << sigs[i].id << " on its own example: " << ex;
      for (uint32_t j : ids)
        EXPECT_EQ(sigs[j].component, sigs[i].component)
            << sigs[j].id << " claims an example of " << sigs[i].id << ": " << ex;
    }
  }
}

// Names in capitals that stand for a value a line can carry: when the
// signature captures that value, the step must use the capture instead.
const std::map<std::string, std::string> kWrittenPlaceholders = {
    {"DBNAME", "database"}, {"TABLENAME", "table"}, {"SOCKET", "socket"}, {"UNIT", "unit"},
    {"POOL", "pool"},       {"USER", "user"},       {"PORT", "port"},     {"DEVICE", "device"}};

bool HasWord(const std::string& text, const std::string& word) {
  auto is_word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  for (size_t p = text.find(word); p != std::string::npos; p = text.find(word, p + 1)) {
    size_t end = p + word.size();
    if ((p == 0 || !is_word(text[p - 1])) && (end == text.size() || !is_word(text[end])))
      return true;
  }
  return false;
}

// Every example fills every placeholder of its summary and runbook, and no
// step asks the operator to type what the line already said.
TEST_F(KnowledgeBaseTest, ExamplesFillTheRunbooksPlaceholders) {
  ASSERT_TRUE(scanner_);
  const auto& sigs = scanner_->rules().signatures;
  for (uint32_t i = 0; i < sigs.size(); ++i) {
    std::set<std::string> captured;
    for (const auto& ex : sigs[i].examples) {
      auto fields = scanner_->Capture(i, ex);
      for (const auto& f : fields) captured.insert(f.name);
      for (const auto& step : sigs[i].runbook) {
        for (const auto* text : {&step.step, &step.command, &step.check}) {
          for (const auto& name : RunbookPlaceholders(*text)) {
            bool filled = name == kLogFileField ||
                          std::any_of(fields.begin(), fields.end(), [&](const Field& f) {
                            return f.name == name && !f.value.empty();
                          });
            EXPECT_TRUE(filled) << sigs[i].id << ": {" << name << "} stays empty for: " << ex;
          }
        }
      }
    }
    for (const auto& step : sigs[i].runbook) {
      for (const auto& [word, field] : kWrittenPlaceholders) {
        if (!captured.count(field)) continue;
        EXPECT_FALSE(HasWord(step.command, word))
            << sigs[i].id << ": '" << word << "' in a command while {" << field
            << "} is captured: " << step.command;
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
            "InnoDB page 27258 of ./bitnami_wordpress/wp_statpress.ibd "
            "(bitnami_wordpress.wp_statpress) is corrupted");
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
