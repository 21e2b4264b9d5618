#include "mamori/logs/signature_scanner.h"

#include <gtest/gtest.h>

#include <thread>

#include "mamori/logs/rule_loader.h"

namespace mamori::logs {
namespace {

RuleSet Demo() {
  RuleSet r;
  config::Diagnostics diag;
  LoadRuleText(R"(component: demo
signatures:
  - id: demo.page
    severity: critical
    patterns: ['InnoDB: .*Page read from tablespace is corrupted']
    captures: ['Failed to read page (?P<page>[0-9]+) from file .(?P<file>[^'']+).']
    summary: 'page {page} of {file}'
    explanation: x
  - id: demo.enospc
    severity: warning
    patterns: ['No space left on device', 'Disk full']
    summary: 'disk full'
    explanation: x
  - id: demo.caseless
    severity: info
    ignore_case: true
    patterns: ['connection refused']
    captures: ['port (?P<port>[0-9]+)']
    summary: 'refused on {port}'
    explanation: x
)",
               "demo.yaml", &r, &diag);
  EXPECT_TRUE(diag.empty()) << diag.ToString();
  return r;
}

TEST(SignatureScannerTest, ReportsEachMatchingSignatureOnceWithFields) {
  auto sc = SignatureScanner::Compile(Demo());
  ASSERT_TRUE(sc.ok()) << sc.error().message();
  EXPECT_EQ((*sc)->pattern_count(), 4u);
  ScanSession s(**sc);
  std::vector<Match> m;
  s.Scan(
      "[ERROR] InnoDB: Failed to read page 27258 from file './wp/x.ibd': Page read from "
      "tablespace is corrupted. Disk full, No space left on device",
      &m);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].signature, 0u);
  ASSERT_EQ(m[0].fields.size(), 2u);
  EXPECT_EQ((*sc)->Summary(0,
                           "InnoDB: Failed to read page 5 from file './a.ibd': Page read from "
                           "tablespace is corrupted"),
            "page 5 of ./a.ibd");
  EXPECT_EQ(m[1].signature, 1u);  // two patterns, one report
  EXPECT_TRUE(m[1].fields.empty());
  std::vector<uint32_t> ids;
  s.MatchIds("CONNECTION REFUSED port 80", &ids);
  EXPECT_EQ(ids, std::vector<uint32_t>{2});
  EXPECT_EQ((*sc)->Summary(2, "Connection Refused on PORT 5432"), "refused on 5432");
  s.MatchIds("nothing here", &ids);
  EXPECT_TRUE(ids.empty());
  s.MatchIds("", &ids);
  EXPECT_TRUE(ids.empty());
  EXPECT_EQ(s.errors(), 0u);
}

TEST(SignatureScannerTest, BinaryAndHugeLinesAreSafe) {
  auto sc = SignatureScanner::Compile(Demo());
  ASSERT_TRUE(sc.ok());
  ScanSession s(**sc);
  std::string bin;
  for (int i = 0; i < 1 << 20; ++i) bin += static_cast<char>(i * 131 + 7);
  bin += "No space left on device";
  std::vector<Match> m;
  s.Scan(bin, &m);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].signature, 1u);
}

TEST(SignatureScannerTest, SessionsOnSeveralThreadsShareOneScanner) {
  auto sc = SignatureScanner::Compile(Demo());
  ASSERT_TRUE(sc.ok());
  std::vector<std::thread> threads;
  std::vector<int> hits(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      ScanSession s(**sc);
      std::vector<uint32_t> ids;
      for (int i = 0; i < 2000; ++i) {
        s.MatchIds(i % 2 ? "write: No space left on device" : "fine", &ids);
        hits[t] += static_cast<int>(ids.size());
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int h : hits) EXPECT_EQ(h, 1000);
}

TEST(SignatureScannerTest, CompileErrorNamesTheSignature) {
  RuleSet r = Demo();
  // Bypasses the loader's checks to exercise Hyperscan's own error path.
  r.signatures[1].patterns.push_back("(unbalanced");
  auto sc = SignatureScanner::Compile(std::move(r));
  ASSERT_FALSE(sc.ok());
  EXPECT_NE(sc.error().message().find("signature 'demo.enospc' (demo.yaml:"), std::string::npos)
      << sc.error().message();
  EXPECT_FALSE(SignatureScanner::Compile(RuleSet{}).ok());
}

}  // namespace
}  // namespace mamori::logs
