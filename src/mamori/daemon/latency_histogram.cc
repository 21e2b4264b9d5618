#include "mamori/daemon/latency_histogram.h"

#include <algorithm>

namespace mamori {

void LatencyHistogram::Record(Duration d) {
  double ms = std::chrono::duration<double, std::milli>(d).count();
  if (ms < 0) ms = 0;
  max_ms_ = std::max(max_ms_, ms);
  auto b = static_cast<int64_t>(ms);
  if (b >= kBuckets - 1) b = kBuckets - 1;
  ++buckets_[static_cast<size_t>(b)];
  ++count_;
}

double LatencyHistogram::QuantileMs(double q) const {
  if (count_ == 0) return 0;
  const auto want = static_cast<uint64_t>(q * static_cast<double>(count_) + 0.5);
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += buckets_[static_cast<size_t>(i)];
    if (seen >= std::max<uint64_t>(want, 1)) return std::min<double>(i + 1, max_ms_);
  }
  return max_ms_;
}

void LatencyHistogram::Reset() {
  buckets_.fill(0);
  count_ = 0;
  max_ms_ = 0;
}

}  // namespace mamori
