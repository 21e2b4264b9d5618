#include "mamori/host/timedaemon_state.h"

#include <fmt/format.h>

#include <cctype>
#include <cstdlib>
#include <map>
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

namespace {

bool Running(const systemd::UnitRecord& u) {
  return u.active_state == "active" || u.active_state == "activating" ||
         u.active_state == "reloading";
}

void JudgeUnits(const Reading& r, SummaryParts& parts, Observation& o) {
  int stopped = 0;
  for (const auto& u : r.units) {
    if (u.load_state != "loaded") continue;
    if (Running(u)) {
      parts.good.push_back(u.name + " is running");
      continue;
    }
    if (!Enabled(u) || u.condition_failed) continue;
    ++stopped;
    // Starting a time daemon again is always safe: it only disciplines the
    // clock (slewing, or one step when it is far off, which is the point).
    const std::string remedy = fmt::format(" (safe remedy: systemctl restart {})", u.name);
    parts.critical.push_back(
        u.active_state == "failed"
            ? fmt::format("{} is enabled and failed ({}): clock not disciplined{}", u.name,
                          u.result.empty() ? "failed" : u.result, remedy)
            : fmt::format("{} is enabled and stopped: clock not disciplined{}", u.name, remedy));
  }
  if (r.systemd) o.AddMetric("stopped_units", stopped);
}

void JudgeChrony(const ChronyTracking& c, SummaryParts& parts, Observation& o) {
  const bool synced = c.leap != "Not synchronised";
  o.AddMetric("chrony_synchronised", synced);
  o.AddMetric("chrony_stratum", c.stratum);
  o.AddMetric("chrony_offset_ms", c.offset_s * 1000);
  if (synced)
    parts.good.push_back(fmt::format("chronyd synchronised to {} (stratum {}, offset {:+.3f} ms)",
                                     c.ref_name.empty() ? c.ref_id : c.ref_name, c.stratum,
                                     c.offset_s * 1000));
  else
    parts.warning.push_back("chronyd runs but is not synchronised (no usable source)");
}

void JudgeTimesyncd(const Timesyncd& t, SummaryParts& parts, Observation& o) {
  o.AddMetric("ntp_enabled", t.ntp);
  o.AddMetric("timesyncd_synchronised", t.synchronized);
  if (t.stratum) o.AddMetric("timesyncd_stratum", *t.stratum);
  if (t.offset_ms) o.AddMetric("timesyncd_offset_ms", *t.offset_ms);
  const std::string server = t.server.empty() ? "" : " to " + t.server;
  if (!t.synchronized) {
    parts.warning.push_back(
        t.server.empty()
            ? "systemd-timesyncd runs but the clock is not synchronised"
            : "systemd-timesyncd runs but the clock is not synchronised (server " + t.server + ")");
    return;
  }
  std::string detail;
  if (t.stratum) detail = fmt::format("stratum {}", *t.stratum);
  if (t.offset_ms)
    detail += fmt::format("{}offset {:+.3f} ms", detail.empty() ? "" : ", ", *t.offset_ms);
  parts.good.push_back("systemd-timesyncd synchronised" + server +
                       (detail.empty() ? "" : " (" + detail + ")"));
  if (!t.timesync_error.empty()) parts.good.push_back("timesync1 not read: " + t.timesync_error);
}

void JudgeNtpd(const NtpdVars& n, SummaryParts& parts, Observation& o) {
  const bool synced = n.leap != 3 && n.stratum < 16;
  o.AddMetric("ntpd_synchronised", synced);
  o.AddMetric("ntpd_stratum", n.stratum);
  o.AddMetric("ntpd_offset_ms", n.offset_ms);
  if (synced)
    parts.good.push_back(fmt::format("ntpd synchronised to {} (stratum {}, offset {:+.3f} ms)",
                                     n.refid, n.stratum, n.offset_ms));
  else
    parts.warning.push_back(fmt::format("ntpd runs but is not synchronised (stratum {}, refid {})",
                                        n.stratum, n.refid.empty() ? "none" : n.refid));
}

}  // namespace

Observation Judge(const Reading& r) {
  Observation o;
  SummaryParts parts;
  JudgeUnits(r, parts, o);
  if (r.chrony) JudgeChrony(*r.chrony, parts, o);
  if (r.timesyncd) JudgeTimesyncd(*r.timesyncd, parts, o);
  if (r.ntpd) JudgeNtpd(*r.ntpd, parts, o);
  if (!r.systemd_error.empty()) parts.good.push_back("units not read: " + r.systemd_error);
  if (parts.empty()) parts.good.push_back("no time daemon unit enabled or running");
  parts.Into(o);
  return o;
}

namespace {

// "key=value, key="quoted, value", ..." over several lines: the values
// ntpq prints for READVAR, by key.
std::map<std::string, std::string> ReadvarPairs(std::string_view text) {
  std::map<std::string, std::string> out;
  size_t i = 0;
  while (i < text.size() && out.size() < 256) {
    while (i < text.size() && (text[i] == ',' || std::isspace(static_cast<unsigned char>(text[i]))))
      ++i;
    const size_t key_start = i;
    while (i < text.size() && text[i] != '=' && text[i] != ',' &&
           !std::isspace(static_cast<unsigned char>(text[i])))
      ++i;
    std::string key(text.substr(key_start, i - key_start));
    if (i >= text.size() || text[i] != '=') continue;  // a bare word ("leap_none")
    ++i;
    std::string value;
    if (i < text.size() && text[i] == '"') {
      const size_t close = text.find('"', i + 1);
      value =
          std::string(text.substr(i + 1, close == std::string_view::npos ? close : close - i - 1));
      i = close == std::string_view::npos ? text.size() : close + 1;
    } else {
      const size_t v = i;
      while (i < text.size() && text[i] != ',' && text[i] != '\n') ++i;
      value = std::string(text.substr(v, i - v));
    }
    out[key] = value;
  }
  return out;
}

}  // namespace

Result<NtpdVars> ParseNtpqReadvar(std::string_view text) {
  auto kv = ReadvarPairs(text);
  if (!kv.count("leap") || !kv.count("stratum"))
    return Error("ntpq rv: no leap= and stratum= in the answer");
  NtpdVars n;
  char* end = nullptr;
  // leap is two bits, printed in binary ("00", "11") or, by ntpsec, decimal.
  const std::string& leap = kv["leap"];
  n.leap = leap.size() == 2 && leap.find_first_not_of("01") == std::string::npos
               ? (leap[0] - '0') * 2 + (leap[1] - '0')
               : static_cast<int>(std::strtol(leap.c_str(), &end, 10));
  n.stratum = static_cast<int>(std::strtol(kv["stratum"].c_str(), &end, 10));
  if (end == kv["stratum"].c_str()) return Error("ntpq rv: stratum '" + kv["stratum"] + "'");
  if (kv.count("offset")) n.offset_ms = std::strtod(kv["offset"].c_str(), nullptr);
  n.refid = kv["refid"];
  return n;
}

}  // namespace mamori::host::timedaemon
