#include "mamori/probes/load_probe.h"

#include <fmt/format.h>
#include <unistd.h>

#include <charconv>
#include <cmath>
#include <optional>

#include "mamori/check/registry.h"
#include "mamori/probes/procfs.h"

namespace mamori::probes::load {
namespace {

std::optional<double> ToDouble(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  double v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size() || !std::isfinite(v) ||
      v < 0)
    return std::nullopt;
  return v;
}

constexpr const char* kWindow[3] = {"1m", "5m", "15m"};

}  // namespace

Observation LoadProbe::Run(const Clock&, MonoTime) {
  auto text = procfs::ReadFileBounded(proc_root_ + "/loadavg", 4096);
  if (!text.ok())
    return Observation::Make(CheckStatus::kUnknown, "cannot read " + text.error().message());
  std::array<double, 3> load{};
  std::string_view s = *text;
  for (int i = 0; i < 3; ++i) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    size_t end = s.find_first_of(" \n");
    auto v = ToDouble(s.substr(0, end));
    if (!v)
      return Observation::Make(
          CheckStatus::kUnknown,
          fmt::format("{}/loadavg is malformed: '{}'", proc_root_, procfs::Printable(*text)));
    load[i] = *v;
    s.remove_prefix(end == std::string_view::npos ? s.size() : end);
  }
  int cpus = cpus_ > 0 ? cpus_ : static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN));
  if (cpus <= 0) cpus = 1;
  const double scale = o_.per_cpu ? cpus : 1.0;

  CheckStatus status = CheckStatus::kOk;
  std::string why;
  for (int i = 0; i < 3; ++i) {
    double crit = o_.critical[i] * scale, warn = o_.warning[i] * scale;
    CheckStatus s_i = load[i] >= crit   ? CheckStatus::kCritical
                      : load[i] >= warn ? CheckStatus::kWarning
                                        : CheckStatus::kOk;
    if (s_i == CheckStatus::kOk || Severity(s_i) < Severity(status)) continue;
    if (Severity(s_i) > Severity(status)) why.clear();
    status = s_i;
    if (!why.empty()) why += ", ";
    double limit = s_i == CheckStatus::kCritical ? o_.critical[i] : o_.warning[i];
    why += fmt::format("{} load {:.2f} at or above {} {:g}", kWindow[i], load[i],
                       s_i == CheckStatus::kCritical ? "critical" : "warning", limit * scale);
    if (o_.per_cpu) why += fmt::format(" ({:g} per CPU)", limit);
  }
  Observation obs;
  obs.status = status;
  obs.summary = fmt::format("load {:.2f} {:.2f} {:.2f} on {} CPU{}", load[0], load[1], load[2],
                            cpus, cpus == 1 ? "" : "s");
  if (!why.empty()) obs.summary += ": " + why;
  obs.AddMetric("load1", load[0]);
  obs.AddMetric("load5", load[1]);
  obs.AddMetric("load15", load[2]);
  obs.AddMetric("cpus", cpus);
  return obs;
}

namespace {

// "5,4,3", "2", [5, 4, 3] -> triplet; nullopt (with a diagnostic) otherwise.
std::optional<std::array<double, 3>> GetTriplet(config::ConfigNode& node, std::string_view key) {
  auto list = node.GetStringList(key);
  if (!list) return std::nullopt;
  std::vector<std::string> parts;
  if (list->size() == 1) {
    std::string_view s = (*list)[0];
    size_t pos = 0;
    while (true) {
      size_t comma = s.find(',', pos);
      parts.emplace_back(s.substr(pos, comma == std::string_view::npos ? s.npos : comma - pos));
      if (comma == std::string_view::npos) break;
      pos = comma + 1;
    }
  } else {
    parts = *list;
  }
  const std::string hint = "write three loads for 1m,5m,15m such as \"4,3,2\", or one number";
  if (parts.size() != 1 && parts.size() != 3) {
    node.ErrorAt(key, fmt::format("expected 1 or 3 numbers, found {}", parts.size()), hint);
    return std::nullopt;
  }
  std::array<double, 3> out{};
  for (size_t i = 0; i < parts.size(); ++i) {
    auto v = ToDouble(parts[i]);
    if (!v) {
      node.ErrorAt(key, fmt::format("'{}' is not a non-negative number", parts[i]), hint);
      return std::nullopt;
    }
    out[i] = *v;
  }
  if (parts.size() == 1) out[1] = out[2] = out[0];
  return out;
}

std::unique_ptr<Probe> Build(config::ConfigNode& node) {
  Options o;
  auto w = GetTriplet(node, "warning");
  auto c = GetTriplet(node, "critical");
  if (auto v = node.GetBool("per_cpu")) o.per_cpu = *v;
  if (w) o.warning = *w;
  if (c) o.critical = *c;
  for (int i = 0; i < 3; ++i) {
    if (o.warning[i] > o.critical[i]) {
      node.ErrorAt(w ? "warning" : "critical",
                   fmt::format("{} warning {:g} is above critical {:g}", kWindow[i], o.warning[i],
                               o.critical[i]),
                   "each warning load must be lower than or equal to its critical load");
      return nullptr;
    }
  }
  return std::make_unique<LoadProbe>(o);
}

}  // namespace

void Register(ProbeRegistry& r) {
  r.Add("load", "1/5/15 minute load averages, per CPU by default (/proc/loadavg)", Build);
}

}  // namespace mamori::probes::load
