// Reads the scheduler's figures out of a `mamori run` log: the line
// RunStats::TakeWindow writes every --stats-interval ("stats: 120 checks,
// 600 runs in 1s (600/s), lateness p50 1ms p99 4ms max 9ms, 0 skipped (still
// running), 0 observations dropped"). Tests use it to say that scheduling kept
// its pace through a fault. Stateless; thread-safe.
#pragma once

#include <string>
#include <vector>

namespace mamori::testing {

struct StatsLine {
  int checks = 0;
  int runs = 0;
  double seconds = 0;     // the window, rounded to whole seconds
  double per_second = 0;  // runs over the exact window
  double p50_ms = 0, p99_ms = 0, max_ms = 0;
  int skipped = 0;  // since the start
  std::string text;
};

// Every stats line in `log`, in order; lines that do not parse are left out.
std::vector<StatsLine> ParseStatsLines(const std::string& log);

}  // namespace mamori::testing
