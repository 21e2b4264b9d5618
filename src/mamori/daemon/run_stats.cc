#include "mamori/daemon/run_stats.h"

#include <fmt/format.h>

namespace mamori {

std::string RunStats::TakeWindow(MonoTime now, size_t checks, uint64_t dropped_observations) {
  const double secs = std::chrono::duration<double>(now - window_start_).count();
  std::string line = fmt::format(
      "stats: {} checks, {} runs in {:.0f}s ({:.0f}/s), lateness p50 {:.0f}ms p99 {:.0f}ms max "
      "{:.0f}ms, {} skipped (still running), {} observations dropped",
      checks, runs_window_, secs, secs > 0 ? runs_window_ / secs : 0.0, window_.QuantileMs(0.5),
      window_.QuantileMs(0.99), window_.MaxMs(), skipped_, dropped_observations);
  window_.Reset();
  runs_window_ = 0;
  window_start_ = now;
  return line;
}

std::string RunStats::Total(MonoTime now) const {
  const double secs = std::chrono::duration<double>(now - started_).count();
  return fmt::format(
      "stopped after {:.1f}s: {} runs ({:.0f}/s), lateness p50 {:.1f}ms p99 {:.1f}ms max "
      "{:.1f}ms, {} skipped",
      secs, runs_total_, secs > 0 ? runs_total_ / secs : 0.0, total_.QuantileMs(0.5),
      total_.QuantileMs(0.99), total_.MaxMs(), skipped_);
}

}  // namespace mamori
