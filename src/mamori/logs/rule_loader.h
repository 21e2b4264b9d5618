// Loading the signature knowledge base from YAML files (one file per
// component, see docs/rules.md for the format).
//
// Loading never stops at the first problem: every error (YAML syntax, unknown
// key, missing field, duplicate id, a pattern Hyperscan or RE2 rejects, a
// runbook step without a risk, ...) is added to the Diagnostics as
// "FILE:LINE:COL: what is wrong; how to fix it", and signatures with errors
// are left out, so the caller decides whether a partial knowledge base is
// acceptable. Sizes are bounded (file size, signatures per file, patterns per
// signature, pattern length) so a hostile rule file cannot exhaust memory.
// Stateless functions; thread-safe for distinct outputs.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mamori/config/diagnostics.h"
#include "mamori/logs/rule.h"
#include "mamori/util/embedded_file.h"
#include "mamori/util/result.h"

namespace mamori::logs {

inline constexpr size_t kMaxRuleFileBytes = 4 << 20;
inline constexpr size_t kMaxPatternBytes = 4096;
inline constexpr size_t kMaxSignaturesPerFile = 2000;

// Parses one rule file's text (`file` names it in messages) and appends its
// valid signatures to `out`. Ids already present in `out` are errors.
void LoadRuleText(std::string_view text, const std::string& file, RuleSet* out,
                  config::Diagnostics* diag);
// Reads and parses one file.
void LoadRuleFile(const std::string& path, RuleSet* out, config::Diagnostics* diag);
// Every *.yaml / *.yml file directly in `dir`, in name order. A missing or
// unreadable directory is a diagnostic.
void LoadRuleDirectory(const std::string& dir, RuleSet* out, config::Diagnostics* diag);

// The shipped knowledge base, compiled into the binary from rules/*.yaml
// (cmake/embed_files.cmake), so the binary needs no files beside it.
std::span<const util::EmbeddedFile> BuiltinRuleFiles();
// Names the built-in rules in a source list (`--rules @builtin`); their files
// appear in messages as "@builtin/nginx.yaml".
inline constexpr std::string_view kBuiltinRules = "@builtin";
// The operator's own rules, loaded after the built-in ones when it exists.
inline constexpr const char* kOperatorRuleDirectory = "/etc/mamori/rules.d";

// Appends the built-in signatures to `out`.
void LoadBuiltinRules(RuleSet* out, config::Diagnostics* diag);

// What is loaded when no rules are named: $MAMORI_RULES alone when it is set
// (a rule tree under development replaces the built-in one), else the
// built-in rules and then kOperatorRuleDirectory if it exists.
std::vector<std::string> DefaultRuleSources();

// Loads `sources` in order: directories, single files and kBuiltinRules; an
// empty list means DefaultRuleSources(). A signature in a later source whose id
// is a built-in one replaces it; ids must otherwise be unique. Any diagnostic
// makes this an error whose message is all diagnostics, one per line.
Result<RuleSet> LoadRules(const std::vector<std::string>& sources);

}  // namespace mamori::logs
