#include "testing/stats_log.h"

#include <cstdio>
#include <sstream>

namespace mamori::testing {

std::vector<StatsLine> ParseStatsLines(const std::string& log) {
  std::vector<StatsLine> out;
  std::istringstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    const auto at = line.find("stats: ");
    if (at == std::string::npos) continue;
    StatsLine s;
    if (std::sscanf(line.c_str() + at,
                    "stats: %d checks, %d runs in %lfs (%lf/s), lateness p50 %lfms p99 %lfms max "
                    "%lfms, %d skipped",
                    &s.checks, &s.runs, &s.seconds, &s.per_second, &s.p50_ms, &s.p99_ms, &s.max_ms,
                    &s.skipped) != 8)
      continue;
    s.text = line.substr(at);
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace mamori::testing
