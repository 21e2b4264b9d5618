// RunStats: the scheduler's figures for the daemon's log (and the benchmarks
// that read it): runs, lateness p50/p99/max per window and in total, slots
// skipped because a run was still in flight. Not thread-safe: the event loop
// owns it.
#pragma once

#include <cstdint>
#include <string>

#include "mamori/daemon/latency_histogram.h"
#include "mamori/util/clock.h"

namespace mamori {

class RunStats {
 public:
  void Start(MonoTime now) { started_ = window_start_ = now; }
  // A slot came due `late` after its time; it ran (or was skipped).
  void Due(Duration late) {
    window_.Record(late);
    total_.Record(late);
  }
  void Ran() {
    ++runs_window_;
    ++runs_total_;
  }
  void Skipped() { ++skipped_; }
  void Result() { ++results_; }
  uint64_t skipped() const { return skipped_; }

  // The window's line; starts a new window.
  std::string TakeWindow(MonoTime now, size_t checks, uint64_t dropped_observations);
  // The whole run's line, for the stop.
  std::string Total(MonoTime now) const;

 private:
  LatencyHistogram window_, total_;
  uint64_t runs_window_ = 0, runs_total_ = 0, skipped_ = 0, results_ = 0;
  MonoTime started_{}, window_start_{};
};

}  // namespace mamori
