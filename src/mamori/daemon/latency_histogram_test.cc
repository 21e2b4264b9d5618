#include "mamori/daemon/latency_histogram.h"

#include <gtest/gtest.h>

namespace mamori {
namespace {

using namespace std::chrono_literals;

TEST(LatencyHistogram, Quantiles) {
  LatencyHistogram h;
  for (int i = 0; i < 99; ++i) h.Record(Duration(2ms));
  h.Record(Duration(250ms));
  EXPECT_EQ(h.count(), 100u);
  EXPECT_LE(h.QuantileMs(0.5), 3.0);
  EXPECT_LE(h.QuantileMs(0.99), 3.0);
  EXPECT_GE(h.QuantileMs(1.0), 250.0);
  EXPECT_DOUBLE_EQ(h.MaxMs(), 250.0);
  h.Record(Duration(1h));  // overflow bucket, max still exact
  EXPECT_DOUBLE_EQ(h.MaxMs(), 3'600'000.0);
  h.Reset();
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.QuantileMs(0.99), 0.0);
}

}  // namespace
}  // namespace mamori
