// CheckConfig: one configured check as the loader built it: its name, type,
// timing, thresholds, the Probe that measures it, its repairs and its alert
// routing. The engine schedules and judges it, the notifier routes by it. An
// immutable value once loaded; the probe and the remedy plan are shared so a
// run in flight survives a reload.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mamori/check/probe.h"
#include "mamori/config/diagnostics.h"
#include "mamori/core/check_settings.h"
#include "mamori/util/clock.h"

namespace mamori {
namespace remedy {
struct Plan;  // remedy/remedy.h; opaque here, run by the composition
}
namespace host {
struct RestartPlan;  // host/unit_restart.h; opaque here, run by the composition
}

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
  std::shared_ptr<const host::RestartPlan> restart;  // null: no `restart:`
  // Alert routing (notify/alert_config.h): channel names (empty: by routes:,
  // else every channel) and the checks this one needs.
  std::vector<std::string> notify, depends_on;
  config::Location notify_at, depends_on_at;
};

// Check names: letters, digits, '.', '_', '-' (they appear in URLs and files).
bool IsValidCheckName(std::string_view name);

}  // namespace mamori
