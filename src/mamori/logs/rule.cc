#include "mamori/logs/rule.h"

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

}  // namespace mamori::logs
