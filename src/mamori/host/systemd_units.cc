#include "mamori/host/systemd_units.h"

#include <fnmatch.h>

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "mamori/util/units.h"

namespace mamori::host::systemd {

bool HasGlob(const std::string& pattern) {
  return pattern.find_first_of("*?[") != std::string::npos;
}

std::string NormalizeUnitPattern(const std::string& pattern) {
  if (pattern.empty() || HasGlob(pattern)) return pattern;
  static constexpr const char* kSuffixes[] = {".service", ".socket", ".target",    ".mount",
                                              ".timer",   ".path",   ".automount", ".swap",
                                              ".slice",   ".scope",  ".device"};
  for (const char* s : kSuffixes)
    if (pattern.ends_with(s)) return pattern;
  return pattern + ".service";
}

bool Selected(const std::string& name, const Options& o) {
  if (!o.unit.empty() && ::fnmatch(o.unit.c_str(), name.c_str(), 0) != 0) return false;
  for (const auto& g : o.ignore)
    if (::fnmatch(g.c_str(), name.c_str(), 0) == 0) return false;
  return true;
}

bool IsLongRunningType(const std::string& type) {
  return type == "simple" || type == "exec" || type == "forking" || type == "notify" ||
         type == "notify-reload" || type == "dbus";
}

bool IsTemplateWithoutInstance(const std::string& name) {
  auto at = name.find('@');
  return at != std::string::npos && at + 1 < name.size() && name[at + 1] == '.';
}

namespace {

// The shared part of both "not running" rules: a service meant to keep
// running that is not, and was not skipped on purpose.
bool LongRunningServiceDown(const UnitRecord& u) {
  return u.name.ends_with(".service") && u.load_state == "loaded" && u.active_state == "inactive" &&
         IsLongRunningType(u.type) && !u.remain_after_exit && !u.condition_failed && !u.transient &&
         !IsTemplateWithoutInstance(u.name);
}

}  // namespace

bool EnabledButNotRunning(const UnitRecord& u, const std::map<std::string, std::string>& active) {
  if (!LongRunningServiceDown(u)) return false;
  if (u.unit_file_state != "enabled" && u.unit_file_state != "enabled-runtime") return false;
  // Enabled for a target that is up (multi-user, graphical, ...): enabled only
  // as a dependency of something inactive is not a finding.
  for (const auto& w : u.wanted_by) {
    if (!w.ends_with(".target")) continue;
    auto it = active.find(w);
    if (it != active.end() && it->second == "active") return true;
  }
  return false;
}

int64_t RestartTracker::Observe(const std::string& unit, int64_t n, MonoTime now, Duration within) {
  auto& s = samples_[unit];
  if (!s.empty() && n < s.back().n) s.clear();  // counter reset: a manual start
  while (!s.empty() && now - s.front().time > within) s.pop_front();
  int64_t growth = s.empty() ? 0 : n - s.front().n;
  // One sample per distinct value is enough to know the oldest count in the
  // window; bounded by the growth itself, and by the window.
  if (s.empty() || s.back().n != n) s.push_back({now, n});
  if (s.size() > 64) s.pop_front();
  return growth;
}

void RestartTracker::Retain(const std::vector<std::string>& seen) {
  std::set<std::string> keep(seen.begin(), seen.end());
  for (auto it = samples_.begin(); it != samples_.end();)
    it = keep.count(it->first) ? std::next(it) : samples_.erase(it);
}

Findings Judge(const std::vector<UnitRecord>& units, const Options& o, RestartTracker& tracker,
               MonoTime now) {
  Findings f;
  const bool named = !o.unit.empty() && !HasGlob(o.unit);
  std::map<std::string, std::string> active;
  for (const auto& u : units) active[u.name] = u.active_state;
  std::vector<std::string> seen;
  bool named_found = false;
  for (const auto& u : units) {
    if (!Selected(u.name, o)) continue;
    if (named && u.name == o.unit) {
      if (u.load_state == "not-found") continue;
      named_found = true;
    }
    if (u.active_state == "failed") {
      f.failed.push_back(&u);
    } else if (named ? LongRunningServiceDown(u) : EnabledButNotRunning(u, active)) {
      f.not_running.push_back(&u);
    }
    if (u.n_restarts >= 0 && o.restart_count > 0) {
      seen.push_back(u.name);
      int64_t growth = tracker.Observe(u.name, u.n_restarts, now, o.restart_within);
      if (growth > o.restart_count) f.restart_loops.emplace_back(&u, growth);
    }
  }
  if (named && !named_found && Selected(o.unit, o)) f.missing.push_back(o.unit);
  tracker.Retain(seen);
  return f;
}

namespace {

std::string Why(const UnitRecord& u) {
  if (!u.result.empty() && u.result != "success") return u.result;
  return u.sub_state.empty() ? u.active_state : u.sub_state;
}

}  // namespace

Observation Report(const std::vector<UnitRecord>& units, const Findings& f, const Options& o) {
  Observation obs;
  size_t selected = 0;
  for (const auto& u : units)
    if (Selected(u.name, o)) ++selected;
  obs.AddMetric("units", static_cast<double>(selected));
  obs.AddMetric("failed_units", static_cast<double>(f.failed.size() + f.missing.size()));
  obs.AddMetric("not_running_units", static_cast<double>(f.not_running.size()));
  obs.AddMetric("restart_loops", static_cast<double>(f.restart_loops.size()));

  // Per-unit metrics, bounded so the store's cap (64 per observation) keeps
  // the counts above.
  size_t budget = 56;
  auto unit_metric = [&](const std::string& what, const std::string& name, double v) {
    if (budget == 0) return;
    --budget;
    obs.AddMetric(what + ":" + name, v);
  };

  std::vector<std::string> parts;
  if (!f.missing.empty()) {
    std::string s = "no such unit:";
    for (const auto& n : f.missing) {
      s += " " + n;
      unit_metric("failed", n, 1);
      obs.details += n + ": not found (no unit file)\n";
    }
    parts.push_back(s);
  }
  if (!f.failed.empty()) {
    std::string s = "failed:";
    for (size_t i = 0; i < f.failed.size(); ++i) {
      const auto& u = *f.failed[i];
      s += fmt::format("{} {} ({})", i ? "," : "", u.name, Why(u));
      unit_metric("failed", u.name, 1);
      obs.details +=
          fmt::format("{}: failed, result {}\n", u.name, u.result.empty() ? "unknown" : u.result);
    }
    parts.push_back(s);
  }
  if (!f.not_running.empty()) {
    std::string s = o.unit.empty() || HasGlob(o.unit) ? "enabled but not running:" : "not running:";
    for (size_t i = 0; i < f.not_running.size(); ++i) {
      const auto& u = *f.not_running[i];
      s += fmt::format("{} {}", i ? "," : "", u.name);
      if (!u.result.empty() && u.result != "success") s += " (" + u.result + ")";
      unit_metric("not_running", u.name, 1);
      obs.details += fmt::format("{}: {} ({}), Type={}, unit file {}, last result {}\n", u.name,
                                 u.active_state, u.sub_state, u.type, u.unit_file_state,
                                 u.result.empty() ? "unknown" : u.result);
    }
    parts.push_back(s);
  }
  if (!f.restart_loops.empty()) {
    std::string s = "restart loop:";
    for (size_t i = 0; i < f.restart_loops.size(); ++i) {
      const auto& [u, growth] = f.restart_loops[i];
      s += fmt::format("{} {} ({} restarts in {})", i ? "," : "", u->name, growth,
                       FormatDuration(o.restart_within));
      unit_metric("restarts", u->name, static_cast<double>(growth));
      obs.details +=
          fmt::format("{}: NRestarts {} ({} more within {}), now {} ({})\n", u->name, u->n_restarts,
                      growth, FormatDuration(o.restart_within), u->active_state, u->sub_state);
    }
    parts.push_back(s);
  }

  if (parts.empty()) {
    obs.status = CheckStatus::kOk;
    const bool named = !o.unit.empty() && !HasGlob(o.unit);
    const UnitRecord* one = nullptr;
    for (const auto& u : units)
      if (named && u.name == o.unit) one = &u;
    if (one)
      obs.summary = fmt::format("{} {} ({})", one->name, one->active_state, one->sub_state);
    else
      obs.summary = fmt::format("{} units, none failed, every enabled service running", selected);
    return obs;
  }
  const bool critical = !f.failed.empty() || !f.not_running.empty() || !f.missing.empty();
  obs.status = critical ? CheckStatus::kCritical : CheckStatus::kWarning;
  for (size_t i = 0; i < parts.size(); ++i) obs.summary += (i ? "; " : "") + parts[i];
  return obs;
}

}  // namespace mamori::host::systemd
