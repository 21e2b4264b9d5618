// A signature's `source:` (where such log lines were seen publicly) is part of
// the rule format: it is loaded and kept, and a misspelling of it is caught
// like any other unknown key.
#include <gtest/gtest.h>

#include "mamori/logs/rule_loader.h"

namespace mamori::logs {
namespace {

const char* kWithSource = R"yaml(component: demo
signatures:
  - id: demo.fork-failed
    severity: critical
    patterns: ['save in background: fork: ']
    summary: 'cannot fork'
    explanation: The fork for a background save failed.
    runbook:
      - step: Look
        command: free -m
        risk: read-only
        check: free memory
    source: "redis/redis src/rdb.c (rdbSaveBackground)"
    examples: ["Can't save in background: fork: Cannot allocate memory"]
)yaml";

TEST(RuleSourceTest, SourceIsLoadedAndKept) {
  RuleSet rules;
  config::Diagnostics diag;
  LoadRuleText(kWithSource, "demo.yaml", &rules, &diag);
  ASSERT_TRUE(diag.empty()) << diag.ToString();
  ASSERT_EQ(rules.signatures.size(), 1u);
  EXPECT_EQ(rules.signatures[0].source, "redis/redis src/rdb.c (rdbSaveBackground)");
}

TEST(RuleSourceTest, MisspelledSourceIsAnUnknownKey) {
  std::string text = kWithSource;
  text.replace(text.find("    source:"), 11, "    sources:");
  RuleSet rules;
  config::Diagnostics diag;
  LoadRuleText(text, "demo.yaml", &rules, &diag);
  EXPECT_NE(diag.ToString().find("unknown key 'sources'"), std::string::npos) << diag.ToString();
  EXPECT_NE(diag.ToString().find("did you mean 'source'"), std::string::npos) << diag.ToString();
}

}  // namespace
}  // namespace mamori::logs
