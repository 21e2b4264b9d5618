// Config: the whole of a mamori configuration, loaded from YAML (or from the
// embedded default that `mamori doctor` generates for this machine).
//
// Loading is all-or-nothing: LoadConfig returns either a complete Config whose
// every check has a built Probe, or the full list of problems (never just the
// first), each located as FILE:LINE:COL with a hint. Relative paths in the file
// (data_dir) are resolved against the config file's directory, so the daemon
// behaves the same whatever its working directory.
//
// A Config is an immutable value once loaded; the daemon swaps whole Configs on
// reload. Probes are shared_ptr so a run in flight survives a swap.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mamori/check/check_config.h"
#include "mamori/check/probe.h"
#include "mamori/check/registry.h"
#include "mamori/config/diagnostics.h"
#include "mamori/core/check_settings.h"
#include "mamori/daemon/builtin_probes.h"
#include "mamori/daemon/metrics_exposition.h"
#include "mamori/engine/maintenance.h"
#include "mamori/faces/faces_config.h"
#include "mamori/notify/notify_config.h"
#include "mamori/web/api_config.h"

namespace mamori {

struct Config {
  std::string file;      // as given; "<embedded default>" for doctor's
  std::string data_dir;  // absolute
  CheckDefaults defaults;
  RetentionConfig retention;
  ApiConfig api;
  std::vector<CheckConfig> checks;
  notify::NotifyConfig notify;      // `notify:` channels and `outbox:` retry policy
  MaintenanceCalendar maintenance;  // `maintenance:` windows
  faces::FacesConfig faces;         // `api: {tokens:}` and `status_page:`
  // `after_boot: {settle: 5m}`: after a new boot, notifications wait this long
  // (services are still starting), then one "after boot" summary goes out.
  Duration after_boot_settle = std::chrono::minutes(5);
  MetricsConfig metrics;  // `metrics: {token_file: ...}` for GET /metrics

  const CheckConfig* FindCheck(std::string_view name) const;
};

struct ConfigLoad {
  std::unique_ptr<Config> config;  // null when diagnostics is not empty
  config::Diagnostics diagnostics;
};

// Parses YAML text. `file` names it in messages and anchors relative paths.
ConfigLoad LoadConfigText(const std::string& text, const std::string& file,
                          const ProbeRegistry& registry = BuiltinProbes());
ConfigLoad LoadConfigFile(const std::string& path, const ProbeRegistry& registry = BuiltinProbes());

}  // namespace mamori
