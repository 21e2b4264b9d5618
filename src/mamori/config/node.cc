#include "mamori/config/node.h"

#include <fmt/format.h>
#include <algorithm>
#include <charconv>
#include <utility>

#include "mamori/util/units.h"

namespace mamori::config {

Location MarkLocation(const YAML::Mark& mark, const std::string& file) {
  if (mark.is_null()) return {file, 0, 0};
  return {file, mark.line + 1, mark.column + 1};
}

void AddYamlError(const YamlError& e, const std::string& file, Diagnostics* diag) {
  if (e.mark.is_null()) {
    diag->Add({file, 0, 0}, "YAML error: " + e.message);
    return;
  }
  diag->Add(MarkLocation(e.mark, file), "YAML syntax error: " + e.message,
            "check indentation and quoting near this place");
}

ConfigNode::ConfigNode(Yaml node, std::string what, std::string file, Diagnostics* diag)
    : ConfigNode(std::move(node), std::move(what),
                 std::make_shared<Shared>(Shared{std::move(file), diag, {}, {}})) {}

ConfigNode::ConfigNode(Yaml node, std::string what, std::shared_ptr<Shared> shared)
    : state_(std::make_shared<State>()) {
  state_->node = std::move(node);
  state_->what = std::move(what);
  state_->shared = std::move(shared);
}

void ConfigNode::Known(std::string_view key) {
  auto& names = state_->shared->names;
  auto it = names.find(key);
  if (it == names.end()) it = names.emplace(key).first;
  for (const std::string* k : state_->known)
    if (k == &*it) return;
  state_->known.push_back(&*it);
}

bool ConfigNode::IsKnown(std::string_view key) const {
  for (const std::string* k : state_->known)
    if (*k == key) return true;
  return false;
}

bool ConfigNode::Has(std::string_view key) const {
  if (!state_->node.IsMap()) return false;
  const Yaml v = state_->node[key];
  return v.IsDefined() && !v.IsNull();
}

Location ConfigNode::location() const {
  return MarkLocation(state_->node.Mark(), state_->shared->file);
}

Location ConfigNode::KeyLocation(std::string_view key) const {
  if (state_->node.IsMap()) {
    for (const auto& kv : state_->node) {
      if (kv.first.IsScalar() && kv.first.Scalar() == key)
        return MarkLocation(kv.first.Mark(), state_->shared->file);
    }
  }
  return location();
}

Location ConfigNode::ValueLocation(std::string_view key) const {
  if (state_->node.IsMap()) {
    const Yaml v = state_->node[key];
    if (v.IsDefined()) return MarkLocation(v.Mark(), state_->shared->file);
  }
  return location();
}

void ConfigNode::Error(std::string message, std::string hint) {
  state_->shared->diag->Add(location(), state_->what + ": " + message, std::move(hint));
}

void ConfigNode::ErrorAt(std::string_view key, std::string message, std::string hint) {
  state_->shared->diag->Add(
      ValueLocation(key), fmt::format("{}: '{}': {}", state_->what, key, message), std::move(hint));
}

std::optional<std::string> ConfigNode::Scalar(std::string_view key, std::string_view expected) {
  Known(key);
  if (!state_->node.IsMap()) return std::nullopt;
  const Yaml v = state_->node[key];
  if (!v.IsDefined() || v.IsNull()) return std::nullopt;
  if (!v.IsScalar()) {
    ErrorAt(key,
            fmt::format("expected {}, found a {}", expected, v.IsSequence() ? "list" : "mapping"));
    return std::nullopt;
  }
  return v.Scalar();
}

std::optional<std::string> ConfigNode::GetString(std::string_view key) {
  return Scalar(key, "a string");
}

Result<std::shared_ptr<const util::TimeZone>> ConfigNode::Zone(std::string_view name) {
  auto& zones = state_->shared->zones;
  if (auto it = zones.find(name); it != zones.end()) return it->second;
  auto zone = util::FindTimeZone(name);
  if (zone.ok()) zones.emplace(std::string(name), *zone);
  return zone;
}

std::optional<bool> ConfigNode::GetBool(std::string_view key) {
  auto s = Scalar(key, "true or false");
  if (!s) return std::nullopt;
  if (*s == "true" || *s == "yes" || *s == "on") return true;
  if (*s == "false" || *s == "no" || *s == "off") return false;
  ErrorAt(key, fmt::format("'{}' is not a boolean", *s), "write true or false");
  return std::nullopt;
}

std::optional<int64_t> ConfigNode::GetInt(std::string_view key, int64_t min, int64_t max) {
  auto s = Scalar(key, "an integer");
  if (!s) return std::nullopt;
  int64_t v = 0;
  auto r = std::from_chars(s->data(), s->data() + s->size(), v);
  if (r.ec != std::errc() || r.ptr != s->data() + s->size()) {
    ErrorAt(key, fmt::format("'{}' is not an integer", *s),
            fmt::format("write a whole number from {} to {}", min, max));
    return std::nullopt;
  }
  if (v < min || v > max) {
    ErrorAt(key, fmt::format("{} is out of range", v),
            fmt::format("use a value from {} to {}", min, max));
    return std::nullopt;
  }
  return v;
}

std::optional<double> ConfigNode::GetNumber(std::string_view key) {
  auto s = Scalar(key, "a number");
  if (!s) return std::nullopt;
  double v = 0;
  auto r = std::from_chars(s->data(), s->data() + s->size(), v);
  if (r.ec != std::errc() || r.ptr != s->data() + s->size()) {
    ErrorAt(key, fmt::format("'{}' is not a number", *s), "write a number such as 5 or 2.5");
    return std::nullopt;
  }
  return v;
}

std::optional<Duration> ConfigNode::GetDuration(std::string_view key) {
  auto s = Scalar(key, "a duration");
  if (!s) return std::nullopt;
  auto d = ParseDuration(*s);
  if (!d.ok()) {
    ErrorAt(key, d.error().message());
    return std::nullopt;
  }
  return *d;
}

bool ConfigNode::GetMaxAndCritical(std::string_view max_key, std::string_view critical_key,
                                   std::optional<Duration>& max,
                                   std::optional<Duration>& critical) {
  const std::string message = fmt::format("is lower than {} ({{0}})", max_key);
  const std::string hint =
      fmt::format("{} is the worse threshold: make it at least {}", critical_key, max_key);
  return GetOrdered(max_key, critical_key, max, critical, &ConfigNode::GetDuration, FormatDuration,
                    {critical_key, message, hint});
}

std::optional<uint64_t> ConfigNode::GetSize(std::string_view key) {
  auto s = Scalar(key, "a size");
  if (!s) return std::nullopt;
  auto v = ParseSize(*s);
  if (!v.ok()) {
    ErrorAt(key, v.error().message());
    return std::nullopt;
  }
  return *v;
}

std::optional<double> ConfigNode::GetPercent(std::string_view key) {
  auto s = Scalar(key, "a percentage");
  if (!s) return std::nullopt;
  auto v = ParsePercent(*s);
  if (!v.ok()) {
    ErrorAt(key, v.error().message());
    return std::nullopt;
  }
  return *v;
}

std::optional<std::vector<std::string>> ConfigNode::GetStringList(std::string_view key) {
  Known(key);
  if (!state_->node.IsMap()) return std::nullopt;
  const Yaml v = state_->node[key];
  if (!v.IsDefined() || v.IsNull()) return std::nullopt;
  if (v.IsScalar()) return std::vector<std::string>{v.Scalar()};
  if (v.IsMap()) {
    ErrorAt(key, "expected a list of strings, found a mapping", "write [a, b] or a single value");
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (const auto& item : v) {
    if (!item.IsScalar()) {
      state_->shared->diag->Add(
          MarkLocation(item.Mark(), state_->shared->file),
          fmt::format("{}: '{}': list items must be strings", state_->what, key));
      return std::nullopt;
    }
    out.push_back(item.Scalar());
  }
  return out;
}

std::optional<ConfigNode> ConfigNode::GetMap(std::string_view key) {
  Known(key);
  if (!state_->node.IsMap()) return std::nullopt;
  const Yaml v = state_->node[key];
  if (!v.IsDefined() || v.IsNull()) return std::nullopt;
  if (!v.IsMap()) {
    ErrorAt(key, "expected a mapping (key: value pairs)");
    return std::nullopt;
  }
  ConfigNode child(v, fmt::format("{}: {}", state_->what, key), state_->shared);
  state_->children.push_back(child);
  return child;
}

std::optional<std::vector<ConfigNode>> ConfigNode::GetMapList(std::string_view key) {
  Known(key);
  if (!state_->node.IsMap()) return std::nullopt;
  const Yaml v = state_->node[key];
  if (!v.IsDefined() || v.IsNull()) return std::nullopt;
  if (!v.IsSequence()) {
    ErrorAt(key, "expected a list", "write each item on its own line starting with '- '");
    return std::nullopt;
  }
  std::vector<ConfigNode> out;
  int i = 0;
  for (const auto& item : v) {
    ++i;
    if (!item.IsMap()) {
      state_->shared->diag->Add(
          MarkLocation(item.Mark(), state_->shared->file),
          fmt::format("{}: {} item {}: expected a mapping", state_->what, key, i),
          "write '- {name: ..., type: ...}' or a block mapping");
      continue;
    }
    ConfigNode child(item, fmt::format("{} item {}", key, i), state_->shared);
    state_->children.push_back(child);
    out.push_back(child);
  }
  return out;
}

void ConfigNode::KnowAll() {
  if (!state_->node.IsMap()) return;
  for (const auto& kv : state_->node)
    if (kv.first.IsScalar()) Known(kv.first.Scalar());
}

void ConfigNode::CheckUnknownKeys() {
  if (state_->node.IsMap()) {
    std::vector<std::string> known;
    for (const std::string* k : state_->known) known.push_back(*k);
    std::sort(known.begin(), known.end());
    for (const auto& kv : state_->node) {
      if (!kv.first.IsScalar()) continue;
      const std::string& k = kv.first.Scalar();
      if (IsKnown(k)) continue;
      std::string best = ClosestMatch(k, known);
      std::string hint = best.empty()
                             ? "remove it; see docs/CONFIGURATION.md for the keys allowed here"
                             : fmt::format("did you mean '{}'?", best);
      state_->shared->diag->Add(MarkLocation(kv.first.Mark(), state_->shared->file),
                                fmt::format("{}: unknown key '{}'", state_->what, k), hint);
    }
  }
  for (auto& c : state_->children) c.CheckUnknownKeys();
}

}  // namespace mamori::config
