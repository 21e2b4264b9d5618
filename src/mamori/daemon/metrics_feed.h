// The daemon's side of /metrics: keeping the MetricsBoard in step with the
// configured checks and with what only the event loop knows (which checks
// are acknowledged or in a maintenance window), and routing GET /metrics.
// Pure functions of their arguments; call them on the daemon's event loop
// (they read the loop's state and write the thread-safe board).
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "mamori/daemon/check_runtime.h"
#include "mamori/daemon/config_file.h"
#include "mamori/daemon/metrics_exposition.h"
#include "mamori/notify/alert_service.h"

namespace mamori {

// The board's checks and token from a (new) configuration.
void ConfigureMetrics(MetricsBoard& board, const Config& config);
// Acknowledged / in-maintenance flags of every check, now. Skips the work
// for maintenance when no window is configured.
void RefreshMetricsFlags(MetricsBoard& board,
                         const std::vector<std::shared_ptr<CheckRuntime>>& checks,
                         const Config& config, notify::AlertService* alerts, WallTime now);
// True for a request to /metrics (with or without a query string).
bool IsMetricsTarget(std::string_view target);

}  // namespace mamori
