#include "mamori/host/systemd_probe.h"

#include <sys/stat.h>

#include "mamori/check/registry.h"

namespace mamori::probes::systemd {

Observation SystemdProbe::Run(const Clock& clock, MonoTime deadline) {
  struct stat st {};
  if (::stat(systemd_dir_.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return Observation::Make(CheckStatus::kOk, "no systemd on this host (no " + systemd_dir_ + ")");
  // Leave a little of the check's time for reporting.
  auto units = host::systemd::ReadUnits(o_, clock, deadline - std::chrono::milliseconds(20));
  if (!units.ok())
    return Observation::Make(CheckStatus::kUnknown,
                             "cannot read the units from systemd: " + units.error().message());
  auto findings = host::systemd::Judge(*units, o_.select, tracker_, clock.Monotonic());
  return host::systemd::Report(*units, findings, o_.select);
}

namespace {

std::unique_ptr<Probe> Build(config::ConfigNode& node) {
  host::systemd::ReadOptions o;
  if (auto u = node.GetString("unit")) {
    if (u->empty() || u->find_first_of(" \t/") != std::string::npos) {
      node.ErrorAt(
          "unit", "'" + *u + "' is not a unit name or glob",
          "write a unit such as nginx.service (or nginx), or a glob such as php*-fpm.service");
      return nullptr;
    }
    o.select.unit = host::systemd::NormalizeUnitPattern(*u);
  }
  if (auto ig = node.GetStringList("ignore")) o.select.ignore = *ig;
  if (auto rl = node.GetMap("restart_loop")) {
    if (auto c = rl->GetInt("count", 0, 100000)) o.select.restart_count = *c;
    if (auto w = rl->GetDuration("within")) {
      if (*w <= Duration::zero()) {
        rl->ErrorAt("within", "within must be longer than zero", "e.g. within: 10m");
        return nullptr;
      }
      o.select.restart_within = *w;
    }
  }
  return std::make_unique<SystemdProbe>(std::move(o));
}

}  // namespace

void Register(ProbeRegistry& r) {
  r.Add("systemd",
        "systemd units: failed ones with their result, enabled services not running, restart "
        "loops (sd-bus)",
        Build);
}

}  // namespace mamori::probes::systemd
