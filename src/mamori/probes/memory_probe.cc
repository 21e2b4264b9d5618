#include "mamori/probes/memory_probe.h"

#include <fmt/format.h>

#include <charconv>
#include <map>
#include <optional>

#include "mamori/check/registry.h"
#include "mamori/probes/procfs.h"
#include "mamori/util/units.h"

namespace mamori::probes::memory {
namespace {

// "MemTotal:       24683656 kB" lines -> bytes.
std::map<std::string, uint64_t, std::less<>> ParseMeminfo(std::string_view text) {
  std::map<std::string, uint64_t, std::less<>> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view rest = line.substr(colon + 1);
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    uint64_t v = 0;
    auto r = std::from_chars(rest.data(), rest.data() + rest.size(), v);
    if (r.ec != std::errc()) continue;
    std::string_view unit(r.ptr, static_cast<size_t>(rest.data() + rest.size() - r.ptr));
    if (unit == " kB") {
      if (v > UINT64_MAX / 1024) continue;
      v *= 1024;
    } else if (!unit.empty()) {
      continue;
    }
    out.emplace(std::string(line.substr(0, colon)), v);
  }
  return out;
}

std::string Limit(double v) { return fmt::format("{:g}%", v); }

// Appends " (critical at 95%)" and raises `status` when `pct` crosses a limit.
void Grade(double pct, double warning, double critical, CheckStatus& status, std::string& text) {
  if (pct >= critical) {
    status = CheckStatus::kCritical;
    text += fmt::format(" (critical at {})", Limit(critical));
  } else if (pct >= warning) {
    status = Worst(status, CheckStatus::kWarning);
    text += fmt::format(" (warning at {})", Limit(warning));
  }
}

}  // namespace

Observation MemoryProbe::Run(const Clock&, MonoTime) {
  auto text = procfs::ReadFileBounded(proc_root_ + "/meminfo", 64 << 10);
  if (!text.ok())
    return Observation::Make(CheckStatus::kUnknown, "cannot read " + text.error().message());
  auto m = ParseMeminfo(*text);
  auto get = [&](std::string_view k) -> std::optional<uint64_t> {
    auto it = m.find(k);
    if (it == m.end()) return std::nullopt;
    return it->second;
  };
  auto total = get("MemTotal");
  if (!total || *total == 0)
    return Observation::Make(CheckStatus::kUnknown,
                             fmt::format("{}/meminfo has no MemTotal", proc_root_));
  auto avail = get("MemAvailable");
  if (!avail) {
    auto f = get("MemFree"), b = get("Buffers"), c = get("Cached");
    if (!f)
      return Observation::Make(
          CheckStatus::kUnknown,
          fmt::format("{}/meminfo has neither MemAvailable nor MemFree", proc_root_));
    avail = *f + b.value_or(0) + c.value_or(0);
  }
  uint64_t available = std::min(*avail, *total);
  double used_pct = static_cast<double>(*total - available) * 100.0 / static_cast<double>(*total);

  Observation obs;
  CheckStatus status = CheckStatus::kOk;
  std::string text_out = fmt::format("memory {:.1f}% used", used_pct);
  Grade(used_pct, o_.warning, o_.critical, status, text_out);
  text_out += fmt::format(", {} of {} available", FormatBytes(available), FormatBytes(*total));
  obs.AddMetric("mem_used_percent", used_pct);
  obs.AddMetric("mem_available_bytes", static_cast<double>(available));
  obs.AddMetric("mem_total_bytes", static_cast<double>(*total));

  uint64_t swap_total = get("SwapTotal").value_or(0);
  if (swap_total == 0) {
    text_out += "; no swap";
  } else {
    uint64_t swap_free = std::min(get("SwapFree").value_or(0), swap_total);
    double swap_pct =
        static_cast<double>(swap_total - swap_free) * 100.0 / static_cast<double>(swap_total);
    text_out += fmt::format("; swap {:.1f}% used", swap_pct);
    Grade(swap_pct, o_.swap_warning, o_.swap_critical, status, text_out);
    text_out += fmt::format(" of {}", FormatBytes(swap_total));
    obs.AddMetric("swap_used_percent", swap_pct);
  }
  obs.status = status;
  obs.summary = std::move(text_out);
  return obs;
}

namespace {

std::unique_ptr<Probe> Build(config::ConfigNode& node) {
  Options o;
  bool ok = node.GetThresholds("warning", "critical", o.warning, o.critical,
                               &config::ConfigNode::GetPercent, Limit);
  ok &= node.GetThresholds("swap_warning", "swap_critical", o.swap_warning, o.swap_critical,
                           &config::ConfigNode::GetPercent, Limit);
  if (!ok) return nullptr;
  return std::make_unique<MemoryProbe>(o);
}

}  // namespace

void Register(ProbeRegistry& r) {
  r.Add("memory", "RAM and swap use (/proc/meminfo MemAvailable)", Build);
}

}  // namespace mamori::probes::memory
