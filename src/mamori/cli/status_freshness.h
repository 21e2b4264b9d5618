// Whether what `mamori status` shows is still being updated: is a daemon
// running on this data directory (the holder of its instance lock), when was
// the newest observation, and which rows are stale (no daemon, or no result
// for a few intervals). Pure functions of their arguments; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "mamori/check/check_config.h"
#include "mamori/cli/output.h"
#include "mamori/util/clock.h"

namespace mamori::cli {

struct Freshness {
  std::optional<long> daemon_pid;  // nullopt: no daemon holds the data directory
  std::optional<WallTime> newest;  // the newest observation of any shown check
  std::vector<bool> stale;         // per row
};

// `rows[i]` belongs to `checks[i]`. A row is stale when no daemon runs (and
// it has a result), or when its last result is older than three intervals
// plus the timeout (at least 30 s).
Freshness JudgeFreshness(const std::vector<ResultRow>& rows, const std::vector<CheckConfig>& checks,
                         std::optional<long> daemon_pid, WallTime now);
// The line above the table: "daemon: running (pid 42); newest observation
// ..." or "daemon: NOT RUNNING ...: these results are stale ...".
std::string FreshnessLine(const Freshness& f, const std::string& data_dir, WallTime now);

}  // namespace mamori::cli
