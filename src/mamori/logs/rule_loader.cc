#include "mamori/logs/rule_loader.h"

#include <hs/hs.h>
#include <re2/re2.h>
#include <unistd.h>

#include <fmt/format.h>
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <system_error>

#include "mamori/config/node.h"
#include "mamori/util/lazy_libraries.h"

namespace mamori::logs {
namespace {

using config::ConfigNode;
using config::Diagnostics;
using config::Location;
using config::MarkLocation;

const std::vector<std::string> kTopKeys = {"component", "description", "signatures"};
const std::vector<std::string> kSignatureKeys = {
    "id",      "severity",    "patterns", "pattern", "ignore_case", "captures",
    "summary", "explanation", "causes",   "runbook", "examples",    "source"};
const std::vector<std::string> kStepKeys = {"step", "command", "risk", "check"};

// Unknown keys, with "did you mean" against the keys allowed at this level.
void CheckKeys(const config::Yaml& node, const std::vector<std::string>& allowed,
               const std::string& what, const std::string& file, Diagnostics* diag) {
  if (!node.IsMap()) return;
  for (const auto& kv : node) {
    if (!kv.first.IsScalar()) continue;
    const std::string& k = kv.first.Scalar();
    if (std::find(allowed.begin(), allowed.end(), k) != allowed.end()) continue;
    std::string best = config::ClosestMatch(k, allowed);
    diag->Add(MarkLocation(kv.first.Mark(), file), fmt::format("{}: unknown key '{}'", what, k),
              best.empty()
                  ? fmt::format("allowed keys: {}; see docs/rules.md", fmt::join(allowed, ", "))
                  : fmt::format("did you mean '{}'?", best));
  }
}

bool ValidId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_'))
      return false;
  return true;
}

// Named groups of all captures of a signature, or nullopt if one is invalid
// (diagnosed).
void CheckPattern(ConfigNode& n, const std::string& id, const std::string& pattern,
                  const Location& where, bool ignore_case, Diagnostics* diag) {
  if (pattern.size() > kMaxPatternBytes) {
    diag->Add(where, fmt::format("signature '{}': pattern is {} bytes long", id, pattern.size()),
              fmt::format("keep patterns under {} bytes", kMaxPatternBytes));
    return;
  }
  if (pattern.find('\0') != std::string::npos) {
    diag->Add(where, fmt::format("signature '{}': pattern contains a NUL byte", id),
              "write \\x00 instead");
    return;
  }
  unsigned flags = HS_FLAG_SINGLEMATCH | (ignore_case ? HS_FLAG_CASELESS : 0);
  hs_expr_info_t* info = nullptr;
  hs_compile_error_t* err = nullptr;
  if (hs_expression_info(pattern.c_str(), flags, &info, &err) != HS_SUCCESS) {
    diag->Add(where,
              fmt::format("signature '{}': Hyperscan rejects pattern '{}': {}", id, pattern,
                          err ? err->message : "unknown error"),
              "use PCRE syntax without backreferences, lookaround or \\Q...\\E");
    hs_free_compile_error(err);
    return;
  }
  bool empty = info->min_width == 0;
  std::free(info);
  if (empty) {
    diag->Add(where,
              fmt::format("signature '{}': pattern '{}' can match an empty string", id, pattern),
              "make it require at least one character, e.g. a fixed word");
  }
  (void)n;
}

// Reads one runbook step; false if it has errors.
bool ReadStep(ConfigNode& s, const std::string& file, Diagnostics* diag, RunbookStep* out) {
  size_t before = diag->size();
  CheckKeys(s.yaml(), kStepKeys, s.what(), file, diag);
  out->step = s.GetString("step").value_or("");
  out->command = s.GetString("command").value_or("");
  out->check = s.GetString("check").value_or("");
  if (out->step.empty()) s.Error("missing 'step'", "say in words what this step does");
  auto risk = s.GetString("risk");
  if (!risk) {
    s.Error("missing 'risk'", "add 'risk: read-only', 'risk: reversible' or 'risk: destructive'");
  } else if (auto r = ParseRisk(*risk)) {
    out->risk = *r;
  } else {
    s.ErrorAt("risk", fmt::format("'{}' is not a risk", *risk),
              "write read-only, reversible or destructive");
  }
  if (out->risk == StepRisk::kDestructive && risk) {
    std::string text = out->step + " " + out->check;
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    if (text.find("snapshot") == std::string::npos && text.find("backup") == std::string::npos)
      s.Error("a destructive step must say to take a snapshot or backup first",
              "start the step with 'Take a snapshot or backup first, then ...'");
  }
  return diag->size() == before;
}

void ReadSignature(ConfigNode& n, const std::string& component, const std::string& file,
                   const std::set<std::string>& taken, RuleSet* out, Diagnostics* diag) {
  size_t before = diag->size();
  Signature sig;
  sig.component = component;
  sig.file = file;
  Location loc = n.location();
  sig.line = loc.line;
  sig.id = n.GetString("id").value_or("");
  if (!sig.id.empty()) n.set_what(fmt::format("signature '{}'", sig.id));
  if (sig.id.empty()) {
    n.Error("missing 'id'", fmt::format("add 'id: {}.some-name'", component));
  } else if (!ValidId(sig.id)) {
    n.ErrorAt("id", fmt::format("'{}' is not a valid id", sig.id),
              "use letters, digits, '.', '-' and '_' (at most 128)");
  } else if (taken.count(sig.id)) {
    n.ErrorAt("id", fmt::format("duplicate signature id '{}'", sig.id),
              "ids must be unique across all rule files; rename one");
  }
  CheckKeys(n.yaml(), kSignatureKeys, n.what(), file, diag);

  if (auto s = n.GetString("severity")) {
    if (auto v = ParseSeverity(*s))
      sig.severity = *v;
    else
      n.ErrorAt("severity", fmt::format("'{}' is not a severity", *s),
                "write info, warning or critical");
  } else {
    n.Error("missing 'severity'", "add 'severity: info', 'warning' or 'critical'");
  }
  sig.ignore_case = n.GetBool("ignore_case").value_or(false);

  // Patterns: "patterns" (list) or "pattern" (one).
  const char* pkey = n.Has("patterns") ? "patterns" : "pattern";
  n.Known("patterns");
  n.Known("pattern");
  if (auto p = n.GetStringList(pkey)) sig.patterns = std::move(*p);
  if (sig.patterns.empty()) {
    n.Error("missing 'patterns'", "add 'patterns: [\"regular expression\"]'");
  } else if (sig.patterns.size() > 64) {
    n.ErrorAt(pkey, "more than 64 patterns", "split the signature");
  } else {
    const config::Yaml pnode = n.yaml()[pkey];
    size_t i = 0;
    for (const auto& p : sig.patterns) {
      Location where = n.ValueLocation(pkey);
      if (pnode.IsSequence() && i < pnode.size()) where = MarkLocation(pnode[i].Mark(), file);
      CheckPattern(n, sig.id, p, where, sig.ignore_case, diag);
      ++i;
    }
  }

  std::set<std::string> groups;
  if (auto c = n.GetStringList("captures")) sig.captures = std::move(*c);
  for (const auto& c : sig.captures) {
    RE2::Options opt;
    opt.set_log_errors(false);
    opt.set_case_sensitive(!sig.ignore_case);
    opt.set_max_mem(8 << 20);
    RE2 re(c, opt);
    if (!re.ok()) {
      n.ErrorAt("captures", fmt::format("RE2 rejects '{}': {}", c, re.error()),
                "use RE2 syntax with named groups such as (?P<name>[0-9]+)");
      continue;
    }
    if (re.NamedCapturingGroups().empty())
      n.ErrorAt("captures", fmt::format("'{}' has no named group", c),
                "name what to capture: (?P<name>...)");
    for (const auto& [name, index] : re.NamedCapturingGroups()) groups.insert(name);
  }

  sig.summary = n.GetString("summary").value_or("");
  if (sig.summary.empty()) n.Error("missing 'summary'", "add a one-line 'summary:'");
  // Every {placeholder} must be a named group of the captures.
  for (size_t i = 0; i < sig.summary.size(); ++i) {
    if (sig.summary[i] != '{') continue;
    if (i + 1 < sig.summary.size() && sig.summary[i + 1] == '{') {
      ++i;
      continue;
    }
    size_t close = sig.summary.find('}', i);
    if (close == std::string::npos) break;
    std::string name = sig.summary.substr(i + 1, close - i - 1);
    if (!groups.count(name))
      n.ErrorAt("summary", fmt::format("'{{{}}}' is not captured", name),
                fmt::format("add (?P<{}>...) to 'captures' or remove the placeholder", name));
    i = close;
  }

  sig.explanation = n.GetString("explanation").value_or("");
  if (sig.explanation.empty())
    n.Error("missing 'explanation'", "say in plain words what the line means");
  if (auto c = n.GetStringList("causes")) sig.causes = std::move(*c);
  if (auto e = n.GetStringList("examples")) sig.examples = std::move(*e);
  sig.source = n.GetString("source").value_or("");
  if (auto steps = n.GetMapList("runbook")) {
    int i = 0;
    for (auto& s : *steps) {
      s.set_what(fmt::format("{}: runbook step {}", n.what(), ++i));
      RunbookStep step;
      bool complete = ReadStep(s, file, diag, &step);
      for (const auto& text : {step.step, step.command, step.check})
        for (const auto& name : RunbookPlaceholders(text))
          if (!groups.count(name) && name != kLogFileField)
            s.Error(
                fmt::format("'{{{}}}' is not captured", name),
                fmt::format("add (?P<{}>...) to 'captures', use {{{}}}, or write it in capitals",
                            name, kLogFileField));
      if (complete) sig.runbook.push_back(std::move(step));
    }
  }
  if (diag->size() == before) out->signatures.push_back(std::move(sig));
}

std::set<std::string> Ids(const RuleSet& rules) {
  std::set<std::string> ids;
  for (const auto& s : rules.signatures) ids.insert(s.id);
  return ids;
}

}  // namespace

void LoadRuleText(std::string_view text, const std::string& file, RuleSet* out, Diagnostics* diag) {
  if (text.size() > kMaxRuleFileBytes) {
    diag->Add({file, 0, 0}, fmt::format("rule file is {} bytes", text.size()),
              fmt::format("split it; files are limited to {} bytes", kMaxRuleFileBytes));
    return;
  }
  auto parsed = config::Yaml::Parse(text);
  if (const auto* e = std::get_if<config::YamlError>(&parsed)) {
    config::AddYamlError(*e, file, diag);
    return;
  }
  const config::Yaml& root = std::get<config::Yaml>(parsed);
  if (!root.IsDefined() || root.IsNull()) {
    diag->Add({file, 1, 1}, "the rule file is empty",
              "start with 'component: NAME' and a 'signatures:' list");
    return;
  }
  if (!root.IsMap()) {
    diag->Add(MarkLocation(root.Mark(), file), "the top level must be a mapping",
              "start with 'component: NAME' and a 'signatures:' list");
    return;
  }
  ConfigNode top(root, "rule file", file, diag);
  CheckKeys(root, kTopKeys, "rule file", file, diag);
  std::string component = top.GetString("component").value_or("");
  top.GetString("description");
  if (component.empty() || !ValidId(component)) {
    top.Error("missing or invalid 'component'",
              "add 'component: NAME' (letters, digits, '-', '_')");
    return;
  }
  auto sigs = top.GetMapList("signatures");
  if (!sigs) {
    top.Error("missing 'signatures'", "add a 'signatures:' list");
    return;
  }
  if (sigs->size() > kMaxSignaturesPerFile) {
    top.ErrorAt("signatures", fmt::format("{} signatures", sigs->size()),
                fmt::format("split the file; at most {} per file", kMaxSignaturesPerFile));
    return;
  }
  std::set<std::string> taken = Ids(*out);
  for (auto& s : *sigs) {
    size_t n = out->signatures.size();
    ReadSignature(s, component, file, taken, out, diag);
    if (out->signatures.size() > n) taken.insert(out->signatures.back().id);
  }
  out->files.push_back(file);
}

void LoadRuleFile(const std::string& path, RuleSet* out, Diagnostics* diag) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  if (ec) {
    diag->Add({path, 0, 0}, "cannot read rule file: " + ec.message());
    return;
  }
  if (size > kMaxRuleFileBytes) {
    diag->Add({path, 0, 0}, fmt::format("rule file is {} bytes", size),
              fmt::format("split it; files are limited to {} bytes", kMaxRuleFileBytes));
    return;
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (!in) {
    diag->Add({path, 0, 0}, "cannot read rule file");
    return;
  }
  LoadRuleText(ss.str(), path, out, diag);
}

void LoadRuleDirectory(const std::string& dir, RuleSet* out, Diagnostics* diag) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<std::string> files;
  fs::directory_iterator it(dir, ec), end;
  if (ec) {
    diag->Add({dir, 0, 0}, "cannot read rule directory: " + ec.message(),
              "pass an existing directory with --rules");
    return;
  }
  for (; it != end; it.increment(ec)) {
    if (ec) break;
    const auto& p = it->path();
    auto ext = p.extension().string();
    if ((ext == ".yaml" || ext == ".yml") && it->is_regular_file(ec)) files.push_back(p.string());
  }
  std::sort(files.begin(), files.end());
  if (files.empty())
    diag->Add({dir, 0, 0}, "no *.yaml rule files in directory", "see docs/rules.md");
  for (const auto& f : files) LoadRuleFile(f, out, diag);
}

void LoadBuiltinRules(RuleSet* out, Diagnostics* diag) {
  for (const auto& f : BuiltinRuleFiles())
    LoadRuleText(f.text, std::string(kBuiltinRules) + "/" + std::string(f.name), out, diag);
}

std::vector<std::string> DefaultRuleSources() {
  std::error_code ec;
  if (const char* env = std::getenv("MAMORI_RULES"); env && *env) return {env};
  std::vector<std::string> sources{std::string(kBuiltinRules)};
  if (std::filesystem::is_directory(kOperatorRuleDirectory, ec))
    sources.emplace_back(kOperatorRuleDirectory);
  return sources;
}

namespace {

// The operator's signatures after the built-in ones; an operator signature
// with a built-in id takes that signature's place (so a shipped rule can be
// tuned without copying the whole file).
RuleSet Overlay(RuleSet builtin, RuleSet own) {
  for (auto& s : own.signatures) {
    if (auto i = builtin.IndexOf(s.id))
      builtin.signatures[*i] = std::move(s);
    else
      builtin.signatures.push_back(std::move(s));
  }
  for (auto& f : own.files) builtin.files.push_back(std::move(f));
  return builtin;
}

}  // namespace

Result<RuleSet> LoadRules(const std::vector<std::string>& sources) {
  // Hyperscan is opened on first use (util/lazy_libraries.h); without it every
  // pattern would look rejected, so say once what is missing instead.
  hs_expr_info_t* probe = nullptr;
  hs_compile_error_t* probe_err = nullptr;
  if (hs_expression_info("a", 0, &probe, &probe_err) != HS_SUCCESS && probe_err == nullptr &&
      *util::LazyLibHyperscan().Error() != '\0')
    return Error(fmt::format("log signatures need Hyperscan: {}; install the libhyperscan5 package",
                             util::LazyLibHyperscan().Error()));
  if (probe_err) hs_free_compile_error(probe_err);
  std::free(probe);
  const std::vector<std::string> list = sources.empty() ? DefaultRuleSources() : sources;
  RuleSet builtin, own;
  Diagnostics diag;
  std::error_code ec;
  for (const auto& s : list) {
    if (s == kBuiltinRules)
      LoadBuiltinRules(&builtin, &diag);
    else if (std::filesystem::is_directory(s, ec))
      LoadRuleDirectory(s, &own, &diag);
    else
      LoadRuleFile(s, &own, &diag);
  }
  if (!diag.empty()) {
    // In load order (file by file), not sorted by line across files.
    std::string msg;
    for (const auto& d : diag.items()) msg += (msg.empty() ? "" : "\n") + d.ToString();
    return Error(msg);
  }
  return Overlay(std::move(builtin), std::move(own));
}

}  // namespace mamori::logs
