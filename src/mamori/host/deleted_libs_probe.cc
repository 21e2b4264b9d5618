#include "mamori/host/deleted_libs_probe.h"

#include <fnmatch.h>

#include <fmt/format.h>

#include <map>

#include "mamori/check/registry.h"

namespace mamori::probes::deleted_libs {
namespace {

using namespace std::chrono_literals;
using host::deleted_libs::Process;

bool Ignored(const Options& o, const Process& p) {
  for (const auto& g : o.ignore)
    if (::fnmatch(g.c_str(), p.name.c_str(), 0) == 0 ||
        (!p.unit.empty() && ::fnmatch(g.c_str(), p.unit.c_str(), 0) == 0))
      return true;
  return false;
}

struct Group {
  std::vector<std::string> units;
  int processes = 0;
};

std::string Label(const std::string& name, const Group& g) {
  if (g.units.empty()) return name;
  std::string units;
  for (const auto& u : g.units) units += (units.empty() ? "" : ", ") + u;
  return name + " (" + units + ")";
}

}  // namespace

Observation Judge(const Options& o, const host::deleted_libs::ScanResult& r) {
  Observation obs;
  std::vector<std::string> order;  // names by first pid
  std::map<std::string, Group> groups;
  for (const auto& p : r.found) {
    if (Ignored(o, p)) continue;
    auto [it, fresh] = groups.try_emplace(p.name);
    if (fresh) order.push_back(p.name);
    ++it->second.processes;
    if (!p.unit.empty() && std::find(it->second.units.begin(), it->second.units.end(), p.unit) ==
                               it->second.units.end())
      it->second.units.push_back(p.unit);
    if (obs.details.size() < 8000) {
      obs.details += fmt::format("{} {}{}:", p.pid, p.name, p.unit.empty() ? "" : " " + p.unit);
      for (size_t i = 0; i < p.files.size() && i < 5; ++i) obs.details += " " + p.files[i];
      obs.details += p.files.size() > 5 ? " ...\n" : "\n";
    }
  }
  int processes = 0;
  std::string names;
  for (size_t i = 0; i < order.size(); ++i) {
    const Group& g = groups[order[i]];
    processes += g.processes;
    obs.AddMetric("deleted_libs:" + order[i], g.processes);
    if (i < 10) names += (i ? ", " : "") + Label(order[i], g);
  }
  if (order.size() > 10) names += fmt::format(" and {} more", order.size() - 10);
  obs.AddMetric("processes", processes);
  obs.AddMetric("scanned", static_cast<double>(r.scanned));
  const std::string cut =
      r.cut_short ? fmt::format(" (scan cut short after {} processes)", r.scanned) : "";
  if (order.empty()) {
    obs.status = CheckStatus::kOk;
    obs.summary =
        fmt::format("no process runs on deleted libraries ({} processes){}", r.scanned, cut);
  } else {
    obs.status = CheckStatus::kWarning;
    obs.summary = names + (processes == 1 ? " runs" : " run") + " on deleted libraries: restart " +
                  (processes == 1 ? "it" : "them") + cut;
  }
  return obs;
}

Observation DeletedLibsProbe::Run(const Clock&, MonoTime deadline) {
  const auto r = host::deleted_libs::ScanProcesses(o_.scan, deadline - 50ms);
  if (r.scanned == 0 && !r.cut_short)
    return Observation::Make(CheckStatus::kUnknown,
                             "cannot read any process's maps under " + o_.scan.proc_root);
  return Judge(o_, r);
}

namespace {

std::unique_ptr<Probe> Build(config::ConfigNode& node) {
  Options o;
  if (auto p = node.GetStringList("paths")) {
    for (const auto& dir : *p) {
      if (dir.empty() || dir[0] != '/') {
        node.ErrorAt("paths", fmt::format("'{}' is not an absolute path", dir),
                     "write directories starting with '/', e.g. [/usr/lib, /opt/app/lib]");
        return nullptr;
      }
    }
    o.scan.paths = *p;
  }
  if (auto ig = node.GetStringList("ignore")) o.ignore = *ig;
  if (auto n = node.GetInt("max_processes", 1, 1000000)) o.scan.max_processes = *n;
  if (auto n = node.GetSize("max_maps_bytes")) o.scan.max_maps_bytes = *n;
  return std::make_unique<DeletedLibsProbe>(std::move(o));
}

}  // namespace

void Register(ProbeRegistry& r) {
  // An upgrade does not happen every minute, and a scan reads every maps file.
  r.Add("deleted_libs",
        "processes running on deleted (upgraded) libraries or executables, by name and unit, as "
        "needrestart finds them (/proc/PID/maps)",
        Build)
      .default_interval = std::chrono::minutes(5);
}

}  // namespace mamori::probes::deleted_libs
