#include "mamori/host/timedaemon_state.h"

#include <fmt/format.h>

#include <cstdlib>
#include <sstream>

#include "mamori/host/summary_parts.h"

namespace mamori::host::timedaemon {
namespace {

constexpr size_t kTrackingFields = 14;

bool Enabled(const systemd::UnitRecord& u) {
  return u.unit_file_state == "enabled" || u.unit_file_state == "enabled-runtime";
}

}  // namespace

Result<ChronyTracking> ParseChronyTracking(std::string_view csv) {
  std::string line(csv.substr(0, csv.find('\n')));
  std::vector<std::string> f;
  std::istringstream in(line);
  for (std::string field; std::getline(in, field, ',');) f.push_back(field);
  if (f.size() < kTrackingFields)
    return Error(
        fmt::format("chronyc tracking: {} fields, expected {}", f.size(), kTrackingFields));
  ChronyTracking t;
  t.ref_id = f[0];
  t.ref_name = f[1];
  char* end = nullptr;
  t.stratum = static_cast<int>(std::strtol(f[2].c_str(), &end, 10));
  if (end == f[2].c_str()) return Error("chronyc tracking: stratum '" + f[2] + "'");
  t.offset_s = std::strtod(f[4].c_str(), &end);
  if (end == f[4].c_str()) return Error("chronyc tracking: system time '" + f[4] + "'");
  t.leap = f[13];
  return t;
}

Observation Judge(const Reading& r) {
  Observation o;
  SummaryParts parts;
  auto& [critical, warning, good] = parts;
  int stopped = 0;
  for (const auto& u : r.units) {
    if (u.load_state != "loaded") continue;
    if (u.active_state == "active" || u.active_state == "activating" ||
        u.active_state == "reloading") {
      good.push_back(u.name + " is running");
      continue;
    }
    if (!Enabled(u) || u.condition_failed) continue;
    ++stopped;
    critical.push_back(
        u.active_state == "failed"
            ? fmt::format("{} is enabled and failed ({}): clock not disciplined", u.name,
                          u.result.empty() ? "failed" : u.result)
            : fmt::format("{} is enabled and stopped: clock not disciplined", u.name));
  }
  if (r.systemd) o.AddMetric("stopped_units", stopped);
  if (const auto& c = r.chrony) {
    const bool synced = c->leap != "Not synchronised";
    o.AddMetric("chrony_synchronised", synced);
    o.AddMetric("chrony_stratum", c->stratum);
    o.AddMetric("chrony_offset_ms", c->offset_s * 1000);
    if (synced)
      good.push_back(fmt::format("chronyd synchronised to {} (stratum {}, offset {:+.3f} ms)",
                                 c->ref_name.empty() ? c->ref_id : c->ref_name, c->stratum,
                                 c->offset_s * 1000));
    else
      warning.push_back("chronyd runs but is not synchronised (no usable source)");
  }
  if (!r.systemd_error.empty()) good.push_back("units not read: " + r.systemd_error);
  if (good.empty() && critical.empty() && warning.empty())
    good.push_back("no time daemon unit enabled or running");
  parts.Into(o);
  return o;
}

}  // namespace mamori::host::timedaemon
