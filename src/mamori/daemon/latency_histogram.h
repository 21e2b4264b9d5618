// LatencyHistogram: fixed 1 ms buckets up to 10 s (the rest in one overflow
// bucket), for the scheduler's lateness figures (p50/p99/max) without keeping
// samples. Constant memory, O(1) record; not thread-safe.
#pragma once

#include <array>
#include <cstdint>

#include "mamori/util/clock.h"

namespace mamori {

class LatencyHistogram {
 public:
  static constexpr int kBuckets = 10'001;  // 0..9,999 ms, then >= 10 s

  void Record(Duration d);
  uint64_t count() const { return count_; }
  // The smallest bucket bound (ms) at or below which `q` (0..1) of samples lie.
  double QuantileMs(double q) const;
  double MaxMs() const { return max_ms_; }
  void Reset();

 private:
  std::array<uint32_t, kBuckets> buckets_{};
  uint64_t count_ = 0;
  double max_ms_ = 0;
};

}  // namespace mamori
