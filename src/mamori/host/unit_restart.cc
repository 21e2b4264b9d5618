#include "mamori/host/unit_restart.h"

#include <fmt/format.h>

#include "mamori/host/systemd_bus.h"
#include "mamori/host/systemd_units.h"

namespace mamori::host {

bool RestartAllowedFor(std::string_view type) {
  for (std::string_view t : {"systemd", "process", "http", "tcp", "socket", "timedaemon"})
    if (t == type) return true;
  return false;
}

namespace {

// The unit a systemd check names, if it names exactly one.
std::optional<std::string> SingleUnitOf(config::ConfigNode& check) {
  if (!check.Has("unit")) return std::nullopt;
  auto u = check.GetString("unit");
  if (!u || u->empty() || systemd::HasGlob(*u)) return std::nullopt;
  return systemd::NormalizeUnitPattern(*u);
}

}  // namespace

std::shared_ptr<const RestartPlan> ReadRestartPlan(config::ConfigNode& check,
                                                   std::string_view type) {
  if (!check.Has("restart")) {
    check.Known("restart");
    return nullptr;
  }
  if (!RestartAllowedFor(type)) {
    check.Known("restart");
    check.ErrorAt("restart", fmt::format("a {} check cannot restart anything", type),
                  "restart: works on systemd, process, http, tcp, socket and timedaemon checks");
    return nullptr;
  }
  auto node = check.GetMap("restart");
  if (!node) return nullptr;
  auto plan = std::make_shared<RestartPlan>();
  bool ok = true;
  if (auto v = node->GetInt("limit", 1, 100)) plan->limit = static_cast<int>(*v);
  if (auto v = node->GetDuration("within")) {
    if (*v <= Duration::zero()) {
      node->ErrorAt("within", "must be longer than zero", "e.g. within: 10m");
      ok = false;
    }
    plan->within = *v;
  }
  if (auto v = node->GetDuration("timeout")) {
    if (*v <= Duration::zero()) {
      node->ErrorAt("timeout", "must be longer than zero", "e.g. timeout: 90s");
      ok = false;
    }
    plan->timeout = *v;
  }
  if (auto u = node->GetString("unit")) {
    if (u->empty() || systemd::HasGlob(*u) || u->find_first_of(" \t/") != std::string::npos) {
      node->ErrorAt("unit", "'" + *u + "' is not one unit name",
                    "name one unit, e.g. unit: php8.2-fpm.service");
      return nullptr;
    }
    plan->unit = systemd::NormalizeUnitPattern(*u);
  } else if (auto single = type == "systemd" ? SingleUnitOf(check) : std::nullopt) {
    plan->unit = *single;
  } else {
    node->Error("no unit to restart",
                type == "systemd"
                    ? "this check names no single unit: add unit: to restart:, e.g. "
                      "restart: {unit: nginx.service, limit: 3, within: 10m}"
                    : "add unit: to restart:, e.g. restart: {unit: nginx.service, limit: 3, "
                      "within: 10m}");
    return nullptr;
  }
  return ok ? plan : nullptr;
}

Result<std::string> SystemdRestarter::Restart(const std::string& unit, MonoTime deadline) {
  return systemd::RestartUnit(unit, address_, clock_, deadline);
}

}  // namespace mamori::host
