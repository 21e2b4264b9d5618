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

#include "mamori/config/diagnostics.h"
#include "mamori/engine/maintenance.h"
#include "mamori/notify/notify_config.h"
#include "mamori/probes/probe.h"
#include "mamori/probes/registry.h"

namespace mamori {
namespace remedy {
struct Plan;
}

struct Thresholds {
  int failures_before_alert = 3;      // consecutive non-OK results before a hard failure
  int successes_before_recovery = 2;  // consecutive OK results before a hard recovery
};

struct CheckDefaults {
  Duration interval = std::chrono::seconds(60);
  Duration timeout = std::chrono::seconds(10);
  Thresholds thresholds;
};

struct RetentionConfig {
  Duration raw = std::chrono::hours(24 * 7);        // individual observations
  Duration rollups = std::chrono::hours(24 * 400);  // hourly summaries
  Duration events = std::chrono::hours(24 * 400);
};

struct CheckConfig {
  std::string name;
  std::string type;
  std::string description;
  std::vector<std::string> tags;
  Duration interval{};
  Duration timeout{};
  Thresholds thresholds;
  config::Location where;
  std::shared_ptr<Probe> probe;
  std::shared_ptr<const remedy::Plan> remedy;  // null: no repairs configured
  // Alert routing (notify/alert_config.h): channel names (empty: by routes:,
  // else every channel) and the checks this one needs.
  std::vector<std::string> notify, depends_on;
  config::Location notify_at, depends_on_at;
};

// The daemon's HTTP server (ping API, /ip). Off unless `listen:` is set.
struct ApiConfig {
  std::string listen;                    // "127.0.0.1:8470"; empty = no server
  uint64_t max_body = 100 * 1024;        // ping bodies kept up to this
  double rate_limit = 100;               // pings/s per source address; 0 = off
  std::vector<std::string> trusted_proxies;  // IP addresses whose X-Forwarded-For is believed
  std::string ping_key;                  // enables /ping/<ping_key>/<slug>
  std::string read_key;                  // X-Api-Key for /api/v1/...; empty = loopback only
  // Read by web::ReadServerLimits:
  size_t max_connections = 1024;                         // open connections in all
  size_t max_connections_per_address = 64;               // from one source address
  Duration response_timeout = std::chrono::seconds(10);  // unanswered by then: 503
};

struct Config {
  std::string file;      // as given; "<embedded default>" for doctor's
  std::string data_dir;  // absolute
  CheckDefaults defaults;
  RetentionConfig retention;
  ApiConfig api;
  std::vector<CheckConfig> checks;
  notify::NotifyConfig notify;  // `notify:` channels and `outbox:` retry policy
  MaintenanceCalendar maintenance;  // `maintenance:` windows

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

// Check names: letters, digits, '.', '_', '-' (they appear in URLs and files).
bool IsValidCheckName(std::string_view name);

}  // namespace mamori
