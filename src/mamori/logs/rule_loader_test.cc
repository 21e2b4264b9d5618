#include "mamori/logs/rule_loader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "mamori_source_dir.h"

namespace mamori::logs {
namespace {

const char* kGood = R"(component: demo
signatures:
  - id: demo.disk-full
    severity: critical
    patterns: ['No space left on device']
    captures: ['write (?P<file>\S+):']
    summary: 'no space writing {file}'
    explanation: The disk is full.
    causes: [logs grew]
    runbook:
      - step: Look
        command: df -h
        risk: read-only
        check: usage
    examples: ['write /var/x: No space left on device']
)";

TEST(RuleLoaderTest, LoadsAValidFile) {
  RuleSet rules;
  config::Diagnostics diag;
  LoadRuleText(kGood, "demo.yaml", &rules, &diag);
  ASSERT_TRUE(diag.empty()) << diag.ToString();
  ASSERT_EQ(rules.signatures.size(), 1u);
  const Signature& s = rules.signatures[0];
  EXPECT_EQ(s.id, "demo.disk-full");
  EXPECT_EQ(s.component, "demo");
  EXPECT_EQ(s.severity, Severity::kCritical);
  EXPECT_EQ(s.patterns, std::vector<std::string>{"No space left on device"});
  ASSERT_EQ(s.runbook.size(), 1u);
  EXPECT_EQ(s.runbook[0].risk, StepRisk::kReadOnly);
  EXPECT_EQ(s.runbook[0].command, "df -h");
  EXPECT_EQ(s.line, 3);
  EXPECT_EQ(rules.files, std::vector<std::string>{"demo.yaml"});
}

std::string LoadErrors(const std::string& text) {
  RuleSet rules;
  config::Diagnostics diag;
  LoadRuleText(text, "r.yaml", &rules, &diag);
  return diag.ToString();
}

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  auto p = s.find(from);
  EXPECT_NE(p, std::string::npos) << from;
  if (p != std::string::npos) s.replace(p, from.size(), to);
  return s;
}

TEST(RuleLoaderTest, DuplicateIdIsReportedWithItsPlace) {
  RuleSet rules;
  config::Diagnostics diag;
  LoadRuleText(kGood, "a.yaml", &rules, &diag);
  LoadRuleText(kGood, "b.yaml", &rules, &diag);
  ASSERT_EQ(diag.size(), 1u);
  EXPECT_EQ(diag.items()[0].ToString(),
            "b.yaml:3:9: signature 'demo.disk-full': 'id': duplicate signature id "
            "'demo.disk-full'; ids must be unique across all rule files; rename one");
  EXPECT_EQ(rules.signatures.size(), 1u);
}

TEST(RuleLoaderTest, BadRegexNamesTheRuleAndHyperscansReason) {
  std::string e = LoadErrors(Replace(kGood, "'No space left on device'", "'a(b'"));
  EXPECT_NE(e.find("r.yaml:5:16: signature 'demo.disk-full': Hyperscan rejects pattern 'a(b'"),
            std::string::npos)
      << e;
  e = LoadErrors(Replace(kGood, "'No space left on device'", "'(a)\\1'"));
  EXPECT_NE(e.find("Hyperscan rejects"), std::string::npos) << e;
  e = LoadErrors(Replace(kGood, "'No space left on device'", "'x*'"));
  EXPECT_NE(e.find("can match an empty string"), std::string::npos) << e;
  e = LoadErrors(Replace(kGood, "(?P<file>\\S+)", "(?P<file>\\S+"));
  EXPECT_NE(e.find("RE2 rejects"), std::string::npos) << e;
}

TEST(RuleLoaderTest, UnknownKeysGetASuggestion) {
  std::string e =
      LoadErrors(Replace(kGood, "    severity:", "    severty: critical\n    severity:"));
  EXPECT_NE(e.find("r.yaml:4:5: signature 'demo.disk-full': unknown key 'severty'; did you mean "
                   "'severity'?"),
            std::string::npos)
      << e;
  e = LoadErrors(Replace(kGood, "        check: usage", "        check: usage\n        chek: x"));
  EXPECT_NE(e.find("unknown key 'chek'; did you mean 'check'?"), std::string::npos) << e;
  e = LoadErrors(Replace(kGood, "component: demo", "component: demo\ncomponents: x"));
  EXPECT_NE(e.find("r.yaml:2:1: rule file: unknown key 'components'"), std::string::npos) << e;
}

TEST(RuleLoaderTest, RunbookStepNeedsARiskAndDestructiveStepsNeedASnapshot) {
  std::string e = LoadErrors(Replace(kGood, "        risk: read-only\n", ""));
  EXPECT_NE(e.find("r.yaml:11:9: signature 'demo.disk-full': runbook step 1: missing 'risk'"),
            std::string::npos)
      << e;
  e = LoadErrors(Replace(kGood, "risk: read-only", "risk: dangerous"));
  EXPECT_NE(e.find("'dangerous' is not a risk"), std::string::npos) << e;
  e = LoadErrors(Replace(kGood, "risk: read-only", "risk: destructive"));
  EXPECT_NE(e.find("must say to take a snapshot or backup first"), std::string::npos) << e;
  e = LoadErrors(Replace(Replace(kGood, "risk: read-only", "risk: destructive"), "step: Look",
                         "step: Take a snapshot first, then delete"));
  EXPECT_EQ(e, "");
}

TEST(RuleLoaderTest, MissingFieldsAndUnknownPlaceholders) {
  std::string e = LoadErrors(Replace(kGood, "    severity: critical\n", ""));
  EXPECT_NE(e.find("missing 'severity'"), std::string::npos) << e;
  e = LoadErrors(Replace(kGood, "{file}", "{path}"));
  EXPECT_NE(e.find("'{path}' is not captured"), std::string::npos) << e;
  e = LoadErrors(Replace(kGood, "    explanation: The disk is full.\n", ""));
  EXPECT_NE(e.find("missing 'explanation'"), std::string::npos) << e;
}

TEST(RuleLoaderTest, YamlSyntaxErrorsHaveALocation) {
  std::string e = LoadErrors("component: x\nsignatures: [\n");
  EXPECT_NE(e.find("r.yaml:"), std::string::npos);
  EXPECT_NE(e.find("YAML syntax error"), std::string::npos) << e;
  EXPECT_NE(LoadErrors("").find("empty"), std::string::npos);
  EXPECT_NE(LoadErrors("- a\n").find("top level must be a mapping"), std::string::npos);
}

TEST(RuleLoaderTest, LoadRulesReportsEveryFileAndMissingDirectories) {
  auto dir = std::filesystem::temp_directory_path() / ("mamori_rules_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "a.yaml") << kGood;
  std::ofstream(dir / "b.yml") << "component: b\nsignatures: [{id: b.x}]\n";
  std::ofstream(dir / "ignored.txt") << "not yaml";
  auto r = LoadRules({dir.string()});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("b.yml:2:14: signature 'b.x': missing 'severity'"),
            std::string::npos)
      << r.error().message();
  std::filesystem::remove(dir / "b.yml");
  r = LoadRules({dir.string()});
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->signatures.size(), 1u);
  auto missing = LoadRules({(dir / "nope").string()});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("cannot read rule file"), std::string::npos);
  std::filesystem::remove_all(dir);
}

// The binary carries rules/ exactly: every shipped file, byte for byte.
TEST(RuleLoaderTest, BuiltinRulesAreTheShippedRuleFiles) {
  std::vector<std::string> shipped;
  for (const auto& e :
       std::filesystem::directory_iterator(std::string(MAMORI_SOURCE_DIR) + "/rules"))
    if (e.path().extension() == ".yaml") shipped.push_back(e.path().filename().string());
  std::sort(shipped.begin(), shipped.end());
  std::vector<std::string> builtin;
  for (const auto& f : BuiltinRuleFiles()) {
    builtin.emplace_back(f.name);
    std::ifstream in(std::string(MAMORI_SOURCE_DIR) + "/rules/" + std::string(f.name),
                     std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(text, f.text) << f.name << " differs from the embedded copy";
  }
  EXPECT_EQ(builtin, shipped);
  RuleSet rules;
  config::Diagnostics diag;
  LoadBuiltinRules(&rules, &diag);
  EXPECT_TRUE(diag.empty()) << diag.items().front().ToString();
  EXPECT_GT(rules.signatures.size(), 100u);
  EXPECT_EQ(rules.files.front(), "@builtin/" + builtin.front());
}

// The operator tunes a shipped signature by writing one with its id: it takes
// the built-in one's place; a new id adds to them; the operator's own ids
// must still be unique.
TEST(RuleLoaderTest, OperatorRulesReplaceBuiltinOnesByIdAndAddNewOnes) {
  auto dir =
      std::filesystem::temp_directory_path() / ("mamori_own_rules_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::string mine = kGood;
  std::ofstream(dir / "demo.yaml") << mine;
  std::string tuned = mine;
  for (auto [from, to] : {std::pair{"demo", "nginx"},
                          {"disk-full", "bind-in-use"},
                          {"no space writing", "tuned: no space writing"}})
    for (size_t at = tuned.find(from); at != std::string::npos;
         at = tuned.find(from, at + std::string(to).size()))
      tuned.replace(at, std::string(from).size(), to);
  std::ofstream(dir / "nginx.yaml") << tuned;
  auto builtin = LoadRules({std::string(kBuiltinRules)});
  ASSERT_TRUE(builtin.ok()) << builtin.error().message();
  auto r = LoadRules({std::string(kBuiltinRules), dir.string()});
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->signatures.size(), builtin->signatures.size() + 1);
  ASSERT_NE(r->Find("nginx.bind-in-use"), nullptr);
  EXPECT_EQ(r->Find("nginx.bind-in-use")->summary, "tuned: no space writing {file}");
  EXPECT_NE(r->Find("demo.disk-full"), nullptr);
  // Without @builtin only the named files load.
  auto only = LoadRules({dir.string()});
  ASSERT_TRUE(only.ok()) << only.error().message();
  EXPECT_EQ(only->signatures.size(), 2u);
  std::ofstream(dir / "again.yaml") << mine;
  auto dup = LoadRules({std::string(kBuiltinRules), dir.string()});
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.error().message().find("demo.disk-full"), std::string::npos)
      << dup.error().message();
  std::filesystem::remove_all(dir);
}

TEST(RuleTest, RenderSummary) {
  std::vector<Field> f = {{"page", "27258"}, {"file", "./wp/x.ibd"}};
  EXPECT_EQ(RenderSummary("page {page} of {file}", f), "page 27258 of ./wp/x.ibd");
  EXPECT_EQ(RenderSummary("{missing} {{literal}}", f), "? {literal}");
  EXPECT_EQ(RenderSummary("unterminated {page", f), "unterminated {page");
}

}  // namespace
}  // namespace mamori::logs
