// Fuzzes the rule loader: whatever a rule file holds (broken YAML, odd types,
// hostile regular expressions) must come back as signatures or diagnostics,
// never a crash or an escaping exception. Loaded signatures are compiled and
// scanned against their own examples to exercise the scanner too.
#include <cstddef>
#include <cstdint>
#include <string>

#include "mamori/logs/rule_loader.h"
#include "mamori/logs/signature_scanner.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;
  std::string text(reinterpret_cast<const char*>(data), size);
  mamori::logs::RuleSet rules;
  mamori::config::Diagnostics diag;
  mamori::logs::LoadRuleText(text, "fuzz.yaml", &rules, &diag);
  (void)diag.ToString();
  if (rules.signatures.empty()) return 0;
  std::vector<std::string> examples;
  for (const auto& s : rules.signatures)
    for (const auto& e : s.examples) examples.push_back(e);
  auto scanner = mamori::logs::SignatureScanner::Compile(std::move(rules));
  if (!scanner.ok()) return 0;
  mamori::logs::ScanSession session(**scanner);
  std::vector<mamori::logs::Match> matches;
  for (const auto& e : examples) {
    session.Scan(e, &matches);
    for (const auto& m : matches) (void)(*scanner)->Summary(m.signature, e);
  }
  return 0;
}
