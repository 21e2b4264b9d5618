#include "mamori/logs/rule.h"

#include <cctype>

namespace mamori::logs {

std::string_view SeverityName(Severity s) {
  switch (s) {
    case Severity::kInfo:
      return "info";
    case Severity::kWarning:
      return "warning";
    case Severity::kCritical:
      return "critical";
  }
  return "?";
}

std::optional<Severity> ParseSeverity(std::string_view s) {
  if (s == "info") return Severity::kInfo;
  if (s == "warning") return Severity::kWarning;
  if (s == "critical") return Severity::kCritical;
  return std::nullopt;
}

std::string_view RiskName(StepRisk r) {
  switch (r) {
    case StepRisk::kReadOnly:
      return "read-only";
    case StepRisk::kReversible:
      return "reversible";
    case StepRisk::kDestructive:
      return "destructive";
  }
  return "?";
}

std::optional<StepRisk> ParseRisk(std::string_view s) {
  if (s == "read-only") return StepRisk::kReadOnly;
  if (s == "reversible") return StepRisk::kReversible;
  if (s == "destructive") return StepRisk::kDestructive;
  return std::nullopt;
}

const Signature* RuleSet::Find(std::string_view id) const {
  auto i = IndexOf(id);
  return i ? &signatures[*i] : nullptr;
}

std::optional<uint32_t> RuleSet::IndexOf(std::string_view id) const {
  for (size_t i = 0; i < signatures.size(); ++i)
    if (signatures[i].id == id) return static_cast<uint32_t>(i);
  return std::nullopt;
}

std::string RenderSummary(std::string_view summary, const std::vector<Field>& fields) {
  std::string out;
  out.reserve(summary.size() + 32);
  for (size_t i = 0; i < summary.size(); ++i) {
    char c = summary[i];
    if ((c == '{' || c == '}') && i + 1 < summary.size() && summary[i + 1] == c) {
      out += c;
      ++i;
      continue;
    }
    if (c != '{') {
      out += c;
      continue;
    }
    size_t close = summary.find('}', i + 1);
    if (close == std::string_view::npos) {
      out.append(summary.substr(i));
      break;
    }
    std::string_view name = summary.substr(i + 1, close - i - 1);
    const Field* found = nullptr;
    for (const auto& f : fields)
      if (f.name == name) found = &f;
    out += found ? found->value : "?";
    i = close;
  }
  return out;
}

namespace {

// Length of the placeholder name after the '{' at `open`, or 0 when the brace
// does not open a placeholder.
size_t PlaceholderLength(std::string_view text, size_t open) {
  size_t i = open + 1;
  while (i < text.size() && (std::islower(static_cast<unsigned char>(text[i])) ||
                             std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '_'))
    ++i;
  if (i == open + 1 || i >= text.size() || text[i] != '}') return 0;
  if (std::isdigit(static_cast<unsigned char>(text[open + 1]))) return 0;  // awk's {1}, regex {2}
  return i - open - 1;
}

}  // namespace

std::vector<std::string> RunbookPlaceholders(std::string_view text) {
  std::vector<std::string> out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '{') continue;
    if (size_t n = PlaceholderLength(text, i)) {
      out.emplace_back(text.substr(i + 1, n));
      i += n + 1;
    }
  }
  return out;
}

std::string RenderRunbookText(std::string_view text, const std::vector<Field>& fields) {
  std::string out;
  out.reserve(text.size() + 32);
  for (size_t i = 0; i < text.size(); ++i) {
    size_t n = text[i] == '{' ? PlaceholderLength(text, i) : 0;
    if (n == 0) {
      out += text[i];
      continue;
    }
    std::string_view name = text.substr(i + 1, n);
    const Field* found = nullptr;
    for (const auto& f : fields)
      if (f.name == name && !f.value.empty()) found = &f;
    if (found) {
      out += found->value;
    } else {
      for (char c : name) out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    i += n + 1;
  }
  return out;
}

std::vector<RunbookStep> RenderRunbook(const std::vector<RunbookStep>& steps,
                                       const std::vector<Field>& fields) {
  std::vector<RunbookStep> out = steps;
  for (auto& s : out) {
    s.step = RenderRunbookText(s.step, fields);
    s.command = RenderRunbookText(s.command, fields);
    s.check = RenderRunbookText(s.check, fields);
  }
  return out;
}

}  // namespace mamori::logs
