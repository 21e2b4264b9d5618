#include "mamori/host/stale_files_probe.h"

#include <sys/stat.h>

#include <fmt/format.h>

#include "mamori/check/registry.h"
#include "mamori/host/systemd_bus.h"

namespace mamori::probes::stale_files {

Observation StaleFilesProbe::Run(const Clock& clock, MonoTime deadline) {
  namespace stale = host::stale;
  const auto scan = stale::Scan(o_.scan);
  auto judgment = stale::Judge(scan.files, {}, o_.judge, clock);
  std::string note;
  struct stat st {};
  const bool systemd = ::stat(o_.systemd_dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  if (judgment.needs_units && systemd) {
    // Leave a little of the check's time for judging and reporting.
    auto units = host::systemd::ReadUnitFiles(o_.bus_address, judgment.alive_pid_files, clock,
                                              deadline - std::chrono::milliseconds(50));
    if (units.ok())
      judgment = stale::Judge(scan.files, *units, o_.judge, clock);
    else
      note = "owning units unknown: " + units.error().message() + "\n";
  }
  Observation obs = stale::Report(scan, judgment);
  obs.details += note;
  return obs;
}

namespace {

bool ReadPaths(config::ConfigNode& node, Options& o) {
  auto paths = node.GetStringList("paths");
  if (!paths) return true;
  for (const auto& p : *paths) {
    if (p.empty() || p[0] != '/') {
      node.ErrorAt("paths", fmt::format("'{}' is not an absolute path", p),
                   "write the full path of a directory, starting with '/'");
      return false;
    }
    std::string dir = p;
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    o.scan.dirs.push_back(dir);
  }
  return true;
}

std::unique_ptr<Probe> Build(config::ConfigNode& node) {
  Options o;
  if (!ReadPaths(node, o)) return nullptr;
  if (auto ig = node.GetStringList("ignore")) o.scan.ignore = *ig;
  if (auto d = node.GetInt("max_depth", 1, 16)) o.scan.max_depth = static_cast<int>(*d);
  if (auto n = node.GetInt("max_entries", 1, 10000000))
    o.scan.max_entries = static_cast<size_t>(*n);
  if (auto g = node.GetDuration("grace")) {
    if (*g < Duration::zero()) {
      node.ErrorAt("grace", "grace cannot be negative", "e.g. grace: 5m, or 0s to judge at once");
      return nullptr;
    }
    o.judge.grace = *g;
  }
  return std::make_unique<StaleFilesProbe>(std::move(o));
}

}  // namespace

void Register(ProbeRegistry& r) {
  r.Add("stale_files",
        "stale pid files, UNIX sockets nobody listens on and lock files of stopped services "
        "under /run, /var/lock (owning units through sd-bus)",
        Build);
}

}  // namespace mamori::probes::stale_files
